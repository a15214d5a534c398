"""A run: stream the source through the plan, measure k-anonymity (anonymized), write the dataset as CSV
(and Parquet when pyarrow is installed) with a manifest, journaled and resumable, audited by counts.

The source is read in pages by its key (keyset pagination: the same on SQLite and PostgreSQL, and
memory bounded by one page). Each page becomes a part file, written to a temporary name and renamed,
and then marked done in the journal in one transaction with the page's new token mappings; a run that
stops anywhere resumes after the last page marked done. The parts are joined into the dataset, hashed
and described in ``manifest.json`` at the end; only then is the dataset created in the register.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import MetaData, Table, and_, insert, or_, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.connectors.registry import connectors
from mamoru.deid.plan import Kind, LedgerSource, Plan, TableSource, Treatment, require_runnable
from mamoru.deid.register import (
    DatasetRetired,
    dataset,
    load_stored_plan,
    output_root,
    publish_creation,
    source_shape,
)
from mamoru.deid.tables import DeidDataset, DeidMapping, DeidRun, DeidRunStep
from mamoru.deid.transform import KAnonymity, Transformer, class_key, measure, new_token, qi_positions
from mamoru.errors import Invalid, MamoruError, Refusal, problem
from mamoru.files import PRIVATE, safe_cell, write_private
from mamoru.guard.decision import Action
from mamoru.guard.service import decide_and_record
from mamoru.ledger.tables import Acquisition, LedgerEntry
from mamoru.vault.service import SEARCHABLE_FIELDS
from mamoru.workspace import Workspace

PAGE = 10_000
Row = dict[str, Any]


class KAnonymityNotMet(Refusal):
    """An anonymized output would hold a class of quasi-identifiers smaller than the policy's k
    (APPI Art. 43(1)); nothing was written. The message gives counts only."""

    http_status = 409

    def __init__(self, result: KAnonymity) -> None:
        self.result = result
        super().__init__(
            f"APPI-43: the smallest class of quasi-identifiers has {result.smallest} rows, below k={result.k} "
            f"({len(result.rare)} classes, {result.rare_rows} rows); allow suppression or generalize further"
        )


class RunStopped(MamoruError):
    """Raised by a test hook to stop a run between pages, as a crash would."""


# --- sources --------------------------------------------------------------------------------------------


Pages = Callable[[Any, int], list[tuple[Any, Row]]]  # after key, size -> [(key, row)]


def _table_pages(session: Session, ws: Workspace, plan: Plan, actor: str, now: datetime) -> Pages:
    """A mapped table's rows by its key (one column or several). The people a page holds are found by
    their identity columns (e-mail, phone, employee number) in the vault, and decided by the guard for
    the plan's purpose in one batch per page (and audited there); the rows of a person it refuses are
    left out, as for a ledger source. A row whose person mamoru does not know is read as it is."""
    assert isinstance(plan.source, TableSource)
    connector = connectors(ws).get(plan.source.datastore)
    if connector is None:
        raise Invalid([problem("source.datastore", f"no datastore '{plan.source.datastore}'")])
    table_map = connector.map.table(plan.source.table)
    wanted = [f.name for f in plan.output()]
    engine = connector.engine
    fields = {f.name: f for f in table_map.fields}
    categories = sorted({c for name in wanted if name in fields for c in fields[name].categories})
    identities = [
        (kind, column) for kind, column in table_map.identity_columns() if kind in SEARCHABLE_FIELDS
    ]

    def subjects_of(rows: list[Row]) -> list[set[str]]:
        found: list[set[str]] = [set() for _ in rows]
        for kind, column in identities:
            values = [str(r[column]) for r in rows if r[column] not in (None, "")]
            hits = ws.vault.find_many(session, kind, values)
            for i, r in enumerate(rows):
                if r[column] not in (None, ""):
                    found[i].update(hits.get(str(r[column]), ()))
        return found

    def pages(after: Any, size: int) -> list[tuple[Any, Row]]:
        columns = list(dict.fromkeys([*wanted, *(c for _, c in identities)]))
        with engine.connect() as conn:
            table = Table(table_map.name, MetaData(), schema=table_map.db_schema, autoload_with=conn)
            keys = [table.c[k] for k in table_map.key]  # one column or several (a composite key)
            query = select(*keys, *(table.c[n] for n in columns)).order_by(*keys).limit(size)
            if after is not None:  # the journal keeps the last key as a list: [value, ...]
                query = query.where(_after(keys, after if isinstance(after, list) else [after]))
            n = len(keys)
            read = [(list(r[:n]), dict(zip(columns, r[n:], strict=True))) for r in conn.execute(query)]
        people = subjects_of([r for _, r in read])
        ids = sorted(set().union(*people))
        allowed: set[str] = set()
        if ids:
            decisions = decide_and_record(
                session,
                ws.policy,
                actor=actor,
                purpose=plan.purpose,
                subjects=ids,
                categories=categories,
                action=Action.READ,
                now=now,
            )
            allowed = {sid for sid, d in zip(ids, decisions, strict=True) if d.allow}
        return [
            (key, {name: row[name] for name in wanted} if who <= allowed else {})
            for (key, row), who in zip(read, people, strict=True)
        ]

    return pages


def _after(keys: list[Any], last: list[Any]) -> Any:
    """Keyset condition "(k1, k2, ...) > last" written out with AND/OR, so that it means the same on every
    database (row-value comparison is not everywhere)."""
    clauses = []
    for i, key in enumerate(keys):
        equal = [keys[j] == last[j] for j in range(i)]
        clauses.append(and_(*equal, key > last[i]))
    return or_(*clauses)


def _ledger_pages(session: Session, ws: Workspace, plan: Plan, actor: str, now: datetime) -> Pages:
    """The vault records of a ledger entry's subjects; each page is decided by the guard for the plan's
    purpose (and audited there), and only what it allows is opened."""
    assert isinstance(plan.source, LedgerSource)
    entry = session.scalars(select(LedgerEntry).where(LedgerEntry.code == plan.source.entry)).first()
    if entry is None:
        raise Invalid([problem("source.entry", f"no ledger entry '{plan.source.entry}'")])
    mapping = ws.policy.policy.fields
    fields = [f.name for f in plan.output() if f.name in mapping]
    categories = sorted({mapping[f] for f in fields})

    def pages(after: Any, size: int) -> list[tuple[Any, Row]]:
        query = (
            select(Acquisition.subject_id)
            .where(Acquisition.ledger_entry_id == entry.id)
            .distinct()
            .order_by(Acquisition.subject_id)
            .limit(size)
        )
        if after is not None:
            query = query.where(Acquisition.subject_id > after)
        ids = list(session.scalars(query))
        if not ids:
            return []
        decisions = decide_and_record(
            session,
            ws.policy,
            actor=actor,
            purpose=plan.purpose,
            subjects=ids,
            categories=categories,
            action=Action.READ,
            now=now,
        )
        out: list[tuple[Any, Row]] = []
        for d, sid in zip(decisions, ids, strict=True):
            row: Row = {"subject_id": sid}
            if d.allow:
                row.update(ws.vault.read(session, d, sid, fields, categories_of=mapping))
                out.append((sid, row))
            else:
                out.append((sid, {}))  # kept as a key only: the page goes on past it
        return out

    return pages


def _iterate(pages: Pages, after: Any, size: int) -> Iterator[tuple[Any, list[Row]]]:
    while True:
        page = pages(after, size)
        if not page:
            return
        after = page[-1][0]
        yield after, [r for _, r in page if r]


# --- tokens -------------------------------------------------------------------------------------------


class Tokens:
    """The dataset's mapping: a value gets the token already stored for it, or a new random one that is
    sealed under the dataset's own key and written with the page that first used it."""

    def __init__(self, ws: Workspace, session: Session, row: DeidDataset) -> None:
        self.ws, self.dataset_id, self.holder = ws, row.id, row.mapping_key or ""
        self.cache: dict[tuple[str, str], str] = {}
        self.by_hash: dict[tuple[str, str], str] = {
            (m.field, m.value_hash): m.token
            for m in session.scalars(select(DeidMapping).where(DeidMapping.dataset_id == row.id))
        }
        self.pending: list[dict[str, Any]] = []
        self._seal: Callable[[str, bytes], bytes] | None = None

    def __call__(self, field: str, value: str) -> str:
        key = (field, value)
        token = self.cache.get(key)
        if token is not None:
            return token
        digest = self.ws.vault.keyed_hash(f"deid:{self.dataset_id}:{field}", value)
        token = self.by_hash.get((field, digest))
        if token is None:
            token = new_token()
            self.by_hash[(field, digest)] = token
            self.pending.append(
                {
                    "dataset_id": self.dataset_id,
                    "field": field,
                    "value_hash": digest,
                    "token": token,
                    "sealed": self._sealer()(field, value.encode()),
                }
            )
        self.cache[key] = token
        return token

    def _sealer(self) -> Callable[[str, bytes], bytes]:
        if self._seal is None:
            self._seal = self.ws.vault.sealer(self.holder)
        return self._seal

    def flush(self, session: Session) -> int:
        n = len(self.pending)
        if n:
            session.execute(insert(DeidMapping), self.pending)
        self.pending = []
        return n


