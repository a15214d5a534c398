"""Data-subject request benchmark, product path against product path: mamoru and Ethyca Fides answer
the same access request over the same PostgreSQL shop database, each as its users run it.

The shop: at least 1,000,000 rows over linked tables (customers, addresses, orders, order items,
tickets), one subject owning 100,002 of them (BENCH_DSR_CUSTOMERS, BENCH_DSR_ORDERS,
BENCH_DSR_SUBJECT_ORDERS shrink it for a quick run). Each side reads its own copy of it
(``CREATE DATABASE … TEMPLATE``), so that its erasure at the end changes only its own.

mamoru: a workspace whose database is PostgreSQL (a fresh one per run), the demo organization loaded
(the subject is a demo customer, known to the vault, so the request reaches the datastores), the
shop map of tests/connector_cases/shop.yaml in ``<home>/datasets``; ``mamoru serve`` and one
``mamoru worker`` process (Dramatiq on the local Redis, its default 4 threads). Each request is
submitted with ``POST /api/v1/requests`` (a system token with the ``requests`` scope), verified with
``POST …/verify`` using the code read from the mail the server queued (the worker's mail sender
writes it to ``<home>/outbox``), approved in the console by the protection manager (the form a person
submits), fulfilled by the worker into the sealed package, and downloaded from the requester's status
link; the ZIP is opened and the lines of ``datastores/shop/*.jsonl`` counted.

Fides (ethyca-fides==2.78.2, in a virtualenv of its own, BENCH_FIDES_VENV, default .venv-fides, made
with pip when missing): ``fides webserver`` on a fresh application database and ``fides worker``
(Celery, its own defaults) on the local Redis, tasks not eager; manual approval required, so each
request is approved through its API as mamoru's is in the console (Fides' e-mail identity verification
needs a messaging service and stays off: mamoru's code step is inside its time, Fides has none). The
same tables as a Fides dataset; an access policy whose one rule targets ``user`` (every user data
category of the dataset, so ``user.financial`` too) and stores to Fides' local storage; the package
Fides writes is opened and its rows counted.

Both: the time runs from submission to the package being ready (mamoru: status ``completed``; Fides:
``complete``); the package is then opened and must hold the subject's rows (2 + 4 x subject orders,
100,002 at full size) on both sides, else the bench fails (exit 1, ``rows_equal`` false). Memory: the
peak RSS of every process of the side (server, workers and their children), each process's VmHWM
(reset through /proc/PID/clear_refs before each measured run, sampled every 0.2 s so that a child that
exits is counted) summed over the processes: the same rule both sides; the JSON has it by process
too, with each process's resident set when the side was ready (idle) and after its runs. On each side,
BENCH_DSR_REPEAT (3) runs of one request, then as many of BENCH_DSR_CONCURRENT (20) submitted at once
(the single runs first, so that their memory is one request's and not what a burst left behind), and
the medians. An error status (or a worker's traceback) is reported as an error with the side's log
folder kept (its path is printed), never as a timeout. Then BENCH_DSR_ERASE_REPEAT (as many as
BENCH_DSR_REPEAT) erasures each, checked by SQL: the subject's rows deleted or masked as each side's
policy says (mamoru: the map's delete/mask/set_null; Fides: a ``null_rewrite`` rule on ``user``),
every other row unchanged. Before each erasure after the first, the subject's rows are put back as
built, under the next demo customer's e-mail (mamoru erased the previous person from its own records
too), and both sides are asked to erase that person. At full size, on the shared 2-core machine, a
run with one repetition took 9 to 17 minutes (Fides: 4 to 7 for its 20 concurrent requests, 4 to 9 for
its erasure); three take about 26 to 54 (19 to 38 with BENCH_DSR_ERASE_REPEAT=1).

Needs PostgreSQL on 127.0.0.1:5432 (BENCH_PG_ADMIN) and Redis on 127.0.0.1:6379 (BENCH_REDIS_URL).
Last line: JSON summary.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres:postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
CUSTOMERS = int(os.environ.get("BENCH_DSR_CUSTOMERS", "50000"))
OTHER_ORDERS = int(os.environ.get("BENCH_DSR_ORDERS", "300000"))
SUBJECT_ORDERS = int(os.environ.get("BENCH_DSR_SUBJECT_ORDERS", "25000"))  # x4 rows each: 100,000
CONCURRENT = int(os.environ.get("BENCH_DSR_CONCURRENT", "20"))
REPEAT = int(os.environ.get("BENCH_DSR_REPEAT", "3"))
#: Erasures a side (each on the subject put back): BENCH_DSR_REPEAT unless told. Fides' takes about 9
#: minutes at full size, so three of them add 18 minutes to a run.
ERASE_REPEAT = int(os.environ.get("BENCH_DSR_ERASE_REPEAT", str(REPEAT)))
TIMEOUT = float(os.environ.get("BENCH_DSR_TIMEOUT", "1800"))  # per measured run, each side
SKIP_FIDES = os.environ.get("BENCH_DSR_SKIP_FIDES") == "1"
#: 1: both products as shipped. Otherwise each gets the one setting that its 20 concurrent requests
#: need on this machine: mamoru's connection pool sized for 20 clients (MAMORU_DB_POOL_SIZE; with the
#: default 5 + 10 overflow, API calls waited 30 s for a connection and answered 500), and Fides' check
#: for interrupted tasks made hourly (every 300 s by default it cancelled, with status "error",
#: requests whose tasks were still queued behind the others on the worker) and its API's limit per
#: client address raised (1,000 calls a minute by default: the status polls of 20 requests are 1,200).
DEFAULTS = os.environ.get("BENCH_DSR_DEFAULTS") == "1"
SUBJECT_ROWS = 2 + 4 * SUBJECT_ORDERS
DEMO_SEED = 3
MAP = ROOT / "tests" / "connector_cases" / "shop.yaml"
MAMORU = [sys.executable, "-m", "mamoru.cli.main"]

SCHEMA = """
CREATE TABLE addresses (id integer PRIMARY KEY, customer_id integer, line varchar(200), postal_code varchar(10));
CREATE TABLE customers (id integer PRIMARY KEY, email varchar(120) UNIQUE, phone varchar(40), full_name varchar(100),
  address_id integer REFERENCES addresses(id));
CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer REFERENCES customers(id), total_yen integer, ordered_at date);
CREATE TABLE order_items (id integer PRIMARY KEY, order_id integer REFERENCES orders(id), sku varchar(40));
CREATE TABLE invoices (id integer PRIMARY KEY, customer_id integer REFERENCES customers(id), amount_yen integer);
CREATE TABLE tickets (id integer PRIMARY KEY, customer_id integer REFERENCES customers(id), parent_id integer REFERENCES tickets(id), body text);
CREATE TABLE employees (id integer PRIMARY KEY, number varchar(20) UNIQUE, email varchar(120), manager_id integer REFERENCES employees(id));
CREATE TABLE dependents (id integer PRIMARY KEY, employee_id integer REFERENCES employees(id), name varchar(100));
CREATE INDEX ON orders (customer_id); CREATE INDEX ON order_items (order_id); CREATE INDEX ON tickets (customer_id);
CREATE INDEX ON tickets (parent_id); CREATE INDEX ON invoices (customer_id); CREATE INDEX ON addresses (customer_id);
"""
TABLES = ("addresses", "customers", "orders", "order_items", "tickets")


def _copy(conn: psycopg.Connection, table: str, columns: str, rows: object) -> None:
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:  # type: ignore[attr-defined]
            copy.write_row(row)


# Each table's row ``i`` (customer 1 is the subject, with ``subject`` as its e-mail): what the shop is
# built from, and what an erasure repetition puts back.
def _address(i: int) -> tuple[Any, ...]:
    return (i, i, f"東京都千代田区{i}番", "100-0001")


def _customer(i: int, subject: str) -> tuple[Any, ...]:
    return (i, subject if i == 1 else f"c{i}@example.jp", f"090-{i:08d}", f"顧客{i}", i)


def _order(i: int) -> tuple[Any, ...]:
    return (i, 1 if i <= SUBJECT_ORDERS else 2 + i % (CUSTOMERS - 1), i % 9000, "2026-01-01")


def _item(i: int) -> tuple[Any, ...]:
    return (i, (i - 1) // 2 + 1, f"S{i % 500}")


def _ticket(i: int) -> tuple[Any, ...]:
    return (i, 1 if i <= SUBJECT_ORDERS else 2 + i % (CUSTOMERS - 1), None, "問い合わせ")


COLUMNS = {
    "addresses": "id, customer_id, line, postal_code",
    "customers": "id, email, phone, full_name, address_id",
    "orders": "id, customer_id, total_yen, ordered_at",
    "order_items": "id, order_id, sku",
    "tickets": "id, customer_id, parent_id, body",
}


def build(url: str, subject: str) -> int:
    """The shop, customer 1 being ``subject``; returns the rows in its five linked tables."""
    total_orders = SUBJECT_ORDERS + OTHER_ORDERS
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        _copy(conn, "addresses", COLUMNS["addresses"], map(_address, range(1, CUSTOMERS + 1)))
        _copy(
            conn, "customers", COLUMNS["customers"], (_customer(i, subject) for i in range(1, CUSTOMERS + 1))
        )
        _copy(conn, "orders", COLUMNS["orders"], map(_order, range(1, total_orders + 1)))
        _copy(conn, "order_items", COLUMNS["order_items"], map(_item, range(1, 2 * total_orders + 1)))
        # the subject's tickets are the first SUBJECT_ORDERS, then 50,000 of other customers'
        _copy(conn, "tickets", COLUMNS["tickets"], map(_ticket, range(1, SUBJECT_ORDERS + 50001)))
        conn.execute("ANALYZE")
        return int(sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES))  # type: ignore[index]


def restore_subject(url: str, subject: str) -> None:
    """The subject's rows as :func:`build` made them, ``subject`` its e-mail, after an erasure deleted or
    masked them (an erasure repetition erases them again); nobody else's row is touched."""
    with psycopg.connect(url) as conn:
        for table, where in (
            ("order_items", f"order_id <= {SUBJECT_ORDERS}"),
            ("tickets", f"id <= {SUBJECT_ORDERS}"),
            ("orders", f"id <= {SUBJECT_ORDERS}"),
            ("customers", "id = 1"),
            ("addresses", "id = 1"),
        ):
            conn.execute(f"DELETE FROM {table} WHERE {where}")
        _copy(conn, "addresses", COLUMNS["addresses"], [_address(1)])
        _copy(conn, "customers", COLUMNS["customers"], [_customer(1, subject)])
        _copy(conn, "orders", COLUMNS["orders"], map(_order, range(1, SUBJECT_ORDERS + 1)))
        _copy(conn, "order_items", COLUMNS["order_items"], map(_item, range(1, 2 * SUBJECT_ORDERS + 1)))
        _copy(conn, "tickets", COLUMNS["tickets"], map(_ticket, range(1, SUBJECT_ORDERS + 1)))
    with psycopg.connect(url, autocommit=True) as conn:  # both sides erase from the same clean state
        conn.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")


# What is the subject's, and a fingerprint of everything that is not (an erasure must leave it as it was).
SUBJECT_WHERE = {
    "customers": "id = 1",
    "addresses": "id = 1",
    "orders": "customer_id = 1",
    "order_items": "order_id IN (SELECT id FROM orders WHERE customer_id = 1)",
    "tickets": "customer_id = 1",
}
OTHERS_WHERE = {
    "customers": "id <> 1",
    "addresses": "id <> 1",
    "orders": "customer_id <> 1",
    "order_items": f"order_id > {SUBJECT_ORDERS}",
    "tickets": "customer_id <> 1",
}


