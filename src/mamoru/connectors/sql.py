"""A connector to one SQL datastore (PostgreSQL, MariaDB/MySQL, SQLite), driven by its dataset map.

From the verified identity values it follows the map's references breadth-first (each table's keys
are visited once, so a cycle of references ends), reads with server-side cursors in chunks, and only
the fields whose categories the request needs. Correction and erasure run in one transaction per
datastore, in dependency order (rows that point at others go first), and are idempotent: a rerun
after a crash finds what is left and does the rest, or nothing.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import MetaData, String, Table, bindparam, create_engine, delete, inspect, select, update
from sqlalchemy.engine import Connection, Engine

from mamoru.connectors.maps import DatasetMap, FieldErase, Reference, TableErase
from mamoru.errors import MamoruError

CHUNK = 1000
MASK = "[erased]"


class ConnectorFailed(MamoruError):
    http_status = 502


class ErasureRefused(MamoruError):
    """An erasure that would break a foreign key of the datastore: refused before anything changes."""

    http_status = 409


@dataclass(frozen=True, order=True)
class ForeignKeyLink:
    """One column of a foreign key as the live database declares it."""

    table: str
    column: str
    to_table: str
    to_column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column} -> {self.to_table}.{self.to_column}"


@dataclass
class Found:
    """The keys of the subject's rows, per table (keys only: rows are read again in chunks)."""

    keys: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))

    def total(self) -> int:
        return sum(len(v) for v in self.keys.values())


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for v in values:
        batch.append(v)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