def _no_tokens(field: str, value: str) -> str:  # anonymized plans never tokenize (the check refuses it)
    raise MamoruError("an anonymized plan has no tokens")


# --- the run ------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    run_id: str
    rows: int
    suppressed: int
    sha256: str
    folder: Path
    smallest_class: int | None


def _write_part(path: Path, rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    write_private(path, data)
    return hashlib.sha256(data).hexdigest()


def start(session: Session, ws: Workspace, dataset_id: str, *, actor: str) -> DeidRun:
    """A new run of the dataset's plan (or the unfinished one, to resume)."""
    row = dataset(session, dataset_id)
    if row.status == "retired":
        raise DatasetRetired(f"dataset {row.id} is retired")
    if row.received_from is not None or row.plan_id is None or row.plan_version is None:
        raise Invalid([problem("dataset", "a received dataset has no plan to run")])
    unfinished = session.scalars(
        select(DeidRun).where(DeidRun.dataset_id == row.id, DeidRun.status == "running")
    ).first()
    if unfinished is not None:
        return unfinished
    run = DeidRun(
        id=str(uuid.uuid4()),
        dataset_id=row.id,
        plan_id=row.plan_id,
        plan_version=row.plan_version,
        actor=actor,
    )
    session.add(run)
    session.flush()
    return run


def perform(
    ws: Workspace,
    dataset_id: str,
    *,
    actor: str,
    now: datetime,
    page_size: int = PAGE,
    stop_after_pages: int | None = None,
) -> RunResult:
    """Run (or resume) the dataset's plan to the end. Each page is its own transaction."""
    with ws.db.session() as session:
        run = start(session, ws, dataset_id, actor=actor)
        run_id = run.id
        plan = load_stored_plan(session, run.plan_id, run.plan_version)
        require_runnable(plan, source_shape(session, ws, plan))
        k = ws.policy.policy.deid.k_anonymity
    folder = output_root(ws) / dataset_id / run_id
    parts = folder / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    created_on = now.date()
    anonymized = plan.kind is Kind.ANONYMIZED
    positions = qi_positions(plan) if anonymized else []

    with ws.db.session() as session:
        pages = (
            _table_pages(session, ws, plan, actor, now)
            if isinstance(plan.source, TableSource)
            else _ledger_pages(session, ws, plan, actor, now)
        )
        ds = dataset(session, dataset_id)
        tokens: Tokens | None = None if anonymized else Tokens(ws, session, ds)
        transform = Transformer(plan, created_on, tokens or _no_tokens)

        rare: frozenset[tuple[str, ...]] = frozenset()
        result: KAnonymity | None = None
        if anonymized:
            # A first pass measures the classes; nothing is written before the output is known to reach k.
            result = measure(
                (
                    class_key(transform(r), positions)
                    for _, rows in _iterate(pages, None, page_size)
                    for r in rows
                ),
                k,
            )
            if not result.met and (not plan.suppress_rare or result.rare_rows == result.rows):
                _refuse(session, run_id, actor, result)
                raise KAnonymityNotMet(result)
            rare = result.rare

    done = _done_steps(ws, run_id)
    after = done[-1].result.get("after") if done else None
    position = len(done)
    for stale in parts.glob("part-*.csv"):
        if int(stale.stem.split("-")[1]) > position:
            stale.unlink()
    with ws.db.session() as session:
        source = (
            _table_pages(session, ws, plan, actor, now)
            if isinstance(plan.source, TableSource)
            else _ledger_pages(session, ws, plan, actor, now)
        )
        if tokens is not None:
            tokens = Tokens(ws, session, dataset(session, dataset_id))
            transform = Transformer(plan, created_on, tokens)
        for last_key, rows in _iterate(source, after, page_size):
            out = [transform(r) for r in rows]
            kept = [r for r in out if class_key(r, positions) not in rare] if rare else out
            position += 1
            digest = _write_part(parts / f"part-{position:06d}.csv", kept)
            added = tokens.flush(session) if tokens is not None else 0
            session.add(
                DeidRunStep(
                    run_id=run_id,
                    position=position,
                    name="page",
                    done_at=now,
                    result={
                        "after": last_key,
                        "rows": len(kept),
                        "suppressed": len(out) - len(kept),
                        "sha256": digest,
                        "tokens": added,
                    },
                )
            )
            session.commit()
            if stop_after_pages is not None and position >= stop_after_pages:
                raise RunStopped(f"run {run_id} stopped after page {position}")
    return _finish(ws, plan, dataset_id, run_id, folder, now=now, actor=actor, result=result)


def _done_steps(ws: Workspace, run_id: str) -> list[DeidRunStep]:
    with ws.db.session() as session:
        steps = list(
            session.scalars(
                select(DeidRunStep)
                .where(DeidRunStep.run_id == run_id, DeidRunStep.done_at.is_not(None))
                .order_by(DeidRunStep.position)
            )
        )
        session.expunge_all()
        return steps


def _refuse(session: Session, run_id: str, actor: str, result: KAnonymity) -> None:
    run = session.get(DeidRun, run_id)
    assert run is not None
    run.status = "refused"
    run.smallest_class = result.smallest
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="deid.run_refused",
                objects=(f"deid_run:{run_id}", f"deid_dataset:{run.dataset_id}"),
                decision="deny",
                reasons=("k_anonymity_not_met", "appi-43-1"),
                counts={
                    "k": result.k,
                    "smallest_class": result.smallest,
                    "classes_below_k": len(result.rare),
                },
            )
        ],
    )


