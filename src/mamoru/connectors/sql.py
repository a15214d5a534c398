"""A connector to one SQL datastore (PostgreSQL, MariaDB/MySQL, SQLite), driven by its dataset map.

From the verified identity values it follows the map's references breadth-first (each table's keys
are visited once, so a cycle of references ends), reads with server-side cursors in chunks, and only
the fields whose categories the request needs. Correction and erasure run in one transaction per
datastore, in dependency order (rows that point at others go first), and are idempotent: a rerun
after a crash finds what is left and does the rest, or nothing.
"""

from __future__ import annotations

import functools
import secrets
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    MetaData,
    String,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    create_engine,
    delete,
    inspect,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import NullType

from mamoru.connectors.maps import DatasetMap, FieldErase, Reference, TableErase
from mamoru.connectors.said import Said
from mamoru.errors import MamoruError

CHUNK = 1000
#: Keys per query where they travel as one array parameter (PostgreSQL, ``= ANY(...)``): one bind
#: whatever the length, so the statement is compiled and parsed once for many more rows than an IN list.
ARRAY_CHUNK = 20_000
#: Rows a fetch while the subject's rows stream into a package (a round trip each).
FETCH = 1000
#: How long a change waits for a row another open transaction holds (PostgreSQL), in seconds.
LOCK_TIMEOUT_S = 60
MASK = "[erased]"


class ConnectorFailed(Said):
    """A datastore could not be reached or read, or its step failed and was rolled back; in the catalog's
    words (``connfail_*``), never with the driver's quote of a row."""

    http_status = 502


def engine_url(url: str) -> str:
    """The SQLAlchemy URL with mamoru's drivers: psycopg for PostgreSQL, PyMySQL for MariaDB/MySQL."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("mysql://") or url.startswith("mariadb://"):
        return "mysql+pymysql://" + url.split("://", 1)[1]
    return url


def connection_failure(
    url: str, exc: BaseException, what: str = "connect", name: str = ""
) -> ConnectorFailed:
    """A connection failure in words (``connfail_<what>``: connect, keys, read): host, database and the
    driver's message, never the password; ``name`` is the datastore's."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        host = f"{parsed.host or 'localhost'}{':' + str(parsed.port) if parsed.port else ''}"
        database, password = parsed.database or "", parsed.password
    except Exception:
        host, database, password = "?", "?", None
    orig = getattr(exc, "orig", None) or exc
    message = " ".join(str(orig).split())[:300] or type(exc).__name__
    if password:
        message = message.replace(str(password), "***")
    if url:
        message = message.replace(url, "<url>")
    return ConnectorFailed(
        f"connfail_{what}",
        f"{name}: " if name else "",
        host=host,
        database=database,
        driver=f"{type(orig).__name__}: {message}",
    )


def datastore_engine(url: str, name: str = "", **kwargs: Any) -> Engine:
    """An engine for a datastore's URL, or :class:`ConnectorFailed` in words when the URL is not one
    mamoru can use (not a URL, an unknown database kind, a driver that is not installed, a port that
    is not a number): the datastore named, the URL itself never quoted (it may hold a password)."""
    try:
        return create_engine(engine_url(url), **kwargs)
    except Exception as exc:
        message = " ".join(str(exc).split())[:200]
        if url:
            message = message.replace(url, "<url>").replace(engine_url(url), "<url>")
        if "://" in message or "@" in message:
            message = ""  # a quote of the URL in another form: say only what kind of error it is
        error = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        raise ConnectorFailed("connfail_url", f"{name}: " if name else "", error=error) from None


def primary_keys(url: str) -> dict[str, list[str]]:
    """Every table's primary key columns, as the live database declares them (for an import): a table
    of the default schema as ``table`` and ``schema.table``, one of another PostgreSQL schema as
    ``schema.table``."""
    engine = datastore_engine(url)
    try:
        inspector = inspect(engine)
        default = inspector.default_schema_name
        schemas = [default]
        if engine.dialect.name == "postgresql":
            schemas += sorted(
                s
                for s in inspector.get_schema_names()
                if s != default and s != "information_schema" and not s.startswith("pg_")
            )
        found: dict[str, list[str]] = {}
        for schema in schemas:
            for t in inspector.get_table_names(schema=schema):
                key = list(inspector.get_pk_constraint(t, schema=schema).get("constrained_columns") or [])
                found[f"{schema}.{t}"] = key
                if schema == default:
                    found[t] = key
        return found
    except Exception as exc:
        raise connection_failure(url, exc, "keys") from None
    finally:
        engine.dispose()