class SqlConnector:
    def __init__(self, dataset: DatasetMap, url: str) -> None:
        self.map = dataset
        self.name = dataset.name
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if url.startswith("mysql://") or url.startswith("mariadb://"):
            url = "mysql+pymysql://" + url.split("://", 1)[1]
        pool = {} if url.startswith("sqlite") else {"pool_size": 10, "max_overflow": 20, "pool_timeout": 300}
        self.engine: Engine = create_engine(url, pool_pre_ping=True, **pool)
        self._tables: dict[str, Table] = {}

    def dispose(self) -> None:
        self.engine.dispose()

    def test(self) -> int:
        """Connect and reflect every mapped table; returns how many there are (the console's test)."""
        with self.engine.connect() as conn:
            return len([self._table(conn, t.name) for t in self.map.tables])

    def _table(self, conn: Connection, name: str) -> Table:
        table = self._tables.get(name)
        if table is None:
            try:
                table = Table(name, MetaData(), autoload_with=conn)
            except Exception as exc:  # the datastore's own error, without its values
                raise ConnectorFailed(
                    f"{self.name}: table '{name}' cannot be read: {type(exc).__name__}"
                ) from None
            self._tables[name] = table
        return table

    # --- finding the subject's rows ------------------------------------------------------------------

    def find(self, conn: Connection, identities: dict[str, str]) -> Found:
        found = Found()
        queue: deque[tuple[str, list[Any]]] = deque()

        def add(table: str, keys: Iterable[Any]) -> None:
            new = [k for k in keys if k not in found.keys[table]]
            if new:
                found.keys[table].update(new)
                queue.append((table, new))

        for t in self.map.tables:
            table = self._table(conn, t.name)
            for kind, column in t.identities.items():
                value = identities.get(kind)
                if value:
                    rows = conn.execute(select(table.c[t.primary_key]).where(table.c[column] == value))
                    add(t.name, (r[0] for r in rows))
        while queue:
            name, keys = queue.popleft()
            for child, ref, target_column in self._edges(name):
                add(child, self._follow(conn, name, keys, child, ref, target_column))
        return found

    def _edges(self, name: str) -> Iterator[tuple[str, Any, str]]:
        """(next table, reference, direction) for every reference that leads on from ``name``."""
        for t in self.map.tables:
            for ref in t.references:
                target = ref.to.partition(".")[0]
                if ref.follow == "child" and target == name:
                    yield t.name, ref, "child"
                elif ref.follow == "parent" and t.name == name:
                    yield target, ref, "parent"

    def _follow(
        self, conn: Connection, name: str, keys: list[Any], other: str, ref: Any, direction: str
    ) -> Iterator[Any]:
        here_map, there_map = self.map.table(name), self.map.table(other)
        here, there = self._table(conn, name), self._table(conn, other)
        target_column = ref.to.partition(".")[2]
        for batch in _chunks(keys):
            if direction == "child":  # rows of `other` whose ref.column points at these rows
                values = [
                    r[0]
                    for r in conn.execute(
                        select(here.c[target_column]).where(here.c[here_map.primary_key].in_(batch))
                    )
                    if r[0] is not None
                ]
                column = there.c[ref.column]
            else:  # the rows of `other` these rows point at
                values = [
                    r[0]
                    for r in conn.execute(
                        select(here.c[ref.column]).where(here.c[here_map.primary_key].in_(batch))
                    )
                    if r[0] is not None
                ]
                column = there.c[target_column]
            for values_batch in _chunks(values):
                for r in conn.execute(select(there.c[there_map.primary_key]).where(column.in_(values_batch))):
                    yield r[0]

    # --- access --------------------------------------------------------------------------------------

    def access(
        self, identities: dict[str, str], categories: set[str], write: Callable[[str, bytes], None]
    ) -> dict[str, int]:
        """Stream the subject's rows, only fields of ``categories``, as JSON lines per table to ``write``."""
        counts: dict[str, int] = {}
        with self.engine.connect() as conn:
            found = self.find(conn, identities)
            for t in self.map.tables:
                keys = found.keys.get(t.name)
                if not keys:
                    continue
                wanted = [f.name for f in t.fields if set(f.categories) & categories]
                if not wanted:
                    continue
                table = self._table(conn, t.name)
                columns = [table.c[t.primary_key], *(table.c[c] for c in wanted if c != t.primary_key)]
                n = 0
                for batch in _chunks(sorted(keys, key=str)):
                    result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(
                        select(*columns).where(table.c[t.primary_key].in_(batch))
                    )
                    for row in result:
                        line = {str(c.name): _json(v) for c, v in zip(columns, row, strict=True)}
                        write(t.name, orjson.dumps(line) + b"\n")
                        n += 1
                counts[t.name] = n
        return counts

    # --- correction ----------------------------------------------------------------------------------

    def correct(self, identities: dict[str, str], values: dict[str, str]) -> dict[str, Any]:
        changed: dict[str, int] = {}
        with self.engine.begin() as conn:
            found = self.find(conn, identities)
            for t in self.map.tables:
                sets = {
                    f.name: values[f.correct_as] for f in t.fields if f.correct_as and f.correct_as in values
                }
                keys = found.keys.get(t.name)
                if not sets or not keys:
                    continue
                table = self._table(conn, t.name)
                n = 0
                for batch in _chunks(keys):
                    n += conn.execute(
                        update(table).where(table.c[t.primary_key].in_(batch)).values(**sets)
                    ).rowcount
                changed[t.name] = n
        return {"datastore": self.name, "corrected_rows": changed}

    # --- the live schema -----------------------------------------------------------------------------

    def _live_links(self, conn: Connection) -> list[ForeignKeyLink]:
        """Every foreign key column of the database that starts or ends at a mapped table."""
        mapped = {t.name for t in self.map.tables}
        inspector = inspect(conn)
        links: set[ForeignKeyLink] = set()
        for table in inspector.get_table_names():
            for fk in inspector.get_foreign_keys(table):
                target = fk["referred_table"]
                if table not in mapped and target not in mapped:
                    continue
                for column, to_column in zip(fk["constrained_columns"], fk["referred_columns"], strict=True):
                    links.add(ForeignKeyLink(table, column, target, to_column))
        return sorted(links)

    def _declared(self, link: ForeignKeyLink) -> Reference | None:
        if link.table not in {t.name for t in self.map.tables}:
            return None
        to = f"{link.to_table}.{link.to_column}"
        return next(
            (r for r in self.map.table(link.table).references if r.column == link.column and r.to == to), None
        )

    def undeclared_foreign_keys(self) -> list[ForeignKeyLink]:
        """The live database's foreign keys into or out of mapped tables that the map does not declare."""
        try:
            with self.engine.connect() as conn:
                return [link for link in self._live_links(conn) if self._declared(link) is None]
        except MamoruError:
            raise
        except Exception as exc:  # the datastore's own error, without its values or URL
            raise ConnectorFailed(f"{self.name}: the schema cannot be read: {type(exc).__name__}") from None

    def _changed_columns(self, name: str) -> set[str] | None:
        """The columns an erasure changes in the subject's rows of ``name`` (None: the whole row goes)."""
        t = self.map.table(name)
        if t.erase is TableErase.DELETE:
            return None
        if t.erase is TableErase.HOLD:
            return set()
        return {f.name for f in t.fields if f.erase in (FieldErase.SET_NULL, FieldErase.MASK)}

    def _erasure_plan(self, conn: Connection, found: Found) -> list[tuple[ForeignKeyLink, list[Any]]]:
        """The pointers an erasure must clear first, as (link, keys of the rows holding them).

        Raises :class:`ErasureRefused`, naming the table and column, when rows outside the ones it deletes
        point at rows it deletes or changes and the map does not say to clear them (or does not declare
        the foreign key at all). Nothing has changed when it raises.
        """
        problems: list[str] = []
        clear: list[tuple[ForeignKeyLink, list[Any]]] = []
        by_name = {t.name: t for t in self.map.tables}
        for link in self._live_links(conn):
            keys = found.keys.get(link.to_table)
            if link.to_table not in by_name or not keys:
                continue
            changed = self._changed_columns(link.to_table)
            if changed is not None and link.to_column not in changed:
                continue
            target = self._table(conn, link.to_table)
            values: list[Any] = []
            for batch in _chunks(keys):
                values += [
                    r[0]
                    for r in conn.execute(
                        select(target.c[link.to_column]).where(
                            target.c[by_name[link.to_table].primary_key].in_(batch)
                        )
                    )
                    if r[0] is not None
                ]
            if not values:
                continue
            source = self._table(conn, link.table)
            declared = self._declared(link)
            source_map = by_name.get(link.table)
            key_column = (
                source.c[source_map.primary_key]
                if source_map is not None
                else next(iter(source.primary_key.columns), source.c[link.column])
            )
            deleted = (
                found.keys.get(link.table, set())
                if declared is not None and source_map is not None and source_map.erase is TableErase.DELETE
                else set()
            )
            pointing: list[Any] = []
            for batch in _chunks(values):
                pointing += [
                    r[0]
                    for r in conn.execute(select(key_column).where(source.c[link.column].in_(batch)))
                    if r[0] not in deleted
                ]
            if not pointing:
                continue
            if declared is None:
                problems.append(
                    f"{len(pointing)} row(s) of {link.table}.{link.column} point at rows it erases in "
                    f"{link.to_table}, and the map does not declare the foreign key {link} "
                    f"(add it to the references of {link.table}, with on_erase: set_null to clear them)"
                )
            elif declared.on_erase != "set_null":
                problems.append(
                    f"{len(pointing)} row(s) of {link.table}.{link.column} outside this person's data point at "
                    f"rows it erases in {link.to_table}, and the map says on_erase: restrict"
                )
            elif not source.c[link.column].nullable:
                problems.append(
                    f"{link.table}.{link.column} cannot be cleared (NOT NULL), yet rows outside this person's data "
                    f"point at rows it erases in {link.to_table}"
                )
            else:
                clear.append((link, pointing))
        if problems:
            raise ErasureRefused(f"{self.name}: erasure refused before any change: " + "; ".join(problems))
        return clear

    def check_erasure(self, identities: dict[str, str]) -> None:
        """Refuse (:class:`ErasureRefused`) an erasure that would break a foreign key; change nothing."""
        with self.engine.connect() as conn:
            self._erasure_plan(conn, self.find(conn, identities))

    # --- erasure -------------------------------------------------------------------------------------

    def _delete_order(self) -> tuple[list[str], set[str]]:
        """Tables whose rows are deleted, rows pointing at others first; and those in a cycle."""
        deleting = {t.name for t in self.map.tables if t.erase is TableErase.DELETE}
        points_at: dict[str, set[str]] = {
            t.name: {r.to.partition(".")[0] for r in t.references} & deleting - {t.name}
            for t in self.map.tables
        }
        order: list[str] = []
        left = set(deleting)
        while left:
            # a table nobody left points at can go now... after those that point at it
            ready = sorted(n for n in left if not any(n in points_at[o] for o in left if o != n))
            if not ready:
                break
            order += ready
            left -= set(ready)
        return order + sorted(left), left

    def erase(self, identities: dict[str, str]) -> dict[str, Any]:
        deleted: dict[str, int] = {}
        masked: dict[str, int] = {}
        held: dict[str, str] = {}
        with self.engine.begin() as conn:
            found = self.find(conn, identities)
            for link, pointing in self._erasure_plan(conn, found):
                source = self._table(conn, link.table)  # declared, so mapped
                key_column = source.c[self.map.table(link.table).primary_key]
                for batch in _chunks(pointing):
                    conn.execute(update(source).where(key_column.in_(batch)).values({link.column: None}))
            order, cyclic = self._delete_order()
            by_name = {t.name: t for t in self.map.tables}
            # Rows in a cycle of deletions first lose the references that hold them together.
            for name in order:
                t, keys = by_name[name], found.keys.get(name)
                if not keys:
                    continue
                table = self._table(conn, name)
                loops = [r.column for r in t.references if r.to.partition(".")[0] in cyclic | {name}]
                if name in cyclic or loops:
                    nullable = [c for c in loops if table.c[c].nullable]
                    for batch in _chunks(keys):
                        if nullable:
                            conn.execute(
                                update(table)
                                .where(table.c[t.primary_key].in_(batch))
                                .values(**dict.fromkeys(nullable))
                            )
            for name in order:
                t, keys = by_name[name], found.keys.get(name)
                if not keys:
                    continue
                table = self._table(conn, name)
                n = 0
                for batch in _chunks(keys):
                    n += conn.execute(delete(table).where(table.c[t.primary_key].in_(batch))).rowcount
                deleted[name] = n
            for t in self.map.tables:
                keys = found.keys.get(t.name)
                if t.erase is TableErase.HOLD:
                    if keys:
                        held[t.name] = t.hold_reason or ""
                    continue
                if t.erase is not TableErase.FIELDS or not keys:
                    continue
                table = self._table(conn, t.name)
                to_null = [f.name for f in t.fields if f.erase is FieldErase.SET_NULL]
                to_mask = [f.name for f in t.fields if f.erase is FieldErase.MASK]
                if not to_null and not to_mask:
                    continue
                columns = to_null + to_mask
                statement = (
                    update(table)
                    .where(table.c[t.primary_key] == bindparam("row_key"))
                    .values({table.c[c]: bindparam(f"v_{c}") for c in columns})
                )
                n = 0
                for batch in _chunks(keys):
                    params = []
                    for key in batch:
                        row: dict[str, Any] = {"row_key": key} | {f"v_{c}": None for c in to_null}
                        for column in to_mask:
                            col_type = table.c[column].type
                            if isinstance(col_type, String):
                                marker = f"{MASK}{key}"  # unique per row, so unique columns stay valid
                                row[f"v_{column}"] = marker[: col_type.length] if col_type.length else marker
                            else:
                                row[f"v_{column}"] = None
                        params.append(row)
                    conn.execute(statement, params)
                    n += len(batch)
                masked[t.name] = n
        return {"datastore": self.name, "deleted_rows": deleted, "masked_rows": masked, "held": held}
