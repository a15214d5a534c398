"""Running a scan for a workspace: the gap report against its ledger, and the run recorded (sealed)
with an audit entry that carries counts only."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import ConfigurationError, MamoruError
from mamoru.ledger.tables import LedgerEntry
from mamoru.policy.model import Category
from mamoru.scan import database, files, gaps, shares
from mamoru.scan.report import Dismissals, Gap, ScanResult
from mamoru.scan.tables import ScanDismissal, ScanRun
from mamoru.store.db import utcnow
from mamoru.store.listing import Filter, ListQuery, ListSpec, list_page
from mamoru.store.paging import Page
from mamoru.workspace import Workspace

Progress = Callable[[str, int], None]
Gaps = Callable[[ScanResult, dict[str, list[str]], dict[str, Category]], list[Gap]]


class ScanTargetError(MamoruError):
    """A scan target that cannot be scanned (a missing path, an unset variable)."""


def _with_gaps(ws: Workspace, result: ScanResult, find: Gaps, started: float) -> ScanResult:
    """Compare the result with the workspace's ledger and policy categories; time the whole scan."""
    with ws.db.session() as session:
        rows = session.execute(select(LedgerEntry.code, LedgerEntry.data_items))
        ledger = {code: list(items) for code, items in rows}
    result.gaps = find(result, ledger, {c.id: c for c in ws.policy.policy.categories})
    result.seconds = time.perf_counter() - started
    return result


def shares_file(ws: Workspace) -> Path:
    return ws.settings.home / shares.FILE_NAME


def scan_files(
    ws: Workspace,
    paths: Sequence[Path],
    *,
    workers: int | None = None,
    sample_rows: int = files.SAMPLE_ROWS,
    progress: Progress | None = None,
    shares_path: Path | None = None,
    found: files.Found | None = None,
) -> ScanResult:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ScanTargetError(f"no such file or folder: {', '.join(missing)}")
    views = shares.load_shares(shares_path or shares_file(ws), ws.settings.home)
    started = time.perf_counter()
    result = files.scan_paths(
        paths,
        workers=workers,
        sample_rows=sample_rows,
        progress=progress,
        found=found,
        dismissals=dismissals(ws),
    )
    return _with_gaps(ws, result, lambda r, ledger, cats: gaps.file_gaps(r, views, ledger, cats), started)


def scan_database(
    ws: Workspace,
    url_env: str,
    *,
    tables: Sequence[str] | None = None,
    max_rows: int | None = database.SAMPLE_ROWS,
    progress: Progress | None = None,
    found: database.Found | None = None,
) -> ScanResult:
    """Scan the database whose URL is in ``url_env``: every row (or ``max_rows`` a table) a batch at a
    time, ``found`` given each batch's findings as they come, the office's "not personal" marks left
    out; the gaps against the dataset maps that use ``url_env``. A failure is the connectors' error in
    words (host, database, the driver's message; never the URL)."""
    url = os.environ.get(url_env)
    if not url:
        raise ConfigurationError(f"--db-url-env {url_env}: the variable is not set")
    from mamoru.connectors.maps import load_maps
    from mamoru.connectors.registry import datasets_dir

    maps = [m for m in load_maps(datasets_dir(ws), ws.policy.policy) if m.url_env == url_env]
    started = time.perf_counter()
    try:
        result = database.scan_database(
            url,
            target=f"${url_env}",
            tables=tables,
            max_rows=max_rows,
            dismissals=dismissals(ws),
            progress=progress,
            found=found,
        )
    except MamoruError:
        raise
    except Exception as exc:  # the driver's message can hold the URL (with a password): name the kind only
        raise ScanTargetError(f"${url_env}: the database could not be read ({type(exc).__name__})") from None
    return _with_gaps(ws, result, lambda r, ledger, cats: gaps.database_gaps(r, maps, ledger, cats), started)


def scan_shares(ws: Workspace, *, actor: str) -> dict[str, int]:
    """Scan every file share of ``file-shares.yaml`` that exists now and keep the run (the nightly
    task and the console's button). Nothing to scan: nothing recorded."""
    started = utcnow()
    paths = [s.path for s in shares.load_shares(shares_file(ws), ws.settings.home) if s.path.exists()]
    if not paths:
        return {"shares": 0, "gaps": 0}
    result = scan_files(ws, paths, workers=1)
    with ws.db.session() as session:
        run = record(session, ws, result, actor=actor, started_at=started)
        run_id = run.id
    return {"shares": len(paths), "gaps": len(result.gaps), "run": run_id}