def others_fingerprint(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {
            t: str(
                conn.execute(
                    f"SELECT count(*) || ':' || md5(string_agg(x::text, ',' ORDER BY x.id)) FROM {t} x "
                    f"WHERE {OTHERS_WHERE[t]}"
                ).fetchone()[0]  # type: ignore[index]
            )
            for t in TABLES
        }


def subject_state(url: str) -> dict[str, Any]:
    """The subject's rows after an erasure, as SQL sees them."""
    with psycopg.connect(url) as conn:

        def one(sql: str) -> Any:
            return conn.execute(sql).fetchone()[0]  # type: ignore[index]

        return {
            "customer": list(
                conn.execute("SELECT email, phone, full_name FROM customers WHERE id = 1").fetchone() or ()
            ),
            "address": list(
                conn.execute("SELECT line, postal_code FROM addresses WHERE id = 1").fetchone() or ()
            ),
            "orders": one("SELECT count(*) FROM orders WHERE customer_id = 1"),
            "orders_with_values": one(
                "SELECT count(*) FROM orders WHERE customer_id = 1 AND (total_yen IS NOT NULL OR ordered_at IS NOT NULL)"
            ),
            "order_items": one(f"SELECT count(*) FROM order_items WHERE order_id <= {SUBJECT_ORDERS}"),
            "order_items_with_values": one(
                f"SELECT count(*) FROM order_items WHERE order_id <= {SUBJECT_ORDERS} AND sku IS NOT NULL"
            ),
            "tickets": one("SELECT count(*) FROM tickets WHERE customer_id = 1"),
            "tickets_with_values": one(
                "SELECT count(*) FROM tickets WHERE customer_id = 1 AND body IS NOT NULL"
            ),
        }


# ---------------------------------------------------------------------------------------------------
# Processes and their memory


class Side:
    """The processes of one side (each started with its log file) and their peak memory."""

    def __init__(self, name: str, logs: Path) -> None:
        self.name, self.logs = name, logs
        self.roots: list[subprocess.Popen[bytes]] = []
        self.labels: dict[int, str] = {}  # root pid -> its label (serve, worker, webserver…)
        self.peaks: dict[int, int] = {}  # pid -> VmHWM kB seen since the last reset
        self.owner: dict[int, str] = {}  # pid -> the label of the root it descends from
        self._read: dict[Path, int] = {}
        self._tracebacks = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sampler = threading.Thread(target=self._sample_forever, daemon=True)
        self._sampler.start()

    def start(
        self, label: str, argv: list[str], env: dict[str, str], cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{label}.log").open("ab")
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        self.roots.append(process)
        self.labels[process.pid] = label
        return process

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))

    def tracebacks(self) -> int:
        """How many tracebacks the side's processes have logged so far (reading only what is new)."""
        with self._lock:
            for path in sorted(self.logs.glob("*.log")):
                with path.open("rb") as f:
                    f.seek(self._read.get(path, 0))
                    new = f.read()
                self._read[path] = self._read.get(path, 0) + len(new)
                self._tracebacks += new.count(b"Traceback")
            return self._tracebacks

    def pids(self) -> list[int]:
        return list(self._tree())

    def _tree(self) -> dict[int, str]:
        """Every live process of the side and the label of the root it descends from."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found: dict[int, str] = {}
        todo = [(p.pid, self.labels[p.pid]) for p in self.roots if p.poll() is None]
        while todo:
            pid, label = todo.pop()
            found[pid] = label
            todo.extend((child, label) for child in children.get(pid, []))
        return found

    def sample(self) -> None:
        tree = self._tree()
        with self._lock:
            self.owner.update(tree)
        for pid in tree:
            try:
                text = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("VmHWM:"):
                    kb = int(line.split()[1])
                    with self._lock:
                        self.peaks[pid] = max(self.peaks.get(pid, 0), kb)

    def _sample_forever(self) -> None:
        while not self._stop.wait(0.2):
            self.sample()

    def reset_peaks(self) -> None:
        with self._lock:
            for pid in self.pids():
                with contextlib.suppress(OSError):
                    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            self.peaks.clear()
        self.sample()

    def peak_mb(self) -> float:
        self.sample()
        with self._lock:
            return round(sum(self.peaks.values()) / 1024, 1)

    def peak_by_process(self) -> dict[str, float]:
        """The same peaks by process: each root's label, its children summed under ``label+children``."""
        self.sample()
        out: dict[str, float] = {}
        with self._lock:
            for pid, kb in self.peaks.items():
                label = self.owner.get(pid, "?")
                key = label if pid in self.labels else f"{label}+children"
                out[key] = round(out.get(key, 0) + kb / 1024, 1)
        return dict(sorted(out.items()))

    def rss_by_process(self) -> dict[str, float]:
        """The resident set now (VmRSS, MB) by process, labelled as in :meth:`peak_by_process`."""
        out: dict[str, float] = {}
        for pid, label in self._tree().items():
            try:
                text = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kb = next((int(line.split()[1]) for line in text.splitlines() if line.startswith("VmRSS:")), 0)
            key = label if pid in self.labels else f"{label}+children"
            out[key] = round(out.get(key, 0) + kb / 1024, 1)
        return dict(sorted(out.items()))

    def processes(self) -> int:
        return len(self.pids())

    def stop(self) -> None:
        self._stop.set()
        for process in reversed(self.roots):
            if process.poll() is None:
                process.terminate()
        for process in self.roots:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


