"""The control catalogue (APPI-23): the security control measures of the PPC general guideline,
section 10, and the My Number safeguards (MN-7), each with an owner, a last review no older than a
year, and a link to its evidence.

It also holds the web-skimming check (APPI Art. 23 covers information *being acquired* since 2024):
the digest of every file the public collection forms are built from is recorded as a baseline and
compared on each check; a change nobody recorded is a finding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Problem, problem, require
from mamoru.mynumber.controls import CONTROLS as MY_NUMBER_CONTROLS
from mamoru.pms.tables import ControlRecord, IntegrityBaseline

#: GL-Gen section 10 categories, ja and en.
CATEGORIES: dict[str, tuple[str, str]] = {
    "10-1": ("基本方針の策定", "Basic policy"),
    "10-2": ("個人データの取扱いに係る規律の整備", "Handling rules"),
    "10-3": ("組織的安全管理措置", "Organizational measures"),
    "10-4": ("人的安全管理措置", "Human measures"),
    "10-5": ("物理的安全管理措置", "Physical measures"),
    "10-6": ("技術的安全管理措置", "Technical measures"),
    "10-7": ("外的環境の把握", "Understanding the external environment"),
    "MN": ("特定個人情報の安全管理措置", "My Number safeguards"),
}


@dataclass(frozen=True)
class Control:
    id: str
    category: str
    ja: str
    en: str
    by: str  # "mamoru": the software does it; "organization": a duty mamoru records


def _c(cid: str, ja: str, en: str, by: str = "mamoru") -> Control:
    return Control(cid, cid.removeprefix("GL-").rsplit("-", 1)[0], ja, en, by)


GENERAL: tuple[Control, ...] = (
    _c(
        "GL-10-1-1",
        "プライバシーポリシーを方針ファイルとして定め、公表文を生成する",
        "The policy is a file; the public notice is generated from it",
    ),
    _c(
        "GL-10-2-1",
        "取得・利用・保存・提供・削除の取扱規程を定め承認する",
        "Approved rules for acquisition, use, storage, provision and deletion",
    ),
    _c(
        "GL-10-3-1",
        "保護管理者と監査責任者を任命し兼務させない",
        "A protection manager and an independent audit manager",
    ),
    _c(
        "GL-10-3-2",
        "規程に従った運用（利用はすべて目的を示しガードが判定）",
        "Operation by the rules: every use states a purpose and is decided by the guard",
    ),
    _c(
        "GL-10-3-3",
        "取扱状況を確認する手段（台帳と改ざん検知可能な監査ログ）",
        "Means to check handling: the ledger and a tamper-evident audit log",
    ),
    _c("GL-10-3-4", "漏えい等事案に対応する体制（報告期限の管理）", "Incident response with report clocks"),
    _c(
        "GL-10-3-5",
        "取扱状況の把握と安全管理措置の見直し（内部監査・マネジメントレビュー）",
        "Review of measures: internal audit and management review",
    ),
    _c(
        "GL-10-4-1",
        "従業者の教育（年1回以上、理解度確認）と誓約書",
        "Staff training at least yearly with a comprehension test, and pledges",
    ),
    _c(
        "GL-10-5-1",
        "管理区域・取扱区域の入退室管理",
        "Entry and exit control of controlled zones",
        "organization",
    ),
    _c(
        "GL-10-5-2",
        "機器・電子媒体等の盗難等の防止",
        "Theft prevention for equipment and media",
        "organization",
    ),
    _c(
        "GL-10-5-3",
        "電子媒体等を持ち運ぶ場合の漏えい等の防止（暗号化した開示パッケージ）",
        "Carrying data out: sealed packages",
    ),
    _c(
        "GL-10-5-4",
        "個人データの削除・機器の廃棄（暗号消去と記録）",
        "Deletion and disposal: crypto-erasure with a record",
    ),
    _c("GL-10-6-1", "アクセス制御（役割と目的による許可）", "Access control by role and purpose"),
    _c(
        "GL-10-6-2",
        "アクセス者の識別と認証（argon2id、ロックアウト、二要素認証）",
        "Identification and authentication: argon2id, lockout, TOTP",
    ),
    _c(
        "GL-10-6-3",
        "外部からの不正アクセス等の防止（CSP、収集ページの改ざん検知）",
        "Protection from outside: CSP and integrity of collection pages",
    ),
    _c(
        "GL-10-6-4",
        "情報システムの使用に伴う漏えい等の防止（保存時暗号化、ログに個人の値を残さない）",
        "Leak prevention: encryption at rest, no personal values in logs",
    ),
    _c(
        "GL-10-7-1",
        "外国で取り扱う場合の当該国の制度の把握",
        "Knowing the regime of foreign countries where data is handled",
        "organization",
    ),
)
CATALOGUE: tuple[Control, ...] = GENERAL + tuple(
    Control(c.id, "MN", c.ja, c.en, c.by) for c in MY_NUMBER_CONTROLS
)
REVIEW_DAYS = 365


def assign(session: Session, form: Mapping[str, str], *, actor: str, today: date) -> ControlRecord:
    """Assign a control's owner, with the day it was last reviewed and its evidence, as a form sends them;
    nothing is kept when any value is wrong, and each problem names its field."""
    raw = str(form.get("reviewed_on", "")).strip()
    try:
        reviewed: date | Problem = date.fromisoformat(raw)
    except ValueError:
        reviewed = problem("reviewed_on", "a date, e.g. 2026-12-02", "date")
    if isinstance(reviewed, date) and reviewed > today:
        reviewed = problem("reviewed_on", "this day is in the future", "future")
    control, owner, evidence = (str(form.get(k, "")) for k in ("control", "owner", "evidence"))
    require(_problems(control, owner, evidence) + ([reviewed] if isinstance(reviewed, Problem) else []))
    assert isinstance(reviewed, date)
    return record(
        session,
        control,
        owner=owner,
        reviewed_on=reviewed,
        evidence=evidence,
        actor=actor,
    )


def record(
    session: Session, control_id: str, *, owner: str, reviewed_on: date, evidence: str, actor: str
) -> ControlRecord:
    require(_problems(control_id, owner, evidence))
    row = session.get(ControlRecord, control_id) or ControlRecord(control_id=control_id)
    row.owner, row.reviewed_on, row.evidence = owner.strip(), reviewed_on, evidence.strip()
    session.add(row)
    append(session, [AuditEvent(actor=actor, action="control.reviewed", objects=(f"control:{control_id}",))])
    return row


def _problems(control_id: str, owner: str, evidence: str) -> list[Problem]:
    problems = []
    if control_id not in {c.id for c in CATALOGUE}:
        problems.append(problem("control", "not a control of the catalogue", "choice"))
    if not owner.strip() or len(owner) > 64:
        problems.append(problem("owner", "who answers for this control (a login or a post)", "owner"))
    if not evidence.strip() or len(evidence) > 400:
        problems.append(problem("evidence", "a link or document reference, 1–400 characters", "evidence"))
    return problems


@dataclass(frozen=True)
class ControlView:
    control: Control
    owner: str | None
    reviewed_on: date | None
    evidence: str | None
    problem: str | None  # no_owner, review_overdue


def catalogue(session: Session, today: date) -> list[ControlView]:
    records = {r.control_id: r for r in session.scalars(select(ControlRecord))}
    views = []
    for c in CATALOGUE:
        r = records.get(c.id)
        problem = None
        if r is None:
            problem = "no_owner"
        elif r.reviewed_on < today - timedelta(days=REVIEW_DAYS):
            problem = "review_overdue"
        views.append(
            ControlView(
                c, r.owner if r else None, r.reviewed_on if r else None, r.evidence if r else None, problem
            )
        )
    return views


def export(session: Session, today: date) -> dict[str, Any]:
    """The catalogue by category, for auditors and for the public notice's security section."""
    views = catalogue(session, today)
    return {
        "generated_on": today.isoformat(),
        "categories": [
            {
                "id": cid,
                "ja": ja,
                "en": en,
                "controls": [
                    {
                        "id": v.control.id,
                        "ja": v.control.ja,
                        "en": v.control.en,
                        "by": v.control.by,
                        "owner": v.owner,
                        "reviewed_on": v.reviewed_on.isoformat() if v.reviewed_on else None,
                        "evidence": v.evidence,
                        "problem": v.problem,
                    }
                    for v in views
                    if v.control.category == cid
                ],
            }
            for cid, (ja, en) in CATEGORIES.items()
        ],
    }


