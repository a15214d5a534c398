"""Crash safety: a writer killed with SIGKILL at random moments never loses an acknowledged entry,
and the log it leaves always verifies."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from mamoru.audit.entry import HEADER_BYTES
from mamoru.audit.verification import verify
from mamoru.store.db import Database
from tests.forked import Forker

TRIALS = 30
#: What the child imports, imported once by the process the children are forked from.
PRELOAD = ["mamoru.audit.entry", "mamoru.audit.chain", "mamoru.audit.writer", "mamoru.store.db"]

CHILD = r"""
import random, sys
from mamoru.audit.entry import AuditEvent
from mamoru.audit.chain import append
from mamoru.audit.writer import AuditWriter
from mamoru.store.db import Database

url, trial = sys.argv[1], int(sys.argv[2])
db = Database(url)
writer = AuditWriter(db)
rng = random.Random(trial)
i = 0
while True:
    size = rng.randint(1, 40)
    events = [AuditEvent(actor=f"test:t{trial}", action=f"crash.n{i + k}") for k in range(size)]
    if rng.random() < 0.2:
        writer.submit(events, durable=False)
    elif rng.random() < 0.2:
        with db.session() as session:
            seqs = append(session, events)
        print(" ".join(f"ack {s} {i + k}" for k, s in enumerate(seqs)), flush=True)
    else:
        seqs = writer.submit(events, durable=True)
        print(" ".join(f"ack {s} {i + k}" for k, s in enumerate(seqs)), flush=True)
    i += size
"""


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    db = Database(url)
    db.migrate()
    db.dispose()
    rng = random.Random(2026)
    total_acked = 0
    with Forker(CHILD, PRELOAD, tmp_path / "children.log", timeout=30) as forker:
        for trial in range(TRIALS):
            child = forker.start(url, str(trial))
            first = next(iter(child), b"")
            assert first.startswith(b"ack"), forker.errors()
            time.sleep(rng.uniform(0.0, 0.25))
            child.kill()
            rest = child.communicate()
            acked: dict[int, int] = {}
            for line in (first + rest).decode().splitlines():
                parts = line.split()
                if len(parts) % 3 or not parts:
                    continue  # a line cut by the kill: not acknowledged as a whole
                for k in range(0, len(parts), 3):
                    acked[int(parts[k + 1])] = int(parts[k + 2])
            db = Database(url)
            report = verify(db, None)
            assert report.ok, f"trial {trial}: {report.reason} at {report.first_bad_seq}"
            with db.engine.connect() as conn:
                rows = dict(
                    conn.execute(
                        text(
                            "SELECT seq, leaf FROM audit_entries WHERE seq IN ({})".format(
                                ",".join(map(str, acked))
                            )
                        )
                    ).all()
                )
            for seq, index in acked.items():
                assert seq in rows, f"trial {trial}: acknowledged entry {seq} is missing"
                body = bytes(rows[seq])[HEADER_BYTES:]
                assert f'"action":"crash.n{index}"'.encode() in body and f"test:t{trial}".encode() in body
            total_acked += len(acked)
            db.dispose()
    assert total_acked > TRIALS
