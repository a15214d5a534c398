"""The guard where it is called: ``decide_and_record`` on a real workspace with the group-commit writer,
``POST /api/v1/decisions`` through ``mamoru serve``, and a minimal FastAPI JSON endpoint served the same
way (one uvicorn process, the same log level, an ``async`` route as mamoru's is: no thread hop) as the
stack's own ceiling. Used by ``bench/guard.py``.

The HTTP load comes from this process: an asyncio client on raw keep-alive sockets (HTTP/1.1), the same
for both servers, so that the ratio compares the servers and not the clients.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from mamoru.demo import load_demo
from mamoru.guard.decision import Action
from mamoru.guard.service import Question, decide_and_record, decide_and_record_async
from mamoru.ledger.tables import Acquisition
from mamoru.people.tokens import issue_token
from mamoru.settings import Settings
from mamoru.setup import initialize
from mamoru.workspace import Workspace

MINIMAL_APP = textwrap.dedent(
    """
    from typing import Annotated
    from fastapi import FastAPI, Header
    from pydantic import BaseModel, Field

    class Ask(BaseModel):
        subjects: Annotated[list[str], Field(min_length=1, max_length=10_000)]
        categories: Annotated[list[str], Field(min_length=1, max_length=50)]
        action: str = "read"

    class Out(BaseModel):
        subject: str
        allow: bool
        reasons: list[str]
        rule: str
        policy_version: str
        mask_fields: list[str]

    app = FastAPI()

    @app.post("/api/v1/decisions")
    async def decisions(body: Ask, x_mamoru_purpose: Annotated[str | None, Header()] = None) -> list[Out]:
        return [Out(subject=s, allow=True, reasons=["allowed"], rule="allow", policy_version="1",
                    mask_fields=[]) for s in body.subjects]
    """
)


@dataclass
class Site:
    """A workspace with the demo organization and the subjects a sales clerk may read for services."""

    home: Path
    ws: Workspace
    subjects: list[str]
    token: str


def make_site() -> Site:
    home = Path(tempfile.mkdtemp(prefix="mamoru-guard-path-"))
    settings = Settings(home=home)
    initialize(settings)
    ws = Workspace.open(settings)
    with ws.db.session() as session:
        load_demo(session, ws.vault, ws.policy.policy, 1)
        subjects = sorted(
            set(
                session.scalars(select(Acquisition.subject_id).where(Acquisition.channel_id == "ch-services"))
            )
        )
        _, token = issue_token(
            session,
            "bench-sa01",
            staff="sa01",
            lifetime=timedelta(days=1),
            actor="staff:po01",
            now=datetime.now(UTC),
        )
    return Site(home, ws, subjects, token)


def _threads(count: int, seconds: float, work: Callable[[int, int], int]) -> float:
    """``work(thread, i)`` in ``count`` threads for ``seconds``; returns decisions per second."""
    done = [0] * count
    stop = time.perf_counter() + seconds

    def run(k: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            done[k] += work(k, i)
            i += 1

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def product_path(site: Site, *, threads: int, per_call: int, seconds: float) -> float:
    """Durable decisions/s of ``decide_and_record`` (``per_call`` subjects a call) from ``threads`` callers."""
    ws, subjects = site.ws, site.subjects
    writer = ws.audit_writer

    def call(k: int, i: int) -> int:
        start = (k * 7919 + i * per_call) % len(subjects)
        chosen = [subjects[(start + j) % len(subjects)] for j in range(per_call)]
        with ws.db.session() as session:
            decisions = decide_and_record(
                session,
                ws.policy,
                actor="staff:sa01",
                purpose="services",
                subjects=chosen,
                categories=["contact"],
                action=Action.READ,
                now=datetime.now(UTC),
                writer=writer,
            )
        assert decisions[0].allow
        return len(decisions)

    call(0, 0)  # warm the cache
    return _threads(threads, seconds, call)


def product_path_async(site: Site, *, callers: int, seconds: float) -> float:
    """Durable decisions/s of ``decide_and_record_async`` (one subject a call) from ``callers`` coroutines
    in one event loop, as the API's ``/decisions`` route calls it: each call returns once its audit
    entry is committed."""
    ws, subjects = site.ws, site.subjects

    async def caller(k: int, stop: float, done: list[int]) -> None:
        i = 0
        while time.perf_counter() < stop:
            question = Question([subjects[(k * 7919 + i) % len(subjects)]], ["contact"], Action.READ)
            (decision,) = await decide_and_record_async(
                ws.db,
                ws.policy,
                actor="staff:sa01",
                purpose="services",
                question=question,
                now=datetime.now(UTC),
                writer=ws.audit_writer,
            )
            assert decision.allow
            done[k] += 1
            i += 1

    async def main() -> float:
        done = [0] * callers
        await caller(0, time.perf_counter() + 0.5, done)  # warm the cache
        done = [0] * callers
        start = time.perf_counter()
        stop = start + seconds
        await asyncio.gather(*(caller(k, stop, done) for k in range(callers)))
        return sum(done) / (time.perf_counter() - start)

    return asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def serve_mamoru(site: Site) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORU_")}
    env["MAMORU_HOME"] = str(site.home)
    mamoru = Path(sys.executable).with_name("mamoru")
    process = subprocess.Popen(
        [str(mamoru), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait(port, process)
    return process, port


def serve_minimal() -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="mamoru-minimal-"))
    (folder / "minimal_app.py").write_text(MINIMAL_APP, encoding="utf-8")
    code = (
        "import uvicorn, minimal_app; "
        f"uvicorn.run(minimal_app.app, host='127.0.0.1', port={port}, log_level='info', proxy_headers=False)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _wait(port, process)
    return process, port


def _request(port: int, body: bytes, token: str) -> bytes:
    return (
        f"POST /api/v1/decisions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nX-Mamoru-Purpose: services\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _client(
    port: int, bodies: list[bytes], token: str, stop: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            writer.write(_request(port, bodies[i % len(bodies)], token))
            i += 1
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            status = int(status_line.split()[1])
            if status != 200:
                errors.append(status)
            latencies.append(time.perf_counter() - t0)
    finally:
        writer.close()


def load(port: int, bodies: list[bytes], token: str, *, connections: int, seconds: float) -> dict[str, float]:
    """Requests/s and latency percentiles of ``connections`` keep-alive clients for ``seconds``."""
    latencies: list[float] = []
    errors: list[int] = []

    async def main() -> None:
        stop = time.perf_counter() + seconds
        await asyncio.gather(
            *(_client(port, bodies, token, stop, latencies, errors) for _ in range(connections))
        )

    start = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "errors": float(len(errors)),
    }


def bodies_for(site: Site, per_call: int = 1) -> list[bytes]:
    s = site.subjects
    return [
        json.dumps(
            {"subjects": [s[(i + j) % len(s)] for j in range(per_call)], "categories": ["contact"]}
        ).encode()
        for i in range(len(s))
    ]