def _finish(
    ws: Workspace,
    plan: Plan,
    dataset_id: str,
    run_id: str,
    folder: Path,
    *,
    now: datetime,
    actor: str,
    result: KAnonymity | None,
) -> RunResult:
    steps = _done_steps(ws, run_id)
    items = [f.name for f in plan.output()]
    target = folder / "dataset.csv"
    sha = hashlib.sha256()
    tmp = folder / ".dataset.csv.partial"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    rows = suppressed = 0
    with os.fdopen(fd, "wb") as out:
        header = io.StringIO()
        csv.writer(header, lineterminator="\r\n").writerow([safe_cell(i) for i in items])
        first = header.getvalue().encode("utf-8")
        out.write(first)
        sha.update(first)
        for step in steps:
            part = folder / "parts" / f"part-{step.position:06d}.csv"
            data = part.read_bytes()
            if hashlib.sha256(data).hexdigest() != step.result["sha256"]:
                raise MamoruError(f"run {run_id}: part {step.position} changed after it was written")
            out.write(data)
            sha.update(data)
            rows += int(step.result["rows"])
            suppressed += int(step.result["suppressed"])
        out.flush()
        os.fsync(out.fileno())
    if result is not None:
        # The guarantee is on what was written: the classes are counted again in the file itself.
        written = _recount(tmp, qi_positions(plan), result.k)
        if not written.met:
            tmp.unlink()
            with ws.db.session() as session:
                _refuse(session, run_id, actor, written)
            raise KAnonymityNotMet(written)
    os.replace(tmp, target)
    digest = sha.hexdigest()
    formats = ["csv"]
    if _write_parquet(target, folder / "dataset.parquet"):
        formats.append("parquet")
    manifest = {
        "dataset": dataset_id,
        "run": run_id,
        "kind": plan.kind.value,
        "plan": plan.id,
        "plan_version": plan.version,
        "items": items,
        "treatments": {f.name: f.treatment.value for f in plan.output()},
        "row_count": rows,
        "suppressed_rows": suppressed,
        "k": result.k if result else None,
        "smallest_class": result.smallest_kept if result else None,
        "created_at": now.isoformat(),
        "sha256": digest,
        "formats": formats,
    }
    write_private(folder / "manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    with ws.db.session() as session:
        run = session.get(DeidRun, run_id)
        ds = session.get(DeidDataset, dataset_id)
        assert run is not None and ds is not None
        run.status, run.finished_at, run.rows, run.suppressed = "completed", now, rows, suppressed
        run.sha256, run.folder = digest, str(folder)
        run.smallest_class = result.smallest_kept if result else None
        first_creation = ds.status != "created"
        ds.items, ds.status = items, "created"
        if ds.created_at is None:
            ds.created_at = now
        if plan.kind is Kind.ANONYMIZED and (first_creation or ds.items != items):
            publish_creation(session, ds, actor=actor, now=now)
        append(
            session,
            [
                AuditEvent(
                    actor=actor,
                    action="deid.run_completed",
                    objects=(f"deid_run:{run_id}", f"deid_dataset:{dataset_id}", f"kind:{plan.kind.value}"),
                    counts={"rows": rows, "suppressed": suppressed, "items": len(items), "pages": len(steps)},
                )
            ],
        )
    # Only once the run is recorded complete: a stop before that finishes again from the parts.
    for part in (folder / "parts").glob("part-*.csv"):
        part.unlink()
    return RunResult(run_id, rows, suppressed, digest, folder, result.smallest_kept if result else None)


def _recount(path: Path, positions: list[int], k: int) -> KAnonymity:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        return measure((class_key(r, positions) for r in reader), k)


def _write_parquet(csv_path: Path, target: Path) -> bool:
    """The same dataset as Parquet (every column text), streamed, when pyarrow is installed."""
    try:
        import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]
        import pyarrow.csv as pacsv  # type: ignore[import-untyped,import-not-found,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return False
    with open(csv_path, "rb") as f:
        names = next(csv.reader(io.TextIOWrapper(f, encoding="utf-8")))
    reader = pacsv.open_csv(
        csv_path,
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}),
    )
    tmp = target.with_name("." + target.name + ".partial")
    with pq.ParquetWriter(tmp, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
    os.chmod(tmp, PRIVATE)
    os.replace(tmp, target)
    return True


def runs(session: Session, dataset_id: str | None = None, *, limit: int | None = None) -> list[DeidRun]:
    """The runs, newest first (the ``limit`` newest when given)."""
    query = select(DeidRun).order_by(DeidRun.started_at.desc()).limit(limit)
    if dataset_id is not None:
        query = query.where(DeidRun.dataset_id == dataset_id)
    return list(session.scalars(query))


def pending(ws: Workspace) -> list[tuple[str, str]]:
    """(dataset, actor) of every run not finished: stopped by a crash or still waiting in the queue, to
    be handed to the queue again (the journal resumes each after its last page done)."""
    with ws.db.session() as session:
        rows = session.execute(
            select(DeidRun.dataset_id, DeidRun.actor)
            .where(DeidRun.status == "running")
            .order_by(DeidRun.started_at)
        )
        return [(dataset_id, actor) for dataset_id, actor in rows]


def treatments(plan: Plan) -> dict[str, Treatment]:
    return {f.name: f.treatment for f in plan.fields}
