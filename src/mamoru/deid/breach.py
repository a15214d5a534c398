"""A leak, loss or damage of datasets in the registers (APPI-26b; Art. 41(9)).

The report to the PPC and the notice to the persons (Art. 26) do not apply to pseudonymized
information, so an incident over pseudonymized datasets only is opened with the pseudonymized-only
exemption, derived from the register rather than answered by hand: the PPC clock never starts. Any
anonymized dataset, or any other data involved, leaves the ordinary rules in force (the conservative
reading: an anonymized dataset's leak is then judged on its facts by the office).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from mamoru.deid.plan import Kind
from mamoru.deid.register import dataset
from mamoru.errors import Invalid
from mamoru.incidents.service import open_incident
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
