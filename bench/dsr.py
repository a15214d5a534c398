"""Data-subject request benchmark: an access request over an organization's PostgreSQL database.

Builds a shop schema with at least 1,000,000 rows over linked tables (customers, addresses, orders,
order items, tickets), one subject owning 100,000 of them, and runs the access request through mamoru's
connector (server-side cursors, chunked key lists, rows streamed to a sink) in a child process, for its
wall time and peak memory; then 20 concurrent requests.

Fides (ethyca-fides==2.78.2) runs in a virtualenv of its own (BENCH_FIDES_VENV, default .venv-fides,
made with pip when missing): its webserver on a fresh application database and the local Redis, Celery
tasks run eagerly inside the server, the same tables described as a Fides dataset, and the same access
request through its API under its default access policy. Fides' wall time runs from submission to
"complete"; its peak memory is the server process's VmHWM. If Fides cannot be installed or started its
figures are null, with the reason. Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.
Last line: JSON summary.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
CUSTOMERS = int(os.environ.get("BENCH_DSR_CUSTOMERS", "50000"))
OTHER_ORDERS = int(os.environ.get("BENCH_DSR_ORDERS", "300000"))
SUBJECT_ORDERS = int(os.environ.get("BENCH_DSR_SUBJECT_ORDERS", "25000"))  # x4 rows each: 100,000
CONCURRENT = 20
SUBJECT = "bench.subject@example.jp"
MAP = Path(__file__).resolve().parents[1] / "tests" / "connector_cases" / "shop.yaml"

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


def _copy(conn: psycopg.Connection, table: str, columns: str, rows: object) -> None:
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:  # type: ignore[attr-defined]
            copy.write_row(row)


def build(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        _copy(
            conn,
            "addresses",
            "id, customer_id, line, postal_code",
            ((i, i, f"東京都千代田区{i}番", "100-0001") for i in range(1, CUSTOMERS + 1)),
        )
        _copy(
            conn,
            "customers",
            "id, email, phone, full_name, address_id",
            (
                (i, SUBJECT if i == 1 else f"c{i}@example.jp", f"090-{i:08d}", f"顧客{i}", i)
                for i in range(1, CUSTOMERS + 1)
            ),
        )
        total_orders = SUBJECT_ORDERS + OTHER_ORDERS
        _copy(
            conn,
            "orders",
            "id, customer_id, total_yen, ordered_at",
            (
                (i, 1 if i <= SUBJECT_ORDERS else 2 + i % (CUSTOMERS - 1), i % 9000, "2026-01-01")
                for i in range(1, total_orders + 1)
            ),
        )
        _copy(
            conn,
            "order_items",
            "id, order_id, sku",
            ((i, (i - 1) // 2 + 1, f"S{i % 500}") for i in range(1, 2 * total_orders + 1)),
        )
        subject_tickets = SUBJECT_ORDERS
        _copy(
            conn,
            "tickets",
            "id, customer_id, parent_id, body",
            (
                (i, 1 if i <= subject_tickets else 2 + i % (CUSTOMERS - 1), None, "問い合わせ")
                for i in range(1, subject_tickets + 50001)
            ),
        )
        conn.execute("ANALYZE")
        return int(
            sum(
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("addresses", "customers", "orders", "order_items", "tickets")
            )  # type: ignore[index]
        )


CHILD = r"""
import json, os, resource, sys, time, threading
from mamoru.connectors.maps import load_map
from mamoru.connectors.sql import SqlConnector
m = load_map(__import__("pathlib").Path(sys.argv[1]))
connector = SqlConnector(m, sys.argv[2])
cats = {"identity", "contact", "transaction", "payment", "hr_record", "family"}
def one():
    seen = [0, 0]
    def sink(table, line):
        seen[0] += 1; seen[1] += len(line)
    counts = connector.access({"email": sys.argv[3]}, cats, sink)
    return seen[0]
n = int(sys.argv[4])
t0 = time.perf_counter()
if n == 1:
    rows = one()