class RunError(Exception):
    """A request ended in an error (its status, or a worker's traceback)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} before it answered")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f} s")
        time.sleep(0.5)


@contextmanager
def database(prefix: str, template: str | None = None) -> Iterator[str]:
    name = f"{prefix}_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _dbname(url: str) -> str:
    return url.rsplit("/", 1)[1]


#: The clients of both sides drop a kept-alive connection after 2 s idle: both servers are uvicorn, which
#: closes one after 5 s, and a request sent on a connection the server is closing at that moment ends
#: in "connection reset by peer" (httpx's own expiry is also 5 s), an error of the client, not the peer.
LIMITS = httpx.Limits(keepalive_expiry=2.0)

#: How often each request's status is asked for, the same on both sides: every 0.1 s for one request,
#: every second for each of many (20 pollers at 10 Hz would load the server they measure).
POLL_S = [0.1]
Done = tuple[int, float, dict[str, float]]  # package rows, when it was ready, phase times


def measure(side: Side, many: int, one: Callable[[], Done]) -> dict[str, Any]:
    """``many`` requests submitted at once, each by ``one``: the wall time from the first submission
    until the last package is ready, the rows of each package, the side's peak memory, the median
    time of each phase (where the side reports phases)."""
    POLL_S[0] = 0.1 if many == 1 else 1.0
    side.reset_peaks()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=many) as pool:
        results = [f.result() for f in [pool.submit(one) for _ in range(many)]]
    peak = side.peak_mb()
    by_process = side.peak_by_process()
    phases = {k: round(statistics.median(r[2][k] for r in results), 3) for k in results[0][2] if results}
    return {
        "wall_s": round(max(r[1] for r in results) - t0, 3),
        "rows": [r[0] for r in results],
        "peak_mb": peak,
        "peak_mb_by_process": by_process,
        "processes": side.processes(),
    } | ({"phases_s": phases} if phases else {})


# ---------------------------------------------------------------------------------------------------
# mamoru


#: A request whose step failed stops here (main's journal: a datastore refused or broke).
MAMORU_ERROR_STATES = {"needs_attention", "locked"}


class Mamoru:
    def __init__(self, shop_url: str, app_url: str, logs: Path) -> None:
        from mamoru.demo import plan_demo
        from mamoru.policy.load import load_pack

        self.home = logs / "home"
        self.side = Side("mamoru", logs)
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORU_")} | {
            "MAMORU_HOME": str(self.home),
            "MAMORU_DATABASE_URL": app_url.replace("postgresql://", "postgresql+psycopg://"),
            "MAMORU_BROKER_URL": f"{REDIS}/0",
            "MAMORU_QUEUE_NAME": f"bench.{secrets.token_hex(3)}",
            "MAMORU_BASE_URL": self.base,
            "SHOP_DATABASE_URL": shop_url.replace("postgresql://", "postgresql+psycopg://"),
        }
        if not DEFAULTS:
            self.env["MAMORU_DB_POOL_SIZE"] = str(CONCURRENT + 5)
        customer = next(p for p in plan_demo(load_pack().policy, DEMO_SEED).subjects if p.kind == "customer")
        self.email = customer.values["email"]
        self.port = port
        self.codes: dict[str, str] = {}
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def _cli(self, *args: str) -> str:
        done = subprocess.run([*MAMORU, *args], env=self.env, capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise RuntimeError(f"mamoru {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def setup(self) -> None:
        self._cli("init")
        password = re.search(r"sign in to /console/ with: (\S+)", self._cli("demo", "--seed", str(DEMO_SEED)))
        assert password is not None, "mamoru demo printed no password"
        (self.home / "datasets").mkdir(exist_ok=True)
        shutil.copy(MAP, self.home / "datasets" / "shop.yaml")
        issued = self._cli("tokens", "issue", "bench-intake", "--scope", "requests")
        self.token = issued.strip().rsplit(": ", 1)[1]
        server = self.side.start("serve", [*MAMORU, "serve", "--port", str(self.port)], self.env)
        worker = self.side.start("worker", [*MAMORU, "worker", "--no-schedule"], self.env)
        _wait_http(f"{self.base}/healthz", server, "mamoru serve")
        deadline = time.monotonic() + 120
        while "worker ready" not in self.side.log_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mamoru worker did not start")
            time.sleep(0.3)
        self.api = httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=TIMEOUT,
            limits=LIMITS,
        )
        self.office = httpx.Client(base_url=self.base, timeout=TIMEOUT, limits=LIMITS)
        login = self.office.get("/console/login")
        signed = self.office.post(
            "/console/login",
            data={"login": "pm01", "password": password.group(1), "csrf": _csrf(login.text)},
            follow_redirects=False,
        )
        assert signed.status_code == 303, f"console login: {signed.status_code}"
        self.csrf = _csrf(self.office.get("/console/requests?lang=en").text)

    def _code(self, ref: str, deadline: float) -> str:
        """The code mailed for request ``ref`` (the .eml files the worker's mail sender writes)."""
        while True:
            with self.lock:
                if ref in self.codes:
                    return self.codes.pop(ref)
                for path in sorted((self.home / "outbox").glob("*.eml")):
                    if path.name in self.seen:
                        continue
                    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                    try:
                        body = "".join(
                            part.get_content()
                            for part in msg.walk()
                            if part.get_content_type() == "text/plain"
                        )
                    except (LookupError, ValueError):  # still being written
                        continue
                    code = re.search(r"(?:Verification code|確認コード): (\d{6})", body)
                    found = re.search(r"R\d{8}-\w+", body)
                    if found:  # a whole mail: read once
                        self.seen.add(path.name)
                        if code:
                            self.codes[found.group(0)] = code.group(1)
                if ref in self.codes:
                    return self.codes.pop(ref)
            if time.monotonic() > deadline:
                raise RunError(f"no code was mailed for {ref}")
            time.sleep(0.1)

    def request(self, kind: str = "disclosure", email: str | None = None, **extra: object) -> Done:
        """One request through the API and the console to its package (rows, ready time, phases)."""
        deadline = time.monotonic() + TIMEOUT
        t0 = time.perf_counter()
        made = self.api.post(
            "/api/v1/requests",
            json={"kind": kind, "name": "Bench Subject", "email": email or self.email, **extra},
        )
        if made.status_code != 201:
            raise RunError(f"submission answered {made.status_code}: {made.text[:300]}")
        r = made.json()
        verified = self.api.post(
            f"/api/v1/requests/{r['id']}/verify", json={"code": self._code(r["ref"], deadline)}
        )
        if verified.status_code != 200 or verified.json().get("result") != "ok":
            raise RunError(f"verification answered {verified.status_code}: {verified.text[:300]}")
        t_verified = time.perf_counter()
        form = {"csrf": self.csrf, "fee_received": "true"}
        if kind == "erase":  # an erasure is approved from the page that shows what it erases
            preview = self.office.get(f"/console/requests/{r['id']}/approve?lang=en&fee_received=true")
            if preview.status_code != 200:
                raise RunError(f"the erasure's confirmation page answered {preview.status_code}")
            form["confirmed"] = "true"
        approved = self.office.post(
            f"/console/requests/{r['id']}/approve?lang=en", data=form, follow_redirects=False
        )
        if approved.status_code != 303 or "problem" in approved.headers.get("location", ""):
            raise RunError(f"approval answered {approved.status_code} {approved.headers.get('location')}")
        if self.api.get(f"/api/v1/requests/{r['id']}").json()["status"] == "verified":
            raise RunError(f"request {r['ref']} is not approved after the office's approval")
        t_approved = time.perf_counter()
        errors_before = self.side.tracebacks()
        while True:
            now = self.api.get(f"/api/v1/requests/{r['id']}").json()
            if now["status"] == "completed":
                break
            if now["status"] in MAMORU_ERROR_STATES:
                raise RunError(f"request {r['ref']} ended with status '{now['status']}'")
            if self.side.tracebacks() > errors_before:
                raise RunError(f"a mamoru process logged a traceback while request {r['ref']} ran")
            if time.monotonic() > deadline:
                raise RunError(f"request {r['ref']} still {now['status']} after {TIMEOUT:.0f} s")
            time.sleep(POLL_S[0])
        ready = time.perf_counter()
        phases = {
            "submit_verify_s": t_verified - t0,
            "approve_s": t_approved - t_verified,
            "fulfil_s": ready - t_approved,
        }
        if kind != "disclosure":
            return 0, ready, phases
        package = httpx.get(f"{r['status_url']}/package", timeout=TIMEOUT)
        if package.status_code != 200:
            raise RunError(f"package download answered {package.status_code}")
        with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
            rows = sum(
                archive.read(name).count(b"\n")
                for name in archive.namelist()
                if name.startswith("datastores/shop/") and name.endswith(".jsonl")
            )
        return rows, ready, phases


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no csrf field on the page"
    return found.group(1)


# ---------------------------------------------------------------------------------------------------
# Fides

FIDES_VERSION = "2.78.2"
FIDES_VENV = Path(os.environ.get("BENCH_FIDES_VENV", ROOT / ".venv-fides"))


def _fides_dataset() -> dict[str, object]:
    """The same tables as a Fides dataset (Fides' `from` is our child reference, `to` our parent)."""

    def f(name: str, category: str, **meta: object) -> dict[str, object]:
        out: dict[str, object] = {"name": name, "data_categories": [category]}
        if meta:
            out["fides_meta"] = meta
        return out

    def ref(field: str, direction: str) -> dict[str, object]:
        return {"references": [{"dataset": "shop", "field": field, "direction": direction}]}

    ops = "system.operations"
    collections = [
        (
            "customers",
            [
                f("id", ops, primary_key=True),
                f("email", "user.contact.email", identity="email", data_type="string"),
                f("phone", "user.contact.phone_number"),
                f("full_name", "user.name"),
                f("address_id", ops, **ref("addresses.id", "to")),
            ],
        ),
        (
            "addresses",
            [
                f("id", ops, primary_key=True),
                f("customer_id", ops),
                f("line", "user.contact.address.street"),
                f("postal_code", "user.contact.address.postal_code"),
            ],
        ),
        (
            "orders",
            [
                f("id", ops, primary_key=True),
                f("customer_id", ops, **ref("customers.id", "from")),
                f("total_yen", "user.financial"),
                f("ordered_at", "user.financial"),
            ],
        ),
        (
            "order_items",
            [
                f("id", ops, primary_key=True),
                f("order_id", ops, **ref("orders.id", "from")),
                f("sku", "user.financial"),
            ],
        ),
        (
            "tickets",
            [
                f("id", ops, primary_key=True),
                f("customer_id", ops, **ref("customers.id", "from")),
                f("parent_id", ops),
                f("body", "user.content"),
            ],
        ),
    ]
    return {
        "fides_key": "shop",
        "name": "shop",
        "collections": [{"name": n, "fields": fs} for n, fs in collections],
    }


def _fides_executable() -> tuple[Path | None, str | None]:
    """Fides in its own virtualenv, installed with pip when missing (None and why: it could not be)."""
    exe = FIDES_VENV / "bin" / "fides"
    if exe.exists():
        return exe, None
    try:
        subprocess.run([sys.executable, "-m", "venv", str(FIDES_VENV)], check=True, timeout=120)
        subprocess.run(
            [str(FIDES_VENV / "bin" / "pip"), "install", "-q", f"ethyca-fides=={FIDES_VERSION}"],
            check=True,
            timeout=3000,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        return None, f"pip install ethyca-fides=={FIDES_VERSION} failed: {exc.stderr[-500:]!r}"
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"ethyca-fides=={FIDES_VERSION} could not be installed into {FIDES_VENV}: {exc}"
    return (exe, None) if exe.exists() else (None, f"no fides executable in {FIDES_VENV} after pip install")


FIDES_ERROR_STATES = {"error", "canceled", "denied"}


class Fides:
    def __init__(self, exe: Path, shop_url: str, app_url: str, logs: Path) -> None:
        self.exe, self.shop_url, self.logs = exe, shop_url, logs
        self.side = Side("fides", logs)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.work = logs / "cwd"
        self.work.mkdir()
        self.secret = secrets.token_urlsafe(16)
        user_pass = app_url.split("//", 1)[1].split("@", 1)[0]
        user, _, password = user_pass.partition(":")
        self.env = dict(os.environ) | {
            "FIDES__DATABASE__SERVER": "127.0.0.1",
            "FIDES__DATABASE__PORT": "5432",
            "FIDES__DATABASE__USER": user,
            "FIDES__DATABASE__PASSWORD": password,
            "FIDES__DATABASE__DB": _dbname(app_url),
            "FIDES__REDIS__HOST": "127.0.0.1",
            "FIDES__REDIS__PORT": "6379",
            "FIDES__REDIS__PASSWORD": "",
            "FIDES__REDIS__SSL": "false",
            "FIDES__REDIS__DB_INDEX": "1",
            "FIDES__SECURITY__APP_ENCRYPTION_KEY": secrets.token_hex(16),
            "FIDES__SECURITY__OAUTH_ROOT_CLIENT_ID": "bench",
            "FIDES__SECURITY__OAUTH_ROOT_CLIENT_SECRET": self.secret,
            "FIDES__SECURITY__ENV": "dev",
            "FIDES__CELERY__TASK_ALWAYS_EAGER": "false",
            "FIDES__EXECUTION__REQUIRE_MANUAL_REQUEST_APPROVAL": "true",
            "FIDES__EXECUTION__SUBJECT_IDENTITY_VERIFICATION_REQUIRED": "false",
            "FIDES__USER__ANALYTICS_OPT_OUT": "true",
        }
        if not DEFAULTS:
            self.env["FIDES__EXECUTION__INTERRUPTED_TASK_REQUEUE_INTERVAL"] = "3600"
            # its API limits a client address to 1,000 calls a minute; 20 requests' status asked every
            # second is 1,200 (mamoru has no such limit on its API)
            self.env["FIDES__SECURITY__REQUEST_RATE_LIMIT"] = "100000/minute"

    def setup(self) -> None:
        server = self.side.start(
            "webserver", [str(self.exe), "webserver", "--port", str(self.port)], self.env, self.work
        )
        _wait_http(f"{self.base}/health", server, "fides webserver", timeout=600)
        worker = self.side.start("worker", [str(self.exe), "worker"], self.env, self.work)
        deadline = time.monotonic() + 300
        while " ready." not in self.side.log_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"fides worker did not start (its log: {self.logs / 'worker.log'})")
            time.sleep(0.5)
        token = httpx.post(
            f"{self.base}/api/v1/oauth/token",
            data={"client_id": "bench", "client_secret": self.secret, "grant_type": "client_credentials"},
            timeout=60,
        ).json()["access_token"]
        self.c = httpx.Client(
            base_url=f"{self.base}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
            limits=LIMITS,
        )
        c = self.c

        def ok(response: httpx.Response) -> None:
            """Fides' bulk endpoints answer 200 with the items they refused under "failed"."""
            response.raise_for_status()
            body = response.json()
            if isinstance(body, dict) and body.get("failed"):
                raise RuntimeError(f"Fides refused {response.request.url.path}: {str(body['failed'])[:800]}")

        connection = {"name": "shop", "key": "shop", "connection_type": "postgres", "access": "write"}
        ok(c.patch("/connection", json=[connection]))
        user_pass = self.shop_url.split("//", 1)[1].split("@", 1)[0]
        user, _, password = user_pass.partition(":")
        secret = {
            "host": "127.0.0.1",
            "port": 5432,
            "dbname": _dbname(self.shop_url),
            "username": user,
            "password": password,
        }
        ok(c.put("/connection/shop/secret?verify=false", json=secret))
        ok(c.post("/dataset/upsert", json=[_fides_dataset()]))
        ok(
            c.patch(
                "/connection/shop/datasetconfig",
                json=[{"fides_key": "shop", "ctl_dataset_fides_key": "shop"}],
            )
        )
        storage = {
            "name": "bench local",
            "key": "bench_local",
            "type": "local",
            "format": "json",
            "details": {"naming": "request_id"},
        }
        ok(c.patch("/storage/config", json=[storage]))
        for key, action, extra in (
            ("bench_access", "access", {"storage_destination_key": "bench_local"}),
            (
                "bench_erasure",
                "erasure",
                {"masking_strategy": {"strategy": "null_rewrite", "configuration": {}}},
            ),
        ):
            ok(c.patch("/dsr/policy", json=[{"name": key, "key": key}]))
            ok(
                c.patch(
                    f"/dsr/policy/{key}/rule",
                    json=[{"name": f"{key} rule", "key": f"{key}_rule", "action_type": action, **extra}],
                )
            )
            ok(
                c.patch(
                    f"/dsr/policy/{key}/rule/{key}_rule/target",
                    json=[
                        {"name": f"{key}: every user category", "key": f"{key}_user", "data_category": "user"}
                    ],
                )
            )

    def request(self, policy: str = "bench_access", email: str | None = None) -> Done:
        deadline = time.monotonic() + TIMEOUT
        t0 = time.perf_counter()
        made = self.c.post(
            "/privacy-request",
            json=[{"identity": {"email": email or SUBJECT_EMAIL[0]}, "policy_key": policy}],
        )
        made.raise_for_status()
        succeeded = made.json()["succeeded"]
        if not succeeded:
            raise RunError(f"Fides refused the request: {made.text[:500]}")
        request_id = succeeded[0]["id"]
        t_made = time.perf_counter()
        approved = self.c.patch("/privacy-request/administrate/approve", json={"request_ids": [request_id]})
        if approved.status_code != 200 or approved.json().get("failed"):
            raise RunError(f"Fides approval answered {approved.status_code}: {approved.text[:500]}")
        t_approved = time.perf_counter()
        while True:
            status = self.c.get("/privacy-request", params={"request_id": request_id}).json()["items"][0][
                "status"
            ]
            if status == "complete":
                ready = time.perf_counter()
                break
            if status in FIDES_ERROR_STATES:
                raise RunError(f"Fides request {request_id} ended with status '{status}'")
            if time.monotonic() > deadline:
                raise RunError(f"Fides request {request_id} still '{status}' after {TIMEOUT:.0f} s")
            time.sleep(POLL_S[0])
        phases = {"submit_s": t_made - t0, "approve_s": t_approved - t_made, "fulfil_s": ready - t_approved}
        if policy != "bench_access":
            return 0, ready, phases
        return self._package_rows(request_id), ready, phases

    def _package_rows(self, request_id: str) -> int:
        found = [p for p in (self.work / "fides_uploads").rglob("*") if p.is_file() and request_id in p.name]
        if not found:
            raise RunError(f"no package for {request_id} in {self.work / 'fides_uploads'}")
        data = found[0].read_bytes()
        if data[:2] == b"PK":
            rows = 0
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    if name.endswith(".json") and "shop" in name:
                        rows += _rows_in(json.loads(archive.read(name)))
            return rows
        return _rows_in(json.loads(data))


def _rows_in(payload: Any) -> int:
    """Rows of the shop's collections in a Fides access result ({"shop:orders": [...], ...})."""
    if isinstance(payload, dict):
        total = 0
        for key, value in payload.items():
            if isinstance(key, str) and key.startswith("shop:") and isinstance(value, list):
                total += len(value)
            elif isinstance(value, dict | list):
                total += _rows_in(value)
        return total
    if isinstance(payload, list):
        return sum(_rows_in(v) for v in payload if isinstance(v, dict))
    return 0


SUBJECT_EMAIL: list[str] = [""]
#: The subject's e-mail in each erasure repetition: the first demo customer's (the shop as built), then
#: the next ones' (mamoru erased the one before from its own records too, so a person it still holds is
#: asked for; Fides is asked for the same e-mail).
ERASE_EMAILS: list[str] = []


# ---------------------------------------------------------------------------------------------------
# The runs


def run_side(
    name: str,
    side: Side,
    one: Callable[[], Done],
    erase: Callable[[str], Done],
    erase_url: str,
    before: dict[str, str],
) -> dict[str, Any]:
    """REPEAT runs of one request, then REPEAT of CONCURRENT at once, then ERASE_REPEAT erasures, each
    checked by SQL (the shop's subject put back, under the next demo customer's e-mail, before each one
    after the first). The single requests run before the concurrent ones so that each single run's
    memory is that of one request, not what a burst of 20 left behind in the processes (which
    ``after_mb_by_process`` shows)."""
    out: dict[str, Any] = {
        "single": [],
        "concurrent": [],
        "erase": [],
        "error": None,
        "logs": str(side.logs),
        "durations_s": {},
    }
    try:
        t_part = time.perf_counter()
        for rep in range(REPEAT):
            single = measure(side, 1, one)
            print(f"{name} one request, run {rep + 1}: {json.dumps(single)}", flush=True)
            out["single"].append(single)
        out["durations_s"]["single"] = round(time.perf_counter() - t_part, 1)
        t_part = time.perf_counter()
        for rep in range(REPEAT):
            many = measure(side, CONCURRENT, one)
            print(
                f"{name} {CONCURRENT} concurrent, run {rep + 1}: "
                f"{json.dumps(many | {'rows': sorted(set(many['rows']))})}",
                flush=True,
            )
            out["concurrent"].append(many)
        out["durations_s"]["concurrent"] = round(time.perf_counter() - t_part, 1)
        out["after_mb_by_process"] = side.rss_by_process()
        t_part = time.perf_counter()
        for rep in range(ERASE_REPEAT):
            email = ERASE_EMAILS[rep]
            if rep:
                restore_subject(erase_url, email)
            t0 = time.perf_counter()
            done = erase(email)
            run = {
                "wall_s": round(done[1] - t0, 3),
                "subject_after": subject_state(erase_url),
                "others_untouched": others_fingerprint(erase_url) == before,
                "email": email,
            }
            print(f"{name} erasure, run {rep + 1}: {json.dumps(run, ensure_ascii=False)}", flush=True)
            out["erase"].append(run)
        out["durations_s"]["erasure"] = round(time.perf_counter() - t_part, 1)
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        where = "".join(traceback.format_exc(limit=-4).splitlines(keepends=True)[-12:])
        print(f"{name} ERROR: {out['error']} (logs kept in {side.logs})\n{where}", flush=True)
    return out


def summarize(out: dict[str, Any]) -> dict[str, Any]:
    def med(runs: list[dict[str, Any]], key: str) -> float | None:
        return round(statistics.median(r[key] for r in runs), 3) if runs else None

    rows = sorted({n for r in out.get("single", []) + out.get("concurrent", []) for n in r["rows"]})
    return {
        "wall_s": med(out.get("single", []), "wall_s"),
        "peak_mb": med(out.get("single", []), "peak_mb"),
        "concurrent_wall_s": med(out.get("concurrent", []), "wall_s"),
        "concurrent_peak_mb": med(out.get("concurrent", []), "peak_mb"),
        "phases_s": {
            k: round(statistics.median(r["phases_s"][k] for r in out["single"]), 3)
            for k in (out["single"][0].get("phases_s") or {})
        }
        if out.get("single")
        else None,
        "runs_wall_s": [r["wall_s"] for r in out.get("single", [])],
        "runs_peak_mb": [r["peak_mb"] for r in out.get("single", [])],
        "runs_peak_mb_by_process": [r["peak_mb_by_process"] for r in out.get("single", [])],
        "concurrent_runs_wall_s": [r["wall_s"] for r in out.get("concurrent", [])],
        "concurrent_runs_peak_mb": [r["peak_mb"] for r in out.get("concurrent", [])],
        "idle_mb_by_process": out.get("idle_mb_by_process"),
        "after_mb_by_process": out.get("after_mb_by_process"),
        "package_rows": rows,
        "erase_wall_s": med(out.get("erase", []), "wall_s"),
        "erase_runs_wall_s": [r["wall_s"] for r in out.get("erase", [])],
        "durations_s": out.get("durations_s"),
        "error": out.get("error"),
    }


def _ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    return round(a / b, digits) if a is not None and b else None


def main() -> int:
    from mamoru.demo import plan_demo
    from mamoru.policy.load import load_pack

    customers = [p for p in plan_demo(load_pack().policy, DEMO_SEED).subjects if p.kind == "customer"]
    if len(customers) < ERASE_REPEAT:
        raise SystemExit(f"BENCH_DSR_ERASE_REPEAT: the demo has {len(customers)} customers to erase")
    SUBJECT_EMAIL[0] = customers[0].values["email"]
    ERASE_EMAILS[:] = [c.values["email"] for c in customers[:ERASE_REPEAT]]
    started = time.perf_counter()
    logs = Path(tempfile.mkdtemp(prefix="bench-dsr-"))
    print(f"logs: {logs}", flush=True)
    result: dict[str, Any] = {}
    with database("mamoru_bench_dsr_shop") as shop:
        t0 = time.perf_counter()
        rows = build(shop, SUBJECT_EMAIL[0])
        print(f"built {rows:,} rows in {time.perf_counter() - t0:.0f} s", flush=True)
        before = others_fingerprint(shop)
        with database("mamoru_bench_dsr_shop_f", template=_dbname(shop)) as shop_f:
            (logs / "mamoru").mkdir()
            with database("mamoru_bench_dsr_app") as app:
                m = Mamoru(shop, app, logs / "mamoru")
                try:
                    t_setup = time.perf_counter()
                    m.setup()
                    setup_s = round(time.perf_counter() - t_setup, 1)
                    idle = m.side.rss_by_process()
                    print(f"mamoru ready: {m.side.processes()} processes, idle RSS MB {idle}", flush=True)
                    mout = run_side(
                        "mamoru",
                        m.side,
                        m.request,
                        lambda email: m.request("erase", email, grounds=["no_longer_needed"]),
                        shop,
                        before,
                    )
                    mout["idle_mb_by_process"] = idle
                    mout["durations_s"] = {"setup": setup_s, **mout["durations_s"]}
                except Exception as exc:
                    mout = {"error": f"setup: {type(exc).__name__}: {exc}", "logs": str(m.side.logs)}
                    print(f"mamoru ERROR: {mout['error']} (logs kept in {m.side.logs})", flush=True)
                finally:
                    m.side.stop()
            fout: dict[str, Any]
            if SKIP_FIDES:
                fout = {"error": "skipped (BENCH_DSR_SKIP_FIDES=1)"}
            else:
                exe, why = _fides_executable()
                if exe is None:
                    fout = {"error": why}
                else:
                    (logs / "fides").mkdir()
                    with database("fides_bench_app") as fapp:
                        f = Fides(exe, shop_f, fapp, logs / "fides")
                        try:
                            t_setup = time.perf_counter()
                            f.setup()
                            setup_s = round(time.perf_counter() - t_setup, 1)
                            idle = f.side.rss_by_process()
                            print(
                                f"fides ready: {f.side.processes()} processes, idle RSS MB {idle}", flush=True
                            )
                            fout = run_side(
                                "fides",
                                f.side,
                                f.request,
                                lambda email: f.request("bench_erasure", email),
                                shop_f,
                                before,
                            )
                            fout["idle_mb_by_process"] = idle
                            fout["durations_s"] = {"setup": setup_s, **fout["durations_s"]}
                        except Exception as exc:
                            fout = {"error": f"setup: {type(exc).__name__}: {exc}", "logs": str(f.side.logs)}
                            print(f"fides ERROR: {fout['error']} (logs kept in {f.side.logs})", flush=True)
                        finally:
                            f.side.stop()
            ms, fs = summarize(mout), summarize(fout)
            rows_equal = ms["package_rows"] == [SUBJECT_ROWS] and fs["package_rows"] == [SUBJECT_ROWS]
            m_erase, f_erase = mout.get("erase") or [], fout.get("erase") or []
            mamoru_erased = len(m_erase) == ERASE_REPEAT and all(
                run["others_untouched"]
                and (after := run["subject_after"])["orders"] == after["order_items"] == after["tickets"] == 0
                and after["customer"][1] is None
                and after["customer"][0] != run["email"]
                for run in m_erase
            )
            fides_erased = len(f_erase) == ERASE_REPEAT and all(
                run["others_untouched"]
                and (after := run["subject_after"])["orders_with_values"]
                == after["order_items_with_values"]
                == 0
                and after["tickets_with_values"] == 0
                and after["customer"][1] is None
                for run in f_erase
            )
            m_after = m_erase[-1]["subject_after"] if m_erase else {}
            f_after = f_erase[-1]["subject_after"] if f_erase else {}
            result = {
                "benchmark": "dsr",
                "rows_in_database": rows,
                "subject_rows_expected": SUBJECT_ROWS,
                "concurrent_requests": CONCURRENT,
                "repetitions": REPEAT,
                "erasure_repetitions": ERASE_REPEAT,
                "order": f"each side: {REPEAT} single requests, then {REPEAT} x {CONCURRENT} concurrent, "
                f"then {ERASE_REPEAT} erasures (mamoru first, then Fides)",
                "memory_rule": "sum of VmHWM over every process of the side (reset before each run)",
                "settings": "as shipped"
                if DEFAULTS
                else f"MAMORU_DB_POOL_SIZE={CONCURRENT + 5}, "
                "FIDES__EXECUTION__INTERRUPTED_TASK_REQUEUE_INTERVAL=3600, "
                "FIDES__SECURITY__REQUEST_RATE_LIMIT=100000/minute",
                "mamoru": ms,
                "fides_version": FIDES_VERSION,
                "fides": fs,
                "mamoru_erasure_checked": mamoru_erased,
                "fides_erasure_checked": fides_erased,
                "mamoru_erasure_after": m_after,
                "fides_erasure_after": f_after,
                "mamoru_wall_s": ms["wall_s"],
                "fides_wall_s": fs["wall_s"],
                "mamoru_peak_mb": ms["peak_mb"],
                "fides_peak_mb": fs["peak_mb"],
                "mamoru_concurrent_wall_s": ms["concurrent_wall_s"],
                "fides_concurrent_wall_s": fs["concurrent_wall_s"],
                "mamoru_erase_wall_s": ms["erase_wall_s"],
                "fides_erase_wall_s": fs["erase_wall_s"],
                "speedup_vs_fides": _ratio(fs["wall_s"], ms["wall_s"], 1),
                "memory_ratio_vs_fides": _ratio(ms["peak_mb"], fs["peak_mb"], 3),
                "concurrent_speedup_vs_fides": _ratio(fs["concurrent_wall_s"], ms["concurrent_wall_s"], 1),
                "erase_speedup_vs_fides": _ratio(fs["erase_wall_s"], ms["erase_wall_s"], 1),
                "total_s": round(time.perf_counter() - started, 1),
                "rows_equal": rows_equal,
                "logs": str(logs),
            }
    ok = rows_equal and mamoru_erased and fides_erased and not ms["error"] and not fs["error"]
    print(json.dumps(result, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
