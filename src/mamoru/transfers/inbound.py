"""Taking in personal data from another business (APPI Art. 30): the confirmation on receipt is recorded
first, then the acquisition, in one transaction; a channel whose source is another business (a third
party, an opt-out provider) takes nothing without it."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from mamoru.errors import Invalid, NotFound, problem
from mamoru.ledger.acquisition import AcquisitionIn, SourceType, acquire
from mamoru.ledger.tables import Acquisition, Channel
from mamoru.policy.model import Policy
from mamoru.transfers.records import Basis, ReceiptIn, record_receipt
from mamoru.transfers.tables import ReceiptRecord
from mamoru.vault.service import Vault


def receive(
    session: Session,
    vault: Vault,
    policy: Policy,
    data: AcquisitionIn,
    receipt: ReceiptIn,
    *,
    actor: str,
    now: datetime,
) -> tuple[Acquisition, ReceiptRecord]:
    """Record the confirmation on receipt for the subject and items of ``data``, then take the data in.

    ``receipt``'s subject and items are those of the acquisition (what it names itself is ignored); data
    from an opt-out channel needs an opt-out receipt (the PPC's publication, the date received)."""
    channel = session.get(Channel, data.channel_id)
    if channel is None:
        raise NotFound(f"no channel '{data.channel_id}'")
    if channel.source_type == SourceType.OPT_OUT and receipt.basis is not Basis.OPT_OUT:
        raise Invalid(
            [
                problem(
                    "basis",
                    "data from an opt-out provider is received as opt-out (APPI Art. 30)",
                    "opt_out_basis",
                )
            ]
        )
    subject_id = data.subject_id or data.new_subject_id or str(uuid.uuid4())
    row = record_receipt(
        session,
        replace(receipt, subject_id=subject_id, categories=list(data.categories)),
        actor=actor,
        today=now.date(),
    )
    taken = acquire(
        session,
        vault,
        policy,
        replace(data, new_subject_id=None if data.subject_id else subject_id, receipt_recorded=True),
        actor=actor,
        now=now,
    )
    return taken, row
