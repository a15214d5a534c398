"""Scanning a database: every table's columns classified from their names and a sample of rows."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import MetaData, Table, create_engine, inspect, select
from sqlalchemy.engine import Engine

from mamoru.scan.analyzer import Analyzer
from mamoru.scan.columns import classify, to_location
from mamoru.scan.report import ScanResult

SAMPLE_ROWS = 200


def _text(value: object) -> str | None:
    if value is None or isinstance(value, bytes | bytearray | memoryview):
        return None
    return str(value)


def scan_engine(
    engine: Engine,
    *,
    target: str,
    sample_rows: int = SAMPLE_ROWS,
    analyzer: Analyzer | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ScanResult:
    analyzer = analyzer or Analyzer()
    result = ScanResult(target_kind="database", target=target)
    names = inspect(engine).get_table_names()
    meta = MetaData()
    with engine.connect() as conn:
        for name in sorted(names):
            table = Table(name, meta, autoload_with=conn)
            rows = conn.execute(select(table).limit(sample_rows)).all()
            for i, column in enumerate(table.columns):
                values = [_text(r[i]) for r in rows]
                cls = classify(analyzer, column.name, values)
                if not cls.cells:
                    continue
                loc = to_location(
                    cls,
                    kind="db_column",
                    where=f"{name}.{column.name}",
                    container=name,
                    column=column.name,
                    rows=len(rows),
                )
                result.locations.append(loc)
            result.files_scanned += 1
            if progress is not None:
                progress(name, len(rows))
    return result


def scan_database(
    url: str,
    *,
    target: str,
    sample_rows: int = SAMPLE_ROWS,
    progress: Callable[[str, int], None] | None = None,
) -> ScanResult:
    engine = create_engine(url)
    try:
        return scan_engine(engine, target=target, sample_rows=sample_rows, progress=progress)
    finally:
        engine.dispose()
