"""Pseudonymized and anonymized datasets benchmark: a run of each over a usage-history table of
1,000,000 rows (BENCH_DEID_ROWS), on SQLite and, when reachable, PostgreSQL as the source.

The pseudonymized run replaces the customer id and the e-mail with random tokens (50,000 customers:
100,000 mappings sealed under the dataset's key), generalizes the birth date to the year and the
address to the prefecture, drops the My Number column; the anonymized run generalizes to age bands,
prefectures and bands of minutes, measures k-anonymity over them (k from the policy: 5), suppresses
the rare rows, and writes CSV, Parquet (when pyarrow is installed) and the manifest. Each run is a
child process, for its wall time, its CPU time (the machine may be shared) and its peak memory
(ru_maxrss of that process alone).

No peer is run: no tool a user would pick instead (ARX, sdcMicro) runs in this environment.
Last line: JSON summary.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROWS = int(os.environ.get("BENCH_DEID_ROWS", "1000000"))
CUSTOMERS = int(os.environ.get("BENCH_DEID_CUSTOMERS", "50000"))
DATABASES = os.environ.get("BENCH_DEID_DBS", "sqlite,postgresql").split(",")
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PREFS = ["東京都千代田区", "大阪府大阪市", "神奈川県横浜市", "愛知県名古屋市", "福岡県福岡市", "北海道札幌市"]
PAGES = ["search", "detail", "download", "alert", "report"]

MAP = """\
schema: mamoru.dataset/1
name: usage
url_env: BENCH_DEID_URL
tables:
  - name: usage
    primary_key: id
    identities: {customer_id: customer_id, email: email}
    fields:
      - {name: id}
      - {name: customer_id, categories: [identity]}
      - {name: email, categories: [contact]}
      - {name: birth_date, categories: [identity]}
      - {name: address, categories: [contact]}
      - {name: my_number, categories: [my_number]}
      - {name: page, categories: [usage_log]}
      - {name: minutes, categories: [usage_log]}
      - {name: used_on, categories: [usage_log]}
"""

PLANS = {
    "pseudonymized": """\
schema: mamoru.deid/1
id: bench_pseudo
kind: pseudonymized
title: {ja: 利用履歴, en: Usage history}
purpose: research
source: {kind: table, datastore: usage, table: usage}
fields:
  - {name: customer_id, treatment: token}
  - {name: email, treatment: token}
  - {name: birth_date, treatment: generalize, generalize: year}
  - {name: address, treatment: generalize, generalize: prefecture}
  - {name: my_number, treatment: drop}
  - {name: page, treatment: keep}
  - {name: minutes, treatment: keep}
  - {name: used_on, treatment: keep}
""",
    "anonymized": """\
schema: mamoru.deid/1
id: bench_anon
kind: anonymized
title: {ja: 利用統計, en: Usage statistics}
purpose: research
source: {kind: table, datastore: usage, table: usage}
fields:
  - {name: birth_date, treatment: generalize, generalize: age_band, width: 10}
  - {name: address, treatment: generalize, generalize: prefecture}
  - {name: page, treatment: keep}
  - {name: minutes, treatment: generalize, generalize: band, width: 30}
  - {name: used_on, treatment: generalize, generalize: year}
quasi_identifiers: [birth_date, address, page]
suppress_rare: true
""",
}

CHILD = r"""
import json, resource, sys, time
from datetime import UTC, datetime
from mamoru.deid import register as reg, runs
from mamoru.deid.plan import parse_plan
from mamoru.policy.model import Text
from mamoru.settings import Settings
from mamoru.workspace import Workspace
from pathlib import Path
ws = Workspace.open(Settings(home=Path(sys.argv[1])))
plan = parse_plan(Path(sys.argv[2]).read_text(encoding="utf-8"))
t = Text(ja="アクセス制御", en="Access control")
with ws.db.session() as s:
    reg.store_plan(s, ws, plan, actor="system:bench")
    ds = reg.register(s, ws, plan, actor="system:bench", safety_measures=t, complaint_contact=t).id