def record(
    session: Session,
    ws: Workspace,
    result: ScanResult,
    *,
    actor: str,
    started_at: datetime,
    now: datetime | None = None,
) -> ScanRun:
    """Keep the run: counts in the clear, the report sealed; one audit entry with counts only."""
    finished = now or utcnow()
    holder = str(uuid.uuid4())
    run = ScanRun(
        holder=holder,
        target_kind=result.target_kind,
        started_at=started_at,
        finished_at=finished,
        actor=actor,
        files_scanned=result.files_scanned,
        bytes_scanned=result.bytes_scanned,
        locations=len(result.locations),
        gap_count=len(result.gaps),
        totals=result.totals(),
        sealed_report=ws.vault.seal_private(holder, "scan", orjson.dumps(result.to_json())),
    )
    session.add(run)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="scan.completed",
                objects=(f"scan:{run.id}", f"target:{result.target_kind}"),
                decision="gaps" if result.gaps else "no_gaps",
                counts={
                    "files": result.files_scanned,
                    "bytes": result.bytes_scanned,
                    "locations": len(result.locations),
                    "gaps": len(result.gaps),
                },
            )
        ],
    )
    return run


def report_of(ws: Workspace, run: ScanRun) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(ws.vault.open_private(run.holder, "scan", run.sealed_report))
    return data


def recent(session: Session, limit: int = 20) -> list[ScanRun]:
    return list(session.scalars(select(ScanRun).order_by(ScanRun.id.desc()).limit(limit)))


#: What the list of scan runs may be sorted and filtered by (counts only: the reports are sealed).
RUNS = ListSpec(
    sorts={
        "finished": (ScanRun.finished_at,),
        "id": (ScanRun.id,),
        "target": (ScanRun.target_kind,),
        "scanned": (ScanRun.files_scanned,),
        "gaps": (ScanRun.gap_count,),
    },
    default="-finished",
    tiebreak=ScanRun.id,
    filters={
        "target": Filter(ScanRun.target_kind, {"files", "database"}),
        "gaps": Filter(
            values={"yes", "no"},
            where=lambda v: ScanRun.gap_count > 0 if v == "yes" else ScanRun.gap_count == 0,
        ),
    },
)


def run_page(session: Session, asked: ListQuery) -> Page[ScanRun]:
    """One page of the scan runs as ``asked`` (see :data:`RUNS`)."""
    return list_page(session, select(ScanRun), RUNS, asked)


# --- "not personal": findings the office dismissed, remembered for the next scan -------------------

_FINGERPRINT = re.compile(r"[a-z2-7]{32}")


class DismissalError(MamoruError):
    """A "not personal" mark that cannot be kept (no such fingerprint shape, no reason, a bad kind)."""


def dismissals(ws: Workspace) -> Dismissals:
    """The fingerprint key (derived from the workspace's index key; never stored) and the marks."""
    key = ws.vault.keyed_hash("scan.not_personal", "fingerprint-key").encode()
    with ws.db.session() as session:
        marked = frozenset(session.scalars(select(ScanDismissal.fingerprint)))
    return Dismissals(key, marked)


def mark_not_personal(
    session: Session,
    *,
    fingerprint: str,
    entity: str,
    reason: str,
    actor: str,
    run_id: int | None = None,
    now: datetime | None = None,
) -> ScanDismissal:
    """Remember that a finding is not personal: the next scan leaves the same value at the same place
    out. Audited (``scan.not_personal``, the mark's id and kind only); marking twice changes nothing."""
    from mamoru.scan.recognizers import ENTITIES

    fingerprint, reason = fingerprint.strip().lower(), " ".join(reason.split())
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise DismissalError("fingerprint: 32 characters a-z and 2-7, as `mamoru scan --json` gives it")
    if entity not in ENTITIES:
        raise DismissalError(f"kind: {entity!r} is not a kind the scanner reports")
    if not reason or len(reason) > 200:
        raise DismissalError("reason: say in 1 to 200 characters why the value is not personal")
    existing = session.scalar(select(ScanDismissal).where(ScanDismissal.fingerprint == fingerprint))
    if existing is not None:
        return existing
    mark = ScanDismissal(
        fingerprint=fingerprint,
        entity=entity,
        reason=reason,
        run_id=run_id,
        marked_by=actor,
        marked_at=now or utcnow(),
    )
    session.add(mark)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="scan.not_personal",
                objects=(f"scan_mark:{mark.id}", f"kind:{entity}") + ((f"scan:{run_id}",) if run_id else ()),
                decision="not_personal",
            )
        ],
    )
    return mark
