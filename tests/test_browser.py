"""In a real browser (Debian's Chromium, driven by Playwright): a data subject submits a request on the
portal and verifies it with the code from the loopback SMTP server; a privacy officer signs in, works
the request to the end, and the subject downloads the answer."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from mamoru.demo import plan_demo
from mamoru.policy.load import load_pack
from tests.conftest import SEED, Inbox, _body

CHROMIUM = os.environ.get("MAMORU_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(
                f"Chromium not found at {CHROMIUM} under CI=true (make test installs it with apt-get)"
            )
        pytest.skip(f"Chromium not found at {CHROMIUM}; install it with `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield instance
        finally:
            instance.close()


def test_a_subject_requests_and_an_officer_answers_in_the_browser(
    browser: object, server: tuple[str, str], smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    base, password = server
    inbox = smtp[0]
    plan = plan_demo(load_pack().policy, SEED)
    customer = [p for p in plan.subjects if p.kind == "customer"][5]
    email = customer.values["email"]

    subject = browser.new_page()  # type: ignore[attr-defined]
    subject.goto(f"{base}/requests/new?lang=en")
    subject.check("input[name=kind][value=disclosure]")
    subject.click("button[type=submit]")  # the kind first; then the form asks only what it needs
    subject.wait_for_selector("#name")
    subject.fill("#name", "Browser Requester")
    subject.fill("#email", email)
    subject.click("button[type=submit]")
    subject.wait_for_url(re.compile(r".*/requests/status/.*"))
    status_url = subject.url.split("?")[0]
    code = re.search(r"Verification code: (\d{6})", _body(inbox.wait_for(email)))
    assert code is not None
    subject.fill("#code", code.group(1))
    subject.click("form[action*=verify] button[type=submit]")
    subject.wait_for_selector("text=Verified; we are deciding", timeout=60_000)
    subject.screenshot(path=str(tmp_path / "portal-status.png"))
    ref = re.search(r"R\d{8}-[A-Z2-7]{6}", subject.content())
    assert ref is not None

    officer = browser.new_page()  # type: ignore[attr-defined]
    officer.goto(f"{base}/console/login?lang=en")
    officer.fill("#login", "pm01")
    officer.fill("#password", password)
    officer.click("button[type=submit]")
    officer.wait_for_url(re.compile(r".*/console/(\?.*)?$"), timeout=60_000)  # the dashboard, signed in
    officer.click("nav >> text=Requests about your data", timeout=60_000)
    officer.wait_for_selector(f"text={ref.group(0)}", timeout=60_000)
    officer.click(f"text={ref.group(0)}")
    officer.wait_for_url(re.compile(r".*/console/requests/[0-9a-f-]{36}.*"))
    assert email in officer.content()
    if officer.locator("input[name=fee_received]").count():
        officer.check("input[name=fee_received]")
    officer.click("form[action*=approve] button[type=submit]")
    officer.wait_for_selector("text=Fulfilment steps", timeout=60_000)
    officer.screenshot(path=str(tmp_path / "console-request.png"), full_page=True)

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        subject.goto(status_url + "?lang=en")
        if "Answered" in subject.content():
            break
        subject.wait_for_timeout(300)
    assert "Answered" in subject.content()
    with subject.expect_download() as download_info:
        subject.click("text=Download the answer (ZIP)")
    data = Path(download_info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = orjson.loads(archive.read("data.json"))
    (person,) = document["subjects"]
    assert {f["field"]: f["value"] for f in person["fields"]} == customer.values
