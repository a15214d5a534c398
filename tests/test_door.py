"""Abuse at the door: counters that hold under forty attempts at once, addresses only from trusted proxies,
bodies capped before anything reads them, no blocking on the event loop, no status link in the access
log, no page that loads a CDN.

The concurrent tests run on SQLite and PostgreSQL (``any_workspace``) with one session per attempt, as
forty requests would; the rest run against a real ``mamoru serve`` on loopback, with a mail server that
accepts and never answers.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import re
import socket
import subprocess
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.requests import Request

from mamoru import logfilter
from mamoru.api.deps import api_routes
from mamoru.audit.entry import decode_leaf
from mamoru.audit.tables import AuditEntry
from mamoru.law.requests import RequestKind
from mamoru.people.auth import MAX_FAILURES, set_password, sign_in
from mamoru.people.tables import Staff
from mamoru.requests import service
from mamoru.requests.service import MAX_CODE_ATTEMPTS
from mamoru.requests.status import Status
from mamoru.server import create_app
from mamoru.settings import Settings
from mamoru.web.door import ClientAddress
from mamoru.web.requests import RateLimit, TooManyRequests
from mamoru.workspace import Workspace
from tests.requests_helpers import submit
from tests.test_serve_e2e import MAMORU, _free_port, start_serving

AT_ONCE = 40
PASSWORD = "correct horse battery"
T = TypeVar("T")


def at_once(attempt: Callable[[], T], n: int = AT_ONCE) -> list[T]:
    """Run ``attempt`` in ``n`` threads released together; every result (or exception) comes back."""
    gate = threading.Barrier(n)

    def one() -> T:
        gate.wait()
        return attempt()

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(one) for _ in range(n)]
        return [f.result() for f in futures]


def actions(ws: Workspace) -> list[str]:
    with ws.db.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [decode_leaf(bytes(r.leaf), bytes(r.entry_hash)).body["action"] for r in rows]


# --- counters under concurrency ---------------------------------------------------------------------


def test_appi_23_forty_wrong_passwords_at_once_lock_the_account_at_the_threshold(
    any_workspace: Workspace,
) -> None:
    ws = any_workspace
    with ws.db.session() as session:
        set_password(session, "admin", PASSWORD, actor="test")

    def wrong() -> bool:
        with ws.db.session() as session:
            return sign_in(session, "admin", "not the password at all", datetime.now(UTC)) is not None

    assert not any(at_once(wrong))
    done = actions(ws)
    # Exactly MAX_FAILURES attempts were heard; the lock came at the last of them, the rest were refused
    # unheard.
    assert done.count("staff.sign_in_failed") == MAX_FAILURES - 1 and done.count("staff.locked") == 1
    with ws.db.session() as session:
        staff = session.scalars(select(Staff).where(Staff.login == "admin")).one()
        assert staff.locked_until is not None and staff.locked_until > datetime.now(UTC)
        assert sign_in(session, "admin", PASSWORD, datetime.now(UTC)) is None  # locked: even the right one
    assert "staff.sign_in" not in actions(ws)


def test_appi_23_forty_wrong_codes_at_once_lock_the_request_at_the_threshold(
    any_workspace: Workspace,
) -> None:
    ws = any_workspace
    request_id, token, code = submit(ws, RequestKind.DISCLOSURE, "many@example.jp")
    wrong_code = f"{(int(code) + 1) % 10**6:06d}"

    def wrong() -> str:
        with ws.db.session() as session:
            request = service.by_token(session, token)
            return str(
                service.verify_code(
                    session, ws.vault, request, wrong_code, now=datetime.now(UTC), policy=ws.policy.policy
                )
            )

    results = at_once(wrong)
    assert results.count("wrong") == MAX_CODE_ATTEMPTS - 1
    assert results.count("locked") == AT_ONCE - (MAX_CODE_ATTEMPTS - 1)
    with ws.db.session() as session:
        request = service.get(session, request_id)
        assert request.status == Status.LOCKED and request.code_attempts == MAX_CODE_ATTEMPTS
        assert (
            service.verify_code(
                session, ws.vault, request, code, now=datetime.now(UTC), policy=ws.policy.policy
            )
            == "locked"
        )
    assert actions(ws).count("request.locked") == 1


def _request_from(host: str) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": [], "client": (host, 1)})


class _SlowDeque(deque[float]):
    """A deque that lets other threads run while it is being counted: a check-then-add without a lock
    lets every thread through here."""

    def __len__(self) -> int:
        counted = super().__len__()
        time.sleep(0.001)
        return counted


def test_appi_23_forty_hits_at_once_from_one_address_let_exactly_the_limit_through() -> None:
    limit = RateLimit(limit=10, window=60)
    limit._hits = defaultdict(_SlowDeque)

    def hit() -> bool:
        try:
            limit.hit(_request_from("192.0.2.7"))
        except TooManyRequests:
            return False
        return True

    assert at_once(hit).count(True) == 10
    limit.hit(_request_from("192.0.2.8"))  # another address has its own count


# --- trusted proxies --------------------------------------------------------------------------------


def _seen_client(trusted: list[str], peer: str, forwarded: list[str]) -> str:
    async def echo(scope: Any, receive: Any, send: Any) -> None:
        body = str(scope["client"][0]).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    networks = Settings(trusted_proxies=trusted).trusted_proxies  # type: ignore[arg-type]
    app = ClientAddress(echo, trusted=networks)
    headers = [("x-forwarded-for", value) for value in forwarded]

    async def ask() -> str:
        transport = httpx.ASGITransport(app=app, client=(peer, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.get("/", headers=headers)).text

    return asyncio.run(ask())


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "seen"),
    [
        ([], "127.0.0.1", ["203.0.113.9"], "127.0.0.1"),  # none trusted by default, not even loopback
        (["10.0.0.0/8"], "198.51.100.4", ["203.0.113.9"], "198.51.100.4"),  # not from a trusted proxy
        (["10.0.0.0/8"], "10.0.0.2", ["203.0.113.9"], "203.0.113.9"),
        (["10.0.0.0/8"], "10.0.0.2", ["198.51.100.66, 203.0.113.9, 10.0.0.3"], "203.0.113.9"),  # nearest
        (["10.0.0.0/8"], "10.0.0.2", ["198.51.100.66", "203.0.113.9"], "203.0.113.9"),  # two headers
        (["10.0.0.0/8"], "10.0.0.2", ["not-an-address"], "10.0.0.2"),  # malformed: the peer stays
        (["10.0.0.0/8"], "10.0.0.2", [], "10.0.0.2"),
        (["::1"], "::1", ["2001:db8::5"], "2001:db8::5"),
    ],
)
def test_appi_23_x_forwarded_for_counts_only_from_a_trusted_proxy(
    trusted: list[str], peer: str, forwarded: list[str], seen: str
) -> None:
    assert _seen_client(trusted, peer, forwarded) == seen


def test_trusted_proxies_come_from_the_environment_and_bad_ones_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().trusted_proxies == []
    monkeypatch.setenv("MAMORU_TRUSTED_PROXIES", '["10.1.2.3", "fd00::/8"]')
    assert [str(n) for n in Settings().trusted_proxies] == ["10.1.2.3/32", "fd00::/8"]
    monkeypatch.setenv("MAMORU_TRUSTED_PROXIES", '["proxy.example.jp"]')
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings()


# --- the application: no route on the event loop, no CDN ----------------------------------------------


routes_of = api_routes  # every route of ours, those of included routers too


#: Routes that run on the event loop: they do no blocking I/O there. The guard's decisions come from the
#: cached state (a cache miss is read in a worker thread, `guard.service.decide_many_and_record_async`)
#: and the answer awaits the group commit without holding a thread.
ON_THE_LOOP = {"/api/v1/decisions", "/api/v1/decisions/batch"}


def test_no_route_runs_on_the_event_loop(workspace: Workspace) -> None:
    """Every route is a plain function, which FastAPI runs in its thread pool: a slow database or mail
    server holds one thread, never the loop that serves /healthz and everyone else. The guard's two
    routes are the exception, named above, and what they await is checked here."""
    routes = routes_of(list(create_app(workspace).routes))
    assert len(routes) > 100
    assert {r.path for r in routes if inspect.iscoroutinefunction(r.endpoint)} == ON_THE_LOOP


def test_the_guard_routes_answer_while_the_database_is_locked(workspace: Workspace) -> None:
    """While another connection holds SQLite's write lock, /healthz still answers at once and a cached
    decision waits for its commit without blocking the loop (it is answered once the lock goes)."""
    if not workspace.db.url.startswith("sqlite"):
        pytest.skip("about SQLite's write lock")
    from mamoru.people.tokens import issue_token

    with workspace.db.session() as session:
        _, token = issue_token(
            session,
            "loop",
            scopes=["guard"],
            lifetime=timedelta(hours=1),
            actor="staff:po01",
            now=datetime.now(UTC),
        )
    headers = {"Authorization": f"Bearer {token}", "X-Mamoru-Purpose": "services"}
    body = {"subjects": ["s-none"], "categories": ["contact"]}
    with TestClient(create_app(workspace)) as client:
        assert client.post("/api/v1/decisions", json=body, headers=headers).status_code == 200  # cached
        locker = workspace.db.engine.raw_connection()
        locker.execute("BEGIN IMMEDIATE")
        answers: list[int] = []
        asked = threading.Thread(
            target=lambda: answers.append(
                client.post("/api/v1/decisions", json=body, headers=headers).status_code
            )
        )
        asked.start()
        time.sleep(0.3)
        assert client.get("/healthz").status_code == 200 and not answers  # the loop serves; the answer waits
        locker.rollback()
        locker.close()
        asked.join(timeout=30)
        assert answers == [200]


CDN = re.compile(r"cdn\.|jsdelivr|unpkg|cdnjs|googleapis|//[a-z0-9.-]+/[^\"']*\.(?:js|css)\b", re.IGNORECASE)


def test_no_page_loads_a_cdn_and_the_docs_are_off_unless_asked_for(workspace: Workspace) -> None:
    app = create_app(workspace)
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").json()["info"]["title"] == "mamoru"
        pages = [
            r.path for r in app.routes if isinstance(r, APIRoute) and "GET" in r.methods and "{" not in r.path
        ]
        for path in [*pages, "/docs", "/redoc", "/console/login", "/requests/new"]:
            response = client.get(path)
            assert not CDN.search(response.text), path
            if "text/html" in response.headers.get("content-type", ""):
                assert "script-src 'self'" in response.headers["content-security-policy"], path
    enabled = workspace.settings.model_copy(update={"docs_enabled": True})
    workspace.settings = enabled
    with TestClient(create_app(workspace)) as client:
        page = client.get("/docs")  # asked for: Swagger UI shipped in the package, under the same CSP
        assert page.status_code == 200 and not CDN.search(page.text)
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "<script>" not in page.text  # no inline script: the CSP would refuse it
        for asset in re.findall(r'(?:src|href)="(/[^"]+)"', page.text):
            assert client.get(asset).status_code == 200, asset
        assert client.get("/redoc").status_code == 404  # ReDoc is not shipped: off


# --- a real server ----------------------------------------------------------------------------------


class SilentMailServer:
    """A socket that accepts SMTP connections and never says a word (not even the greeting)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = threading.Event()
        self.closed_by_client = threading.Event()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.accepted.set()
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        self.closed_by_client.set()

    def close(self) -> None:
        self.sock.close()
        for conn in self._conns:
            conn.close()


