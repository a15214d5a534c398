"""What a data subject reads (issue 23, items 3-5): times in Japan's time, the answer letter in words,
the e-mails, the status link sent again, the request form by kind, the public base URL, error pages.

One demo office is built once for the module (an employee whose Individual Number is in the My Number
vault, a refused My Number read, an answered disclosure); the tests read what it produced.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamoru.demo import DemoPerson, DemoPlan
from mamoru.demo.mynumber import load_demo_numbers
from mamoru.errors import Invalid, MamoruError, NotFound
from mamoru.guard.decision import Action
from mamoru.guard.service import decide_and_record
from mamoru.law.requests import RequestKind
from mamoru.outbox import SEALED_NAME, OutboxMessage
from mamoru.people.auth import set_password
from mamoru.requests import service
from mamoru.requests.notify import send_code
from mamoru.requests.sealed import details
from mamoru.requests.service import RequestIn
from mamoru.requests.tables import SubjectRequest
from mamoru.server import create_app
from mamoru.settings import Settings, served_base_url
from mamoru.web import requests as web_requests
from mamoru.words import catalog, day, when
from mamoru.workspace import Workspace
from tests.requests_helpers import approve_and_run, load_office, package, person, verified

PASSWORD = "correct horse battery"
TEMPLATES = Path(__file__).parents[1] / "src" / "mamoru" / "web" / "templates"
LETTER_TEMPLATE = Path(__file__).parents[1] / "src" / "mamoru" / "requests" / "templates" / "letter.html.j2"


@dataclass(frozen=True)
class Office:
    ws: Workspace
    plan: DemoPlan
    employee: DemoPerson
    refused_at: datetime
    letter: str
    purposes_letter: str


@pytest.fixture(scope="module")
def office(sqlite_initialized: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    home = tmp_path_factory.mktemp("subject-path") / "ws"
    shutil.copytree(sqlite_initialized, home)
    ws = Workspace.open(Settings(home=home, database_url=None, base_url="https://privacy.example.jp/"))
    try:
        plan = load_office(ws)
        load_demo_numbers(ws, plan, datetime.now(UTC))
        employee = person(plan, "employee", 0)
        with ws.db.session() as session:
            set_password(session, "pm01", PASSWORD, actor="test")
            refused_at = datetime.now(UTC)
            (decision,) = decide_and_record(
                session,
                ws.policy,
                actor="staff:hr01",
                purpose="my_number_staff",
                subjects=[employee.subject_id],
                categories=["hr_record"],
                action=Action.READ,
                now=refused_at,
            )
            assert not decision.allow
        request_id = verified(ws, RequestKind.DISCLOSURE, employee.values["email"], lang="ja")
        approve_and_run(ws, request_id, fee_received=True)
        letter = package(ws, request_id)["letter-ja.html"].decode()
        purposes_id = verified(ws, RequestKind.PURPOSE_NOTIFICATION, employee.values["email"], lang="ja")
        approve_and_run(ws, purposes_id)
        purposes_letter = package(ws, purposes_id)["letter-ja.html"].decode()
        yield Office(ws, plan, employee, refused_at, letter, purposes_letter)
    finally:
        ws.close()


@pytest.fixture(scope="module")
def client(office: Office) -> Iterator[TestClient]:
    with TestClient(create_app(office.ws), base_url="https://testserver") as c:
        yield c


# --- Japan time (item 3) ----------------------------------------------------------------------------


def test_times_people_read_are_in_japan_time_with_the_zone_and_japanese_dates() -> None:
    at = datetime(2026, 12, 2, 11, 37, tzinfo=UTC)
    assert when(at, "ja") == "2026年12月2日 20時37分（日本時間）"
    assert when(at, "en") == "2 Dec 2026, 20:37 JST"
    assert when(at.replace(tzinfo=None), "ja") == when(at, "ja")  # the store's zoneless times are UTC
    late = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # already 3 December in Tokyo
    assert day(late, "ja") == "2026年12月3日" and day(late, "en") == "3 Dec 2026"
    assert day(date(2026, 4, 1), "ja") == "2026年4月1日"
    assert when(late.isoformat(), "en") == "3 Dec 2026, 00:30 JST"


def test_no_page_or_letter_formats_a_time_itself() -> None:
    # Every time reaches a person through mamoru.words (the jst_* filters): no strftime, no "UTC".
    for path in [*TEMPLATES.glob("*.j2"), LETTER_TEMPLATE]:
        text = path.read_text(encoding="utf-8")
        assert ".strftime(" not in text, path.name
        assert not re.search(r"\bUTC\b", text), path.name
        assert not re.search(r"_at\[:1[0-9]\]", text), path.name


def _signed_in(client: TestClient) -> None:
    if client.cookies.get("mamoru_session"):
        return
    form = client.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    client.post("/console/login", data={"login": "pm01", "password": PASSWORD, "csrf": csrf.group(1)})


def test_console_request_page_shows_japan_time(office: Office, client: TestClient) -> None:
    _signed_in(client)
    with office.ws.db.session() as session:
        request = session.scalars(select(SubjectRequest).order_by(SubjectRequest.received_at)).first()
        assert request is not None
        page = client.get(f"/console/requests/{request.id}?lang=ja")
        assert page.status_code == 200
        assert when(request.received_at, "ja") in page.text


# --- the answer letter (item 5) ---------------------------------------------------------------------


def test_appi_33_letter_names_the_items_in_words_grouped_by_category(office: Office) -> None:
    letter, policy = office.letter, office.ws.policy.policy
    ja = catalog("ja")
    assert ja["field_name"] in letter and ja["field_email"] in letter
    for field in office.employee.values:
        assert f">{field}<" not in letter and f"<small>{field}</small>" not in letter
    # Each category is a heading once, not repeated on every row.
    for category in {policy.fields[f] for f in office.employee.values if f in policy.fields}:
        name = policy.category(category).name.ja
        assert letter.count(f"<h3>{name}</h3>") == 1, name


def test_appi_33_letter_access_history_reads_as_sentences_in_japan_time(office: Office) -> None:
    letter = office.letter
    sentence = f"{when(office.refused_at, 'ja')} 人事部の担当者が マイナンバー事務 のために閲覧を求め、拒否されました"
    assert sentence in letter
    for code in ("staff:hr01", "decision.read", "my_number_staff", " deny", "+00:00"):
        assert code not in letter, code


def test_appi_33_letter_says_the_individual_number_is_held_and_how_it_is_disclosed(office: Office) -> None:
    assert catalog("ja")["letter_my_number_held"] in office.letter
    assert "個人番号関係事務の担当者が" in office.letter


def test_appi_38_letter_states_the_fee_in_words(office: Office) -> None:
    assert "手数料として1,000円を受領いたしました。" in office.letter
    assert "(received)" not in office.letter and "fee_received" not in office.letter


def test_appi_32b_purpose_letter_is_dated_in_japanese_and_reads_purposes(office: Office) -> None:
    letter = office.purposes_letter
    assert day(datetime.now(UTC), "ja") in letter
    assert not re.search(r"\d{4}-\d{2}-\d{2}", letter)
    assert office.ws.policy.policy.purpose("personnel").text.ja in letter


def test_jis_5_notice_pages_give_the_established_and_revised_dates_in_japanese(
    office: Office, client: TestClient
) -> None:
    policy = office.ws.policy.policy
    versions = client.get("/notice/versions?lang=ja").text
    assert day(policy.effective_from, "ja") in versions
    assert policy.effective_from.isoformat() not in versions


# --- e-mails and the status link (item 4) -----------------------------------------------------------


def _mails(ws: Workspace, kind: str) -> list[dict[str, str]]:
    with ws.db.session() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).all()
        return [orjson.loads(ws.vault.open_private(m.id, SEALED_NAME, m.sealed)) for m in rows if m.sealed]


def test_appi_32_mail_and_status_page_greet_state_the_fee_and_how_to_pay_and_are_signed(
    office: Office, client: TestClient
) -> None:
    ws = office.ws
    data = RequestIn(kind=RequestKind.DISCLOSURE, name="本人 花子", email="hanako@example.jp", lang="ja")
    with ws.db.session() as session:
        done = service.submit(session, ws.vault, ws.policy.policy, ws.settings, data, now=datetime.now(UTC))
        send_code(session, ws, done.request, done.code, done.status_token)
    (mail,) = [m for m in _mails(ws, "request.code") if m["to"] == "hanako@example.jp"]
    body, policy = mail["body"], ws.policy.policy
    assert body.startswith("本人 花子 様\n")
    assert "手数料: 1,000円" in body and policy.requests.fee_payment is not None
    assert policy.requests.fee_payment.ja in body
    assert f"https://privacy.example.jp/requests/status/{done.status_token}" in body
    assert "https://privacy.example.jp/requests/link?lang=ja" in body
    assert policy.organization.name.ja in body.split("\n-- \n", 1)[1]
    status = client.get(f"/requests/status/{done.status_token}?lang=ja").text
    assert "1,000円" in status and policy.requests.fee_payment.ja in status


def test_status_link_is_sent_again_with_the_same_answer_whether_or_not_a_request_exists(
    office: Office, client: TestClient
) -> None:
    ws, email = office.ws, office.employee.values["email"]
    web_requests.SUBMISSIONS._hits.clear()

    def ask(address: str) -> tuple[int, str, str]:
        form = client.get("/requests/link?lang=ja")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        answer = client.post(
            "/requests/link?lang=ja", data={"csrf": csrf.group(1), "email": address}, follow_redirects=False
        )
        shown = client.get(answer.headers["location"]).text.split("<main", 1)[1]
        return answer.status_code, answer.headers["location"], re.sub(r'name="csrf" value="[^"]+"', "", shown)

    before = len(_mails(ws, "request.link"))
    known, unknown = ask(email), ask("nobody-here@example.jp")
    assert known == unknown and known[0] == 303  # nothing tells whether a request exists
    sent = _mails(ws, "request.link")
    assert len(sent) - before == 2 and all(m["to"] == email for m in sent[before:])  # both of its requests
    again = ask(email)
    assert again == known and len(_mails(ws, "request.link")) == len(sent)  # once per 15 minutes at most
    web_requests.SUBMISSIONS._hits.clear()


def test_a_link_sent_again_replaces_the_old_one(office: Office) -> None:
    ws = office.ws
    _, old_token, _ = _submitted(ws, "renew@example.jp")
    now = datetime.now(UTC)
    with ws.db.session() as session:
        ((request, token),) = service.renew_links(session, ws.vault, "renew@example.jp", now=now)
        assert service.renew_links(session, ws.vault, "renew@example.jp", now=now) == []
    with ws.db.session() as session:
        assert service.by_token(session, token).id == request.id
        with pytest.raises(NotFound):
            service.by_token(session, old_token)


def test_the_link_form_is_rate_limited_per_client(office: Office, client: TestClient) -> None:
    web_requests.SUBMISSIONS._hits.clear()
    try:
        limit = office.ws.settings.portal_submissions_per_minute
        codes = [
            client.post("/requests/link?lang=en", data={"csrf": "x", "email": "a@example.jp"}).status_code
            for _ in range(limit + 1)
        ]
        assert codes[-1] == 429 and 429 not in codes[:-1]
        assert "Too many attempts" in client.post("/requests/link?lang=en", data={}).text
    finally:
        web_requests.SUBMISSIONS._hits.clear()


def _submitted(ws: Workspace, email: str, **extra: object) -> tuple[str, str, str]:
    data = RequestIn(kind=extra.pop("kind", RequestKind.DISCLOSURE), name="N", email=email, **extra)  # type: ignore[arg-type]
    with ws.db.session() as session:
        done = service.submit(session, ws.vault, ws.policy.policy, ws.settings, data, now=datetime.now(UTC))
        return done.request.id, done.status_token, done.code


# --- the request form (item 4) ----------------------------------------------------------------------


def test_request_form_asks_only_what_the_chosen_kind_needs_without_javascript(client: TestClient) -> None:
    ja = catalog("ja")
    first = client.get("/requests/new?lang=ja").text
    assert 'method="get" action="/requests/new"' in first and 'name="grounds"' not in first
    assert "<script" not in first
    correction = client.get("/requests/new?lang=ja&kind=correction").text
    assert 'name="correction_field"' in correction and 'name="grounds"' not in correction
    assert f">{ja['field_bank_account']}</option>" in correction and ">bank_account<" not in correction
    assert 'name="method"' not in correction
    erase = client.get("/requests/new?lang=ja&kind=erase").text
    assert 'name="grounds"' in erase and 'name="correction_field"' not in erase
    disclosure = client.get("/requests/new?lang=ja&kind=disclosure").text
    assert 'name="postal_address"' in disclosure and "1,000円" in disclosure
    assert catalog("ja")["rq_no_fee"] in correction
    for text in (ja["rq_data_use"], ja["rq_data_use_heading"], "定額小為替又は銀行振込"):
        assert text in disclosure


def test_appi_33_paper_answer_needs_a_postal_address_kept_sealed_and_shown_to_the_office(
    office: Office, client: TestClient
) -> None:
    ws = office.ws
    with pytest.raises(Invalid) as refused:
        _submitted(ws, "post@example.jp", method="paper")
    assert [p.type for p in refused.value.problems] == ["postal_address_needed"]
    address = "〒100-0013 東京都千代田区霞が関3-4-3 特許ビル"
    request_id, _, _ = _submitted(ws, "post@example.jp", method="paper", postal_address=address)
    with ws.db.session() as session:
        request = service.get(session, request_id)
        assert address.encode() not in request.sealed and "霞が関".encode() not in request.sealed
        assert details(ws.vault, request)["postal_address"] == address
    _signed_in(client)
    page = client.get(f"/console/requests/{request_id}?lang=ja")
    assert page.status_code == 200 and address in page.text


# --- the public base URL (item 4) -------------------------------------------------------------------


def test_serve_links_follow_its_own_host_and_port_unless_a_base_url_is_set(tmp_path: Path) -> None:
    unset = Settings(home=tmp_path)
    assert served_base_url(unset, "127.0.0.1", 8633) == ("http://127.0.0.1:8633", None)
    assert served_base_url(unset, "0.0.0.0", 8700)[0] == "http://localhost:8700"
    behind = Settings(home=tmp_path, trusted_proxies=["10.0.0.5"])
    url, warning = served_base_url(behind, "127.0.0.1", 8633)
    assert url == "http://127.0.0.1:8633" and warning is not None and "base_url" in warning
    public = Settings(home=tmp_path, trusted_proxies=["10.0.0.5"], base_url="https://privacy.example.jp/")
    assert served_base_url(public, "127.0.0.1", 8633) == ("https://privacy.example.jp", None)


def test_serve_hands_its_base_url_to_the_mails(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from mamoru.cli import common
    from mamoru.cli.main import app
    from mamoru.work import scheduler

    seen: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.append(office.ws.settings.link_base))
    monkeypatch.setattr(common, "opened_workspace", lambda: _Opened(office.ws))
    monkeypatch.setattr(scheduler, "run_mail_sender", lambda ws, stop: None)
    monkeypatch.setattr(scheduler, "run_audit_schedule", lambda ws, stop: None)
    monkeypatch.setattr(office.ws.settings, "base_url", None)
    result = CliRunner().invoke(app, ["serve", "--port", "8633"])
    assert result.exit_code == 0, result.output
    assert seen == ["http://127.0.0.1:8633"]
    bad = CliRunner().invoke(app, ["serve", "--base-url", "javascript:alert(1)"])
    assert bad.exit_code == 2


class _Opened:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def __enter__(self) -> Workspace:
        return self.ws

    def __exit__(self, *exc: object) -> None:
        return None


# --- error pages (item 4) ---------------------------------------------------------------------------


class _Forbidden(MamoruError):
    http_status = 403


def _with_failing_routes(ws: Workspace) -> FastAPI:
    app = create_app(ws)

    def forbidden() -> None:
        raise _Forbidden("not allowed")

    def broken() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/console/test-forbidden", forbidden)
    app.add_api_route("/requests/test-broken", broken)
    app.add_api_route("/api/v1/test-forbidden", forbidden)
    return app


def test_error_pages_are_html_in_the_page_language_and_json_stays_on_the_api(office: Office) -> None:
    ja, en = catalog("ja"), catalog("en")
    with TestClient(_with_failing_routes(office.ws), raise_server_exceptions=False) as c:
        missing = c.get("/no-such-page?lang=ja")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
        assert ja["errpage_404_title"] in missing.text and 'lang="ja"' in missing.text
        forbidden = c.get("/console/test-forbidden?lang=en")
        assert forbidden.status_code == 403 and en["errpage_403_title"] in forbidden.text
        assert "not allowed" not in forbidden.text
        broken = c.get("/requests/test-broken?lang=ja")
        assert broken.status_code == 500 and ja["errpage_500_title"] in broken.text
        assert "boom" not in broken.text
        api = c.get("/api/v1/test-forbidden")
        assert api.status_code == 403 and api.json()["error"] == "_Forbidden"
        assert c.get("/api/v1/no-such-thing").headers["content-type"].startswith("application/json")