#: The files the public collection forms (requests, inquiries) are made of.
COLLECTION_FILES = (
    "templates/layout.html.j2",
    "templates/request_new.html.j2",
    "templates/inquiry_new.html.j2",
    "templates/_form_errors.html.j2",
    "static/portal.css",
)


def _digests() -> dict[str, str]:
    root = resources.files("mamoru.web")
    out = {}
    for path in COLLECTION_FILES:
        f = root.joinpath(path)
        out[path] = hashlib.sha256(f.read_bytes()).hexdigest() if f.is_file() else "missing"
    return out


def record_baseline(session: Session, *, actor: str, now: datetime) -> dict[str, str]:
    """Accept the collection pages as they are now (after a reviewed release)."""
    digests = _digests()
    session.execute(delete(IntegrityBaseline))
    for path, digest in digests.items():
        session.add(IntegrityBaseline(path=path, sha256=digest, recorded_at=now, recorded_by=actor))
    append(session, [AuditEvent(actor=actor, action="integrity.baseline", counts={"files": len(digests)})])
    return digests


def integrity_check(session: Session) -> list[str]:
    """Files of the collection pages that differ from the baseline (``path: changed``), or
    ``baseline: missing`` when none was recorded."""
    baseline = {b.path: b.sha256 for b in session.scalars(select(IntegrityBaseline))}
    if not baseline:
        return ["baseline: missing"]
    now = _digests()
    return [f"{path}: changed" for path in COLLECTION_FILES if baseline.get(path) != now[path]]