else:
    out = []
    threads = [threading.Thread(target=lambda: out.append(one())) for _ in range(n)]
    [t.start() for t in threads]; [t.join() for t in threads]
    rows = sum(out)
wall = time.perf_counter() - t0
print(json.dumps({"rows": rows, "wall_s": wall, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_mamoru(url: str, concurrent: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(MAP), url, SUBJECT, str(concurrent)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


FIDES_VERSION = "2.78.2"
FIDES_VENV = Path(os.environ.get("BENCH_FIDES_VENV", Path(__file__).resolve().parents[1] / ".venv-fides"))
FIDES_TIMEOUT = float(os.environ.get("BENCH_FIDES_TIMEOUT", "1800"))
FIDES_PORT = 8095


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


def _fides_executable() -> Path | None:
    """Fides in its own virtualenv, installed with pip when missing (None: it could not be)."""
    exe = FIDES_VENV / "bin" / "fides"
    if exe.exists():
        return exe
    try:
        subprocess.run([sys.executable, "-m", "venv", str(FIDES_VENV)], check=True, timeout=120)
        pip = str(FIDES_VENV / "bin" / "pip")
        subprocess.run(
            [pip, "install", "-q", f"ethyca-fides=={FIDES_VERSION}"],
            check=True,
            timeout=1500,
            capture_output=True,
        )
    except (subprocess.SubprocessError, OSError):
        return None
    return exe if exe.exists() else None


def _vmhwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_fides(shop_db: str, concurrent: int) -> dict[str, Any]:
    import httpx

    exe = _fides_executable()
    if exe is None:
        return {"note": f"ethyca-fides=={FIDES_VERSION} could not be installed into {FIDES_VENV}"}
    app_db = f"fides_bench_app_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{app_db}"')
    client_secret = secrets.token_urlsafe(16)
    env = dict(os.environ) | {
        "FIDES__DATABASE__SERVER": "127.0.0.1",
        "FIDES__DATABASE__PORT": "5432",
        "FIDES__DATABASE__USER": "postgres",
        "FIDES__DATABASE__PASSWORD": "postgres",
        "FIDES__DATABASE__DB": app_db,
        "FIDES__REDIS__HOST": "127.0.0.1",
        "FIDES__REDIS__PORT": "6379",
        "FIDES__REDIS__PASSWORD": "",
        "FIDES__REDIS__SSL": "false",
        "FIDES__SECURITY__APP_ENCRYPTION_KEY": secrets.token_hex(16),
        "FIDES__SECURITY__OAUTH_ROOT_CLIENT_ID": "bench",
        "FIDES__SECURITY__OAUTH_ROOT_CLIENT_SECRET": client_secret,
        "FIDES__SECURITY__ENV": "dev",
        "FIDES__CELERY__TASK_ALWAYS_EAGER": "true",
        "FIDES__EXECUTION__REQUIRE_MANUAL_REQUEST_APPROVAL": "false",
        "FIDES__EXECUTION__SUBJECT_IDENTITY_VERIFICATION_REQUIRED": "false",
        "FIDES__USER__ANALYTICS_OPT_OUT": "true",
    }
    work = tempfile.mkdtemp(prefix="fides-bench-")
    server = subprocess.Popen(
        [str(exe), "webserver", "--port", str(FIDES_PORT)],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{FIDES_PORT}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                return {"note": "the Fides webserver did not become healthy in 180 s"}
            time.sleep(1)
        token = httpx.post(
            f"{base}/api/v1/oauth/token",
            data={"client_id": "bench", "client_secret": client_secret, "grant_type": "client_credentials"},
            timeout=60,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=FIDES_TIMEOUT) as c:
            connection = {"name": "shop", "key": "shop", "connection_type": "postgres", "access": "read"}
            c.patch("/connection", json=[connection]).raise_for_status()
            secret = {
                "host": "127.0.0.1",
                "port": 5432,
                "dbname": shop_db.rsplit("/", 1)[1],
                "username": "postgres",
                "password": "postgres",
            }
            c.put("/connection/shop/secret?verify=false", json=secret).raise_for_status()
            c.post("/dataset/upsert", json=[_fides_dataset()]).raise_for_status()
            c.patch(
                "/connection/shop/datasetconfig",
                json=[{"fides_key": "shop", "ctl_dataset_fides_key": "shop"}],
            ).raise_for_status()

            def until_complete(n: int) -> float | None:
                t0 = time.perf_counter()
                body = [
                    {"identity": {"email": SUBJECT}, "policy_key": "default_access_policy"} for _ in range(n)
                ]
                ids = [r["id"] for r in c.post("/privacy-request", json=body).json()["succeeded"]]
                limit = time.monotonic() + FIDES_TIMEOUT
                while time.monotonic() < limit:
                    states = [
                        c.get("/privacy-request", params={"request_id": i}).json()["items"][0]["status"]
                        for i in ids
                    ]
                    if any(s in ("error", "canceled", "denied") for s in states):
                        return None
                    if all(s == "complete" for s in states):
                        return time.perf_counter() - t0
                    time.sleep(0.5)
                return None

            single = until_complete(1)
            peak = _vmhwm_mb(server.pid)
            tried = single is not None and single * concurrent < FIDES_TIMEOUT
            many = until_complete(concurrent) if tried else None
            result: dict[str, Any] = {
                "wall_s": single,
                "peak_mb": peak,
                "concurrent_wall_s": many,
                "note": None,
            }
            if single is None:
                result["note"] = f"the single request did not complete within {FIDES_TIMEOUT:.0f} s"
            elif many is None and tried:
                result["note"] = (
                    f"{concurrent} concurrent requests did not finish within {FIDES_TIMEOUT:.0f} s"
                )
                result["concurrent_unfinished_after_s"] = FIDES_TIMEOUT
            elif many is None:
                result["note"] = (
                    f"{concurrent} concurrent requests not run: {concurrent} x the single time exceeds the limit"
                )
            return result
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{app_db}" WITH (FORCE)')


def _ratio(a: object, b: object, digits: int = 1) -> float | None:
    return round(a / b, digits) if isinstance(a, float) and isinstance(b, float) and b else None


def main() -> None:
    name = f"mamoru_bench_dsr_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        t0 = time.perf_counter()
        rows = build(url)
        print(f"built {rows:,} rows in {time.perf_counter() - t0:.0f} s", flush=True)
        single = run_mamoru(url, 1)
        print(f"mamoru, one access request: {json.dumps(single)}", flush=True)
        many = run_mamoru(url, CONCURRENT)
        print(f"mamoru, {CONCURRENT} concurrent: {json.dumps(many)}", flush=True)
        fides = run_fides(url, CONCURRENT)
        print(f"fides {FIDES_VERSION}: {json.dumps(fides)}", flush=True)
        summary = {
            "benchmark": "dsr",
            "rows_in_database": rows,
            "subject_rows": int(single["rows"]),
            "mamoru_wall_s": round(single["wall_s"], 2),
            "mamoru_peak_mb": round(single["peak_mb"], 1),
            "mamoru_concurrent_wall_s": round(many["wall_s"], 2),
            "concurrent_requests": CONCURRENT,
            "fides_version": FIDES_VERSION,
            "fides_wall_s": round(fides["wall_s"], 2) if isinstance(fides.get("wall_s"), float) else None,
            "fides_peak_mb": round(fides["peak_mb"], 1) if isinstance(fides.get("peak_mb"), float) else None,
            "fides_concurrent_wall_s": fides.get("concurrent_wall_s"),
            "speedup_vs_fides": _ratio(fides.get("wall_s"), single["wall_s"]),
            "memory_ratio_vs_fides": _ratio(single["peak_mb"], fides.get("peak_mb"), 3),
            "concurrent_speedup_vs_fides": _ratio(fides.get("concurrent_wall_s"), many["wall_s"]),
            "concurrent_speedup_vs_fides_at_least": _ratio(
                fides.get("concurrent_unfinished_after_s"), many["wall_s"]
            ),
            "fides_note": fides.get("note"),
        }
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
