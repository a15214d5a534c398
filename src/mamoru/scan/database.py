"""Scanning a database: every table read in batches of rows, each batch's columns classified from their
names and values, each batch's findings handed on as soon as they are found.

A table with a primary key is read in keyset pages (``WHERE key > last ORDER BY key LIMIT n``), one
without in a server-side cursor a batch at a time: one batch of rows is in memory, never the table, so
memory stays flat on a large table. Every finding carries its row's primary key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, MetaData, Table, and_, inspect, or_, select
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import SQLAlchemyError

from mamoru.connectors.sql import ConnectorFailed, connection_failure, datastore_engine
from mamoru.scan.analyzer import Analyzer
from mamoru.scan.columns import classify, to_location
from mamoru.scan.mask import mask
from mamoru.scan.report import NO_DISMISSALS, Dismissals, Location, ScanResult

BATCH_ROWS = 500  # rows a query reads; a batch's columns are classified together
SAMPLE_ROWS = None  # rows read per table: every row unless the caller says fewer
MAX_NAMES = 20  # table names listed in the error about an unknown one

Progress = Callable[[str, int], None]  # (table, rows read) after each table
Found = Callable[[list[Location]], None]  # a batch's findings, as soon as the batch is classified


def _text(value: object) -> str | None:
    if value is None or isinstance(value, bytes | bytearray | memoryview):
        return None
    return str(value)


def _plain(value: object) -> Any:
    """A key value as JSON can carry it (a date, a decimal or a UUID as its text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _after(key: Sequence[Any], last: Sequence[Any]) -> ColumnElement[bool]:
    """Rows after ``last`` in the order of ``key`` (a composite key spelled out, which every database
    reads the same way: a > x OR (a = x AND b > y) …)."""
    terms = [and_(*[key[j] == last[j] for j in range(i)], key[i] > last[i]) for i in range(len(key))]
    return terms[0] if len(terms) == 1 else or_(*terms)


def batches(
    conn: Connection, table: Table, batch_rows: int = BATCH_ROWS, max_rows: int | None = None
) -> Iterator[Sequence[Row[Any]]]:
    """The rows of ``table`` ``batch_rows`` at a time, in the order of its primary key (keyset pages);
    in the database's order through a server-side cursor when it has none. At most ``max_rows``."""
    key = list(table.primary_key.columns)
    if not key:
        query = select(table) if max_rows is None else select(table).limit(max_rows)
        streamed = conn.execution_options(stream_results=True, max_row_buffer=batch_rows).execute(query)
        try:
            yield from streamed.partitions(batch_rows)
        finally:
            streamed.close()
        return
    at = [list(table.columns).index(c) for c in key]
    last: tuple[Any, ...] | None = None
    read = 0
    while max_rows is None or read < max_rows:
        size = batch_rows if max_rows is None else min(batch_rows, max_rows - read)
        query = select(table).order_by(*key).limit(size)
        if last is not None:
            query = query.where(_after(key, last))
        rows = conn.execute(query).all()
        if rows:
            yield rows
        if len(rows) < size:
            return
        read += len(rows)
        last = tuple(rows[-1][i] for i in at)


def _merge(into: Location, part: Location) -> None:
    """A batch's findings at a column added to the column's findings so far."""
    if part.basis == "values":
        into.basis = "values"
    for entity, h in part.hits.items():
        total = into.hit(entity)
        total.count += h.count
        total.score = max(total.score, h.score)
        for s in h.samples:
            if len(total.samples) < 3 and s not in total.samples:
                total.samples.append(s)
    for o in part.occurrences:
        into.note(o)


def scan_table(
    conn: Connection,
    table: Table,
    *,
    target: str,
    analyzer: Analyzer,
    dismissals: Dismissals = NO_DISMISSALS,
    batch_rows: int = BATCH_ROWS,
    max_rows: int | None = None,
    found: Found | None = None,
) -> tuple[list[Location], int]:
    """The columns of ``table`` with findings, and how many rows were read. The fingerprint of a
    finding is of its kind, ``target/table`` and its value, so a mark holds for this table only."""
    name = str(table.name)  # SQLAlchemy's quoted_name: JSON (orjson) takes only a plain str as a key
    columns = list(table.columns)
    key = [str(c.name) for c in table.primary_key.columns]
    at = [columns.index(c) for c in table.primary_key.columns]
    personal_keys: set[str] = set()
    totals: dict[str, Location] = {}
    read = 0
    for rows in batches(conn, table, batch_rows, max_rows):
        classes = [
            classify(analyzer, column.name, [_text(r[i]) for r in rows], dismissals, f"{target}/{name}")
            for i, column in enumerate(columns)
        ]
        personal_keys.update(c for c, i in zip(key, at, strict=True) if classes[i].cells)

        def key_of(row: Row[Any]) -> Any:
            values = {
                c: mask(str(row[i])) if c in personal_keys and row[i] is not None else _plain(row[i])
                for c, i in zip(key, at, strict=True)
            }
            return None if not values else values[key[0]] if len(values) == 1 else values

        part: list[Location] = []
        for column, cls in zip(columns, classes, strict=True):
            if not cls.cells:
                continue
            title = str(column.name)
            for o in cls.occurrences:
                o.key = key_of(rows[o.row - 1]) if o.row else None
                o.row = read + o.row if o.row else None
            loc = to_location(
                cls,
                kind="db_column",
                where=f"{name}.{title}",
                container=name,
                column=title,
                rows=len(rows),
            )
            part.append(loc)
            total = totals.get(title)
            if total is None:
                total = totals[title] = Location(
                    kind="db_column", where=loc.where, container=name, column=title, basis=loc.basis
                )
            _merge(total, loc)
        read += len(rows)
        if found is not None and part:
            found(part)
    for loc in totals.values():
        loc.rows_sampled = read
    return [totals[str(c.name)] for c in columns if str(c.name) in totals], read


@contextmanager
def _connected(engine: Engine, target: str) -> Iterator[Connection]:
    """A connection, or the connectors' failure in words: host, database and the driver's message."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        path = engine.url.database or ""
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).is_file():
            # SQLite would make an empty file and find nothing in it: say there is no such database.
            raise connection_failure(url, FileNotFoundError("no such database file"), "connect", target)
    try:
        conn = engine.connect()
    except Exception as exc:
        raise connection_failure(url, exc, "connect", target) from None
    with conn:
        yield conn


def scan_engine(
    engine: Engine,
    *,
    target: str,
    tables: Sequence[str] | None = None,
    max_rows: int | None = SAMPLE_ROWS,
    batch_rows: int = BATCH_ROWS,
    analyzer: Analyzer | None = None,
    dismissals: Dismissals = NO_DISMISSALS,
    progress: Progress | None = None,
    found: Found | None = None,
) -> ScanResult:
    """Every table of the database's default schema (or those named in ``tables``), a batch at a
    time. An unknown table name is an error that lists the tables there are; nothing is read then."""
    analyzer = analyzer or Analyzer()
    result = ScanResult(target_kind="database", target=target)
    prefix = f"{target}: "
    with _connected(engine, target) as conn:
        try:
            names = sorted(inspect(conn).get_table_names())
        except Exception as exc:
            raise ConnectorFailed("connfail_schema", prefix, error=type(exc).__name__) from None
        if tables:
            unknown = [t for t in dict.fromkeys(tables) if t not in names]
            if unknown:
                listed = ", ".join(names[:MAX_NAMES]) + (" …" if len(names) > MAX_NAMES else "")
                raise ConnectorFailed("scanfail_no_table", prefix, table=", ".join(unknown), tables=listed)
            names = [n for n in names if n in tables]
        meta = MetaData()
        for name in names:
            try:
                table = Table(name, meta, autoload_with=conn)
                locations, read = scan_table(
                    conn,
                    table,
                    target=target,
                    analyzer=analyzer,
                    dismissals=dismissals,
                    batch_rows=batch_rows,
                    max_rows=max_rows,
                    found=found,
                )
            except (SQLAlchemyError, UnicodeError) as exc:  # a driver's message can quote a row: kind only
                raise ConnectorFailed(
                    "connfail_table", prefix, table=name, error=type(exc).__name__
                ) from None
            result.locations.extend(locations)
            result.files_scanned += 1
            if progress is not None:
                progress(name, read)
    return result


def scan_database(
    url: str,
    *,
    target: str,
    tables: Sequence[str] | None = None,
    max_rows: int | None = SAMPLE_ROWS,
    dismissals: Dismissals = NO_DISMISSALS,
    progress: Progress | None = None,
    found: Found | None = None,
) -> ScanResult:
    """Scan the database at ``url`` (named ``target`` in the report and in errors; the URL never is)."""
    engine = datastore_engine(url, target)
    try:
        return scan_engine(
            engine,
            target=target,
            tables=tables,
            max_rows=max_rows,
            dismissals=dismissals,
            progress=progress,
            found=found,
        )
    finally:
        engine.dispose()