t0 = time.perf_counter()
u0 = resource.getrusage(resource.RUSAGE_SELF)
r = runs.perform(ws, ds, actor="system:bench", now=datetime.now(UTC))
wall = time.perf_counter() - t0
u1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
size = (r.folder / "dataset.csv").stat().st_size
print(json.dumps({"rows": r.rows, "suppressed": r.suppressed, "wall_s": wall, "cpu_s": cpu, "csv_mb": size / 2**20,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def rows(n: int) -> Iterator[tuple[object, ...]]:
    rnd = random.Random(7)
    for i in range(1, n + 1):
        c = rnd.randrange(CUSTOMERS)
        yield (
            i,
            c,
            f"c{c}@example.jp",
            f"{1950 + c % 50}-{1 + c % 12:02d}-{1 + c % 28:02d}",
            PREFS[c % len(PREFS)] + f"{c % 9}-{c % 7}",
            f"{c:012d}",
            PAGES[rnd.randrange(len(PAGES))],
            rnd.randrange(240),
            f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
        )


COLUMNS = "id, customer_id, email, birth_date, address, my_number, page, minutes, used_on"
DDL = (
    "CREATE TABLE usage (id integer PRIMARY KEY, customer_id integer, email varchar(120), birth_date varchar(10),"
    " address varchar(200), my_number varchar(12), page varchar(20), minutes integer, used_on varchar(10))"
)


def build_sqlite(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute(DDL)
    conn.executemany(f"INSERT INTO usage ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", rows(ROWS))
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def build_postgres() -> tuple[str, str] | None:
    try:
        import psycopg

        admin = PG_ADMIN.replace("+psycopg", "")
        psycopg.connect(admin, connect_timeout=3).close()
    except Exception:
        return None
    name = f"mamoru_bench_deid_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url) as conn:
        conn.execute(DDL)
        with conn.cursor().copy(f"COPY usage ({COLUMNS}) FROM STDIN") as copy:
            for row in rows(ROWS):
                copy.write_row(row)
        conn.execute("ANALYZE usage")
    return url, name


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(home: Path, url: str, kind: str) -> dict[str, float]:
    plan = home.parent / f"{kind}.yaml"
    plan.write_text(PLANS[kind], encoding="utf-8")
    env = {**os.environ, "BENCH_DEID_URL": url, "MAMORU_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(home), str(plan)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    from mamoru.settings import Settings
    from mamoru.setup import initialize

    summary: dict[str, object] = {"benchmark": "deid", "rows": ROWS, "customers": CUSTOMERS}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ws"
        initialize(Settings(home=home))
        (home / "datasets").mkdir(exist_ok=True)
        (home / "datasets" / "usage.yaml").write_text(MAP, encoding="utf-8")
        sources = {}
        if "sqlite" in DATABASES:
            t0 = time.perf_counter()
            sources["sqlite"] = build_sqlite(Path(tmp) / "usage.db")
            print(f"built {ROWS:,} rows on SQLite in {time.perf_counter() - t0:.0f} s", flush=True)
        pg = build_postgres() if "postgresql" in DATABASES else None
        if pg is not None:
            sources["postgresql"] = pg[0]
        else:
            summary["postgresql"] = "unreachable: skipped"
        try:
            for db, url in sources.items():
                for kind in PLANS:
                    r = run(home, url, kind)
                    print(f"{db} {kind}: {json.dumps(r)}", flush=True)
                    summary[f"{db}_{kind}_rows_per_s"] = round(r["rows"] / r["wall_s"])
                    summary[f"{db}_{kind}_peak_mb"] = round(r["peak_mb"], 1)
                    summary[f"{db}_{kind}_wall_s"] = round(r["wall_s"], 2)
                    # The machine may be shared: rows per second of the run's own CPU time as well.
                    summary[f"{db}_{kind}_rows_per_cpu_s"] = round(r["rows"] / r["cpu_s"])
                    summary[f"{db}_{kind}_rows_out"] = int(r["rows"])
        finally:
            if pg is not None:
                drop_postgres(pg[1])
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
