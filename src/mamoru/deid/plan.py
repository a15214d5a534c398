"""Processing plans for pseudonymized (仮名加工情報) and anonymized (匿名加工情報) information, and the check
every plan passes before it may run.

A plan names its source (the vault records of a ledger entry, or one table of a mapped datastore) and
per output field what happens to it. What a field *is* never comes from the plan: it comes from the
policy (``fields`` and the category flags) or the dataset map (each field's categories, the keys and
identity columns), so a plan cannot call a My Number column something else. Fields the plan does not
name are not output. :func:`check_plan` is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mamoru.connectors.maps import DatasetMap
from mamoru.errors import Invalid, Refusal, problem
from mamoru.policy.errors import PolicyIssue
from mamoru.policy.load import parse_yaml_model
from mamoru.policy.model import Identifier, Policy, Text

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
#: The column a ledger source gives every row: the subject's id, a code that links to the original data.
SUBJECT_COLUMN = "subject_id"


class Kind(StrEnum):
    PSEUDONYMIZED = "pseudonymized"  # 仮名加工情報 (APPI Art. 41)
    ANONYMIZED = "anonymized"  # 匿名加工情報 (APPI Art. 43)


class Treatment(StrEnum):
    DROP = "drop"
    TOKEN = "token"  # a random token from a CSPRNG; the mapping is kept apart under its own key
    KEEP = "keep"
    GENERALIZE = "generalize"
    TOP_BOTTOM = "top_bottom"  # values above ``top`` become ``top``, below ``bottom`` become ``bottom``


class Generalization(StrEnum):
    YEAR = "year"  # a date -> its year
    AGE_BAND = "age_band"  # a birth date -> an age band of ``width`` years on the creation date
    PREFECTURE = "prefecture"  # an address -> its prefecture
    REGION = "region"  # an address -> its region (地方), coarser than the prefecture
    BAND = "band"  # a number -> a band of ``width``


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRule(_Strict):
    name: Name
    treatment: Treatment
    label: Text | None = Field(default=None, description="What the item is, as the portal publishes it.")
    generalize: Generalization | None = None
    width: Annotated[int, Field(ge=1, le=1_000_000_000)] = 10
    bottom: float | None = None
    top: float | None = None


class LedgerSource(_Strict):
    kind: Literal["ledger"] = "ledger"
    entry: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]


class TableSource(_Strict):
    kind: Literal["table"] = "table"
    datastore: Name
    table: Name


class Plan(_Strict):
    schema_id: Literal["mamoru.deid/1"] = Field(alias="schema")
    id: Identifier
    version: Annotated[int, Field(ge=1)] = 1
    kind: Kind
    title: Text
    purpose: Identifier = Field(description="The purpose of use the dataset serves (a policy purpose).")
    source: Annotated[LedgerSource | TableSource, Field(discriminator="kind")]
    fields: Annotated[list[FieldRule], Field(min_length=1)]
    quasi_identifiers: list[Name] = Field(default_factory=list)
    suppress_rare: bool = Field(
        default=False, description="Anonymized: drop rows of quasi-identifier classes smaller than k."
    )

    def rule(self, name: str) -> FieldRule | None:
        return next((f for f in self.fields if f.name == name), None)

    def output(self) -> list[FieldRule]:
        """The fields the dataset holds, in the plan's order."""
        return [f for f in self.fields if f.treatment is not Treatment.DROP]


def _shape(plan: Plan) -> list[PolicyIssue]:
    issues: list[PolicyIssue] = []
    names = [f.name for f in plan.fields]
    for i, f in enumerate(plan.fields):
        if names.count(f.name) > 1:
            issues.append(PolicyIssue(("fields", i, "name"), f"field '{f.name}' appears twice"))
        if f.treatment is Treatment.GENERALIZE and f.generalize is None:
            issues.append(
                PolicyIssue(("fields", i, "generalize"), "say how: year, age_band, prefecture, region, band")
            )
        if f.treatment is Treatment.TOP_BOTTOM and f.top is None and f.bottom is None:
            issues.append(PolicyIssue(("fields", i, "top"), "a top or a bottom code is needed"))
    return issues


def plan_from_data(data: object) -> Plan:
    """A plan from parsed data (an API body); every problem named by its field, never its value."""
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise Invalid.from_validation(exc) from None
    issues = _shape(plan)
    if issues:
        raise Invalid([problem(i.path, i.message) for i in issues])
    return plan


def parse_plan(source: str, file: str = "<plan>") -> Plan:
    """A plan from YAML, with file:line errors like the policy's."""
    return parse_yaml_model(source, file, Plan, _shape)


@dataclass(frozen=True)
class FieldClass:
    """What a source field is, from the policy and the dataset map."""

    name: str
    categories: tuple[str, ...] = ()
    identifying: bool = False  # 個人を識別できる記述
    identification_code: bool = False  # 個人識別符号 (My Number included)
    financial: bool = False  # misuse could cause financial damage
    linking: bool = False  # a key or identity column that links to the original data
    classified: bool = True  # False: the policy says nothing of it (fail closed)


@dataclass(frozen=True)
class SourceShape:
    """The fields a source offers and what each is."""

    columns: dict[str, FieldClass] = field(default_factory=dict)
    key: tuple[str, ...] = (SUBJECT_COLUMN,)  # the column(s) a run pages through, in order