class Served:
    """A running ``mamoru serve``; its output (the access log among it) is collected as it comes."""

    def __init__(self, base: str, port: int, process: subprocess.Popen[str], smtp: SilentMailServer) -> None:
        self.base, self.port, self.process, self.smtp = base, port, process, smtp
        self.lines: list[str] = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("door") / "ws"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORU_")}
    env["MAMORU_HOME"] = str(home)
    smtp = SilentMailServer()
    env["MAMORU_SMTP_HOST"] = "127.0.0.1"
    env["MAMORU_SMTP_PORT"] = str(smtp.port)
    port = _free_port()
    env["MAMORU_BASE_URL"] = f"http://127.0.0.1:{port}"
    done = subprocess.run([*MAMORU, "init"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    process = start_serving(env, port, timeout=60)
    server = Served(f"http://127.0.0.1:{port}", port, process, smtp)
    try:
        yield server
    finally:
        process.terminate()
        process.wait(timeout=60)
        smtp.close()
        assert "Traceback" not in server.output, server.output[-3000:]


def _raw(port: int, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send a request head and some of its body over a plain socket; return the server's whole answer
    (it closes the connection after a 413)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_appi_23_a_200_mb_body_is_refused_with_413_before_it_is_read(served: Served) -> None:
    # Content-Length of 200 MB and nothing of it sent: the answer comes from the head alone. (Sending a
    # part of the body too would race the server's close: unread data there turns the close into a reset.)
    head = (
        b"POST /api/v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 209715200\r\n\r\n"
    )
    answer = _raw(served.port, head, [])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # Chunked, no length: refused once the part received passes the cap (1 MiB), without a token.
    head = (
        b"POST /api/v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (256 * 1024, b"0" * 256 * 1024)
    # Exactly the cap, then one byte more: the byte that tips it is the last one sent, so the server
    # has read all that was sent when it answers and closes (a close with unread data would be a reset).
    answer = _raw(served.port, head, [chunk] * 4 + [b"1\r\n0\r\n"])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"error":"BodyTooLarge"' in answer
    # A page's form: the reader is told in their language.
    head = (
        b"POST /console/login?lang=ja HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 2097152\r\n\r\n"
    )
    answer = _raw(served.port, head, [])
    assert answer.startswith(b"HTTP/1.1 413") and "大きすぎます" in answer.decode()
    # Under the cap, chunked or not, a body goes on to the route (which wants a credential).
    small = httpx.post(
        f"{served.base}/api/v1/incidents", content=iter([b"{", b"}"]), timeout=30
    )  # an iterator: sent chunked
    assert small.status_code in (401, 403, 422)


def test_x_forwarded_for_from_loopback_does_not_reset_the_per_address_limit(served: Served) -> None:
    statuses = [
        httpx.post(
            f"{served.base}/requests/status/no-such-link/verify",
            data={"code": "123456"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
            timeout=30,
        ).status_code
        for i in range(40)
    ]
    # One address, whatever it says it forwards: the code-tries limit (30 a minute) holds.
    assert statuses.count(429) >= AT_ONCE - 30


def test_healthz_answers_while_the_mail_server_never_does(served: Served) -> None:
    with httpx.Client(base_url=served.base, timeout=120) as client:
        form = client.get("/requests/new?lang=en&kind=disclosure")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        data = {"csrf": csrf.group(1), "kind": "disclosure", "name": "Requester", "email": "slow@example.jp"}
        sent: dict[str, Any] = {}
        submitting = threading.Thread(
            target=lambda: sent.update(r=client.post("/requests", data=data, follow_redirects=False))
        )
        submitting.start()
        # Wait until the mail server holds the server's SMTP connection (or the request finished, if
        # mail no longer goes out while a page waits).
        while not served.smtp.accepted.wait(0.1) and submitting.is_alive():
            pass
        health = httpx.get(f"{served.base}/healthz", timeout=120)
        assert health.status_code == 200
        # The mail server still has not answered and the server has not given up on it: /healthz came
        # back while a mail was stuck, not after.
        assert not served.smtp.closed_by_client.is_set()
        served.smtp.close()  # let the stuck mail fail now
        submitting.join(120)


def test_status_links_never_reach_the_access_log(served: Served) -> None:
    token = "Zk3-secret_link_token_that_must_not_be_logged_0123"
    assert httpx.get(f"{served.base}/requests/status/{token}?lang=en", timeout=30).status_code == 404
    httpx.post(f"{served.base}/requests/status/{token}/verify", data={"code": "1"}, timeout=30)
    line = '"GET /requests/status/[redacted:link]?lang=en HTTP/1.1" 404'
    deadline = time.monotonic() + 30
    while line not in served.output and time.monotonic() < deadline:
        time.sleep(0.1)
    assert line in served.output  # the request is logged, its secret is not
    assert "/requests/status/[redacted:link]/verify" in served.output
    assert token not in served.output


def test_the_access_log_record_of_uvicorn_is_redacted() -> None:
    logfilter.install()
    from uvicorn.logging import AccessFormatter

    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/requests/status/abcDEF123_-x/letter?lang=ja", "1.1", 200),
        None,
    )
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert "abcDEF123_-x" not in line and "/requests/status/[redacted:link]/letter?lang=ja" in line
