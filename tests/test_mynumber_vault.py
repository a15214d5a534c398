"""The My Number vault: separate keys, closed purposes, collection with identity checks, statutory
outputs only, disposal on time, and no number in any log."""

from __future__ import annotations

import re
import subprocess
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from mamoru.demo import DemoPlan
from mamoru.errors import Invalid
from mamoru.incidents import signals
from mamoru.incidents.tables import Incident
from mamoru.law.mynumber import (
    IdentityDoc,
    NumberCheckDoc,
    NumberDocument,
    StatutoryAffair,
    check_digit,
    identity_problems,
    purge_after,
)
from mamoru.logfilter import _LOOSE, redact
from mamoru.mynumber import controls
from mamoru.mynumber import service as mn
from mamoru.mynumber.tables import MnDeletionRecord, MnEntry
from mamoru.schema import metadata
from mamoru.workspace import Workspace
from tests.conftest import sqlite_only
from tests.requests_helpers import load_office

NOW = datetime.now(UTC)
HANDLER = "staff:hr01"


def number(base: str) -> str:
    return base + str(check_digit(base))


@pytest.fixture
def office(workspace: Workspace) -> tuple[Workspace, DemoPlan]:
    return workspace, load_office(workspace)


def _employee(plan: DemoPlan, i: int = 0) -> str:
    return [p.subject_id for p in plan.all_people() if p.kind == "employee"][i]


def _filing(
    ws: Workspace, year: int = 2026, document: NumberDocument = NumberDocument.DEPENDENTS_DECLARATION
) -> int:
    with ws.db.session() as session:
        return mn.create_filing(
            session,
            affair=StatutoryAffair.WITHHOLDING_SLIP,
            document=document,
            year=year,
            due_on=date(year + 1, 1, 31),
            actor=HANDLER,
        ).id


def _collect(ws: Workspace, subject: str, value: str, filing: int, **kw: object) -> str:
    data = mn.CollectIn(
        subject_id=subject,
        number=value,
        filing_id=filing,
        number_check=kw.pop("number_check", NumberCheckDoc.MY_NUMBER_CARD),  # type: ignore[arg-type]
        identity=kw.pop("identity", []),  # type: ignore[arg-type]
    )
    with ws.db.session() as session:
        return mn.collect(session, ws, data, actor=str(kw.pop("actor", HANDLER)), now=NOW).id


def test_mn_1_the_number_is_never_a_key_outside_the_vault() -> None:
    suspicious = re.compile(r"my_?number|individual_number|kojin_bango")
    for table in metadata.tables.values():
        for column in table.columns:
            if suspicious.search(column.name) and table.name not in ("mn_entries",):
                assert not column.index and not column.foreign_keys and not column.primary_key, (
                    table.name,
                    column.name,
                )
    entries = metadata.tables["mn_entries"]
    assert not entries.c.sealed.index and not entries.c.sealed.foreign_keys
    indexed = {c.name for idx in entries.indexes for c in idx.columns}
    assert "sealed" not in indexed


def test_mn_1_the_vault_has_its_own_key_and_key_store(workspace: Workspace) -> None:
    assert workspace.settings.resolved_mynumber_key_file.exists()
    assert workspace.settings.resolved_mynumber_key_file.stat().st_mode & 0o077 == 0
    assert workspace.mynumber_vault.keystore is not workspace.vault.keystore
    assert workspace.settings.resolved_mynumber_keystore_url != workspace.settings.resolved_keystore_url


