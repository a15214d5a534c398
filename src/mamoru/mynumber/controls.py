"""The My Number section of the control catalogue (MN-7): the safeguards the PPC guideline asks for, in
its blocks, each with how mamoru (or the organization, where software cannot) carries it out."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Block(StrEnum):
    BASIC_POLICY = "basic_policy"
    HANDLING_RULES = "handling_rules"
    ORGANIZATIONAL = "organizational"
    HUMAN = "human"
    PHYSICAL = "physical"
    TECHNICAL = "technical"
    EXTERNAL_ENVIRONMENT = "external_environment"


@dataclass(frozen=True)
class Control:
    id: str
    block: Block
    ja: str
    en: str
    by: str  # "mamoru" (enforced by the software) or "organization" (a duty the software records)


CONTROLS: tuple[Control, ...] = (
    Control(
        "MN-BP-1",
        Block.BASIC_POLICY,
        "特定個人情報の適正な取扱いに関する基本方針を定め公表する",
        "Adopt and publish a basic policy on specific personal information",
        "organization",
    ),
    Control(
        "MN-HR-1",
        Block.HANDLING_RULES,
        "取得・利用・保存・提供・削除の各段階の取扱規程を定める",
        "Rules for each stage: acquisition, use, storage, provision, deletion",
        "organization",
    ),
    Control(
        "MN-HR-2",
        Block.HANDLING_RULES,
        "利用目的を法定の個人番号関係事務に限定する（同意で拡大しない）",
        "Purposes closed to the statutory affairs; consent never widens them",
        "mamoru",
    ),
    Control(
        "MN-OR-1",
        Block.ORGANIZATIONAL,
        "事務取扱担当者を役割で明確にし、それ以外の者の利用を拒否する",
        "Designated handlers by role; everyone else refused",
        "mamoru",
    ),
    Control(
        "MN-OR-2",
        Block.ORGANIZATIONAL,
        "取扱状況を記録する（ファイルの利用・出力・削除を監査ログに記録）",
        "Record handling: every use, output and deletion in the audit log",
        "mamoru",
    ),
    Control(
        "MN-OR-3",
        Block.ORGANIZATIONAL,
        "漏えい等の事案に対応する体制（100人超等の報告基準）",
        "Incident response, with the more-than-100 rule",
        "mamoru",
    ),
    Control(
        "MN-HU-1",
        Block.HUMAN,
        "事務取扱担当者の監督と教育（年1回以上）",
        "Supervise and train handlers at least yearly",
        "mamoru",
    ),
    Control(
        "MN-PH-1",
        Block.PHYSICAL,
        "管理区域・取扱区域を定め入退室を管理する",
        "Controlled and handling zones with entry control",
        "organization",
    ),
    Control(
        "MN-PH-2",
        Block.PHYSICAL,
        "保存期間経過後は速やかに復元できない方法で削除し、記録を残す",
        "Delete irreversibly after retention and keep a record without the number",
        "mamoru",
    ),
    Control(
        "MN-TE-1",
        Block.TECHNICAL,
        "アクセス制御：一般の個人情報とは別の鍵と鍵ストアで暗号化する",
        "Access control: a key and key store apart from the general records",
        "mamoru",
    ),
    Control(
        "MN-TE-2",
        Block.TECHNICAL,
        "識別と認証：担当者のサインイン（argon2id、ロックアウト）",
        "Identification and authentication of handlers",
        "mamoru",
    ),
    Control(
        "MN-TE-3",
        Block.TECHNICAL,
        "情報漏えいの防止：ログ・監査記録・エラーに個人番号を残さない",
        "Leak prevention: no number in logs, audit entries or errors",
        "mamoru",
    ),
    Control(
        "MN-EX-1",
        Block.EXTERNAL_ENVIRONMENT,
        "外国で取り扱う場合は当該国の制度を把握する",
        "Know the regime of any foreign country where the number is handled",
        "organization",
    ),
)


def by_block() -> dict[Block, list[Control]]:
    blocks: dict[Block, list[Control]] = {b: [] for b in Block}
    for control in CONTROLS:
        blocks[control.block].append(control)
    return blocks
