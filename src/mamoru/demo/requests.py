"""Demo requests in every state, so the console's queue and the portal's status page have something to
show: waiting for a code, locked, documents pending, verified, late, and answered in each outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

from mamoru.demo import DemoPlan
from mamoru.law.requests import RequestKind
from mamoru.requests import jobs, service
from mamoru.requests.service import Document, RequestIn
from mamoru.workspace import Workspace

OFFICER = "staff:pm01"
#: A one-pixel PNG standing in for a scanned power of attorney.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def load_demo_requests(ws: Workspace, plan: DemoPlan, now: datetime) -> list[str]:
    """Create the demo requests; returns their ids. Deterministic in what it creates, not in its codes."""
    customers = [p for p in plan.subjects if p.kind == "customer"]
    employee = next(p for p in plan.all_people() if p.kind == "employee")
    made: list[str] = []

    def submit(
        kind: RequestKind, email: str, days_ago: float, *, docs: tuple[Document, ...] = (), **extra: object
    ) -> tuple[str, str]:
        data = RequestIn.model_validate({"kind": kind, "name": "デモ 請求者", "email": email, **extra})
        with ws.db.session() as session:
            done = service.submit(
                session,
                ws.vault,
                ws.policy.policy,
                ws.settings,
                data,
                now=now - timedelta(days=days_ago),
                documents=docs,
            )
            made.append(done.request.id)
            return done.request.id, done.code

    def verify(request_id: str, code: str) -> None:
        with ws.db.session() as session:
            request = service.get(session, request_id)
            service.verify_code(
                session,
                ws.vault,
                request,
                code,
                now=request.received_at + timedelta(minutes=5),
                policy=ws.policy.policy,
            )

    def approve(request_id: str, days_ago: float) -> None:
        with ws.db.session() as session:
            service.approve(
                session,
                service.get(session, request_id),
                actor=OFFICER,
                now=now - timedelta(days=days_ago),
                fee_received=True,
            )
        jobs.run(ws, request_id)

    submit(RequestKind.DISCLOSURE, customers[10].values["email"], 0.1)  # awaiting the code
    locked, _ = submit(RequestKind.DISCLOSURE, customers[11].values["email"], 1)
    with ws.db.session() as session:
        request = service.get(session, locked)
        for _ in range(service.MAX_CODE_ATTEMPTS):
            service.verify_code(
                session, ws.vault, request, "000000", now=request.received_at, policy=ws.policy.policy
            )
    agent, code = submit(
        RequestKind.DISCLOSURE,
        customers[12].values["email"],
        2,
        by_agent=True,
        agent_kind="legal_representative",
        agent_name="デモ 代理人",
        docs=(Document("authority", "image/png", _PNG),),
    )
    verify(agent, code)
    # Written from an address we do not hold: the phone number finds the customer, a medium match, so
    # the request waits for an identity document (APPI Art. 33; see requests.matching).
    other_address, code = submit(
        RequestKind.DISCLOSURE, "another-address@example.jp", 1.5, phone=customers[18].values["phone"]
    )
    verify(other_address, code)
    correction, code = submit(
        RequestKind.CORRECTION,
        customers[13].values["email"],
        3,
        corrections=[{"field": "address", "value": "東京都江東区東陽四丁目1番7号"}],
    )
    verify(correction, code)
    late, code = submit(RequestKind.ERASE, customers[17].values["email"], 11, grounds=["no_longer_needed"])
    verify(late, code)
    disclosure, code = submit(RequestKind.DISCLOSURE, customers[14].values["email"], 6, lang="en")
    verify(disclosure, code)
    approve(disclosure, 5)
    nothing, code = submit(RequestKind.PURPOSE_NOTIFICATION, "no-such-person@example.jp", 8)
    verify(nothing, code)
    approve(nothing, 7)
    refused, code = submit(RequestKind.PROVISION_RECORD_DISCLOSURE, customers[15].values["email"], 9)
    verify(refused, code)
    with ws.db.session() as session:
        service.refuse(
            session,
            ws.vault,
            service.get(session, refused),
            actor=OFFICER,
            ground="identity_not_verified",
            reasons="ご本人確認のための追加書類をお送りいただけませんでした。",
            now=now - timedelta(days=2),
        )
    jobs.run(ws, refused)
    # An employee's data includes health check-ups (special care-required): the office checks an
    # identity document before approving (APPI Art. 33; see requests.matching).
    held, code = submit(
        RequestKind.ERASE,
        employee.values["email"],
        12,
        grounds=["no_longer_needed"],
        docs=(Document("identity", "image/png", _PNG),),
    )
    verify(held, code)
    with ws.db.session() as session:
        service.check_documents(
            session, service.get(session, held), actor=OFFICER, accept=True, now=now - timedelta(days=10)
        )
    approve(held, 10)
    stop, code = submit(
        RequestKind.STOP_USE,
        customers[16].values["email"],
        4,
        grounds=["rights_harmed"],
        purposes=["announcements"],
    )
    verify(stop, code)
    approve(stop, 3)
    with ws.db.session() as session:
        service.sweep_deadlines(session, now=now)
    return made
