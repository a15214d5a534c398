"""Dataset maps: what a datastore of the organization holds and how a request treats it.

A map names the environment variable that holds the datastore's SQLAlchemy URL (never the URL
itself), its tables and fields, each field's data categories, the identity fields a request starts
from, the references between tables, and per table and field what erasure and correction do.
Maps live in ``<home>/datasets/*.yaml`` and are checked with file:line errors like the policy.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from mamoru.ledger.retention import EventKind
from mamoru.policy.errors import PolicyIssue, worded
from mamoru.policy.load import parse_yaml_model
from mamoru.policy.model import Policy

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]


class FieldErase(StrEnum):
    KEEP = "keep"  # keys and values that are not personal
    SET_NULL = "set_null"
    MASK = "mask"  # replaced by a marker with a random part (never a value of the row)


class TableErase(StrEnum):
    FIELDS = "fields"  # each field as its own rule says
    DELETE = "delete"  # a real DELETE of the row
    HOLD = "hold"  # kept under a statutory duty; the request is told which


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMap(_Strict):
    name: Name
    categories: list[str] = Field(default_factory=list)
    erase: FieldErase = FieldErase.KEEP
    read_only: bool = Field(default=False, description="Disclosed, never changed by a request.")
    correct_as: str | None = Field(
        default=None, description="The request's correction item this field takes."
    )


#: ``table.column``, or ``schema.table.column`` where two schemas of the datastore have a table of that name.
Target = Annotated[
    str, Field(pattern=r"^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
]


def _names(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


class Reference(_Strict):
    """A reference from ``column`` (or several columns, for a composite key) to ``to`` (``table.column``,
    or a list of them in the same table, in the same order)."""

    column: Name | Annotated[list[Name], Field(min_length=1)]
    to: Target | Annotated[list[Target], Field(min_length=1)]
    follow: Literal["child", "parent", "both", "none"] = Field(
        default="child",
        description=(
            "child: rows pointing at a subject's row are the subject's too; parent: the row pointed at is; "
            "both: either way (a Fides reference without a direction); "
            "none: the reference says nothing about whose rows they are (a manager, a referrer)."
        ),
    )
    on_erase: Literal["restrict", "set_null"] = Field(
        default="restrict",
        description=(
            "What an erasure does to other people's rows that point at the rows it removes or changes: "
            "restrict refuses the erasure before anything changes; set_null clears the reference first."
        ),
    )

    @property
    def columns(self) -> tuple[str, ...]:
        return _names(self.column)

    @property
    def target(self) -> str:
        """The table pointed at as written: ``table``, or ``schema.table`` (:meth:`DatasetMap.target_of`
        finds the table it means)."""
        return _names(self.to)[0].rpartition(".")[0]

    @property
    def target_columns(self) -> tuple[str, ...]:
        return tuple(t.rpartition(".")[2] for t in _names(self.to))


#: The retention events a table's date column can record (``events`` of a table).
EVENT_KINDS = tuple(k.value for k in EventKind)


class TableMap(_Strict):
    name: Name
    primary_key: Name | Annotated[list[Name], Field(min_length=1)] = Field(
        description="The column, or the columns of a composite key, that identify a row."
    )
    identities: dict[Name, Name | Annotated[list[Name], Field(min_length=1)]] = Field(
        default_factory=dict,
        description=(
            "identity kind (email, phone, or a custom one such as loyalty_id) -> the column, or the "
            "columns, that hold it"
        ),
    )
    references: list[Reference] = Field(default_factory=list)
    events: dict[Name, Name] = Field(
        default_factory=dict,
        description=(
            "retention event kind (end_of_contract, end_of_employment, end_of_use) -> the date column that "
            "records it; `mamoru retention import --connector NAME` records the events of the persons "
            "mamoru holds"
        ),
    )
    fields: list[FieldMap] = Field(min_length=1)
    erase: TableErase = TableErase.FIELDS
    hold_reason: str | None = None
    read_only: bool = Field(default=False, description="Disclosed, never changed by a request.")
    db_schema: Name | None = Field(
        default=None,
        alias="schema",
        description="The table's schema (PostgreSQL) or database (MariaDB/MySQL); the connection's default if omitted.",
    )

    @property
    def id(self) -> str:
        """The table in its map: ``schema.name`` when the map names its schema, else ``name``. Two tables
        of one name in two schemas are two tables."""
        return f"{self.db_schema}.{self.name}" if self.db_schema else self.name

    @property
    def key(self) -> tuple[str, ...]:
        return _names(self.primary_key)

    def identity_columns(self) -> list[tuple[str, str]]:
        """(identity kind, column) for every identity column of the table."""
        return [(kind, column) for kind, value in self.identities.items() for column in _names(value)]


class DatasetMap(_Strict):
    schema_id: Literal["mamoru.dataset/1"] = Field(alias="schema")
    name: Name
    url_env: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
    ledger_entries: list[str] = Field(default_factory=list)
    tables: list[TableMap] = Field(min_length=1)

    def table(self, name: str) -> TableMap:
        """The table ``name`` means: its id (``schema.table`` or ``table``), or a table name that only one
        schema of the map has."""
        found = self.resolve(name)
        return next(t for t in self.tables if t.id == found)

    def resolve(self, name: str) -> str | None:
        """The id of the table ``name`` means (None when none, or when several schemas have it)."""
        ids = [t.id for t in self.tables]
        if name in ids:
            return name
        bare = [t.id for t in self.tables if t.name == name]
        return bare[0] if len(bare) == 1 else None

    def target_of(self, ref: Reference) -> str:
        """The id of the table ``ref`` points at (as written when the map has no such table)."""
        return self.resolve(ref.target) or ref.target

    def key_columns(self, name: str) -> set[str]:
        """The columns of ``name`` (a table's id) that identify rows: its primary key, and every column a
        reference starts from or points at. An erasure never masks or clears them."""
        keys = set(self.table(name).key)
        for t in self.tables:
            for ref in t.references:
                if t.id == name:
                    keys.update(ref.columns)
                if self.target_of(ref) == name:
                    keys.update(ref.target_columns)
        return keys


def _checks(policy: Policy | None) -> object:
    def check(m: DatasetMap) -> list[PolicyIssue]:
        issues: list[PolicyIssue] = []
        ids = [t.id for t in m.tables]
        for i, t in enumerate(m.tables):
            if ids.count(t.id) > 1:
                issues.append(worded(("tables", i, "name"), "table_twice", table=t.id))
            columns = [f.name for f in t.fields]
            for column in t.key:
                if column not in columns:
                    issues.append(
                        worded(("tables", i, "primary_key"), "not_a_field", column=column, table=t.id)
                    )
            if len(set(t.key)) != len(t.key):
                issues.append(worded(("tables", i, "primary_key"), "key_twice"))
            for kind, column in t.identity_columns():
                if column not in columns:
                    issues.append(
                        worded(("tables", i, "identities", kind), "not_a_field", column=column, table=t.id)
                    )
            for kind, column in t.events.items():
                if column not in columns:
                    issues.append(
                        worded(("tables", i, "events", kind), "not_a_field", column=column, table=t.id)
                    )
                if kind not in EVENT_KINDS:
                    issues.append(
                        worded(("tables", i, "events", kind), "event_kind", kinds=", ".join(EVENT_KINDS))
                    )
            if t.events and not t.identities:
                issues.append(worded(("tables", i, "events"), "events_need_identity", table=t.id))
            for j, ref in enumerate(t.references):
                where = ("tables", i, "references", j)
                for column in ref.columns:
                    if column not in columns:
                        issues.append(worded((*where, "column"), "not_a_field", column=column, table=t.id))
                targets = {to.rpartition(".")[0] for to in _names(ref.to)}
                if len(targets) > 1:
                    issues.append(worded((*where, "to"), "ref_one_table"))
                if len(ref.columns) != len(ref.target_columns):
                    issues.append(
                        worded((*where, "to"), "ref_count", n=len(ref.columns), m=len(ref.target_columns))
                    )
                target = m.resolve(ref.target)
                if target is None and sum(1 for x in m.tables if x.name == ref.target) > 1:
                    issues.append(worded((*where, "to"), "ambiguous_table", table=ref.target))
                elif target is None:
                    issues.append(worded((*where, "to"), "no_table", table=ref.target))
                elif ids.count(target) == 1:
                    for column in ref.target_columns:
                        if column not in [f.name for f in m.table(target).fields]:
                            issues.append(worded((*where, "to"), "not_a_field", column=column, table=target))
            if t.erase is TableErase.HOLD and not (t.hold_reason or "").strip():
                issues.append(worded(("tables", i, "hold_reason"), "hold_reason"))
            if ids.count(t.id) == 1:
                keys = m.key_columns(t.id)
                for k, f in enumerate(t.fields):
                    where = ("tables", i, "fields", k)
                    if f.erase is not FieldErase.KEEP and f.name in keys:
                        issues.append(worded((*where, "erase"), "erase_key", field=f.name, table=t.id))
                    elif f.erase is not FieldErase.KEEP and (f.read_only or t.read_only):
                        issues.append(worded((*where, "erase"), "read_only_erase", field=f.name))
                    elif f.correct_as and (f.read_only or t.read_only):
                        issues.append(worded((*where, "correct_as"), "read_only_correct", field=f.name))
                if t.read_only and t.erase is TableErase.DELETE:
                    issues.append(worded(("tables", i, "erase"), "read_only_delete", table=t.id))
            if policy is not None:
                known = {c.id for c in policy.categories}
                for k, f in enumerate(t.fields):
                    for category in f.categories:
                        if category not in known:
                            issues.append(
                                worded(
                                    ("tables", i, "fields", k, "categories"),
                                    "unknown_category",
                                    category=category,
                                )
                            )
        if not any(t.identities for t in m.tables):
            issues.append(worded(("tables",), "no_identity"))
        if policy is not None:
            # ledger codes are checked against the database by the registry; here only their shape
            for i, code in enumerate(m.ledger_entries):
                if not re.match(r"^[A-Za-z0-9_.-]{1,32}$", code):
                    issues.append(worded(("ledger_entries", i), "ledger_code"))
        return issues

    return check


def parse_map(source: str, file: str, policy: Policy | None = None) -> DatasetMap:
    return parse_yaml_model(source, file, DatasetMap, _checks(policy))  # type: ignore[arg-type]


def load_map(path: Path, policy: Policy | None = None) -> DatasetMap:
    return parse_map(path.read_text(encoding="utf-8"), str(path), policy)


def load_maps(folder: Path, policy: Policy | None = None) -> list[DatasetMap]:
    """Every map in ``folder`` (``*.yaml``), by file name."""
    if not folder.is_dir():
        return []
    return [load_map(p, policy) for p in sorted(folder.glob("*.yaml"))]
