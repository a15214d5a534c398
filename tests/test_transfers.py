"""Provision and receipt records (APPI Arts. 29, 30): required fields and retention (Rules Arts. 21, 25)."""

from __future__ import annotations

from datetime import date

import pytest

from mamoru.ledger.errors import LedgerInvalid
from mamoru.transfers.records import (
    Basis,
    ProvisionIn,
    ReceiptIn,
    RecordMode,
    purge_after,
    record_provision,
    record_receipt,
)
from mamoru.transfers.tables import ProvisionRecord
from mamoru.workspace import Workspace


@pytest.mark.parametrize(
    ("mode", "created", "last", "keep_until"),
    [
        (RecordMode.EACH, date(2018, 2, 1), None, date(2021, 2, 1)),  # PPC Q&A 13-35
        (RecordMode.EACH, date(2019, 2, 1), None, date(2022, 2, 1)),
        (RecordMode.CONTRACT_SUBSTITUTE, date(2025, 1, 10), date(2025, 6, 30), date(2026, 6, 30)),
        (RecordMode.BULK, date(2025, 1, 1), date(2025, 12, 31), date(2028, 12, 31)),
    ],
)
def test_appi_29r_record_retention_follows_the_rules(
    mode: RecordMode, created: date, last: date | None, keep_until: date
) -> None:
    assert purge_after(mode, created, last) == keep_until


def test_appi_29_consent_based_provision_record_has_the_four_fields(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        row = record_provision(
            session,
            ProvisionIn("s-1", "event_cosponsor", Basis.CONSENT, ["contact"], consent_id=7),
            actor="staff:pm01",
            today=date(2026, 11, 25),
        )
        stored = session.get(ProvisionRecord, row.id)
        assert stored is not None
        assert (stored.consent_id, stored.recipient, stored.subject_id, stored.categories) == (
            7,
            "event_cosponsor",
            "s-1",
            ["contact"],
        )
        assert stored.purge_after == date(2029, 11, 25)


def test_appi_29_bulk_record_needs_its_period(workspace: Workspace) -> None:
    with workspace.db.session() as session, pytest.raises(LedgerInvalid, match="period_first"):
        record_provision(
            session,
            ProvisionIn(
                "s-1", "event_cosponsor", Basis.CONSENT, ["contact"], mode=RecordMode.BULK, consent_id=1
            ),
            actor="staff:pm01",
            today=date(2026, 11, 25),
        )


def test_appi_30_import_without_the_acquisition_history_is_rejected(workspace: Workspace) -> None:
    with workspace.db.session() as session, pytest.raises(LedgerInvalid, match="acquisition_history"):
        record_receipt(
            session,
            ReceiptIn(
                "s-2", Basis.CONSENT, ["contact"], "株式会社例示", "東京都千代田区1-1", " ", "contract:1"
            ),
            actor="staff:pm01",
            today=date(2026, 11, 25),
        )


def test_appi_30_opt_out_import_without_the_ppc_publication_is_rejected(workspace: Workspace) -> None:
    with workspace.db.session() as session, pytest.raises(LedgerInvalid, match="ppc_publication_ref"):
        record_receipt(
            session,
            ReceiptIn(
                "s-2",
                Basis.OPT_OUT,
                ["contact"],
                "名簿業者",
                "東京都",
                "公開名簿から取得",
                "decl:1",
                received_on=date(2026, 11, 1),
            ),
            actor="staff:pm01",
            today=date(2026, 11, 25),
        )
