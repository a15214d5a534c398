"""One error family for bad input: ``Invalid`` names each field; the API answers it with one 422 shape
whichever router raised it, and a page goes back to its form with the problem beside the field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from mamoru.errors import Invalid, MamoruError, Problem, problem, require
from mamoru.people import inquiries
from mamoru.server import create_app
from mamoru.web.i18n import catalog
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy
from tests.tokens_helpers import staff_token

PASSWORD = "correct horse battery"
NAME = "佐藤花子"
EMAIL = "hanako.sato@@example.jp"


def test_invalid_carries_each_problem_with_its_field_path() -> None:
    caught = Invalid(
        [
            ("items.2.email", "an e-mail address is needed"),
            problem(("corrections", 0, "field"), "not an item we keep", "unknown"),
            Problem(("grounds",), "choose at least one ground", "ground_needed"),
        ]
    )
    assert isinstance(caught, MamoruError) and caught.http_status == 422
    assert [p.loc for p in caught.problems] == [
        ("items", 2, "email"),
        ("corrections", 0, "field"),
        ("grounds",),
    ]
    assert [p.field for p in caught.problems] == ["items.2.email", "corrections.0.field", "grounds"]
    assert [p.type for p in caught.problems] == ["invalid", "unknown", "ground_needed"]
    assert str(caught).startswith("items.2.email: an e-mail address is needed; corrections.0.field:")
    with pytest.raises(Invalid) as raised:
        require([("note", "say what was done")])
    assert raised.value.problems == [Problem(("note",), "say what was done")]
    require([])


class _Person(BaseModel):
    name: str
    email: str
    age: int


def test_invalid_from_pydantic_keeps_where_and_why_but_never_the_value() -> None:
    with pytest.raises(ValidationError) as bad:
        _Person.model_validate({"email": EMAIL, "age": NAME})
    caught = Invalid.from_validation(bad.value)
    assert {(p.field, p.type) for p in caught.problems} == {("name", "missing"), ("age", "int_parsing")}
    assert NAME not in str(caught) and all(NAME not in p.msg for p in caught.problems)


def test_an_inquiry_refused_by_the_service_names_its_fields_and_no_value() -> None:
    data = inquiries.InquiryIn("praise", "portal", "gossip", NAME, EMAIL, "")
    problems = inquiries.check(data)
    assert {p.field for p in problems} == {"kind", "category", "text"}
    assert all(NAME not in p.msg and EMAIL not in p.msg for p in problems)


@pytest.fixture
def client(workspace: Workspace) -> Iterator[tuple[TestClient, dict[str, str]]]:
    demo_copy(workspace, 3, password=PASSWORD)
    token = staff_token(workspace, "po01")
    with TestClient(create_app(workspace)) as c:
        yield c, {"Authorization": f"Bearer {token}"}


ENTRY = {
    "code": "L-survey",
    "name": "アンケート回答",
    "data_items": ["contact", "survey"],
    "purposes": ["research"],
    "storage_location": "調査分析サーバ",
    "storage_method": "暗号化データベース",
    "access_roles": ["research"],
    "use_until": "集計完了まで",
    "retention_rule": "surveys",
    "subject_kinds": ["survey_respondent"],
}


def _shape(answer: Any) -> tuple[int, set[str], set[tuple[str, ...]]]:
    body = answer.json()
    assert isinstance(body["error"], str) and isinstance(body["detail"], list) and body["detail"]
    for item in body["detail"]:
        assert isinstance(item["loc"], list) and all(isinstance(p, str | int) for p in item["loc"])
        assert isinstance(item["msg"], str) and isinstance(item["type"], str)
    return answer.status_code, set(body), {tuple(sorted(item)) for item in body["detail"]}


def test_two_routers_answer_invalid_input_with_the_same_422_shape(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, auth = client
    request = c.post("/api/v1/requests", headers=auth, json={"kind": "erase", "name": NAME, "email": EMAIL})
    ledger = c.post("/api/v1/ledger", headers=auth, json={**ENTRY, "purposes": ["no_such_purpose"]})
    unreadable = c.post("/api/v1/requests/1/verify", headers=auth, json={})
    same = (422, {"error", "detail"}, {("loc", "msg", "type")})
    assert _shape(request) == _shape(ledger) == _shape(unreadable) == same
    fields = {tuple(item["loc"]): item["type"] for item in request.json()["detail"]}
    assert fields[("email",)] == "email" and fields[("grounds",)] == "ground_needed"
    assert [(item["loc"], item["type"]) for item in ledger.json()["detail"]] == [(["purposes"], "unknown")]
    assert ["body", "code"] in [item["loc"] for item in unreadable.json()["detail"]]
    for answer in (request, ledger):
        assert NAME not in answer.text and EMAIL not in answer.text


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_bad_console_form_goes_back_with_the_error_beside_the_field(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    form = c.get("/console/login")
    c.post("/console/login", data={"login": "po01", "password": PASSWORD, "csrf": _csrf(form.text)})
    csrf = _csrf(c.get("/console/").text)
    made = c.post(
        "/console/inquiries?lang=en",
        data={"csrf": csrf, "kind": "inquiry", "channel": "phone", "category": "other", "text": "call back"},
        follow_redirects=False,
    )
    ref = made.headers["location"].split("/")[-1].split("?")[0]
    note = f"{NAME} {EMAIL}"
    back = c.post(
        f"/console/inquiries/{ref}/action?lang=en",
        data={"csrf": csrf, "kind": "telepathy", "note": note},
        follow_redirects=False,
    )
    assert back.status_code == 303
    where = urlsplit(back.headers["location"])
    assert where.path == f"/console/inquiries/{ref}"
    assert parse_qs(where.query)["error"] == ["kind:invalid"]
    assert NAME not in back.headers["location"] and "hanako" not in back.headers["location"]
    page = c.get(back.headers["location"])
    en = catalog("en")
    assert page.status_code == 200 and en["fix_errors"] in page.text
    beside = re.search(
        r'name="kind">.*?</select><span class="field-error" id="kind-error">([^<]+)</span>', page.text
    )
    assert beside is not None and beside.group(1) == en["err_invalid"]
    assert 'id="note-error"' not in page.text


def test_a_bad_portal_form_is_shown_again_with_each_error_beside_its_field_in_japanese(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    form = c.get("/requests/new?lang=ja&kind=erase")
    again = c.post(
        "/requests?lang=ja",
        data={"csrf": _csrf(form.text), "kind": "erase", "name": NAME, "email": EMAIL},
        files={"authority_doc": ("", b"", "application/octet-stream")},
    )
    ja = catalog("ja")
    assert again.status_code == 422 and ja["fix_errors"] in again.text
    assert f'<span class="field-error" id="email-error">{ja["err_email"]}</span>' in again.text
    assert f'<span class="field-error" id="grounds-error">{ja["err_ground_needed"]}</span>' in again.text
    assert 'id="name-error"' not in again.text
    summary = again.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert NAME not in summary and EMAIL not in summary


def test_a_forged_error_link_shows_only_catalog_texts(client: tuple[TestClient, dict[str, str]]) -> None:
    c, _ = client
    form = c.get("/console/login")
    c.post("/console/login", data={"login": "po01", "password": PASSWORD, "csrf": _csrf(form.text)})
    page = c.get("/console/people?lang=en&error=login:call_0120_now&error=<b>x</b>:invalid")
    summary = page.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert "call_0120_now" not in summary and "<b>x</b>" not in page.text and "&lt;b&gt;" not in summary
    assert f'<span class="field-error" id="login-error">{catalog("en")["err_invalid"]}</span>' in page.text


def test_a_form_the_server_cannot_read_goes_back_to_its_page_in_words_not_json(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    """A posted form with a field missing or too long (what FastAPI itself refuses, before any service)
    goes back to the page it was sent from, each problem beside its field in the page's language; the
    API still answers JSON."""
    c, _ = client
    form = c.get("/console/login?lang=ja")
    refused = c.post(
        "/console/login?lang=ja",
        data={"login": "x" * 65, "csrf": _csrf(form.text)},
        headers={"referer": "http://testserver/console/login?lang=ja"},
        follow_redirects=False,
    )
    assert refused.status_code == 303 and "json" not in refused.headers.get("content-type", "")
    where = urlsplit(refused.headers["location"])
    assert where.path == "/console/login"
    assert sorted(parse_qs(where.query)["error"]) == ["login:string_too_long", "password:missing"]
    page = c.get(refused.headers["location"])
    ja = catalog("ja")
    assert ja["fix_errors"] in page.text
    assert f'<span class="field-error" id="password-error">{ja["err_missing"]}</span>' in page.text
    assert f'<span class="field-error" id="login-error">{ja["err_string_too_long"]}</span>' in page.text
    # from another site, or with no page named, it is an error page in words, never JSON
    elsewhere = c.post(
        "/console/login?lang=en", data={"csrf": "x"}, headers={"referer": "http://evil.example/x"}
    )
    assert elsewhere.status_code == 422 and elsewhere.headers["content-type"].startswith("text/html")
    assert catalog("en")["errpage_422_title"] in elsewhere.text
