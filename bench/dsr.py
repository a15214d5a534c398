"""Data-subject request benchmark: an access request over an organization's PostgreSQL database.

Builds a shop schema with at least 1,000,000 rows over linked tables (customers, addresses, orders,
order items, tickets), one subject owning 100,000 of them, and runs the access request through mamoru's
connector (server-side cursors, chunked key lists, rows streamed to a sink) in a child process, for its
wall time and peak memory; then 20 concurrent requests.

Fides (ethyca-fides==2.78.2) is looked for in the virtualenv named by BENCH_FIDES_PYTHON; running its
DSR engine needs its own application database, migrations and Redis, which this script does not yet set
up, so the Fides figures are reported as null with the reason. Needs PostgreSQL on 127.0.0.1:5432.
Last line: JSON summary.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

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
        fides_python = os.environ.get("BENCH_FIDES_PYTHON")
        fides_note = (
            "not run: the Fides DSR engine needs its application database, migrations and Redis set up; "
            + (
                "found at " + fides_python
                if fides_python
                else "set BENCH_FIDES_PYTHON to a virtualenv with ethyca-fides==2.78.2"
            )
        )
        print(f"fides: {fides_note}", flush=True)
        summary = {
            "benchmark": "dsr",
            "rows_in_database": rows,
            "subject_rows": int(single["rows"]),
            "mamoru_wall_s": round(single["wall_s"], 2),
            "mamoru_peak_mb": round(single["peak_mb"], 1),
            "mamoru_concurrent_wall_s": round(many["wall_s"], 2),
            "mamoru_concurrent_requests": CONCURRENT,
            "fides_wall_s": None,
            "fides_peak_mb": None,
            "speedup_vs_fides": None,
            "memory_ratio_vs_fides": None,
            "concurrent_speedup_vs_fides": None,
            "fides": fides_note,
        }
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
