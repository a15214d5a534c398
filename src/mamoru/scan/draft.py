"""A draft dataset map of a live database: its keys and foreign keys as they are, references proposed
from column names and shared values where the database declares none, each column's categories from
the discovery scanner's column rules, nothing erased until someone decides."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy.engine import Connection, Engine

from mamoru.connectors.said import Said
from mamoru.connectors.sql import connection_failure, datastore_engine
from mamoru.errors import MamoruError
from mamoru.policy.model import Policy
from mamoru.scan.analyzer import Analyzer
from mamoru.scan.columns import classify
from mamoru.scan.gaps import suggest_categories

#: Column-name hints for a draft, used where the scanner finds nothing in a column's sampled values
#: (matched against the column's name; a pattern with ``\.`` against ``table.column``).
_HINTS = (
    (r"mail", "contact"),
    (r"phone|tel|mobile", "contact"),
    (r"address|addr|postal|zip|city|street|house", "contact"),
    (r"^(full_?)?name$|kana|^(first|last|given|family)_?name$", "identity"),
    (r"birth|dob|gender", "identity"),
    (r"salary|bank|account_no|card|iban|^ccn$|cvv|cvc", "payment"),
    (r"card[a-z_]*\.(code|number|name)$", "payment"),
    (r"addr[a-z_]*\.(?!id$)[a-z_]+$", "contact"),  # the columns of an address table, but its key
    (r"health|medical|diagnos", "health"),
)
#: Schemas that hold the database's own catalog, never an organization's data.
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"}
SAMPLE = 200
OVERLAP_SAMPLE = 10_000


class DraftFailed(Said):
    http_status = 422


def _schemas(engine: Engine, conn: Connection, named: list[str] | None) -> list[str | None]:
    inspector = inspect(conn)
    if named:
        present = set(inspector.get_schema_names())
        for schema in named:
            if schema not in present:
                raise DraftFailed(
                    "conn_no_schema", f"--schema {schema}: ", present=", ".join(sorted(present))
                )
        chosen: list[str | None] = [*named]
        return chosen
    if engine.dialect.name == "postgresql":  # the default schema first: its tables keep their names
        default = inspector.default_schema_name
        others = sorted(
            s
            for s in inspector.get_schema_names()
            if s not in _SYSTEM_SCHEMAS and not s.startswith("pg_") and s != default
        )
        return [None, *others]
    return [None]  # SQLite's main database; the database named in a MariaDB/MySQL URL


def _stem_matches(stem: str, table: str) -> bool:
    """``billing_address`` names ``address`` / ``addresses``; ``customer`` names ``customers``."""
    for name in (table, table.removesuffix("s"), table.removesuffix("es")):
        if name and (stem == name or stem.endswith("_" + name)):
            return True
    return False


def draft(
    url: str, *, name: str, url_env: str, policy: Policy, schemas: list[str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """A draft map of every table of a live database (every schema, or those named), and notes for the
    reviewer: keys and foreign keys as they are; where a table declares no foreign key, references
    proposed from naming (``customer_id`` to the key of ``customer``) and from shared values; every
    column, keys included, classified from its name and a sample of its values; nothing erased until
    someone decides (every field ``keep``)."""
    known = {c.id for c in policy.categories}
    analyzer = Analyzer()
    notes: list[str] = []
    engine = datastore_engine(url)
    try:
        try:
            conn = engine.connect()
        except Exception as exc:
            raise connection_failure(url, exc) from None
        with conn:
            try:
                tables = _read(engine, conn, schemas, known, analyzer, policy, notes)
            except MamoruError:
                raise
            except Exception as exc:
                raise connection_failure(url, exc, "read") from None
    finally:
        engine.dispose()
    if not tables:
        raise DraftFailed("conn_no_tables")
    return {
        "schema": "mamoru.dataset/1",
        "name": name,
        "url_env": url_env,
        "ledger_entries": [],
        "tables": tables,
    }, notes


def _read(
    engine: Engine,
    conn: Connection,
    named: list[str] | None,
    known: set[str],
    analyzer: Analyzer,
    policy: Policy,
    notes: list[str],
) -> list[dict[str, Any]]:
    inspector = inspect(conn)
    default = inspector.default_schema_name
    meta = MetaData()
    # Tables are known by their id in the map: ``table`` in the default schema, ``schema.table`` in any
    # other, so two tables of one name in two schemas are two tables of the map.
    info: dict[str, dict[str, Any]] = {}

    def ident(schema: str | None, table: str) -> str:
        return table if schema in (None, default) else f"{schema}.{table}"

    for schema in _schemas(engine, conn, named):
        schema = None if schema == default else schema
        for table in sorted(str(n) for n in inspector.get_table_names(schema=schema)):
            reflected = Table(table, meta, schema=schema, autoload_with=conn)
            columns = [str(c.name) for c in reflected.columns]
            pk = [str(c.name) for c in reflected.primary_key.columns]
            if not pk:
                pk = list(columns)
                notes.append(f"{table}: no primary key in the database; every column taken as its key")
            sample = conn.execute(select(reflected).limit(SAMPLE)).all()
            info[ident(schema, table)] = {
                "name": table,
                "schema": schema,
                "reflected": reflected,
                "columns": columns,
                "pk": pk,
                "sample": sample,
                "fks": [
                    {**fk, "referred_table": ident(fk.get("referred_schema") or schema, fk["referred_table"])}
                    for fk in inspector.get_foreign_keys(table, schema=schema)
                    if fk.get("referred_table") and fk.get("constrained_columns")
                ],
                "nullable": {str(c.name): c.nullable for c in reflected.columns},
            }
    # -- each column's categories and the identities ------------------------------------------------
    out: dict[str, dict[str, Any]] = {}
    for table, t in info.items():
        fields: list[dict[str, Any]] = []
        identities: dict[str, list[str]] = {}
        for i, column in enumerate(t["columns"]):
            values = [None if r[i] is None or isinstance(r[i], bytes) else str(r[i]) for r in t["sample"]]
            found = sorted(classify(analyzer, column, values).cells)
            entry: dict[str, Any] = {"name": column}
            suggested = suggest_categories(found, policy.categories)
            if suggested:
                entry["categories"] = suggested
            else:
                qualified = f"{t['name']}.{column}"
                for pattern, category in _HINTS:
                    where = qualified if "\\." in pattern else column
                    if category in known and re.search(pattern, where, re.IGNORECASE):
                        entry["categories"] = [category]
                        break
            if re.fullmatch(r"([a-z]+_)?e?_?mail(_address)?", column, re.IGNORECASE) or "email" in found:
                identities.setdefault("email", []).append(column)
            elif (
                re.fullmatch(r"([a-z]+_)?(phone|tel|mobile)(_number)?", column, re.IGNORECASE)
                or "phone" in found
            ):
                identities.setdefault("phone", []).append(column)
            fields.append(entry)
        out[table] = {"fields": fields, "identities": identities}
    # -- references: declared, else proposed from names, else from shared values -------------------
    edges: list[tuple[str, list[str], str, list[str], str]] = []  # (table, cols, target, target cols, how)
    any_declared = any(t["fks"] for t in info.values())
    single_keys = {table: t["pk"][0] for table, t in info.items() if len(t["pk"]) == 1}
    for table, t in info.items():
        for fk in t["fks"]:
            target = str(fk["referred_table"])
            if target not in info:
                notes.append(f"{table}.{','.join(fk['constrained_columns'])}: points at {target}, not mapped")
                continue
            edges.append(
                (table, list(fk["constrained_columns"]), target, list(fk["referred_columns"]), "declared")
            )
        declared_columns = {c for fk in t["fks"] for c in fk["constrained_columns"]}
        for column in t["columns"]:
            if column in declared_columns or (column in t["pk"] and len(t["pk"]) == 1):
                continue
            match = re.fullmatch(r"(.+?)_?(id|key|ref|no|code)", column, re.IGNORECASE)
            if not match:
                continue
            stem = match.group(1).lower()
            named = [
                target
                for target in sorted(single_keys)
                if target != table and _stem_matches(stem, info[target]["name"].lower())
            ]
            if named:
                target = max(named, key=lambda n: (len(info[n]["name"]), info[n]["schema"] == t["schema"]))
                edges.append((table, [column], target, [single_keys[target]], "proposed from its name"))
                continue
            if (any_declared and t["fks"]) or column in t["pk"]:
                continue
            overlap = _overlap(conn, info, table, column, single_keys)
            if len(overlap) == 1:
                edges.append(
                    (table, [column], overlap[0], [single_keys[overlap[0]]], "proposed from shared values")
                )
            elif len(overlap) > 1:
                notes.append(f"{table}.{column}: its values are keys of {', '.join(overlap)}; none chosen")
    references = _directions(edges, {table for table, o in out.items() if o["identities"]}, info, notes)
    # -- ID-type columns: the key of a person's table, and the columns pointing at it -----------------
    person_keys = {(table, c) for table, o in out.items() if o["identities"] for c in info[table]["pk"]}
    for table, refs in references.items():
        for ref in refs:
            columns = ref["column"] if isinstance(ref["column"], list) else [ref["column"]]
            targets = ref["to"] if isinstance(ref["to"], list) else [ref["to"]]
            for column, to in zip(columns, targets, strict=True):
                target, _, to_column = to.rpartition(".")
                if (target, to_column) in person_keys:
                    person_keys.add((table, column))
    tables = []
    for table, t in info.items():
        fields = out[table]["fields"]
        for entry in fields:
            if (table, entry["name"]) in person_keys and "identity" in known and not entry.get("categories"):
                entry["categories"] = ["identity"]
        identities = {k: v[0] if len(v) == 1 else v for k, v in out[table]["identities"].items()}
        pk = t["pk"]
        tables.append(
            {
                "name": t["name"],
                **({"schema": t["schema"]} if t["schema"] else {}),
                "primary_key": pk[0] if len(pk) == 1 else pk,
                **({"identities": identities} if identities else {}),
                **({"references": references[table]} if references.get(table) else {}),
                "fields": fields,
            }
        )
    return tables


def _overlap(
    conn: Connection, info: dict[str, dict[str, Any]], table: str, column: str, single_keys: dict[str, str]
) -> list[str]:
    """The tables whose key holds every sampled value of ``table.column`` (two values at least)."""
    i = info[table]["columns"].index(column)
    values = {str(r[i]) for r in info[table]["sample"] if r[i] is not None}
    if len(values) < 2:
        return []
    found = []
    for target, key in sorted(single_keys.items()):
        if target == table:
            continue
        reflected = info[target]["reflected"]
        keys = {str(r[0]) for r in conn.execute(select(reflected.c[key]).limit(OVERLAP_SAMPLE))}
        if values <= keys:
            found.append(target)
    return found


def _directions(
    edges: list[tuple[str, list[str], str, list[str], str]],
    persons: set[str],
    info: dict[str, dict[str, Any]],
    notes: list[str],
) -> dict[str, list[dict[str, Any]]]:
    """Each reference with the way a request follows it, found from the tables with identities outward:
    rows pointing at a row already the person's are the person's (``child``); the row a person's row
    points at is theirs (``parent``) unless it is another person's table. A self-reference says nothing
    about whose rows they are (``none``)."""
    reached = set(persons)
    follow: dict[int, str] = {}
    for i, (table, _, target, _, _) in enumerate(edges):
        if table == target:
            follow[i] = "none"
    while True:
        changed = False
        for i, (table, _, target, _, _) in enumerate(edges):
            if i in follow:
                continue
            if target in reached and table not in reached:
                follow[i], changed = "child", True
                reached.add(table)
            elif table in reached and target not in reached:
                follow[i], changed = "parent", True
                reached.add(target)
        if not changed:
            for i, (table, _, target, _, _) in enumerate(edges):
                if i not in follow and table in reached and target in reached:
                    follow[i], changed = ("child" if target in persons else "parent"), True
        if not changed:
            break
    references: dict[str, list[dict[str, Any]]] = {}
    for i, (table, columns, target, to_columns, how) in enumerate(edges):
        way = follow.get(i, "child")
        entry: dict[str, Any] = {
            "column": columns[0] if len(columns) == 1 else columns,
            "to": f"{target}.{to_columns[0]}" if len(columns) == 1 else [f"{target}.{c}" for c in to_columns],
        }
        if way != "child":
            entry["follow"] = way
        if way == "none":
            nullable = all(info[table]["nullable"].get(c, True) for c in columns)
            entry["on_erase"] = "set_null" if nullable else "restrict"
        references.setdefault(table, []).append(entry)
        if how != "declared":
            notes.append(
                f"{table}.{','.join(columns)} -> {target}: {how} (the database declares no foreign key)"
            )
        if i not in follow:
            notes.append(f"{table}.{','.join(columns)} -> {target}: no table with an identity reaches it")
    return references
