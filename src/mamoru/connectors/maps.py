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

from mamoru.policy.errors import PolicyIssue
from mamoru.policy.load import parse_yaml_model
from mamoru.policy.model import Policy

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]


class FieldErase(StrEnum):
    KEEP = "keep"  # keys and values that are not personal
    SET_NULL = "set_null"
    MASK = "mask"  # replaced by a fixed marker (unique columns get the row's key in it)


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
    correct_as: str | None = Field(
        default=None, description="The request's correction item this field takes."
    )


class Reference(_Strict):
    column: Name
    to: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")]
    follow: Literal["child", "parent", "none"] = Field(
        default="child",
        description=(
            "child: rows pointing at a subject's row are the subject's too; parent: the row pointed at is; "
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


class TableMap(_Strict):
    name: Name
    primary_key: Name
    identities: dict[Literal["email", "phone", "employee_number", "customer_id"], Name] = Field(
        default_factory=dict
    )
    references: list[Reference] = Field(default_factory=list)
    fields: list[FieldMap] = Field(min_length=1)
    erase: TableErase = TableErase.FIELDS
    hold_reason: str | None = None


class DatasetMap(_Strict):
    schema_id: Literal["mamoru.dataset/1"] = Field(alias="schema")
    name: Name
    url_env: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
    ledger_entries: list[str] = Field(default_factory=list)
    tables: list[TableMap] = Field(min_length=1)

    def table(self, name: str) -> TableMap:
        return next(t for t in self.tables if t.name == name)


def _checks(policy: Policy | None) -> object:
    def check(m: DatasetMap) -> list[PolicyIssue]:
        issues: list[PolicyIssue] = []
        names = [t.name for t in m.tables]
        for i, t in enumerate(m.tables):
            if names.count(t.name) > 1:
                issues.append(PolicyIssue(("tables", i, "name"), f"table '{t.name}' appears twice"))
            columns = [f.name for f in t.fields]
            if t.primary_key not in columns:
                issues.append(
                    PolicyIssue(("tables", i, "primary_key"), f"'{t.primary_key}' is not a field of {t.name}")
                )
            for kind, column in t.identities.items():
                if column not in columns:
                    issues.append(
                        PolicyIssue(
                            ("tables", i, "identities", kind), f"'{column}' is not a field of {t.name}"
                        )
                    )
            for j, ref in enumerate(t.references):
                if ref.column not in columns:
                    issues.append(
                        PolicyIssue(
                            ("tables", i, "references", j, "column"), f"'{ref.column}' is not a field"
                        )
                    )
                target, _, column = ref.to.partition(".")
                if target not in names:
                    issues.append(
                        PolicyIssue(("tables", i, "references", j, "to"), f"no table '{target}' in this map")
                    )
                elif column not in [f.name for f in m.table(target).fields]:
                    issues.append(
                        PolicyIssue(
                            ("tables", i, "references", j, "to"), f"'{column}' is not a field of {target}"
                        )
                    )
            if t.erase is TableErase.HOLD and not (t.hold_reason or "").strip():
                issues.append(
                    PolicyIssue(("tables", i, "hold_reason"), "a hold names the law that requires it")
                )
            if policy is not None:
                known = {c.id for c in policy.categories}
                for k, f in enumerate(t.fields):
                    for category in f.categories:
                        if category not in known:
                            issues.append(
                                PolicyIssue(
                                    ("tables", i, "fields", k, "categories"),
                                    f"'{category}' is not a category of the policy",
                                )
                            )
        if not any(t.identities for t in m.tables):
            issues.append(
                PolicyIssue(("tables",), "no table has an identity field: a request could never start")
            )
        if policy is not None:
            # ledger codes are checked against the database by the registry; here only their shape
            for i, code in enumerate(m.ledger_entries):
                if not re.match(r"^[A-Za-z0-9_.-]{1,32}$", code):
                    issues.append(PolicyIssue(("ledger_entries", i), "a ledger entry code"))
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
