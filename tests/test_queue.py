"""Background work on a real queue: RabbitMQ on loopback, PostgreSQL, two `mamoru worker` processes.
100 approved requests are queued, one worker is killed with SIGKILL mid-way, and every request still
completes exactly once (its messages go back to the queue and the journal makes a rerun harmless). A worker
holds at most its prefetch (twice its threads) of unacknowledged messages, so a hundred leave the killed one
holding a full prefetch and the other one work to take over."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mamoru.audit.entry import decode_leaf
from mamoru.audit.tables import AuditEntry
from mamoru.audit.verification import verify
from mamoru.law.requests import RequestKind
from mamoru.requests import service
from mamoru.requests.tables import SubjectRequest
from mamoru.settings import Settings
from mamoru.setup import initialize
from mamoru.work.queue import submit
from mamoru.work.scheduler import claim_due
from mamoru.workspace import Workspace
from tests.conftest import IN_CI
from tests.requests_helpers import OFFICER, load_office, verified

AMQP = os.environ.get("MAMORU_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
REQUESTS = 100


def _rabbit_or_skip() -> None:
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters(AMQP + "?connection_attempts=1&socket_timeout=3")).close()
    except Exception as exc:  # any failure to connect
        if IN_CI:
            pytest.fail(f"RabbitMQ unreachable at {AMQP} under CI=true: {exc}")
        pytest.skip(f"RabbitMQ unreachable at {AMQP}: {exc}")


@pytest.fixture
def queued(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    _rabbit_or_skip()
    queue = f"mamoru-test-{secrets.token_hex(4)}"
    env = {
        "MAMORU_HOME": str(tmp_path / "ws"),
        "MAMORU_DATABASE_URL": pg_url,
        "MAMORU_BROKER_URL": AMQP,
        "MAMORU_QUEUE_NAME": queue,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    initialize(settings)
    ws = Workspace.open(settings)
    try:
        yield ws
    finally:
        ws.close()
        import pika

        conn = pika.BlockingConnection(pika.URLParameters(AMQP))
        channel = conn.channel()
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            channel.queue_delete(name)
        conn.close()


def _worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mamoru.cli.main", "worker", "--threads", "4", "--no-schedule"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )


def _completed(ws: Workspace) -> int:
    with ws.db.session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(SubjectRequest).where(SubjectRequest.status == "completed")
            )
            or 0
        )


@pytest.mark.slow
def test_two_workers_one_killed_every_request_completes_once(queued: Workspace) -> None:
    ws = queued
    plan = load_office(ws, seed=5)
    people = [p for p in plan.all_people() if p.values.get("email")]
    ids = []
    for n in range(REQUESTS):
        request_id = verified(ws, RequestKind.DISCLOSURE, people[n % len(people)].values["email"])
        with ws.db.session() as session:
            service.approve(
                session,
                service.get(session, request_id),
                actor=OFFICER,
                now=datetime.now(UTC),
                fee_received=True,
            )
        ids.append(request_id)
    for request_id in ids:
        submit(ws, "request.fulfil", request_id=request_id)

    first, second = _worker(), _worker()
    try:
        deadline = time.monotonic() + 240
        while _completed(ws) < 30 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _completed(ws) >= 30, "the workers did not start working"
        first.send_signal(signal.SIGKILL)  # mid-way: it holds unacknowledged messages
        at_kill = _completed(ws)
        assert at_kill < REQUESTS, "the kill came too late to prove anything"
        first.wait(timeout=30)
        while _completed(ws) < REQUESTS and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for w in (first, second):
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        output = second.communicate(timeout=60)[0].decode(errors="replace")
        first.communicate(timeout=10)
    assert _completed(ws) == REQUESTS, output[-3000:]

    with ws.db.session() as session:
        entries = [
            decode_leaf(bytes(r.leaf), bytes(r.entry_hash)) for r in session.scalars(select(AuditEntry))
        ]
    done = Counter(
        o.removeprefix("request:")
        for e in entries
        if e.body["action"] in ("request.completed", "request.package_built")
        for o in e.body["objects"]
        if o.startswith("request:")
    )
    assert all(done[request_id] == 2 for request_id in ids), "a request was completed or packaged twice"
    report = verify(ws.db, ws.signer.public)
    assert report.ok, report.reason


def test_only_one_of_many_schedulers_wins_each_periodic_run(queued: Workspace) -> None:
    now = datetime.now(UTC)
    schedule = {"requests.sweep": 3600, "audit.checkpoint": 60}
    first = claim_due(queued, now, schedule)
    assert sorted(first) == ["audit.checkpoint", "requests.sweep"]
    assert claim_due(queued, now, schedule) == []  # a second worker at the same moment wins nothing
    assert claim_due(queued, now + timedelta(minutes=2), schedule) == ["audit.checkpoint"]