def _flags(policy: Policy, name: str, categories: tuple[str, ...], linking: bool) -> FieldClass:
    known = {c.id: c for c in policy.categories}
    cats = [known[c] for c in categories if c in known]
    return FieldClass(
        name=name,
        categories=categories,
        identifying=any(c.identifying for c in cats),
        identification_code=any(c.identification_code or c.my_number for c in cats),
        financial=any(c.financial_risk for c in cats),
        linking=linking,
    )


def shape_of_table(policy: Policy, dataset: DatasetMap, table: str) -> SourceShape:
    """A mapped table's fields: categories from the map, keys and identity columns as linking codes."""
    if dataset.resolve(table) is None:
        raise Invalid([problem("source.table", f"no table '{table}' in datastore '{dataset.name}'")])
    t = dataset.table(table)
    if not t.key:
        raise Invalid(
            [problem("source.table", f"'{table}' has no key; a run pages through a source by its key")]
        )
    links = {*t.key, *(c for _, c in t.identity_columns()), *(c for r in t.references for c in r.columns)}
    return SourceShape(
        {f.name: _flags(policy, f.name, tuple(f.categories), f.name in links) for f in t.fields},
        key=tuple(t.key),
    )


def shape_of_ledger(policy: Policy, stored_fields: list[str]) -> SourceShape:
    """A ledger entry's vault records: categories from the policy's ``fields``; a field the policy does
    not name stays unclassified, and only dropping it passes the check."""
    columns = {SUBJECT_COLUMN: FieldClass(SUBJECT_COLUMN, linking=True)}
    for name in stored_fields:
        category = policy.fields.get(name)
        if category is None:
            columns[name] = FieldClass(name, classified=False)
        else:
            columns[name] = _flags(policy, name, (category,), False)
    return SourceShape(columns)


@dataclass(frozen=True)
class PlanProblem:
    """One reason a plan may not run: the field, a code, the requirement it breaks, what to do."""

    field: str
    code: str
    requirement: str
    message: str


class PlanRefused(Invalid, Refusal):
    """The plan breaks a processing standard; nothing ran. Invalid input (422) whose audit entry stays
    (a :class:`~mamoru.errors.Refusal`: the session commits the entry before the error travels on)."""

    def __init__(self, problems: list[PlanProblem]) -> None:
        super().__init__(
            [problem(("fields", p.field), f"{p.requirement}: {p.message}", p.code) for p in problems]
        )
        self.plan_problems = problems


def check_plan(plan: Plan, shape: SourceShape) -> list[PlanProblem]:
    """Every way ``plan`` breaks the processing standards for its kind; empty if it may run.

    Pseudonymized (APPI-41a, Rules Art. 31): identifying descriptions dropped, replaced by a token or
    generalized in part; identification codes and financial descriptions dropped. Anonymized (APPI-43,
    Rules Art. 34) adds: no tokens, linking codes dropped, identifying descriptions not kept, and at
    least one quasi-identifier for the k-anonymity measure. An unclassified field is only ever dropped.
    """
    out: list[PlanProblem] = []
    anonymized = plan.kind is Kind.ANONYMIZED
    req = "APPI-43" if anonymized else "APPI-41a"
    for rule in plan.fields:
        cls = shape.columns.get(rule.name)
        t = rule.treatment
        if cls is None:
            out.append(PlanProblem(rule.name, "unknown_field", req, "the source has no such field"))
            continue
        if t is Treatment.DROP:
            continue
        if cls.identification_code:
            out.append(
                PlanProblem(rule.name, "identification_code_kept", req, "an identification code is dropped")
            )
        elif cls.financial:
            out.append(
                PlanProblem(
                    rule.name, "financial_kept", req, "a description open to financial misuse is dropped"
                )
            )
        elif not cls.classified:
            out.append(
                PlanProblem(
                    rule.name, "unclassified_kept", req, "give the field a category in the policy, or drop it"
                )
            )
        elif anonymized and t is Treatment.TOKEN:
            out.append(
                PlanProblem(rule.name, "token_in_anonymized", req, "a token is a linking code: drop it")
            )
        elif anonymized and cls.linking:
            out.append(
                PlanProblem(rule.name, "linking_code_kept", req, "a code linking to the original is dropped")
            )
        elif cls.identifying and t is Treatment.KEEP:
            out.append(
                PlanProblem(
                    rule.name, "identifying_kept", req, "an identifying description is dropped or replaced"
                )
            )
        elif anonymized and cls.identifying and t is Treatment.TOKEN:
            out.append(PlanProblem(rule.name, "identifying_kept", req, "drop or generalize it"))
    if anonymized:
        if not plan.quasi_identifiers:
            out.append(
                PlanProblem("quasi_identifiers", "no_quasi_identifiers", req, "name the quasi-identifiers")
            )
        output = {f.name for f in plan.output()}
        for qi in plan.quasi_identifiers:
            if qi not in output:
                out.append(
                    PlanProblem(
                        qi, "quasi_identifier_not_output", req, "a quasi-identifier is an output field"
                    )
                )
    return out


def require_runnable(plan: Plan, shape: SourceShape) -> None:
    problems = check_plan(plan, shape)
    if problems:
        raise PlanRefused(problems)
