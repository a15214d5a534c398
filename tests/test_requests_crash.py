"""Crash safety of fulfilment: the job is killed with SIGKILL at random steps, again and again; after the
last resume every request is complete, each effect happened exactly once, and the audit log verifies."""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mamoru.audit.entry import decode_leaf
from mamoru.audit.tables import AuditEntry
from mamoru.audit.verification import verify
from mamoru.law.requests import RequestKind
from mamoru.ledger.tables import Cessation, DataSubject
from mamoru.requests import jobs, service
from mamoru.requests.tables import RequestStep, SubjectRequest
from mamoru.workspace import Workspace
from tests.forked import Forker
from tests.requests_helpers import OFFICER, load_office, package_json, person, verified

MIN_KILLS = 20
#: What the child imports, imported once by the process the children are forked from.
PRELOAD = ["mamoru.schema", "mamoru.workspace", "mamoru.requests.jobs", "mamoru.connectors.sql"]

CHILD = r"""
import sys
from mamoru.requests import jobs
from mamoru.workspace import Workspace

ws = Workspace.open()
def progress(event, position, name):
    print(event, position, name, flush=True)
for request_id in jobs.pending(ws):
    print("request", request_id, flush=True)
    jobs.run(ws, request_id, progress=progress)
print("finished", flush=True)
"""


@pytest.mark.slow
def test_sigkill_at_random_steps_leaves_every_request_complete_and_each_effect_once(
    workspace: Workspace,
) -> None:
    ws = workspace
    plan = load_office(ws)
    customers = [p for p in plan.all_people() if p.kind == "customer"]
    new_address = "東京都港区芝公園四丁目2番8号"
    kinds: dict[str, tuple[RequestKind, str]] = {}
    for i, customer in enumerate(customers[:20]):
        kind = [RequestKind.ERASE, RequestKind.CORRECTION, RequestKind.DISCLOSURE, RequestKind.STOP_USE][
            i % 4
        ]
        extra: dict[str, object] = {}
        if kind is RequestKind.CORRECTION:
            extra["corrections"] = [{"field": "address", "value": new_address}]
        if kind in (RequestKind.ERASE, RequestKind.STOP_USE):
            extra["grounds"] = ["no_longer_needed"]
        request_id = verified(ws, kind, customer.values["email"], **extra)
        with ws.db.session() as session:
            service.approve(
                session,
                service.get(session, request_id),
                actor=OFFICER,
                now=datetime.now(UTC),
                fee_received=True,
            )
        kinds[request_id] = (kind, customer.subject_id)
    employee = person(plan, "employee", 1)
    held = verified(ws, RequestKind.ERASE, employee.values["email"], grounds=["no_longer_needed"])
    with ws.db.session() as session:
        service.approve(session, service.get(session, held), actor=OFFICER, now=datetime.now(UTC))

    rng = random.Random(2026)
    kills = 0
    with Forker(CHILD, PRELOAD, ws.settings.home / "children.log") as forker:
        for _trial in range(200):
            if not jobs.pending(ws) or kills >= MIN_KILLS + 5:
                break
            child = forker.start()
            target = rng.randrange(1, 7)
            seen = 0
            killed = False
            for line in child:
                if line.startswith((b"start", b"done")):
                    seen += 1
                    if seen == target:
                        time.sleep(rng.uniform(0, 0.004))
                        child.kill()
                        killed = True
                        break
            child.communicate()
            if killed:
                kills += 1
            else:
                assert child.returncode == 0, forker.errors()
    assert kills >= MIN_KILLS
    for request_id in jobs.pending(ws):  # the last resume, uninterrupted
        jobs.run(ws, request_id)

    with ws.db.session() as session:
        entries = [
            decode_leaf(bytes(r.leaf), bytes(r.entry_hash)) for r in session.scalars(select(AuditEntry))
        ]
        per_request = Counter(
            (o.removeprefix("request:"), e.body["action"])
            for e in entries
            for o in e.body["objects"]
            if o.startswith("request:")
        )
        disposals = Counter(
            s for e in entries if e.body["action"] == "subject.dispose" for s in e.body["subjects"]
        )
        for request_id, (kind, subject_id) in kinds.items():
            request = session.get(SubjectRequest, request_id)
            assert request is not None and request.status == "completed", request_id
            assert per_request[(request_id, "request.completed")] == 1
            assert per_request[(request_id, "request.package_built")] == 1
            steps = list(session.scalars(select(RequestStep).where(RequestStep.request_id == request_id)))
            assert all(s.done_at is not None for s in steps)
            if kind is RequestKind.ERASE:
                assert session.get(DataSubject, subject_id).erased_at is not None  # type: ignore[union-attr]
                assert ws.vault.field_names(session, subject_id) == []
                assert disposals[subject_id] == 1
            elif kind is RequestKind.CORRECTION:
                assert ws.vault.decrypt(session, subject_id, ["address"]) == {"address": new_address}
                assert per_request[(request_id, "request.correct")] == 1
            elif kind is RequestKind.STOP_USE:
                stops = list(session.scalars(select(Cessation).where(Cessation.subject_id == subject_id)))
                assert len(stops) == 1
        held_request = session.get(SubjectRequest, held)
        assert held_request is not None and held_request.outcome == "partial"
        assert per_request[(held, "request.erase_partial")] == 1
    for request_id, (kind, subject_id) in kinds.items():
        if kind is RequestKind.DISCLOSURE:
            (subject,) = package_json(ws, request_id)["subjects"]
            customer = next(c for c in customers if c.subject_id == subject_id)
            assert {f["field"]: f["value"] for f in subject["fields"]} == customer.values
    report = verify(ws.db, ws.signer.public)
    assert report.ok, report.reason
