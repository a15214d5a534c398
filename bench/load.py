"""Load benchmark: a served mamoru instance on loopback takes 200 concurrent portal submissions, then a
privacy officer approves 20 disclosure requests at once and their fulfilments run concurrently.

Reports throughput, p50/p99 latency, errors and lost work (a submission answered as accepted but not in
the database, a fulfilment not completed in time). Bounded: the phases stop after BENCH_LOAD_TIMEOUT
seconds (default 180). The server runs on SQLite unless BENCH_LOAD_DATABASE_URL is set.
Last line: JSON summary with at least `errors` and `lost`.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

import httpx
from sqlalchemy import func, select

SUBMISSIONS = int(os.environ.get("BENCH_LOAD_SUBMISSIONS", "200"))
FULFILMENTS = int(os.environ.get("BENCH_LOAD_FULFILMENTS", "20"))
TIMEOUT = float(os.environ.get("BENCH_LOAD_TIMEOUT", "180"))
PASSWORD = "load benchmark password"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _p(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _setup(home: Path) -> tuple[Any, list[str]]:
    from mamoru.demo import load_demo
    from mamoru.law.requests import RequestKind
    from mamoru.people.auth import set_password
    from mamoru.requests import service
    from mamoru.requests.service import RequestIn
    from mamoru.settings import Settings
    from mamoru.setup import initialize
    from mamoru.workspace import Workspace

    settings = Settings()
    initialize(settings)
    ws = Workspace.open(settings)
    with ws.db.session() as session:
        plan = load_demo(session, ws.vault, ws.policy.policy, 7)
        set_password(session, "pm01", PASSWORD, actor="bench")
    # customers: no special care-required data, so no identity document is asked before approval
    people = [p for p in plan.all_people() if p.values.get("email") and p.kind == "customer"]
    verified = []
    for n in range(FULFILMENTS):  # disclosure requests already verified, waiting for the officer
        with ws.db.session() as session:
            done = service.submit(
                session,
                ws.vault,
                ws.policy.policy,
                ws.settings,
                RequestIn(kind=RequestKind.DISCLOSURE, name="Bench", email=people[n].values["email"]),
                now=datetime.now(UTC),
            )
            request_id, code = done.request.id, done.code
        with ws.db.session() as session:
            service.verify_code(
                session,
                ws.vault,
                service.get(session, request_id),
                code,
                now=datetime.now(UTC),
                policy=ws.policy.policy,
            )
        verified.append(request_id)
    return ws, verified


def _submit(base: str, n: int) -> tuple[bool, float, str | None]:
    start = time.perf_counter()
    try:
        with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as client:
            form = client.get("/requests/new?lang=en&kind=disclosure")  # the form of the chosen kind
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            if csrf is None:
                return False, time.perf_counter() - start, None
            answer = client.post(
                "/requests?lang=en",
                data={
                    "csrf": csrf.group(1),
                    "kind": "disclosure",
                    "name": f"Load Tester {n}",
                    "email": f"load{n}@example.jp",
                    "method": "electronic",
                },
            )
            ok = answer.status_code in (200, 303)
            location = answer.headers.get("location")
            return ok, time.perf_counter() - start, location
    except httpx.HTTPError:
        return False, time.perf_counter() - start, None


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="mamoru-load-"))
    os.environ["MAMORU_HOME"] = str(tmp / "ws")
    os.environ["MAMORU_PORTAL_SUBMISSIONS_PER_MINUTE"] = str(SUBMISSIONS * 10)  # one address sends all
    if os.environ.get("BENCH_LOAD_DATABASE_URL"):
        os.environ["MAMORU_DATABASE_URL"] = os.environ["BENCH_LOAD_DATABASE_URL"]
    ws, verified = _setup(tmp)
    port = _port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "mamoru.cli.main", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    summary: dict[str, Any] = {"benchmark": "load", "database": ws.db.engine.dialect.name}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        # Phase 1: concurrent portal submissions.
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=SUBMISSIONS) as pool:
            results = list(pool.map(lambda n: _submit(base, n), range(SUBMISSIONS)))
        wall = time.perf_counter() - start
        accepted = [r for r in results if r[0]]
        latencies = [r[1] for r in results]
        from mamoru.requests.tables import SubjectRequest

        with ws.db.session() as session:
            stored = session.scalar(
                select(func.count()).select_from(SubjectRequest).where(SubjectRequest.id.not_in(verified))
            )
        submit_errors = len(results) - len(accepted)
        submit_lost = max(0, len(accepted) - int(stored or 0))
        summary["submissions"] = {
            "count": SUBMISSIONS,
            "accepted": len(accepted),
            "per_s": round(SUBMISSIONS / wall, 1),
            "p50_ms": round(median(latencies) * 1000, 1),
            "p99_ms": round(_p(latencies, 0.99) * 1000, 1),
            "errors": submit_errors,
            "lost": submit_lost,
        }
        print(f"submissions: {json.dumps(summary['submissions'])}", flush=True)
        # Phase 2: the officer approves every verified request at once; fulfilments run concurrently.
        with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as officer:
            form = officer.get("/console/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            officer.post(
                "/console/login", data={"login": "pm01", "password": PASSWORD, "csrf": csrf.group(1)}
            )
            page = officer.get("/console/")
            session_csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert session_csrf is not None
            token = session_csrf.group(1)
            cookies = dict(officer.cookies)

        def approve(request_id: str) -> tuple[bool, float]:
            t0 = time.perf_counter()
            try:
                with httpx.Client(base_url=base, timeout=120, cookies=cookies, follow_redirects=False) as c:
                    answer = c.post(
                        f"/console/requests/{request_id}/approve",
                        data={"csrf": token, "fee_received": "true"},
                    )
                refused = "error=" in answer.headers.get("location", "")
                return answer.status_code == 303 and not refused, time.perf_counter() - t0
            except httpx.HTTPError:
                return False, time.perf_counter() - t0

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=FULFILMENTS) as pool:
            approvals = list(pool.map(approve, verified))
        done_at: dict[str, float] = {}
        limit = time.monotonic() + TIMEOUT
        while len(done_at) < len(verified) and time.monotonic() < limit:
            with ws.db.session() as session:
                for request_id, status in session.execute(
                    select(SubjectRequest.id, SubjectRequest.status).where(SubjectRequest.id.in_(verified))
                ):
                    if status == "completed" and request_id not in done_at:
                        done_at[request_id] = time.perf_counter() - start
            time.sleep(0.1)
        wall = time.perf_counter() - start
        times = list(done_at.values())
        summary["fulfilments"] = {
            "count": FULFILMENTS,
            "completed": len(done_at),
            "per_s": round(len(done_at) / wall, 2) if wall else 0,
            "p50_s": round(median(times), 2) if times else None,
            "p99_s": round(_p(times, 0.99), 2) if times else None,
            "approve_errors": sum(1 for ok, _ in approvals if not ok),
            "lost": len(verified) - len(done_at),
        }
        print(f"fulfilments: {json.dumps(summary['fulfilments'])}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        ws.close()
    summary["errors"] = summary["submissions"]["errors"] + summary["fulfilments"]["approve_errors"]
    summary["lost"] = summary["submissions"]["lost"] + summary["fulfilments"]["lost"]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