def test_mn_2_collection_needs_a_pending_filing_and_export_is_only_statutory(
    office: tuple[Workspace, DemoPlan],
) -> None:
    # Through the vault's API, as the payroll system uses it: a number is collected only against a
    # pending statutory filing, and leaves only in the statutory output for that filing's documents.
    from fastapi.testclient import TestClient

    from mamoru.server import create_app
    from tests.tokens_helpers import bearer, staff_token

    ws, plan = office
    headers = bearer(staff_token(ws, "hr01"))
    tax_number, insurance_number = number("12345678901"), number("98765432109")

    def entry(subject: str, value: str, filing_id: int) -> httpx.Response:
        body = {
            "subject_id": subject,
            "number": value,
            "filing_id": filing_id,
            "number_check": "my_number_card",
        }
        return client.post("/api/v1/mynumber/entries", headers=headers, json=body)

    def filing(affair: str, document: str) -> int:
        body = {"affair": affair, "document": document, "year": 2026, "due_on": "2027-01-31"}
        made = client.post("/api/v1/mynumber/filings", headers=headers, json=body)
        assert made.status_code == 201, made.text
        return int(made.json()["filing_id"])

    with TestClient(create_app(ws)) as client:
        unfiled = entry(_employee(plan, 0), tax_number, 9999)
        assert unfiled.status_code == 422 and "pending statutory filing" in unfiled.text
        with ws.db.session() as session:
            assert session.scalars(select(MnEntry)).all() == []  # nothing was kept
        tax = filing("withholding_slip", "dependents_declaration")
        insurance = filing("employment_insurance", "employment_insurance")
        assert entry(_employee(plan, 0), tax_number, tax).status_code == 201
        assert entry(_employee(plan, 1), insurance_number, insurance).status_code == 201

        slips = client.get("/api/v1/mynumber/outputs/withholding_slips?year=2026", headers=headers)
        assert slips.status_code == 200
        assert tax_number in slips.text and insurance_number not in slips.text
        filed = client.get("/api/v1/mynumber/outputs/employment_insurance?year=2026", headers=headers)
        assert insurance_number in filed.text and tax_number not in filed.text
        assert (
            tax_number
            not in client.get("/api/v1/mynumber/outputs/withholding_slips?year=2025", headers=headers).text
        )

        for form in ("everything", "all", "mn_entries"):
            other = client.get(f"/api/v1/mynumber/outputs/{form}?year=2026", headers=headers)
            assert other.status_code == 403 and "not a statutory output" in other.text
            assert tax_number not in other.text and insurance_number not in other.text
        exported = client.post(
            "/api/v1/mynumber/export", params={"destination": "/tmp/all-numbers.csv"}, headers=headers
        )
        assert exported.status_code == 403
        assert tax_number not in exported.text and insurance_number not in exported.text


@pytest.mark.parametrize(
    ("check", "identity", "ok"),
    [
        (NumberCheckDoc.NUMBER_NOTICE, [IdentityDoc.DRIVERS_LICENSE], False),
        (NumberCheckDoc.MY_NUMBER_CARD, [], True),
        (NumberCheckDoc.NOTIFICATION_CARD, [IdentityDoc.DRIVERS_LICENSE], True),
        (NumberCheckDoc.RESIDENCE_CERTIFICATE, [IdentityDoc.HEALTH_INSURANCE_CARD], False),
        (
            NumberCheckDoc.RESIDENCE_CERTIFICATE,
            [IdentityDoc.HEALTH_INSURANCE_CARD, IdentityDoc.PENSION_BOOK],
            True,
        ),
    ],
)
def test_mn_3_identity_verification_accepts_only_valid_combinations(
    check: NumberCheckDoc, identity: list[IdentityDoc], ok: bool
) -> None:
    assert (identity_problems(check, identity) == []) is ok


def test_mn_3_an_agent_needs_proof_of_authority_and_their_own_identity() -> None:
    assert identity_problems(
        NumberCheckDoc.NOTIFICATION_CARD, [], by_agent=True, agent_identity=[IdentityDoc.PASSPORT]
    ) == ["an agent needs a proof of authority"]
    assert (
        identity_problems(
            NumberCheckDoc.NOTIFICATION_CARD,
            [],
            by_agent=True,
            authority_doc=True,
            agent_identity=[IdentityDoc.PASSPORT],
        )
        == []
    )