class Pending:
    """One datastore's change made in its open transaction and not yet committed (see
    :meth:`SqlConnector.prepare`)."""

    def __init__(self, name: str, conn: Connection, transaction: Any, result: dict[str, Any]):
        self.name, self.result = name, result
        self._conn, self._transaction = conn, transaction

    def commit(self) -> dict[str, Any]:
        """Commit the change; its result. A failed commit is rolled back by the datastore and raises
        :class:`ConnectorFailed` without the driver's message."""
        try:
            self._transaction.commit()
        except Exception as exc:
            raise ConnectorFailed("connfail_commit", f"{self.name}: ", error=type(exc).__name__) from None
        finally:
            self._conn.close()
        return self.result

    def rollback(self) -> None:
        """Roll the change back (another datastore failed before this one was committed)."""
        try:
            self._transaction.rollback()
        finally:
            self._conn.close()


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


Key = tuple[Any, ...]


@dataclass
class Found:
    """The keys of the subject's rows, per table (keys only: rows are read again in chunks). A key is a
    tuple of the values of the table's primary key columns, so a composite key is never cut short."""

    keys: dict[str, set[Key]] = field(default_factory=lambda: defaultdict(set))
    #: The keys reached from an identity or as a child of the subject's rows (their own rows); the
    #: others were reached only as rows the subject's rows point at (an order's address), which may be
    #: another person's too.
    owned: dict[str, set[Key]] = field(default_factory=lambda: defaultdict(set))

    def total(self) -> int:
        return sum(len(v) for v in self.keys.values())


def _chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    values = values if isinstance(values, list) else list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _ordered(keys: Iterable[Key]) -> list[Key]:
    """Keys in a stable order (the same rows make the same batches, and the same package)."""
    try:
        return sorted(keys)
    except TypeError:  # a key column holding values of different types
        return sorted(keys, key=str)


def _as_array(columns: list[Any]) -> bool:
    """Whether ``columns IN values`` can be one array parameter: a single column of a known type."""
    return len(columns) == 1 and not isinstance(columns[0].type, NullType)


def _array_text(values: list[Any]) -> str | None:
    """PostgreSQL's text form of an array of integers or of strings (``{1,2}``, ``{"a","b\\"c"}``), or
    None for other values: psycopg adapts a list element by element (a regular expression each), which
    cost more than the query it carries."""
    if all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"
    if all(type(v) is str for v in values):
        quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        return "{" + ",".join(quoted) + "}"
    return None


def _in(columns: list[Any], values: list[Key], array: bool = False) -> ColumnElement[bool]:
    """``columns IN values``, for one column or a composite key (a row value; an OR of ANDs on SQLite);
    ``array``: as ``column = ANY(:values)`` (PostgreSQL), the values one typed array parameter."""
    if array and _as_array(columns):
        column = columns[0]
        flat = [v[0] for v in values]
        text = _array_text(flat)
        param = (
            cast(bindparam(None, text, type_=Text()), ARRAY(column.type))
            if text is not None
            else bindparam(None, flat, type_=ARRAY(column.type))
        )
        return column == any_(param)  # type: ignore[no-any-return]
    if len(columns) == 1:
        return columns[0].in_([v[0] for v in values])  # type: ignore[no-any-return]
    return tuple_(*columns).in_(values)


def _eq(columns: list[Any], prefix: str) -> ColumnElement[bool]:
    return and_(*(c == bindparam(f"{prefix}{i}") for i, c in enumerate(columns)))


def marker() -> str:
    """An erase marker: a fixed word and a random part (unique columns stay valid), never a value of the row."""
    return f"{MASK}{secrets.token_hex(6)}"


