"""A leak, loss or damage of datasets in the registers (APPI-26b; Art. 41(9)).

The report to the PPC and the notice to the persons (Art. 26) do not apply to pseudonymized
information, so an incident over pseudonymized datasets only is opened with the pseudonymized-only
exemption, derived from the register rather than answered by hand: the PPC clock never starts. Any
anonymized dataset, or any other data involved, leaves the ordinary rules in force (the conservative
reading: an anonymized dataset's leak is then judged on its facts by the office).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mamoru.deid.plan import Kind
from mamoru.deid.register import dataset
from mamoru.deid.tables import DeidDataset
from mamoru.errors import Invalid, Problem, problem, require
from mamoru.incidents.service import open_incident, opening_facts
from mamoru.incidents.tables import Incident
from mamoru.vault.service import Vault


def pseudonymized_only(session: Session, dataset_ids: Sequence[str], *, other_data: bool) -> bool:
    """Whether a breach of these datasets (and, with ``other_data``, of something else too) concerns
    pseudonymized information only."""
    if other_data or not dataset_ids:
        return False
    return all(dataset(session, d).kind == Kind.PSEUDONYMIZED.value for d in dataset_ids)


def open_breach(
    session: Session,
    vault: Vault,
    dataset_ids: Sequence[str],
    *,
    aware_at: datetime,
    actor: str,
    now: datetime,
    other_data: bool = False,
    **fields: Any,
) -> Incident:
    """Open an incident over registered datasets; the pseudonymized-only flag comes from the register
    and cannot be set otherwise here."""
    if not dataset_ids:
        raise Invalid([("datasets", "name at least one dataset")])
    fields.pop("pseudonymized_only", None)
    return open_incident(
        session,
        vault,
        aware_at=aware_at,
        actor=actor,
        now=now,
        source="deid",
        pseudonymized_only=pseudonymized_only(session, dataset_ids, other_data=other_data),
        **fields,
    )


def open_breach_from_form(
    session: Session, vault: Vault, form: Mapping[str, Any], *, actor: str, now: datetime
) -> Incident:
    """The console's form: the datasets (``datasets``, several), when a staff member first knew (Japan's
    time), what happened, and whether anything else was involved (``other_data``)."""
    problems: list[Problem] = []
    chosen = form.get("datasets") or []
    datasets = [str(d) for d in (chosen if isinstance(chosen, list) else [chosen]) if str(d)]
    if not datasets:
        problems.append(problem("datasets", "choose the datasets involved", "missing"))
    if any(session.get(DeidDataset, d) is None for d in datasets):
        problems.append(problem("datasets", "choose datasets of the register", "unknown"))
    aware, overview = opening_facts(form, problems, now=now)
    require(problems)
    assert aware is not None
    return open_breach(
        session,
        vault,
        datasets,
        aware_at=aware,
        actor=actor,
        now=now,
        other_data=str(form.get("other_data", "")) == "true",
        overview=overview,
    )
