"""Demo incidents at each stage: a signal's draft, a fresh reportable leak, one with its preliminary
report filed, a small one handled internally, and a closed one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mamoru.demo import DemoPlan
from mamoru.guard.decision import Action
from mamoru.guard.service import decide_and_record
from mamoru.incidents import service as incidents
from mamoru.incidents import signals
from mamoru.incidents.service import ReportKind, Stage
from mamoru.incidents.tables import Incident
from mamoru.law.mynumber import StatutoryAffair
from mamoru.mynumber.service import MY_NUMBER_CATEGORY, purpose_for
from mamoru.workspace import Workspace

OFFICER = "staff:pm01"


def load_demo_incidents(ws: Workspace, plan: DemoPlan, now: datetime) -> list[str]:
    customers = [p.subject_id for p in plan.subjects if p.kind == "customer"]
    refs: list[str] = []
    with ws.db.session() as session:

        def open_(days_ago: float, **fields: Any) -> Incident:
            incident = incidents.open_incident(
                session, ws.vault, aware_at=now - timedelta(days=days_ago), actor=OFFICER, now=now, **fields
            )
            refs.append(incident.ref)
            return incident

        def stages(incident: Incident, upto: int) -> None:
            for stage in list(Stage)[:upto]:
                incidents.complete_stage(
                    session,
                    ws.vault,
                    incident,
                    stage,
                    note="対応済み（デモ）",
                    actor=OFFICER,
                    now=now,
                )

        # A salesperson asks for an employee's Individual Number: the guard refuses, the refusal is
        # audited, and the signal scan opens the office's draft from it, as in real use.
        employee = next(p.subject_id for p in plan.subjects if p.kind == "employee")
        decide_and_record(
            session,
            ws.policy,
            actor="staff:sa01",
            purpose=purpose_for(ws, StatutoryAffair.WITHHOLDING_SLIP),
            subjects=[employee],
            categories=[MY_NUMBER_CATEGORY],
            action=Action.READ,
            now=now,
        )
        refs.extend(i.ref for i in signals.scan(session, ws.vault, now=now))
        mail = open_(
            2,
            overview="セミナー案内メールを宛先を表示したまま送信しました（デモ）。",
            data_items="氏名、電子メールアドレス",
            affected_count=1200,
            medium="email",
            subjects=customers[20:25],
        )
        stages(mail, 2)
        access = open_(
            8,
            overview="検索サービスのサーバーに不正アクセスの痕跡がありました（デモ）。",
            data_items="ログインID、利用履歴",
            affected_count=300,
            improper_purpose=True,
            suspected_only=True,
            cause="調査中",
            medium="server",
        )
        stages(access, 3)
        for kind in (
            ReportKind.PPC_PRELIM,
            ReportKind.PMARK_PRELIM,
        ):  # the review body is told as well (JIS-8)
            incidents.submit_report(session, ws, access, kind, actor=OFFICER, now=now - timedelta(days=5))
        usb = open_(
            20,
            overview="USBメモリを社内で紛失し、翌日発見しました（デモ）。",
            data_items="氏名、所属",
            affected_count=10,
            encrypted=True,
            medium="usb",
        )
        stages(usb, 5)
        closed = open_(
            70,
            overview="誤った宛先に請求書を1通郵送しました（デモ）。",
            data_items="氏名、住所、請求金額",
            affected_count=1,
            cause="封入作業の確認漏れ",
            secondary_damage="なし（回収済み）",
            response_to_individuals="本人に連絡し謝罪",
            publication="公表不要と判断",
            prevention="封入時のダブルチェック",
            other="なし",
            medium="paper",
        )
        stages(closed, 6)
        incidents.submit_report(
            session, ws, closed, ReportKind.PMARK_FINAL, actor=OFFICER, now=now - timedelta(days=50)
        )
        incidents.close(session, closed, actor=OFFICER, now=now - timedelta(days=45))
    return refs