def test_mn_4_collection_normalizes_and_checks_the_digit_without_echoing_the_number(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    filing = _filing(ws)
    with pytest.raises(Invalid) as bad:
        _collect(ws, _employee(plan), "123456789010", filing)
    assert "123456789010" not in str(bad.value)
    full_width = "１２３４-５６７８-９０１８"
    entry = _collect(ws, _employee(plan, 1), full_width, filing)
    with ws.db.session() as session:
        assert (
            mn.read_number(
                session, ws, entry, actor=HANDLER, affair=StatutoryAffair.WITHHOLDING_SLIP, now=NOW
            )
            == "123456789018"
        )


def test_mn_5_a_2026_dependents_declaration_is_kept_until_10_january_2034_then_deleted_without_a_trace(
    office: tuple[Workspace, DemoPlan],
) -> None:
    assert purge_after(NumberDocument.DEPENDENTS_DECLARATION, 2026) == date(2034, 1, 10)
    ws, plan = office
    entry = _collect(ws, _employee(plan), number("98765432109"), _filing(ws))
    with ws.db.session() as session:
        assert mn.dispose_due(session, ws, today=date(2034, 1, 10), actor=HANDLER) == []
        records = mn.dispose_due(session, ws, today=date(2034, 1, 11), actor=HANDLER)
        assert [r.entry_id for r in records] == [entry]
        row = session.get(MnEntry, entry)
        assert row is not None and row.sealed is None and row.deleted_at is not None
        with pytest.raises(Exception, match="no Individual Number"):
            mn.read_number(
                session, ws, entry, actor=HANDLER, affair=StatutoryAffair.WITHHOLDING_SLIP, now=NOW
            )
        record = session.scalar(select(MnDeletionRecord).where(MnDeletionRecord.entry_id == entry))
        assert record is not None and number("98765432109") not in repr(record.__dict__)
    assert ws.mynumber_vault.keystore.subject_key(entry) is None  # the key itself is gone


@sqlite_only
@pytest.mark.parametrize("with_wal", [True, False], ids=["with-wal", "main-files-only"])
def test_mn_5_a_disposed_number_cannot_be_recovered_from_a_copy_of_the_files(
    office: tuple[Workspace, DemoPlan], tmp_path: Path, with_wal: bool
) -> None:
    import shutil

    from mamoru.vault.keys import read_key_file
    from mamoru.vault.keystore import KeyStore
    from mamoru.vault.service import SubjectErased, Vault

    ws, plan = office
    value = number("98765432109")
    entry = _collect(ws, _employee(plan), value, _filing(ws))
    key = ws.mynumber_vault.keystore.subject_key(entry)
    with ws.db.session() as session:
        row = session.get(MnEntry, entry)
        assert key is not None and row is not None and row.sealed is not None
        sealed = row.sealed
    with ws.db.session() as session:
        assert len(mn.dispose_due(session, ws, today=date(2034, 1, 11), actor=HANDLER)) == 1

    main = Path(str(ws.db.engine.url.database))
    keys = Path(str(ws.mynumber_vault.keystore.engine.url.database))
    copy = tmp_path / "copy"
    copy.mkdir()
    raw = b""
    for db_file in (main, keys):
        for suffix in ("", "-wal", "-shm") if with_wal else ("",):
            source = db_file.with_name(db_file.name + suffix)
            if source.exists():
                shutil.copyfile(source, copy / source.name)
                raw += (copy / source.name).read_bytes()
    assert [s for s in (value.encode(), key.wrapped_key, sealed[13:]) if s in raw] == []

    keystore = KeyStore(f"sqlite:///{copy / keys.name}")
    try:
        assert keystore.subject_key(entry) is None
        vault = Vault(read_key_file(ws.settings.resolved_mynumber_key_file), keystore)
        with pytest.raises(SubjectErased):
            vault.open_private(entry, mn.NUMBER_FIELD, sealed)  # even with the sealed bytes kept aside
    finally:
        keystore.dispose()


def test_mn_2_the_demo_file_share_holds_no_number_that_is_in_the_vault(workspace: Workspace) -> None:
    from mamoru.demo.full import load_everything

    loaded = load_everything(workspace, seed=1)
    assert loaded is not None and loaded.numbers > 0
    with workspace.db.session() as session:
        in_vault = [
            workspace.mynumber_vault.open_private(e.id, mn.NUMBER_FIELD, e.sealed).decode()
            for e in session.scalars(select(MnEntry).where(MnEntry.sealed.is_not(None)))
        ]
    assert in_vault
    share = workspace.settings.home / "demo-share"
    raw = b"".join(p.read_bytes() for p in share.rglob("*") if p.is_file())
    assert [n for n in in_vault if n.encode() in raw] == []
    assert re.search(rb"\d{12}", (share / "hr" / "staff-list.csv").read_bytes())  # the list is still there


def test_mn_6_a_non_handler_is_refused_audited_and_a_security_alert_opens(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    entry = _collect(ws, _employee(plan), number("11122233344"), _filing(ws))
    with ws.db.session() as session, pytest.raises(mn.MyNumberDenied):
        mn.read_number(
            session, ws, entry, actor="staff:hr02", affair=StatutoryAffair.WITHHOLDING_SLIP, now=NOW
        )
    with ws.db.session() as session:  # the worker's signal scan, twice: one denial opens one draft
        signals.scan(session, ws.vault)
        signals.scan(session, ws.vault)
        drafts = list(session.scalars(select(Incident).where(Incident.source == "signal:my_number_denied")))
        assert len(drafts) == 1 and drafts[0].my_number == "yes"
        from mamoru.audit.query import entries_for

        denied = [
            e
            for e in entries_for(session, "actor", "staff:hr02", limit=100)
            if e.body["decision"] == "deny" and "my_number_not_handler" in e.body["reasons"]
        ]
        assert denied


def test_mn_6_the_log_redactor_catches_every_way_of_writing_a_number() -> None:
    for written in ("123456789018", "１２３４５６７８９０１８", "1234-5678-9018", "1234 5678 9018"):
        assert "9018" not in redact(f"value={written};")
    assert redact("order 123456789010") == "order 123456789010"  # fails the check digit: not a number


def test_mn_7_the_control_catalogue_has_every_block() -> None:
    blocks = controls.by_block()
    assert all(blocks[b] for b in controls.Block)


def test_mn_6_flooding_every_input_of_a_running_server_leaves_no_number_in_any_log(
    tmp_path: Path, sqlite_initialized: Path
) -> None:
    from tests.test_serve_e2e import MAMORU, _free_port, initialized

    env = initialized(tmp_path, sqlite_initialized)
    log_file = tmp_path / "server.log"
    assert (
        subprocess.run([*MAMORU, "demo", "--seed", "4"], env=env, capture_output=True, timeout=180).returncode
        == 0
    )
    port = _free_port()
    with log_file.open("w") as log:
        server = subprocess.Popen(
            [*MAMORU, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    values = [number(f"{i:011d}") for i in (123456789, 98765432, 55555555555, 31415926535)]
    values += ["１２３４５６７８９０１８", "1234-5678-9018"]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "server did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=10) as client:
            for value in values:
                client.get(f"/?lang=ja&q={value}")
                client.get(f"/requests/status/{value}")
                client.get(f"/console/requests/{value}")
                ascii_value = value if value.isascii() else "123456789018"
                client.get(
                    f"/api/v1/subjects/{value}",
                    headers={"Authorization": f"Bearer {ascii_value}", "X-Mamoru-Purpose": ascii_value},
                )
                client.post("/api/v1/decisions", json={"subjects": [value], "categories": [value]})
                client.post("/console/login", data={"login": value, "password": value, "csrf": value})
                form = client.get("/requests/new?lang=en&kind=disclosure")
                csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
                client.post(
                    "/requests?lang=en",
                    data={
                        "csrf": csrf.group(1) if csrf else "",
                        "kind": "disclosure",
                        "name": value,
                        "email": f"{value}@example.jp",
                        "details": value,
                    },
                    files={"authority_doc": ("", b"", "application/octet-stream")},
                )
                client.post("/api/v1/requests", json={"kind": "disclosure", "name": value, "email": value})
    finally:
        server.terminate()
        server.wait(timeout=10)
    logs = log_file.read_text(encoding="utf-8", errors="replace")
    assert "GET /" in logs and "[redacted:my_number]" in logs  # the access log was on, and redacted
    found = [m.group(0) for m in _LOOSE.finditer(logs) if m.group(0) and redact(m.group(0)) != m.group(0)]
    assert found == []


def test_mn_1_consent_cannot_widen_the_use_of_the_number_beyond_its_affairs(
    office: tuple[Workspace, DemoPlan],
) -> None:
    from mamoru.guard.decision import Action
    from mamoru.guard.service import decide_and_record
    from mamoru.ledger.consent import ConsentScope, give_consent

    ws, plan = office
    _collect(ws, _employee(plan), number("22233344455"), _filing(ws))
    with ws.db.session() as session:
        give_consent(
            session,
            subject_id=_employee(plan),
            scope=ConsentScope.BEYOND_PURPOSE,
            channel="paper",
            evidence_ref="form:x",
            actor="test",
            now=NOW,
            purpose="personnel",
        )
        (decision,) = decide_and_record(
            session,
            ws.policy,
            actor=HANDLER,
            purpose="personnel",
            subjects=[_employee(plan)],
            categories=["my_number"],
            action=Action.READ,
            now=datetime.now(UTC),
        )
    assert not decision.allow and decision.reasons[0] == "my_number_outside_affairs"


def test_mn_6_the_console_page_and_outputs_open_for_handlers_only(office: tuple[Workspace, DemoPlan]) -> None:
    from fastapi.testclient import TestClient

    from mamoru.people.auth import set_password
    from mamoru.server import create_app
    from tests.test_console import PASSWORD, sign_in

    ws, plan = office
    _collect(ws, _employee(plan), number("33344455566"), _filing(ws))
    with ws.db.session() as session:
        for login in ("hr01", "pm01"):
            set_password(session, login, PASSWORD, actor="test")
    with TestClient(create_app(ws)) as client:
        assert sign_in(client, "pm01") == 303
        assert client.get("/console/mynumber").status_code == 403
        assert client.get("/console/mynumber/outputs/withholding_slips?year=2026").status_code == 403
    with TestClient(create_app(ws)) as client:
        assert sign_in(client, "hr01") == 303
        page = client.get("/console/mynumber?lang=en")
        assert page.status_code == 200 and number("33344455566") not in page.text
        csv_file = client.get("/console/mynumber/outputs/withholding_slips?year=2026")
        assert csv_file.status_code == 200 and number("33344455566") in csv_file.text
        assert csv_file.headers["cache-control"] == "no-store"


def test_mn_6_a_refusal_over_the_api_is_audited_and_opens_one_draft_at_once(
    office: tuple[Workspace, DemoPlan],
) -> None:
    # The refusal travels back to the client as an error; the audit entry of the decision and the
    # security draft must not go down with the request's transaction.
    from fastapi.testclient import TestClient

    from mamoru.audit.query import entries_for
    from mamoru.server import create_app
    from tests.tokens_helpers import bearer, staff_token

    ws, plan = office
    entry = _collect(ws, _employee(plan), number("11122233344"), _filing(ws))
    headers = bearer(staff_token(ws, "sa01"))
    with TestClient(create_app(ws)) as client:
        refused = client.get(
            f"/api/v1/mynumber/entries/{entry}/number", params={"affair": "withholding_slip"}, headers=headers
        )
    assert refused.status_code == 403 and number("11122233344") not in refused.text
    with ws.db.session() as session:
        denied = [
            e
            for e in entries_for(session, "actor", "staff:sa01", limit=100)
            if e.body.get("decision") == "deny" and "my_number_not_handler" in e.body["reasons"]
        ]
        assert len(denied) == 1
        drafts = list(session.scalars(select(Incident).where(Incident.source == "signal:my_number_denied")))
        assert len(drafts) == 1 and drafts[0].status == "draft"
        signals.scan(session, ws.vault)  # the worker's scan later finds nothing new
        assert (
            len(list(session.scalars(select(Incident).where(Incident.source == "signal:my_number_denied"))))
            == 1
        )


def test_mn_6_the_door_controllers_token_never_reads_a_number_whatever_actor_it_names(
    office: tuple[Workspace, DemoPlan],
) -> None:
    # The attack of issue 21: any token used to claim any actor in a header and read a full number (200).
    # A system token acts as itself; no header changes that, and no scope opens a My Number route.
    from fastapi.testclient import TestClient

    from mamoru.people.permissions import Scope
    from mamoru.server import create_app
    from tests.tokens_helpers import bearer, staff_token, system_token

    ws, plan = office
    secret = number("11122233344")
    entry = _collect(ws, _employee(plan), secret, _filing(ws))
    doors = bearer(system_token(ws, "doors", "door_events"))
    everything = bearer(system_token(ws, "everything", *(s.value for s in Scope)))
    url = f"/api/v1/mynumber/entries/{entry}/number"
    with TestClient(create_app(ws)) as client:
        for headers in (doors, everything):
            claimed = client.get(
                url, params={"affair": "withholding_slip"}, headers={**headers, "X-Mamoru-Actor": HANDLER}
            )
            assert claimed.status_code == 403 and secret not in claimed.text
            assert "system token never reaches a My Number route" in claimed.json()["detail"]
            for method, path in (
                ("POST", "/api/v1/mynumber/filings"),
                ("POST", "/api/v1/mynumber/entries"),
                ("GET", "/api/v1/mynumber/outputs/withholding_slips?year=2026"),
                ("POST", "/api/v1/mynumber/export?destination=x"),
            ):
                assert client.request(method, path, headers=headers, json={}).status_code == 403, path
        handler = client.get(
            url, params={"affair": "withholding_slip"}, headers=bearer(staff_token(ws, "hr01"))
        )
        assert handler.status_code == 200 and handler.json()["number"] == secret


def test_mn_6_twenty_refusals_at_once_are_each_audited_and_none_is_left_unsignalled(
    office: tuple[Workspace, DemoPlan],
) -> None:
    # Each refusal locks the head of the log, then the signal cursor; the worker's scan takes them in the
    # same order, so parallel refusals and scans queue up instead of deadlocking.
    from concurrent.futures import ThreadPoolExecutor

    from mamoru.audit.query import entries_for

    ws, plan = office
    entry = _collect(ws, _employee(plan), number("11122233344"), _filing(ws))

    def attempt(_: int) -> str:
        try:
            with ws.db.session() as session:
                mn.read_number(
                    session, ws, entry, actor="staff:sa01", affair=StatutoryAffair.WITHHOLDING_SLIP, now=NOW
                )
        except mn.MyNumberDenied:
            return "denied"
        return "read"

    def worker_scan(_: int) -> int:
        with ws.db.session() as session:
            return len(signals.scan(session, ws.vault))

    with ThreadPoolExecutor(max_workers=8) as pool:
        scans = [pool.submit(worker_scan, i) for i in range(4)]
        outcomes = list(pool.map(attempt, range(20)))
        [s.result() for s in scans]
    assert outcomes == ["denied"] * 20
    with ws.db.session() as session:
        denied = [
            e
            for e in entries_for(session, "actor", "staff:sa01", limit=200)
            if e.body.get("decision") == "deny" and "my_number_not_handler" in e.body["reasons"]
        ]
        assert len(denied) == 20
        assert signals.scan(session, ws.vault) == []  # every refusal already has its draft
