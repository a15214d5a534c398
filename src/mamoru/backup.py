"""Backup and restore of the database, the same way on SQLite and PostgreSQL (and from one to the other).

A backup is a ZIP: ``manifest.json`` (format, schema revision, row counts and the SHA-256 of each table
file) and one JSON-lines file per table, read in one consistent snapshot. The master keys are never in a
backup: back up ``master.key``, ``audit-signing.key`` and ``mynumber.key`` apart, offline. The key
stores (per-person data keys, each wrapped under the master key) go in only with ``keystores=True``.

Restore goes into an empty database: it migrates it to the backup's revision, inserts every row in one
transaction (all or nothing), brings the schema to the current revision and verifies the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sqlite3
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    LargeBinary,
    Table,
    TypeDecorator,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection

from mamoru import __version__
from mamoru.errors import MamoruError
from mamoru.files import create_private, write_private
from mamoru.schema import metadata
from mamoru.store.db import Database

FORMAT = "mamoru-backup/1"
BATCH = 1000
#: Tables that hold data only once a workspace is in use (migrations create rows in some others).
DATA_TABLES = ("staff", "data_subjects", "audit_entries", "ledger_entries")


class BackupInvalid(MamoruError):
    http_status = 422


def _kind(column: Any) -> str:
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, LargeBinary):
        return "bytes"
    if isinstance(type_, DateTime):
        return "datetime"
    if isinstance(type_, Date):
        return "date"
    return "plain"


def _encode(kinds: list[str], row: Any) -> list[Any]:
    out: list[Any] = []
    for kind, value in zip(kinds, row, strict=True):
        if value is None:
            out.append(None)
        elif kind == "bytes":
            out.append(base64.b64encode(bytes(value)).decode("ascii"))
        elif kind in ("datetime", "date"):
            out.append(value.isoformat())
        else:
            out.append(value)
    return out


def _decode(kinds: list[str], values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for kind, value in zip(kinds, values, strict=True):
        if value is None:
            out.append(None)
        elif kind == "bytes":
            out.append(base64.b64decode(value))
        elif kind == "datetime":
            parsed = datetime.fromisoformat(value)
            out.append(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
        elif kind == "date":
            out.append(date.fromisoformat(value))
        else:
            out.append(value)
    return out


@dataclass
class BackupReport:
    path: Path
    revision: str
    rows: dict[str, int] = field(default_factory=dict)
    keystores: list[str] = field(default_factory=list)


def _sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def backup(db: Database, out: Path, *, keystores: dict[str, str] | None = None) -> BackupReport:
    """Write a backup of ``db`` to ``out`` (atomically: a partial file never has the final name)."""
    revision = db.current_revision()
    if revision is None:
        raise BackupInvalid("the database has no schema; nothing to back up")
    report = BackupReport(path=out, revision=revision)
    tmp = out.with_name(out.name + ".partial")
    digests: dict[str, str] = {}
    options = {"isolation_level": "REPEATABLE READ"} if db.engine.dialect.name == "postgresql" else {}
    tmp.unlink(missing_ok=True)  # a leftover of an interrupted run
    # Owner-only from the first byte: the backup holds every sealed row and, with them, the key stores.
    with (
        os.fdopen(create_private(tmp), "wb") as raw,
        zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        with db.engine.connect().execution_options(**options) as conn, conn.begin():
            for table in metadata.sorted_tables:
                kinds = [_kind(c) for c in table.columns]
                sha = hashlib.sha256()
                count = 0
                with archive.open(f"tables/{table.name}.jsonl", "w") as f:
                    header = orjson.dumps([c.name for c in table.columns]) + b"\n"
                    f.write(header)
                    sha.update(header)
                    result = conn.execution_options(yield_per=BATCH).execute(select(table))
                    for row in result:
                        line = orjson.dumps(_encode(kinds, row), option=orjson.OPT_NON_STR_KEYS) + b"\n"
                        f.write(line)
                        sha.update(line)
                        count += 1
                report.rows[str(table.name)] = count
                digests[str(table.name)] = sha.hexdigest()
        for name, url in (keystores or {}).items():
            path = _sqlite_file(url)
            if path is None or not path.exists():
                raise BackupInvalid(
                    f"key store '{name}' is not a SQLite file here; back it up with its own tools"
                )
            copy = io.BytesIO()
            source, target = sqlite3.connect(path), sqlite3.connect(":memory:")
            try:
                source.backup(target)
                copy.write(target.serialize())
            finally:
                source.close()
                target.close()
            archive.writestr(f"keystores/{name}.db", copy.getvalue())
            report.keystores.append(name)
        manifest = {
            "format": FORMAT,
            "mamoru": __version__,
            "revision": revision,
            "created_at": datetime.now(UTC).isoformat(),
            "dialect": db.engine.dialect.name,
            "rows": report.rows,
            "sha256": digests,
            "keystores": report.keystores,
            "keys": "not included: back up master.key, audit-signing.key and mynumber.key separately",
        }
        archive.writestr("manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    tmp.replace(out)
    return report


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            manifest: dict[str, Any] = orjson.loads(archive.read("manifest.json"))
    except (OSError, KeyError, zipfile.BadZipFile, orjson.JSONDecodeError) as exc:
        raise BackupInvalid(f"{path}: not a mamoru backup ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupInvalid(f"{path}: unknown backup format {manifest.get('format')!r}")
    return manifest


def _has_data(conn: Connection) -> bool:
    tables = metadata.tables
    return any(conn.execute(select(func.count()).select_from(tables[name])).scalar() for name in DATA_TABLES)


def _reset_sequences(conn: Connection) -> None:
    for table in metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement in (True, "auto") and isinstance(pk[0].type, Integer):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                    f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false) "
                    f"WHERE pg_get_serial_sequence('{table.name}', '{pk[0].name}') IS NOT NULL"
                )
            )


def _rows(archive: zipfile.ZipFile, table: Table, digest: str) -> list[dict[str, Any]]:
    data = archive.read(f"tables/{table.name}.jsonl")
    if hashlib.sha256(data).hexdigest() != digest:
        raise BackupInvalid(f"tables/{table.name}.jsonl does not match its digest: the backup is damaged")
    lines = data.splitlines()
    names = orjson.loads(lines[0])
    columns = {c.name: c for c in table.columns}
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise BackupInvalid(f"table {table.name}: columns {unknown} are not in schema revision of the backup")
    kinds = [_kind(columns[n]) for n in names]
    return [dict(zip(names, _decode(kinds, orjson.loads(line)), strict=True)) for line in lines[1:]]


def restore(db: Database, path: Path) -> dict[str, int]:
    """Restore ``path`` into the empty database ``db``; returns the rows restored per table."""
    manifest = read_manifest(path)
    if db.current_revision() is not None:
        with db.engine.connect() as conn:
            if _has_data(conn):
                raise BackupInvalid("the target database already holds data; restore goes into an empty one")
    with zipfile.ZipFile(path) as archive:  # check every table before changing anything
        for name, digest in manifest["sha256"].items():
            try:
                data = archive.read(f"tables/{name}.jsonl")
            except KeyError:
                raise BackupInvalid(f"tables/{name}.jsonl is missing: the backup is damaged") from None
            if hashlib.sha256(data).hexdigest() != digest:
                raise BackupInvalid(f"tables/{name}.jsonl does not match its digest: the backup is damaged")
    db.migrate(manifest["revision"])
    restored: dict[str, int] = {}
    with zipfile.ZipFile(path) as archive, db.engine.begin() as conn:
        for table in metadata.sorted_tables:
            if table.name not in manifest["rows"]:
                continue  # a table newer than the backup: the migration to head creates it
            rows = _rows(archive, table, manifest["sha256"][table.name])
            pk = [c.name for c in table.primary_key.columns]
            # Rows the migrations made (the audit head, index state …) are updated, the rest inserted.
            made = {tuple(r) for r in conn.execute(select(*table.primary_key.columns))}
            fresh = []
            for row in rows:
                key = tuple(row[k] for k in pk)
                if key in made:
                    conn.execute(
                        update(table)
                        .where(*(table.c[k] == row[k] for k in pk))
                        .values(**{k: v for k, v in row.items() if k not in pk})
                    )
                else:
                    fresh.append(row)
            for start in range(0, len(fresh), BATCH):
                conn.execute(insert(table), fresh[start : start + BATCH])
            restored[table.name] = len(rows)
        if db.engine.dialect.name == "postgresql":
            _reset_sequences(conn)
    db.migrate("head")
    return restored


def restore_keystores(path: Path, targets: dict[str, Path]) -> list[str]:
    """Write the key stores kept in the backup to ``targets`` (refusing to overwrite one)."""
    done = []
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        for name, target in targets.items():
            member = f"keystores/{name}.db"
            if member not in names:
                continue
            if target.exists():
                raise BackupInvalid(f"{target} exists; move it away before restoring the key store over it")
            write_private(target, archive.read(member))
            done.append(name)
    return done
