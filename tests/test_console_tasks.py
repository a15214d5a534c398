"""Every task in the browser (issue 23 item 6): incidents and their report items with the days left,
staff and roles, processor checks, control owners, one's own password and second factor, the erasure
confirmation and a data map a person can read. Each through the app's HTTP routes, as a person would:
with the session's CSRF token, refused to roles without the duty, and bad input refused in words."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamoru.demo import DemoPlan
from mamoru.incidents import service as incidents
from mamoru.law.requests import RequestKind
from mamoru.people.staff import SUGGESTED, staff_logins
from mamoru.people.tables import Staff, StaffRole
from mamoru.pms.tables import ControlRecord
from mamoru.requests import service as requests_service
from mamoru.server import create_app
from mamoru.transfers.tables import ProcessorAssessment, ProcessorMonitoring
from mamoru.words import JST, catalog
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy
from tests.requests_helpers import person, verified

PASSWORD = "correct horse battery"
JA, EN = catalog("ja"), catalog("en")


@pytest.fixture
def demo(workspace: Workspace) -> tuple[Workspace, DemoPlan]:
    return workspace, demo_copy(workspace, 8, password=PASSWORD)


@pytest.fixture
def client(demo: tuple[Workspace, DemoPlan]) -> Iterator[TestClient]:
    with TestClient(create_app(demo[0])) as c:
        yield c


def sign_in(client: TestClient, login: str, password: str = PASSWORD, code: str = "") -> int:
    form = client.get("/console/login")
    data = {"login": login, "password": password, "csrf": csrf_of(form.text), "code": code}
    return client.post("/console/login", data=data, follow_redirects=False).status_code


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def text(page: str) -> str:
    return html.unescape(page)


def local(at: datetime) -> str:
    return at.astimezone(JST).strftime("%Y-%m-%dT%H:%M")


# --- incidents --------------------------------------------------------------------------------------


def test_appi_26d_an_incident_is_opened_and_its_report_items_saved_in_the_browser(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    assert sign_in(client, "pm01") == 303
    listing = client.get("/console/incidents?lang=ja")
    aware = datetime.now(UTC) - timedelta(days=1)
    opened = client.post(
        "/console/incidents?lang=ja",
        data={"csrf": csrf_of(listing.text), "aware_at": local(aware), "overview": "顧客名簿の誤送信"},
        follow_redirects=False,
    )
    assert opened.status_code == 303 and opened.headers["location"].endswith("/items?lang=ja")
    items_url = opened.headers["location"]
    ref = items_url.split("/")[3]
    form = client.get(items_url)
    assert form.status_code == 200 and JA["tk_item_secondary_damage"] in text(form.text)
    items = {
        "csrf": csrf_of(form.text),
        "overview": "顧客名簿の誤送信",
        "data_items": "氏名、メールアドレス",
        "affected_count": "1200",
        "cause": "宛先の確認漏れ",
        "secondary_damage": "現時点でなし",
        "response_to_individuals": "お詫びの連絡を開始",
        "publication": "ウェブサイトで公表予定",
        "prevention": "送信前の二重確認",
        "other": "特になし",
        "occurred_at": local(aware - timedelta(hours=3)),
        "my_number": "no",
        "org_type": "private_business",
        "medium": "email",
        "financial_risk": "on",
    }
    saved = client.post(items_url, data=items, follow_redirects=False)
    assert saved.status_code == 303
    with ws.db.session() as session:
        incident = incidents.get(session, ref)
        assert incident.affected_count == 1200 and incident.financial_risk and incident.medium == "email"
        assert incidents.narrative(ws.vault, incident)["cause"] == "宛先の確認漏れ"
        assert incidents.classification(incident).reportable  # financial risk: reportable (APPI-26a)
    page = text(client.get(f"/console/incidents/{ref}?lang=ja").text)
    assert "宛先の確認漏れ" in page and JA["tk_report_ppc_prelim"] in page
    # Every item is there, so the final report is accepted (APPI-26d).
    final = client.post(
        f"/console/incidents/{ref}/report?lang=ja",
        data={"csrf": csrf_of(page), "kind": "ppc_final"},
        follow_redirects=False,
    )
    assert final.status_code == 303 and "error=" not in final.headers["location"]


def test_appi_26d_bad_report_items_are_refused_in_words_beside_the_field_and_change_nothing(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    with ws.db.session() as session:
        ref = incidents.open_incident(
            session, ws.vault, aware_at=datetime.now(UTC), actor="test", now=datetime.now(UTC), overview="x"
        ).ref
    assert sign_in(client, "pm01") == 303
    form = client.get(f"/console/incidents/{ref}/items?lang=ja")
    bad = client.post(
        f"/console/incidents/{ref}/items?lang=ja",
        data={
            "csrf": csrf_of(form.text),
            "overview": "変更しようとした",
            "affected_count": "千二百",
            "occurred_at": local(datetime.now(UTC) + timedelta(days=2)),
            "my_number": "maybe",
            "org_type": "private_business",
        },
    )
    page = text(bad.text)
    assert bad.status_code == 422
    assert JA["err_count"] in page and JA["err_future"] in page and JA["err_choice"] in page
    assert 'id="affected_count-error"' in page and "変更しようとした" in page  # typed values stay
    with ws.db.session() as session:
        assert incidents.narrative(ws.vault, incidents.get(session, ref))["overview"] == "x"
    opened = client.post(
        "/console/incidents?lang=en",
        data={"csrf": csrf_of(form.text), "aware_at": "yesterday", "overview": ""},
        follow_redirects=False,
    )
    assert opened.status_code == 303 and "error=aware_at" in opened.headers["location"]
    shown = text(client.get(opened.headers["location"]).text)
    assert EN["err_datetime"] in shown and EN["err_missing"] in shown


def test_appi_26c_each_report_clock_counts_down_the_days_left(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    now = datetime.now(UTC)
    with ws.db.session() as session:
        incident = incidents.open_incident(
            session, ws.vault, aware_at=now - timedelta(days=2), actor="test", now=now, special_care=True
        )
        ref = incident.ref
        left = {c.report: c.days_left for c in incidents.countdowns(session, incident, now.date())}
    # Preliminary due 5 days after awareness, final on the 30th day (Rules Art. 8).
    assert left == {"ppc_prelim": 3, "ppc_final": 27, "pmark_final": 27}
    assert sign_in(client, "am01") == 303  # the audit manager reads the clocks
    page = text(client.get(f"/console/incidents/{ref}?lang=ja").text)
    assert "残り3日" in page and "残り27日" in page
    with ws.db.session() as session:
        later = incidents.countdowns(session, incidents.get(session, ref), now.date() + timedelta(days=7))
    assert later[0].days_left == -4


def test_incident_forms_are_refused_to_roles_without_the_duty_and_without_the_csrf_token(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    with ws.db.session() as session:
        ref = incidents.open_incident(
            session, ws.vault, aware_at=datetime.now(UTC), actor="test", now=datetime.now(UTC), overview="x"
        ).ref
    assert sign_in(client, "am01") == 303  # reads incidents, does not manage them
    assert client.get(f"/console/incidents/{ref}/items").status_code == 403
    csrf = csrf_of(client.get("/console/").text)
    assert client.post(f"/console/incidents/{ref}/items", data={"csrf": csrf}).status_code == 403
    assert client.post("/console/incidents", data={"csrf": csrf, "aware_at": "x"}).status_code == 403
    assert sign_in(client, "pm01") == 303
    assert client.post(f"/console/incidents/{ref}/items", data={"csrf": "forged"}).status_code == 403


# --- staff and roles --------------------------------------------------------------------------------


def test_appi_24_staff_are_added_and_roles_granted_and_revoked_in_the_browser(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    assert sign_in(client, "pm01") == 303
    page = client.get("/console/people?lang=ja")
    csrf = csrf_of(page.text)
    added = client.post(
        "/console/people/staff?lang=ja",
        data={"csrf": csrf, "login": "hr09", "kind": "dispatched", "department": "human_resources"},
        follow_redirects=False,
    )
    assert added.status_code == 303 and "error" not in added.headers["location"]
    granted = client.post(
        "/console/people/staff/hr09/roles?lang=ja",
        data={"csrf": csrf, "change": "grant", "role": "privacy_staff"},
        follow_redirects=False,
    )
    assert granted.status_code == 303
    with ws.db.session() as session:
        staff = session.scalar(select(Staff).where(Staff.login == "hr09"))
        assert staff is not None and staff.kind == "dispatched" and staff.role_names == ["privacy_staff"]
    assert JA["tk_role_privacy_staff"] in text(client.get("/console/people?lang=ja&page=1").text)
    revoked = client.post(
        "/console/people/staff/hr09/roles?lang=ja",
        data={"csrf": csrf, "change": "revoke", "role": "privacy_staff"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    with ws.db.session() as session:
        staff = session.scalar(select(Staff).where(Staff.login == "hr09"))
        assert staff is not None and staff.role_names == []


def test_appi_24_bad_staff_input_is_refused_in_words_and_the_audit_manager_stays_apart(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    assert sign_in(client, "pm01") == 303
    csrf = csrf_of(client.get("/console/people").text)
    bad = client.post(
        "/console/people/staff?lang=ja",
        data={"csrf": csrf, "login": "Yamada Taro", "kind": "intern", "department": "人事"},
        follow_redirects=False,
    )
    shown = text(client.get(bad.headers["location"]).text)
    assert JA["err_login"] in shown and JA["err_choice"] in shown and JA["err_department"] in shown
    # JIS Q 15001: the protection manager cannot also be the audit manager.
    exclusive = client.post(
        "/console/people/staff/pm01/roles?lang=en",
        data={"csrf": csrf, "change": "grant", "role": "audit_manager"},
        follow_redirects=False,
    )
    assert EN["err_role_exclusive"] in text(client.get(exclusive.headers["location"]).text)
    with ws.db.session() as session:
        assert session.scalar(select(Staff).where(Staff.login == "Yamada Taro")) is None
        pm = session.scalar(select(Staff).where(Staff.login == "pm01"))
        assert pm is not None and "audit_manager" not in pm.role_names
    assert sign_in(client, "am01") == 303  # reads the register, does not change it
    csrf = csrf_of(client.get("/console/people").text)
    refused = client.post(
        "/console/people/staff/sa01/roles", data={"csrf": csrf, "change": "grant", "role": "auditor"}
    )
    assert refused.status_code == 403


# --- processors and controls ----------------------------------------------------------------------------


def test_appi_25_a_processor_assessment_and_monitoring_are_recorded_in_the_browser(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    today = datetime.now(UTC).date().isoformat()
    assert sign_in(client, "po01") == 303
    page = client.get("/console/transfers?lang=ja")
    assert "アメリカ合衆国" in text(page.text)  # the foreign processor's country by name
    csrf = csrf_of(page.text)
    base = {"csrf": csrf, "processor": "mailing", "on": today, "evidence_ref": "評価票 2026-12"}
    assessed = client.post(
        "/console/transfers/checks?lang=ja",
        data={**base, "check": "assessment", "score": "85", "valid_days": "365"},
        follow_redirects=False,
    )
    monitored = client.post(
        "/console/transfers/checks?lang=ja",
        data={**base, "check": "monitoring", "satisfactory": "no"},
        follow_redirects=False,
    )
    assert assessed.status_code == monitored.status_code == 303
    assert "error" not in assessed.headers["location"] + monitored.headers["location"]
    with ws.db.session() as session:
        a = session.scalar(
            select(ProcessorAssessment).where(ProcessorAssessment.evidence_ref == "評価票 2026-12")
        )
        m = session.scalar(
            select(ProcessorMonitoring).where(ProcessorMonitoring.evidence_ref == "評価票 2026-12")
        )
        assert a is not None and a.processor == "mailing" and a.score == 85 and a.passed
        assert m is not None and m.processor == "mailing" and not m.satisfactory


def test_appi_25_bad_processor_checks_are_refused_in_words_and_only_the_office_records_them(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    assert sign_in(client, "po01") == 303
    csrf = csrf_of(client.get("/console/transfers").text)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    bad = client.post(
        "/console/transfers/checks?lang=ja",
        data={"csrf": csrf, "check": "assessment", "processor": "nobody", "on": tomorrow, "score": "120"},
        follow_redirects=False,
    )
    shown = text(client.get(bad.headers["location"]).text)
    for key in ("err_choice", "err_future", "err_range_0_100", "err_evidence"):
        assert JA[key] in shown, key
    with ws.db.session() as session:
        assert (
            session.scalar(select(ProcessorAssessment).where(ProcessorAssessment.assessed_by == "staff:po01"))
            is None
        )
    assert sign_in(client, "am01") == 303  # reads the supervision, does not record it
    csrf = csrf_of(client.get("/console/transfers").text)
    assert client.post("/console/transfers/checks", data={"csrf": csrf}).status_code == 403


def test_appi_23_a_control_owner_is_assigned_in_the_browser(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    assert sign_in(client, "pm01") == 303
    csrf = csrf_of(client.get("/console/pms").text)
    today = datetime.now(UTC).date().isoformat()
    assigned = client.post(
        "/console/pms/controls?lang=ja",
        data={
            "csrf": csrf,
            "control": "GL-10-1-1",
            "owner": "po01",
            "reviewed_on": today,
            "evidence": "規程 3.2",
        },
        follow_redirects=False,
    )
    assert assigned.status_code == 303 and "error" not in assigned.headers["location"]
    with ws.db.session() as session:
        row = session.get(ControlRecord, "GL-10-1-1")
        assert row is not None and row.owner == "po01" and row.evidence == "規程 3.2"
    bad = client.post(
        "/console/pms/controls?lang=en",
        data={"csrf": csrf, "control": "GL-99", "owner": "", "reviewed_on": "someday", "evidence": ""},
        follow_redirects=False,
    )
    shown = text(client.get(bad.headers["location"]).text)
    for key in ("err_choice", "err_owner", "err_date", "err_evidence"):
        assert EN[key] in shown, key
    assert sign_in(client, "am01") == 303
    csrf = csrf_of(client.get("/console/pms").text)
    assert client.post("/console/pms/controls", data={"csrf": csrf}).status_code == 403


def test_the_owner_field_suggests_the_staff_with_a_role_never_the_whole_register(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    """At 100,000 staff the whole register in the owner field's suggestions made the PMS page megabytes
    (issue 22): it suggests the current staff who hold a role, at most :data:`SUGGESTED`; a login not
    suggested may still be typed."""
    ws = demo[0]
    today = datetime.now(UTC).date()
    with ws.db.session() as session:
        session.add(Staff(login="norole01", department="sales", joined_on=today))
        gone = Staff(login="gone01", department="sales", joined_on=today, revoked_at=datetime.now(UTC))
        gone.roles = [StaffRole(role="privacy_staff")]
        session.add(gone)
    with ws.db.session() as session:
        holders = sorted(
            set(session.scalars(select(Staff.login).join(StaffRole).where(Staff.revoked_at.is_(None))))
        )
        assert staff_logins(session, limit=2) == holders[:2]
    assert sign_in(client, "pm01") == 303
    page = client.get("/console/pms").text
    found = re.search(r'<datalist id="staff-logins">(.*?)</datalist>', page)
    assert found is not None
    suggested = re.findall(r'<option value="([^"]+)">', found.group(1))
    assert suggested == holders[:SUGGESTED] and "pm01" in suggested
    assert "norole01" not in suggested and "gone01" not in suggested


# --- one's own account ----------------------------------------------------------------------------------


def test_a_person_changes_their_own_password_and_every_session_ends(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    assert sign_in(client, "sa01") == 303  # any staff member: their own account is theirs
    page = client.get("/console/account?lang=ja")
    assert page.status_code == 200
    csrf = csrf_of(page.text)
    wrong = client.post(
        "/console/account/password?lang=ja",
        data={"csrf": csrf, "current": "not it", "new": "short", "repeated": "short"},
    )
    assert wrong.status_code == 422
    assert JA["err_password_wrong"] in text(wrong.text) and JA["err_password_short"] in text(wrong.text)
    differ = client.post(
        "/console/account/password?lang=ja",
        data={"csrf": csrf, "current": PASSWORD, "new": "a new long passphrase", "repeated": "another one"},
    )
    assert differ.status_code == 422 and JA["err_password_mismatch"] in text(differ.text)
    assert sign_in(client, "sa01") == 303  # nothing changed
    csrf = csrf_of(client.get("/console/account").text)
    changed = client.post(
        "/console/account/password?lang=ja",
        data={
            "csrf": csrf,
            "current": PASSWORD,
            "new": "a new long passphrase",
            "repeated": "a new long passphrase",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303 and changed.headers["location"].startswith("/console/login")
    assert client.get("/console/account", follow_redirects=False).status_code == 303  # signed out
    assert sign_in(client, "sa01") == 401
    assert sign_in(client, "sa01", "a new long passphrase") == 303
    assert client.post("/console/account/password", data={"csrf": "forged"}).status_code == 403


def _uri_of(page: str) -> str:
    """The otpauth URI inside the page's QR code, decoded the way an authenticator app would read it."""
    found = re.search(r'name="pending" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_two_factor_sign_in_is_set_up_by_the_person_with_a_qr_code_only_they_see(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    assert sign_in(client, "po01") == 303
    csrf = csrf_of(client.get("/console/account").text)
    started = client.post("/console/account/totp/start?lang=ja", data={"csrf": csrf})
    assert started.status_code == 200 and "<svg" in started.text and "<path" in started.text
    assert "otpauth://" not in started.text  # the secret reaches the page only as the QR code
    pending = _uri_of(started.text)
    from mamoru.people.auth import SignedIn, resume_totp

    with ws.db.session() as session:
        po = session.scalar(select(Staff).where(Staff.login == "po01"))
        assert po is not None and po.totp_sealed is None  # nothing kept before the person confirms
        setup = resume_totp(ws.vault, SignedIn(po.id, "po01", frozenset(), ""), pending)
    assert setup is not None
    totp = pyotp.parse_uri(setup.uri)
    wrong = client.post(
        "/console/account/totp/confirm?lang=ja", data={"csrf": csrf, "pending": pending, "code": "000000"}
    )
    assert wrong.status_code == 422 and JA["err_totp_code"] in text(wrong.text) and "<svg" in wrong.text
    # Another person cannot take over the set-up: the pending secret is sealed to po01.
    assert sign_in(client, "pm01") == 303
    other = client.post(
        "/console/account/totp/confirm?lang=en",
        data={"csrf": csrf_of(client.get("/console/account").text), "pending": pending, "code": totp.now()},  # type: ignore[attr-defined]
    )
    assert other.status_code == 422 and EN["err_totp_setup_expired"] in text(other.text)
    assert sign_in(client, "po01") == 303
    csrf = csrf_of(client.get("/console/account").text)
    on = client.post(
        "/console/account/totp/confirm?lang=ja",
        data={"csrf": csrf, "pending": pending, "code": totp.now()},  # type: ignore[attr-defined]
        follow_redirects=False,
    )
    assert on.status_code == 303
    assert JA["tk_done_totp_on"] in text(client.get(on.headers["location"]).text)
    assert sign_in(client, "po01") == 401  # a code is needed now
    code = totp.at(datetime.now(UTC) + timedelta(seconds=30))  # type: ignore[attr-defined]
    assert sign_in(client, "po01", code=code) == 303


def test_an_administrator_cannot_set_up_someone_elses_second_factor_from_the_cli(
    demo: tuple[Workspace, DemoPlan],
) -> None:
    from typer.testing import CliRunner

    from mamoru.cli.main import app

    result = CliRunner().invoke(app, ["staff", "totp", "po01"])
    assert result.exit_code != 0 and "otpauth" not in result.output
    with demo[0].db.session() as session:
        po = session.scalar(select(Staff).where(Staff.login == "po01"))
        assert po is not None and po.totp_sealed is None


# --- the erasure confirmation ---------------------------------------------------------------------------


def test_appi_36_an_erasure_is_approved_only_after_a_preview_of_what_is_erased_and_held_by_law(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws, plan = demo
    employee = person(plan, "employee", 0)
    request_id = verified(ws, RequestKind.ERASE, employee.values["email"], grounds=["no_longer_needed"])
    assert sign_in(client, "pm01") == 303
    detail = client.get(f"/console/requests/{request_id}?lang=en")
    csrf = csrf_of(detail.text)
    skipped = client.post(
        f"/console/requests/{request_id}/approve?lang=en", data={"csrf": csrf}, follow_redirects=False
    )
    assert skipped.status_code == 303 and skipped.headers["location"].startswith(
        f"/console/requests/{request_id}/approve"
    )
    with ws.db.session() as session:
        assert requests_service.get(session, request_id).status == "verified"  # not approved
    confirm = text(client.get(skipped.headers["location"]).text)
    assert EN["tk_held_by_law"] in confirm and "Labour Standards Act" in confirm
    assert EN["tk_will_erase"] in confirm and "built-in" not in confirm and EN["items"] in confirm
    approved = client.post(
        f"/console/requests/{request_id}/approve?lang=en",
        data={"csrf": csrf, "confirmed": "true"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    with ws.db.session() as session:
        assert requests_service.get(session, request_id).status != "verified"
    assert sign_in(client, "am01") == 303  # reads requests, does not decide them
    assert client.get(f"/console/requests/{request_id}/approve").status_code == 403


# --- the data map ---------------------------------------------------------------------------------------


def test_appi_28_the_data_map_reads_by_purpose_with_foreign_parties_by_country_name(
    client: TestClient, demo: tuple[Workspace, DemoPlan]
) -> None:
    ws = demo[0]
    assert sign_in(client, "pm01") == 303
    ja = text(client.get("/console/datamap?lang=ja").text)
    en = text(client.get("/console/datamap?lang=en").text)
    assert "アメリカ合衆国" in ja and "United States" in en and "[US]" not in en
    policy = ws.policy.policy
    for p in policy.purposes:
        assert p.text.ja in ja and p.id not in re.findall(r">([a-z_]+)<", ja)
    for c in policy.categories:
        if any(c.id in p.categories for p in policy.purposes):
            assert c.name.en in en
    assert sign_in(client, "sa01") == 303
    assert client.get("/console/datamap").status_code == 403