def _json(value: Any) -> Any:
    """orjson's ``default`` for a datastore's values: dates and times as ``isoformat()`` gives them (a
    historical UTC offset keeps its seconds), decimals as text, bytes as hex."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    raise TypeError(f"a value of type {type(value).__name__} cannot be written as JSON")


_JSON_LINE = orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATETIME


F = TypeVar("F", bound=Callable[..., Any])


def _guarded(what: str) -> Callable[[F], F]:
    """The datastore's own errors become :class:`ConnectorFailed` naming the datastore, the step and the
    error's type: a driver's message can quote the row or the parameters (a person's values), so it
    goes to no log, traceback or journal of mamoru. The datastore rolled its transaction back."""

    def wrap(method: F) -> F:
        @functools.wraps(method)
        def run(self: SqlConnector, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except MamoruError:
                raise
            except Exception as exc:
                raise ConnectorFailed(
                    f"connfail_{what}", f"{self.name}: ", error=type(exc).__name__
                ) from None

        return run  # type: ignore[return-value]

    return wrap


class SqlConnector:
    def __init__(self, dataset: DatasetMap, url: str) -> None:
        self.map = dataset
        self.name = dataset.name
        url = engine_url(url)
        self._url = url
        pool = {} if url.startswith("sqlite") else {"pool_size": 10, "max_overflow": 20, "pool_timeout": 300}
        self.engine: Engine = datastore_engine(url, dataset.name, pool_pre_ping=True, **pool)
        self._tables: dict[str, Table] = {}
        self._arrays = self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        self.engine.dispose()

    def test(self) -> int:
        """Connect and reflect every mapped table; returns how many there are (the console's test)."""
        with self._connect() as conn:
            for t in self.map.tables:
                live = self._table(conn, t.id)
                missing = [f.name for f in t.fields if f.name not in live.c]
                if missing:
                    raise ConnectorFailed(
                        "connfail_columns", f"{self.name}: ", table=t.id, columns=", ".join(missing)
                    )
            return len(self.map.tables)

    def _connect(self) -> Connection:
        """A connection, or the failure in words: host, database and the driver's message."""
        try:
            return self.engine.connect()
        except Exception as exc:
            raise connection_failure(self._url, exc, "connect", self.name) from None

    def _table(self, conn: Connection, name: str) -> Table:
        """The live table of ``name``: a mapped table's id (``schema.table`` or ``table``), or the name of a
        table the map does not have (one a foreign key reaches)."""
        table = self._tables.get(name)
        if table is None:
            mapped = next((t for t in self.map.tables if t.id == name), None)
            if mapped is not None:
                schema, bare = mapped.db_schema, mapped.name
            else:
                schema, _, bare = name.rpartition(".")
            try:
                table = Table(bare, MetaData(), schema=schema or None, autoload_with=conn)
            except Exception as exc:  # the datastore's own error, without its values
                raise ConnectorFailed(
                    "connfail_table", f"{self.name}: ", table=name, error=type(exc).__name__
                ) from None
            self._tables[name] = table
        return table

    def _key(self, table: Table, name: str) -> list[Any]:
        return [table.c[c] for c in self.map.table(name).key]

    def _batches(self, columns: list[Any], values: Iterable[Any]) -> Iterator[list[Any]]:
        """``values`` in batches for :meth:`_in` over ``columns``: larger where they travel as one array."""
        return _chunks(values, ARRAY_CHUNK if self._arrays and _as_array(columns) else CHUNK)

    def _in(self, columns: list[Any], values: list[Key]) -> ColumnElement[bool]:
        return _in(columns, values, array=self._arrays)

    # --- finding the subject's rows ------------------------------------------------------------------

    def find(self, conn: Connection, identities: dict[str, str]) -> Found:
        found = Found()
        queue: deque[tuple[str, list[Key]]] = deque()

        def add(table: str, keys: Iterable[Key], owned: bool = True) -> None:
            # one pass, no copy of ``keys`` (tens of thousands of them for a large subject)
            known = found.keys.get(table, set())
            own = found.owned[table] if owned else None
            new: list[Key] = []
            for key in keys:
                if own is not None:
                    own.add(key)
                if key not in known:
                    known.add(key)
                    new.append(key)
            if new:
                found.keys[table] = known
                queue.append((table, new))

        for t in self.map.tables:
            table = self._table(conn, t.id)
            for kind, column in t.identity_columns():
                value = identities.get(kind)
                if value:
                    rows = conn.execute(select(*self._key(table, t.id)).where(table.c[column] == value))
                    add(t.id, (tuple(r) for r in rows))
        while queue:
            name, keys = queue.popleft()
            for other, ref, direction in self._edges(name):
                add(other, self._follow(conn, name, keys, other, ref, direction), owned=direction == "child")
        return found

    def shared(self, conn: Connection, found: Found) -> dict[str, set[Key]]:
        """The subject's rows that rows of other people point at too (an address one person's order
        ships to and another person lives at): per table, the keys reached only as rows the subject's
        rows point at, which some row outside ``found`` references through a declared reference. A request changes only the subject's own rows, so these are
        neither erased nor corrected; they are reported as shared."""
        shared: dict[str, set[Key]] = defaultdict(set)
        for t in self.map.tables:
            for ref in t.references:
                target = self.map.target_of(ref)
                keys = found.keys.get(target, set()) - found.owned.get(target, set())
                if not keys or target not in {m.id for m in self.map.tables}:
                    continue
                there = self._table(conn, target)
                mine = found.keys.get(t.id, set())
                here = self._table(conn, t.id)
                here_key = self._key(here, t.id)
                pointed = [there.c[c] for c in ref.target_columns]
                target_key = self._key(there, target)
                for batch in self._batches(target_key, _ordered(keys)):
                    # the values the subject's rows of `target` hold in the referenced columns
                    values = {
                        tuple(r[len(target_key) :]): tuple(r[: len(target_key)])
                        for r in conn.execute(
                            select(*target_key, *pointed).where(self._in(target_key, batch))
                        )
                    }
                    if not values:
                        continue
                    columns = [here.c[c] for c in ref.columns]
                    for values_batch in self._batches(columns, list(values)):
                        rows = conn.execute(
                            select(*here_key, *columns).where(self._in(columns, values_batch))
                        )
                        for r in rows:
                            if tuple(r[: len(here_key)]) not in mine:
                                shared[target].add(values[tuple(r[len(here_key) :])])
        return shared

    def _edges(self, name: str) -> Iterator[tuple[str, Reference, str]]:
        """(next table, reference, direction) for every reference that leads on from ``name``."""
        for t in self.map.tables:
            for ref in t.references:
                target = self.map.target_of(ref)
                if ref.follow in ("child", "both") and target == name:
                    yield t.id, ref, "child"
                if ref.follow in ("parent", "both") and t.id == name:
                    yield target, ref, "parent"

    def _follow(
        self, conn: Connection, name: str, keys: list[Key], other: str, ref: Reference, direction: str
    ) -> list[Key]:
        here, there = self._table(conn, name), self._table(conn, other)
        if direction == "child":  # rows of `other` whose reference columns point at these rows
            read, match = ref.target_columns, ref.columns
        else:  # the rows of `other` these rows point at
            read, match = ref.columns, ref.target_columns
        here_key = self._key(here, name)
        columns = [there.c[c] for c in match]
        found: list[Key] = []
        for batch in self._batches(here_key, keys):
            if tuple(read) == self.map.table(name).key:  # the values are the keys themselves
                values = batch
            else:
                values = list(
                    dict.fromkeys(
                        tuple(r)
                        for r in conn.execute(
                            select(*(here.c[c] for c in read)).where(self._in(here_key, batch))
                        )
                        if all(v is not None for v in r)
                    )
                )
            for values_batch in self._batches(columns, values):
                rows = conn.execute(select(*self._key(there, other)).where(self._in(columns, values_batch)))
                found.extend(map(tuple, rows))  # row by row: not every row object of the batch at once
        return found

    # --- access --------------------------------------------------------------------------------------

    @_guarded("access")
    def access(
        self, identities: dict[str, str], categories: set[str], write: Callable[[str, bytes], None]
    ) -> dict[str, int]:
        """Stream the subject's rows, only fields of ``categories``, as JSON lines per table to ``write``
        (``write(table, lines)``: one or more whole lines a call, a table's lines one call after another)."""
        counts: dict[str, int] = {}
        with self._connect() as conn:
            found = self.find(conn, identities)
            for t in self.map.tables:
                keys = found.keys.get(t.id)
                if not keys:
                    continue
                wanted = [f.name for f in t.fields if set(f.categories) & categories]
                if not wanted:
                    continue
                table = self._table(conn, t.id)
                key = self._key(table, t.id)
                columns = [*key, *(table.c[c] for c in wanted if c not in t.key)]
                names = [str(c.name) for c in columns]
                n = 0
                for batch in self._batches(key, _ordered(keys)):
                    result = conn.execution_options(stream_results=True, yield_per=FETCH).execute(
                        select(*columns).where(self._in(key, batch))
                    )
                    for rows in result.partitions():
                        # a chunk of lines a write: the package compresses them as they come
                        write(
                            t.id,
                            b"".join(
                                [
                                    orjson.dumps(
                                        dict(zip(names, r, strict=True)), default=_json, option=_JSON_LINE
                                    )
                                    for r in rows
                                ]
                            ),
                        )
                        n += len(rows)
                counts[t.id] = n
        return counts

    # --- retention events ----------------------------------------------------------------------------

    @_guarded("access")
    def events(self) -> list[tuple[dict[str, str], str, date]]:
        """(identities, event kind, date) of every row whose event column (``events`` of its table) holds
        a date: an end of contract, of employment, of use that the datastore records."""
        found: list[tuple[dict[str, str], str, date]] = []
        with self._connect() as conn:
            for t in self.map.tables:
                if not t.events:
                    continue
                table = self._table(conn, t.id)
                ids = t.identity_columns()
                columns = [table.c[c] for _, c in ids] + [table.c[c] for c in t.events.values()]
                result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(
                    select(*columns)
                )
                for row in result:
                    identities = {
                        kind: str(value)
                        for (kind, _), value in zip(ids, row[: len(ids)], strict=True)
                        if value
                    }
                    for kind, value in zip(t.events, row[len(ids) :], strict=True):
                        day = value.date() if isinstance(value, datetime) else value
                        if isinstance(day, str):
                            try:
                                day = date.fromisoformat(day[:10])
                            except ValueError:
                                continue
                        if identities and isinstance(day, date):
                            found.append((identities, kind, day))
        return found

    # --- correction ----------------------------------------------------------------------------------

    def _correct(
        self, conn: Connection, identities: dict[str, str], values: dict[str, str]
    ) -> dict[str, Any]:
        changed: dict[str, int] = {}
        found = self.find(conn, identities)
        self._without_shared(conn, found)
        for t in self.map.tables:
            if t.read_only:
                continue
            keys_of = self.map.key_columns(t.id)
            sets = {
                f.name: values[f.correct_as]
                for f in t.fields
                if f.correct_as and f.correct_as in values and not f.read_only and f.name not in keys_of
            }
            keys = found.keys.get(t.id)
            if not sets or not keys:
                continue
            table = self._table(conn, t.id)
            key = self._key(table, t.id)
            n = 0
            for batch in self._batches(key, keys):
                n += conn.execute(update(table).where(self._in(key, batch)).values(**sets)).rowcount
            changed[t.id] = n
        return {"datastore": self.name, "corrected_rows": changed}

    def correct(self, identities: dict[str, str], values: dict[str, str]) -> dict[str, Any]:
        """Correct the subject's rows in one transaction of this datastore, committed at once."""
        return self.prepare("correct", identities, values).commit()

    # --- the live schema -----------------------------------------------------------------------------

    def _live_links(self, conn: Connection) -> list[ForeignKeyLink]:
        """Every foreign key column of the database that starts or ends at a mapped table; tables are
        named by their id in the map (``schema.table`` where the map names the schema), others by
        ``schema.table`` outside the default schema."""
        inspector = inspect(conn)
        default = inspector.default_schema_name
        ids = {(t.db_schema or default, t.name): t.id for t in self.map.tables}

        def ident(schema: str | None, table: str) -> str:
            found = ids.get((schema or default, table))
            if found is not None:
                return found
            return f"{schema}.{table}" if schema and schema != default else table

        mapped = set(ids.values())
        links: set[ForeignKeyLink] = set()
        schemas = {t.db_schema for t in self.map.tables}
        for schema, table in sorted(
            ((s, n) for s in schemas for n in inspector.get_table_names(schema=s)), key=str
        ):
            for fk in inspector.get_foreign_keys(table, schema=schema):
                source = ident(schema, table)
                target = ident(fk.get("referred_schema") or schema, fk["referred_table"])
                if source not in mapped and target not in mapped:
                    continue
                for column, to_column in zip(fk["constrained_columns"], fk["referred_columns"], strict=True):
                    links.add(ForeignKeyLink(source, column, target, to_column))
        return sorted(links)

    def _declared(self, link: ForeignKeyLink) -> Reference | None:
        if link.table not in {t.id for t in self.map.tables}:
            return None
        for r in self.map.table(link.table).references:
            if self.map.target_of(r) != link.to_table:
                continue
            for column, to_column in zip(r.columns, r.target_columns, strict=False):
                if column == link.column and to_column == link.to_column:
                    return r
        return None

    def undeclared_foreign_keys(self) -> list[ForeignKeyLink]:
        """The live database's foreign keys into or out of mapped tables that the map does not declare."""
        try:
            with self._connect() as conn:
                return [link for link in self._live_links(conn) if self._declared(link) is None]
        except MamoruError:
            raise
        except Exception as exc:  # the datastore's own error, without its values or URL
            raise ConnectorFailed("connfail_schema", f"{self.name}: ", error=type(exc).__name__) from None

    def key_mismatches(self) -> list[str]:
        """Each mapped table whose key is not the primary key the live database declares (a key guessed
        on import, or a table changed since): a request would read and change rows by a wrong key."""
        try:
            with self._connect() as conn:
                inspector = inspect(conn)
                found = []
                for t in self.map.tables:
                    live = [
                        str(c)
                        for c in inspector.get_pk_constraint(t.name, schema=t.db_schema).get(
                            "constrained_columns"
                        )
                        or []
                    ]
                    if live and tuple(live) != t.key and set(live) != set(t.key):
                        found.append(
                            f"{t.id}: the map's key ({', '.join(t.key)}) is not the database's primary key "
                            f"({', '.join(live)})"
                        )
                return found
        except MamoruError:
            raise
        except Exception as exc:  # the datastore's own error, without its values or URL
            raise ConnectorFailed("connfail_schema", f"{self.name}: ", error=type(exc).__name__) from None

    def _changed_columns(self, name: str) -> set[str] | None:
        """The columns an erasure changes in the subject's rows of ``name`` (None: the whole row goes)."""
        t = self.map.table(name)
        if t.read_only or t.erase is TableErase.HOLD:
            return set()
        if t.erase is TableErase.DELETE:
            return None
        keys = self.map.key_columns(name)
        return {
            f.name
            for f in t.fields
            if f.erase in (FieldErase.SET_NULL, FieldErase.MASK) and not f.read_only and f.name not in keys
        }

    def _row_key(self, table: Table, name: str) -> list[Any]:
        """The columns that identify a row of ``table``: the map's key, else the database's primary key."""
        if name in {t.id for t in self.map.tables}:
            return self._key(table, name)
        return list(table.primary_key.columns) or list(table.columns)

    def _erasure_plan(self, conn: Connection, found: Found) -> list[tuple[ForeignKeyLink, list[Key]]]:
        """The pointers an erasure must clear first, as (link, keys of the rows holding them).

        Raises :class:`ErasureRefused`, naming the table and column, when rows outside the ones it deletes
        point at rows it deletes or changes and the map does not say to clear them (or does not declare
        the foreign key at all). Nothing has changed when it raises.
        """
        problems: list[str] = []
        clear: list[tuple[ForeignKeyLink, list[Key]]] = []
        by_name = {t.id: t for t in self.map.tables}
        for link in self._live_links(conn):
            keys = found.keys.get(link.to_table)
            if link.to_table not in by_name or not keys:
                continue
            changed = self._changed_columns(link.to_table)
            if changed is not None and link.to_column not in changed:
                continue
            target = self._table(conn, link.to_table)
            values: list[Any] = []
            target_key = self._key(target, link.to_table)
            for batch in self._batches(target_key, keys):
                values += [
                    r[0]
                    for r in conn.execute(select(target.c[link.to_column]).where(self._in(target_key, batch)))
                    if r[0] is not None
                ]
            if not values:
                continue
            source = self._table(conn, link.table)
            declared = self._declared(link)
            source_map = by_name.get(link.table)
            key_columns = self._row_key(source, link.table)
            deleted = (
                found.keys.get(link.table, set())
                if declared is not None and source_map is not None and source_map.erase is TableErase.DELETE
                else set()
            )
            pointing: list[Key] = []
            pointer = [source.c[link.column]]
            for batch in self._batches(pointer, [(v,) for v in values]):
                pointing += [
                    tuple(r)
                    for r in conn.execute(select(*key_columns).where(self._in(pointer, batch)))
                    if tuple(r) not in deleted
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

    @_guarded("check")
    def check_erasure(self, identities: dict[str, str]) -> None:
        """Refuse (:class:`ErasureRefused`) an erasure that would break a foreign key; change nothing."""
        with self._connect() as conn:
            self._erasure_plan(conn, self.find(conn, identities))

    # --- erasure -------------------------------------------------------------------------------------

    def _delete_order(self) -> tuple[list[str], set[str]]:
        """Tables whose rows are deleted, rows pointing at others first; and those in a cycle."""
        deleting = {t.id for t in self.map.tables if t.erase is TableErase.DELETE and not t.read_only}
        points_at: dict[str, set[str]] = {
            t.id: {self.map.target_of(r) for r in t.references} & deleting - {t.id} for t in self.map.tables
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
        """Delete, mask or clear the subject's rows in one transaction, committed at once; the counts are
        the rows this run actually changed (a rerun after a crash counts only what it still had to do)."""
        return self.prepare("erase", identities).commit()

    def prepare(
        self, effect: str, identities: dict[str, str], values: dict[str, str] | None = None
    ) -> Pending:
        """Make the erasure (``effect`` "erase") or correction ("correct") in a transaction of this
        datastore and keep it open: nothing is committed until :meth:`Pending.commit`, so a request that
        reaches several datastores commits none of them until every one has made its change. On a
        failure the transaction is rolled back and :class:`ConnectorFailed` (or :class:`ErasureRefused`)
        says which datastore and step, without the driver's message."""
        conn = self._connect()
        transaction = conn.begin()
        try:
            if conn.dialect.name == "postgresql":
                # another datastore's open transaction may hold the rows (two maps of one database): wait
                # a while, then fail and roll back, never hang
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_S}s'")
            if effect == "erase":
                result = self._erase(conn, identities)
            else:
                result = self._correct(conn, identities, values or {})
        except BaseException as exc:
            transaction.rollback()
            conn.close()
            if isinstance(exc, MamoruError) or not isinstance(exc, Exception):
                raise
            # the driver's message can quote the row or the parameters (a person's values)
            raise ConnectorFailed(
                "connfail_erase" if effect == "erase" else "connfail_correct",
                f"{self.name}: ",
                error=type(exc).__name__,
            ) from None
        return Pending(self.name, conn, transaction, result)

    def _erase(self, conn: Connection, identities: dict[str, str]) -> dict[str, Any]:
        deleted: dict[str, int] = {}
        masked: dict[str, int] = {}
        held: dict[str, str] = {}
        found = self.find(conn, identities)
        shared = self._without_shared(conn, found)
        for link, pointing in self._erasure_plan(conn, found):
            source = self._table(conn, link.table)  # declared, so mapped
            key = self._key(source, link.table)
            for batch in self._batches(key, pointing):
                conn.execute(update(source).where(self._in(key, batch)).values({link.column: None}))
        order, cyclic = self._delete_order()
        by_name = {t.id: t for t in self.map.tables}
        # Rows in a cycle of deletions first lose the references that hold them together.
        for name in order:
            t, keys = by_name[name], found.keys.get(name)
            if not keys:
                continue
            table = self._table(conn, name)
            loops = [
                c
                for r in t.references
                if self.map.target_of(r) in cyclic | {name}
                for c in r.columns
                if c not in t.key
            ]
            if name in cyclic or loops:
                nullable = [c for c in loops if table.c[c].nullable]
                key = self._key(table, name)
                for batch in self._batches(key, keys):
                    if nullable:
                        conn.execute(
                            update(table).where(self._in(key, batch)).values(**dict.fromkeys(nullable))
                        )
        for name in order:
            t, keys = by_name[name], found.keys.get(name)
            if not keys:
                continue
            table = self._table(conn, name)
            n = 0
            key = self._key(table, name)
            for batch in self._batches(key, keys):
                n += conn.execute(delete(table).where(self._in(key, batch))).rowcount
            deleted[name] = n
        for t in self.map.tables:
            keys = found.keys.get(t.id)
            if t.erase is TableErase.HOLD:
                if keys:
                    held[t.id] = t.hold_reason or ""
                continue
            if t.erase is not TableErase.FIELDS or not keys or t.read_only:
                continue
            changed = self._mask(conn, t.id, keys)
            if changed is not None:
                masked[t.id] = changed
        result: dict[str, Any] = {
            "datastore": self.name,
            "deleted_rows": deleted,
            "masked_rows": masked,
            "held": held,
        }
        if shared:
            result["shared_rows"] = shared
        return result

    def _without_shared(self, conn: Connection, found: Found) -> dict[str, int]:
        """Take the rows other people's rows point at out of ``found``; how many, per table."""
        counts: dict[str, int] = {}
        for name, keys in self.shared(conn, found).items():
            found.keys[name] -= keys
            counts[name] = len(keys)
        return counts

    def _mask(self, conn: Connection, name: str, keys: set[Key]) -> int | None:
        """Overwrite the ``mask`` and ``set_null`` fields of the subject's rows; the rows changed."""
        t = self.map.table(name)
        never = self.map.key_columns(name)
        to_null = [f.name for f in t.fields if f.erase is FieldErase.SET_NULL and not f.read_only]
        to_mask = [f.name for f in t.fields if f.erase is FieldErase.MASK and not f.read_only]
        to_null, to_mask = [c for c in to_null if c not in never], [c for c in to_mask if c not in never]
        if not to_null and not to_mask:
            return None
        table = self._table(conn, name)
        key = self._key(table, name)
        strings = {c for c in to_mask if isinstance(table.c[c].type, String)}
        # a row still to change: a value not yet cleared, or not yet a marker
        pending: list[ColumnElement[bool]] = [table.c[c].is_not(None) for c in to_null if c not in strings]
        pending += [table.c[c].is_not(None) for c in to_mask if c not in strings]
        pending += [
            and_(table.c[c].is_not(None), ~table.c[c].startswith(MASK, autoescape=True)) for c in strings
        ]
        columns = to_null + to_mask
        statement = (
            update(table).where(_eq(key, "k_")).values({table.c[c]: bindparam(f"v_{c}") for c in columns})
        )
        n = 0
        for batch in self._batches(key, keys):
            rows = [tuple(r) for r in conn.execute(select(*key).where(self._in(key, batch), or_(*pending)))]
            if not rows:
                continue
            params = []
            for row_key in rows:
                row: dict[str, Any] = {f"k_{i}": v for i, v in enumerate(row_key)}
                row |= {f"v_{c}": None for c in to_null}
                for column in to_mask:
                    col_type = table.c[column].type
                    if column in strings:
                        value = marker()
                        row[f"v_{column}"] = value[: col_type.length] if col_type.length else value  # type: ignore[attr-defined]
                    else:
                        row[f"v_{column}"] = None
                params.append(row)
            conn.execute(statement, params)
            n += len(rows)
        return n
