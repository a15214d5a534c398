"""Audit log benchmark: durable appends (group commit) on SQLite and PostgreSQL, verification, and the
raw SHA-256 chaining rate of the same records as the physical limit, all in one run.

Verification is measured first on a cold log (written, never read since; the kernel's page cache is
dropped when the bench may, and ``verify_cold`` says whether it could), on every CPU, against raw SHA-256
chaining on the same number of processes.

Bounded: about a minute. PostgreSQL is used when reachable on 127.0.0.1:5432 (user postgres).
Last line: JSON summary.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
import threading
import time
from hashlib import sha256
from pathlib import Path

from sqlalchemy import text

from mamoru.audit.entry import AuditEvent
from mamoru.audit.proofs import make_checkpoint
from mamoru.audit.query import build_index
from mamoru.audit.signing import Signer
from mamoru.audit.verification import verify
from mamoru.audit.writer import AuditWriter
from mamoru.store.db import Database

APPENDS = int(os.environ.get("BENCH_AUDIT_APPENDS", "300000"))
VERIFY_ENTRIES = int(os.environ.get("BENCH_AUDIT_VERIFY", "1000000"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def events(n: int) -> list[AuditEvent]:
    return [
        AuditEvent(
            actor=f"staff:u{i % 50}",
            action="decision.read",
            purpose=("services", "personnel", "research")[i % 3],
            subjects=(f"{i:08x}-5d6a-4e3b-9c7d-1a2b3c4d5e6f",),
            decision="allow",
            reasons=("purpose_notified",),
            policy_version="2026.11",
        )
        for i in range(n)
    ]


def durable_batches(db: Database, batch: list[AuditEvent], total: int, producers: int = 4) -> float:
    """``producers`` callers (think: guard batch decisions) each appending batches and waiting for the commit."""
    writer = AuditWriter(db, index_when_idle=False)
    rounds = total // len(batch) // producers

    def producer() -> None:
        for _ in range(rounds):
            writer.submit(batch, durable=True)

    workers = [threading.Thread(target=producer) for _ in range(producers)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    writer.close()
    return rounds * producers * len(batch) / elapsed


def durable_threads(db: Database, threads: int, per_thread: int) -> float:
    writer = AuditWriter(db, index_when_idle=False)
    one = events(1)

    def producer() -> None:
        for _ in range(per_thread):
            writer.submit(one, durable=True)

    workers = [threading.Thread(target=producer) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    writer.close()
    return threads * per_thread / elapsed


def index_rate(db: Database) -> float:
    start, n = time.perf_counter(), 0
    while True:
        with db.engine.begin() as conn:
            k = build_index(conn)
        if not k:
            break
        n += k
    return n / (time.perf_counter() - start)


def postgres_database() -> tuple[str, str] | None:
    try:
        import psycopg

        name = f"mamoru_bench_{secrets.token_hex(3)}"
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name, PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    except Exception as exc:  # benchmark only: report and go on without PostgreSQL
        print(f"PostgreSQL not used: {exc}", file=sys.stderr)
        return None


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _chain(leaves: list[bytes]) -> float:
    """What verification does per entry, and nothing else: hash the leaf, check it links to the previous
    hash. Returns its own time (the leaves were sent to the process before the clock)."""
    start = time.perf_counter()
    prev = leaves[0][:32] if leaves else b""
    linked = 0
    for leaf in leaves:
        linked += leaf[:32] == prev
        prev = sha256(b"\x00" + leaf).digest()
    return time.perf_counter() - start if linked >= 0 else 0.0


def raw_chain_rate(leaves: list[bytes], processes: int) -> float:
    """The ceiling: the same hashing and link checks over the same leaves, split in ``processes`` runs of
    consecutive entries (as the verifier splits the log), without a database or anything else."""
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(leaves) // processes)
    parts = [leaves[i : i + size] for i in range(0, len(leaves), size)]
    with ProcessPoolExecutor(processes) as pool:
        seconds = max(pool.map(_chain, parts))
    return len(leaves) / seconds


def drop_page_cache() -> bool:
    """Ask the kernel to drop its page cache (root only), so that verification reads the log from disk."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="mamoru-bench-"))
    batch = events(1000)
    summary: dict[str, object] = {"bench": "audit"}

    sqlite = Database(f"sqlite:///{folder / 'bench.db'}")
    sqlite.migrate()
    summary["durable_appends_per_s"] = round(durable_batches(sqlite, batch, APPENDS))
    summary["durable_appends_64_threads_per_s"] = round(durable_threads(sqlite, 64, 800))
    summary["index_build_per_s"] = round(index_rate(sqlite))
    print(f"SQLite durable appends, 4 callers × 1000:    {summary['durable_appends_per_s']:>10,} /s")
    print(
        f"SQLite durable appends, 64 threads × 1:     {summary['durable_appends_64_threads_per_s']:>10,} /s"
    )
    print(f"SQLite deferred query-index build:          {summary['index_build_per_s']:>10,} /s")

    pg = postgres_database()
    if pg is not None:
        name, url = pg
        try:
            postgres = Database(url)
            postgres.migrate()
            summary["pg_durable_appends_per_s"] = round(durable_batches(postgres, batch, APPENDS // 2))
            summary["pg_durable_appends_64_threads_per_s"] = round(durable_threads(postgres, 64, 300))
            print(
                f"PostgreSQL durable appends, 4 callers × 1000: {summary['pg_durable_appends_per_s']:>9,} /s"
            )
            print(
                f"PostgreSQL durable appends, 64 threads × 1:  {summary['pg_durable_appends_64_threads_per_s']:>9,} /s"
            )
            postgres.dispose()
        finally:
            drop_postgres(name)

    # Verification over a log of VERIFY_ENTRIES entries with signed checkpoints.
    big = Database(f"sqlite:///{folder / 'verify.db'}")
    big.migrate()
    signer = Signer.generate()
    writer = AuditWriter(big, index_when_idle=False)
    for _ in range(VERIFY_ENTRIES // len(batch)):
        writer.submit(batch, durable=False)
    writer.close()
    with big.session() as session:
        make_checkpoint(session, signer)
    cold = drop_page_cache()
    parallel = verify(big, signer.public)  # first: the log has never been read since it was written
    single = verify(big, signer.public, workers=1)
    deep = verify(big, signer.public, deep=True)
    assert single.ok and parallel.ok and deep.ok
    with big.engine.connect() as conn:
        leaves = [
            bytes(leaf) for (leaf,) in conn.execute(text("SELECT leaf FROM audit_entries ORDER BY seq"))
        ]
    processes = os.cpu_count() or 1
    raw = raw_chain_rate(leaves, processes)
    verify_rate = parallel.entries / parallel.seconds
    summary.update(
        {
            "verify_entries": parallel.entries,
            "verify_per_s": round(verify_rate),
            "verify_single_process_per_s": round(single.entries / single.seconds),
            "verify_deep_per_s": round(deep.entries / deep.seconds),
            "raw_sha256_chain_per_s": round(raw),
            "raw_processes": processes,
            "verify_cold": cold,
            "ratio_verify_to_raw": round(verify_rate / raw, 3),
            "ratio_durable_appends_to_raw": round(int(summary["durable_appends_per_s"]) / raw, 3),  # type: ignore[call-overload]
            "cpus": os.cpu_count(),
        }
    )
    print(
        f"verify ({parallel.entries:,} entries, {os.cpu_count()} CPUs):      {summary['verify_per_s']:>10,} /s"
    )
    print(f"verify, one process:                        {summary['verify_single_process_per_s']:>10,} /s")
    print(f"verify --deep (Merkle roots too):           {summary['verify_deep_per_s']:>10,} /s")
    print(
        f"raw SHA-256 chaining of the same leaves, {processes} processes: {summary['raw_sha256_chain_per_s']:>10,} /s  (physical limit)"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
