"""End to end over HTTP: a data subject submits a disclosure request on the portal of a real server,
gets the code from a real SMTP server on loopback, verifies, the office approves in the console, the job
runs, and the subject downloads a package holding exactly their seeded data. Plus IDOR and lockout."""

from __future__ import annotations

import io
import re
import time
import zipfile

import httpx
import orjson

from mamoru.demo import plan_demo
from mamoru.policy.load import load_pack
from mamoru.requests.service import MAX_CODE_ATTEMPTS
from tests.conftest import SEED, Inbox, _body


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _submit(client: httpx.Client, email: str, kind: str = "disclosure", **extra: str) -> str:
    form = client.get(f"/requests/new?lang=en&kind={kind}")
    assert form.status_code == 200
    response = client.post(
        "/requests?lang=en",
        data={"csrf": _csrf(form.text), "kind": kind, "name": "Portal Requester", "email": email, **extra},
        files={"authority_doc": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    location = response.headers["location"]
    assert location.startswith("/requests/status/")
    return location.split("/requests/status/")[1].split("?")[0]


def test_portal_request_from_form_to_package_over_http(
    server: tuple[str, str], smtp: tuple[Inbox, int]
) -> None:
    base, password = server
    inbox = smtp[0]
    plan = plan_demo(load_pack().policy, SEED)
    customer = [p for p in plan.subjects if p.kind == "customer"][2]
    email = customer.values["email"]

    subject_client = httpx.Client(base_url=base, timeout=20, follow_redirects=True)
    token = _submit(subject_client, email)
    assert len(token) >= 43  # 32 random bytes
    mail = _body(inbox.wait_for(email))
    code = re.search(r"(?:Verification code|確認コード): (\d{6})", mail)
    assert code is not None and f"/requests/status/{token}" in mail
    status = subject_client.get(f"/requests/status/{token}?lang=en")
    assert "Waiting for the code" in status.text
    assert (
        status.headers["cache-control"] == "no-store" and status.headers["referrer-policy"] == "no-referrer"
    )
    verified = subject_client.post(f"/requests/status/{token}/verify?lang=en", data={"code": code.group(1)})
    assert "Verified" in verified.text

    office = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
    login = office.get("/console/login")
    signed = office.post(
        "/console/login",
        data={"login": "pm01", "password": password, "csrf": _csrf(login.text)},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    ref = re.search(r"Reference: (R\d{8}-\w+)|受付番号: (R\d{8}-\w+)", mail)
    assert ref is not None
    queue = office.get("/console/requests?lang=en").text
    link = re.search(
        r'href="/console/requests/([0-9a-f-]{36})\?lang=en">' + re.escape(ref.group(1) or ref.group(2)), queue
    )
    assert link is not None
    request_id = link.group(1)
    detail = office.get(f"/console/requests/{request_id}?lang=en")
    assert email in detail.text  # the office sees who asked
    approved = office.post(
        f"/console/requests/{request_id}/approve?lang=en",
        data={"csrf": _csrf(detail.text), "fee_received": "true"},
        follow_redirects=False,
    )
    assert approved.status_code == 303

    deadline = time.monotonic() + 30
    while "Answered" not in subject_client.get(f"/requests/status/{token}?lang=en").text:
        assert time.monotonic() < deadline, "the job did not complete"
        time.sleep(0.2)
    inbox.wait_for(email, count=2)  # "your answer is ready"
    package = subject_client.get(f"/requests/status/{token}/package")
    assert package.status_code == 200 and package.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    data = orjson.loads(files["data.json"])
    (subject,) = data["subjects"]
    assert {f["field"]: f["value"] for f in subject["fields"]} == customer.values
    everything = b"".join(files.values()).decode("utf-8", "replace")
    for other in plan.all_people():
        if other.subject_id != customer.subject_id:
            for value in other.values.values():
                if len(value) >= 6 and value not in customer.values.values():
                    assert value not in everything
    letter = subject_client.get(f"/requests/status/{token}/letter")
    assert "Our answer to your request" in letter.text

    # IDOR: another person's request cannot be reached from this one, nor by guessing.
    other = [p for p in plan.subjects if p.kind == "customer"][3]
    other_token = _submit(
        httpx.Client(base_url=base, timeout=20, follow_redirects=True), other.values["email"]
    )
    assert other_token != token
    stranger = httpx.Client(base_url=base, timeout=20, follow_redirects=True)
    for path in (
        f"/requests/status/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}",
        f"/requests/status/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}/package",
        f"/requests/status/{other_token}/package",  # not answered: nothing to download
        f"/console/requests/{request_id}/package",
        "/console/requests",
    ):
        response = stranger.get(path, follow_redirects=False)
        assert response.status_code in (303, 401, 404), (path, response.status_code)
        assert response.status_code != 200

    # Wrong codes lock the other request after the limit.
    for _ in range(MAX_CODE_ATTEMPTS):
        stranger.post(f"/requests/status/{other_token}/verify?lang=en", data={"code": "000000"})
    assert (
        "Stopped after too many wrong codes" in stranger.get(f"/requests/status/{other_token}?lang=en").text
    )


def test_portal_form_reports_bad_input_and_changes_nothing(server: tuple[str, str]) -> None:
    base, _ = server
    client = httpx.Client(base_url=base, timeout=20, follow_redirects=True)
    form = client.get("/requests/new?lang=en&kind=erase")
    response = client.post(
        "/requests?lang=en",
        data={"csrf": _csrf(form.text), "kind": "erase", "name": "X", "email": "not-an-address"},
        files={"authority_doc": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 422
    assert "email" in response.text and "grounds" in response.text
    forged = client.post("/requests?lang=en", data={"csrf": "forged", "kind": "disclosure"})
    assert forged.status_code in (403, 409)
