"""Every page as a person sees it, in a real browser (Debian's Chromium, driven by Playwright).

One server with the demo organization and one browser serve the whole module. Each console role and the
public portal are walked by following the links a person can follow (one page of each kind, so a new
page is covered as soon as it is linked), in Japanese and in English, at 1280×900 and at 390×844:

- nothing is wider than the screen (no horizontal scroll);
- no code shows where words belong (``pending_verification``, ``department_user``, or on a Japanese
  page an English code such as ``erase``);
- the browser logs no error (a blocked script, a missing file);
- axe-core (shipped in the ``axe-playwright-python`` package, no network) finds nothing serious or
  critical.

The portal is also read without JavaScript. The screenshots in the README come from these runs
(``MAMORU_SCREENSHOTS=docs`` writes them there).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from mamoru.words import catalog
from tests.conftest import SEED, Inbox
from tests.test_serve_e2e import MAMORU, _env, _free_port, start_serving

CHROMIUM = os.environ.get("MAMORU_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
SHOTS = os.environ.get("MAMORU_SCREENSHOTS", "")

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LANGS = ("ja", "en")

#: A role of each kind: the privacy office, the audit side, a department (and My Number clerk), IT.
ROLES = ("pm01", "am01", "hr01", "it01")

#: Links a walk does not follow: files, sign-out, machine pages, another page of the same list, and the
#: printable incident reports, which are in Japanese whatever the console's language (they are copied
#: into the PPC's and JIPDEC's Japanese forms).
SKIP = re.compile(
    r"/(export|package|documents/|outputs/|logout|api/|docs|openapi|static/|healthz)|/report/|[?&](page|format)="
)
#: One page of each kind: ids, refs and codes in a path (a segment with a digit, a capital, a dash or
#: an underscore) become one placeholder.
_ID = re.compile(r"/(?=[^/]*[0-9A-Z_-])[^/]+")

#: A code in place of words: snake_case (``pending_verification``).
SNAKE = re.compile(r"(?<![\w.@/:#-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/])")
#: What may look like a code but is not one: addresses and e-mail addresses.
NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|/\S+")
#: The catalog's label families: the part after the prefix is the code a label stands for.
LABELLED = re.compile(r"^(req_kind|req_status|req_outcome|role|dept|staff|clock|cat|stage|gap|area)_(.+)$")


def _codes() -> frozenset[str]:
    """Every code the catalog has a label for; on a Japanese page, any of them is a raw code."""
    return frozenset(
        m.group(2)
        for key in catalog("ja")
        if (m := LABELLED.match(key)) and re.fullmatch(r"[a-z]{3,}", m.group(2))
    )


CODES = _codes()

#: Rendered text only (what a person can see), outside code samples.
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || el.closest('code, pre, script, style, svg')) continue;
    if (el.checkVisibility && !el.checkVisibility()) continue;
    out.push(walker.currentNode.textContent);
  }
  return out.join(' ');
}"""
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def raw_codes(text: str, lang: str) -> set[str]:
    """The codes a page shows where words belong: any snake_case token; on a Japanese page also a code
    the catalog has a label for standing alone (not a word of an English phrase, as in a bilingual
    title the organization wrote)."""
    text = NOT_WORDS.sub(" ", text)
    found = set(SNAKE.findall(text))
    if lang == "ja":
        for m in re.finditer(r"(?<![\w.@-])[a-z]{3,}(?![\w@-])", text):
            before, after = text[: m.start()].rstrip()[-1:], text[m.end() :].lstrip()[:1]
            if (
                m.group() in CODES
                and not (before.isascii() and before.isalpha())
                and not (after.isascii() and after.isalpha())
            ):
                found.add(m.group())
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """One server over the demo organization, with a loopback mail server, for the whole module."""
    inbox = Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        mail_port = int(sock.getsockname()[1])
    mail = Controller(inbox, hostname="127.0.0.1", port=mail_port)
    mail.start()
    env = _env(tmp_path_factory.mktemp("pages") / "ws")
    env["MAMORU_SMTP_HOST"] = "127.0.0.1"
    env["MAMORU_SMTP_PORT"] = str(mail_port)
    port = _free_port()
    env["MAMORU_BASE_URL"] = f"http://127.0.0.1:{port}"
    assert subprocess.run([*MAMORU, "init"], env=env, capture_output=True, timeout=120).returncode == 0
    demo = subprocess.run(
        [*MAMORU, "demo", "--seed", str(SEED)], env=env, capture_output=True, text=True, timeout=180
    )
    assert demo.returncode == 0, demo.stderr
    found = re.search(r"sign in to /console/ with: (\S+)", demo.stdout)
    assert found is not None
    process = start_serving(env, port)
    try:
        yield f"http://127.0.0.1:{port}", found.group(1)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
        mail.stop()
        assert "Traceback" not in output, output[-3000:]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"Chromium not found at {CHROMIUM} under CI=true (make browser installs it)")
        pytest.skip(f"Chromium not found at {CHROMIUM}; install it with `make browser`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield instance
        finally:
            instance.close()


class Walk:
    """One person's browser tab, checking each page it opens; problems are collected, not raised, so
    that one run lists them all."""

    def __init__(self, browser: Any, base: str, who: str, *, script: bool = True) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.base = base
        self.who = who
        self.context = browser.new_context(viewport=DESKTOP, java_script_enabled=script)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.problems: list[str] = []
        self.axe = Axe() if script else None
        self.seen: set[str] = set()

    def close(self) -> None:
        self.context.close()

    def check(self, url: str, lang: str, *, accessibility: bool, status: int = 200) -> str:
        """Open ``url`` and check it at both sizes; the page's HTML. ``status``: the answer expected
        (an error page is a page too, and the browser logs its status as an error)."""
        page = self.page
        self.errors.clear()
        response = page.goto(url)
        where = f"{self.who} {lang} {urlsplit(url).path}"
        if response is None or response.status != status:
            self.problems.append(f"{where}: status {response.status if response else 'none'}")
        if status != 200:
            self.errors[:] = [e for e in self.errors if f"status of {status}" not in e]
        if page.evaluate("document.documentElement.lang") != lang:
            self.problems.append(f"{where}: the page is not in {lang}")
        codes = raw_codes(page.evaluate(VISIBLE_TEXT), lang)
        if codes:
            self.problems.append(f"{where}: codes shown: {sorted(codes)[:8]}")
        if self.axe is not None and accessibility:
            result = self.axe.run(
                page, options={"resultTypes": ["violations"], "runOnly": ["wcag2a", "wcag2aa", "wcag21aa"]}
            )
            bad = [
                f"{v['id']} ({v['impact']}, {v['nodes'][0]['target']})"
                for v in result.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if bad:
                self.problems.append(f"{where}: axe: {bad}")
        for size in (PHONE, DESKTOP):
            page.set_viewport_size(size)
            wider = page.evaluate(OVERFLOW)
            if wider > 0:
                self.problems.append(f"{where}: {wider}px wider than the screen at {size['width']}px")
        if self.errors:
            self.problems.append(f"{where}: browser errors: {self.errors[:3]}")
        return str(page.content())

    def links(self, prefix: str) -> list[str]:
        hrefs: list[str] = self.page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))"
        )
        out = []
        for href in hrefs:
            path = urlsplit(href).path
            if not href.startswith(prefix) or SKIP.search(href) or (path == "/" and prefix != "/"):
                continue
            if prefix == "/" and path.startswith("/console"):
                continue
            kind = _ID.sub("/#", path)
            if kind not in self.seen:
                self.seen.add(kind)
                out.append(path)
        return out

    def walk(
        self,
        start: str,
        prefix: str,
        lang: str,
        axe_once: set[str],
        limit: int = 60,
        done: set[str] | None = None,
    ) -> list[str]:
        """Every kind of page reachable from ``start`` by links under ``prefix``, checked; a kind in
        ``done`` (checked before, as another person) is neither checked nor followed again."""
        self.seen = {_ID.sub("/#", urlsplit(start).path)}
        queue, visited = [start], []
        while queue and len(visited) < limit:
            path = queue.pop(0)
            kind = _ID.sub("/#", path)
            url = f"{self.base}{path}?lang={lang}"
            if done is not None and kind in done and path != start:
                continue
            else:
                # axe once for each kind of page: the two languages share every element and colour
                self.check(url, lang, accessibility=kind not in axe_once)
                axe_once.add(kind)
                visited.append(path)
                if done is not None:
                    done.add(kind)
            queue.extend(self.links(prefix))
        return visited


def _sign_in(walk: Walk, password: str) -> None:
    page = walk.page
    page.goto(f"{walk.base}/console/login?lang=en")
    page.fill("#login", walk.who)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/(\?.*)?$"))


#: The README's pictures: (file in docs/, address, the whole page on a phone?), taken as the privacy
#: office (console) or anyone (portal) when MAMORU_SCREENSHOTS names the folder; a name with "phone"
#: is taken at 390×844.
CONSOLE_SHOTS = (
    ("console-dashboard-ja.png", "/console/?lang=ja", False),
    ("console-requests-ja.png", "/console/requests?lang=ja", False),
    ("console-incidents-ja.png", "/console/incidents?lang=ja", False),
    ("console-ledger-ja.png", "/console/ledger?lang=ja", False),
    ("console-pms-ja.png", "/console/pms?lang=ja", False),
    ("console-scans-ja.png", "/console/scans?lang=ja", False),
    ("datamap-en.png", "/console/datamap?lang=en", False),
    ("console-dashboard-phone-ja.png", "/console/?lang=ja", True),
)
PORTAL_SHOTS = (
    ("portal-ja.png", "/?lang=ja", False),
    ("portal-en.png", "/?lang=en", False),
    ("audit-status-en.png", "/audit?lang=en", False),
    ("request-form-en.png", "/requests/new?kind=disclosure&lang=en", False),
    ("inquiry-form-en.png", "/inquiries/new?lang=en", False),
    ("portal-phone-ja.png", "/?lang=ja", False),
    ("request-form-phone-ja.png", "/requests/new?kind=correction&lang=ja", True),
)


def _shoot(walk: Walk, shots: tuple[tuple[str, str, bool], ...]) -> None:
    if not SHOTS:
        return
    for name, path, whole in shots:
        walk.page.set_viewport_size(PHONE if whole or "phone" in name else DESKTOP)
        walk.page.goto(f"{walk.base}{path}")
        walk.page.screenshot(path=str(Path(SHOTS) / name), full_page=whole)
    walk.page.set_viewport_size(DESKTOP)


def test_every_console_page_reads_in_words_fits_the_screen_and_passes_axe(
    browser: Any, site: tuple[str, str]
) -> None:
    base, password = site
    problems: list[str] = []
    axe_once: set[str] = set()
    walked: dict[str, list[str]] = {}
    done: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for who in ROLES:
        walk = Walk(browser, base, who)
        try:
            _sign_in(walk, password)
            for lang in LANGS:
                # the privacy office opens nearly every page; each other role is checked on its
                # dashboard and on the pages the privacy office did not see
                walked[f"{who} {lang}"] = walk.walk("/console/", "/console/", lang, axe_once, done=done[lang])
            if who == "pm01":
                _shoot(walk, CONSOLE_SHOTS)
        finally:
            problems += walk.problems
            walk.close()
    # the privacy office sees the most; every role sees at least its dashboard
    assert len(walked["pm01 ja"]) >= 12, walked["pm01 ja"]
    assert all(pages for pages in walked.values())
    assert not problems, "\n".join(problems)


def test_every_portal_page_reads_in_words_fits_a_phone_and_passes_axe(
    browser: Any, site: tuple[str, str]
) -> None:
    base, _ = site
    walk = Walk(browser, base, "public")
    axe_once: set[str] = set()
    try:
        for lang in LANGS:
            walk.walk("/", "/", lang, axe_once)
            for kind in ("disclosure", "correction", "erase"):
                walk.check(f"{base}/requests/new?kind={kind}&lang={lang}", lang, accessibility=True)
            walk.check(f"{base}/no/such/page?lang={lang}", lang, accessibility=True, status=404)
        # the language switch stays in view on a phone
        walk.page.set_viewport_size(PHONE)
        walk.page.goto(f"{base}/?lang=ja")
        box = walk.page.locator(".lang-switch").bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"] and box["y"] < 200
        _shoot(walk, PORTAL_SHOTS)
    finally:
        walk.close()
    assert not walk.problems, "\n".join(walk.problems)


def test_the_portal_works_without_javascript(browser: Any, site: tuple[str, str]) -> None:
    base, _ = site
    walk = Walk(browser, base, "no-script", script=False)
    try:
        for lang in LANGS:
            walk.walk("/", "/", lang, set(), limit=12)
        page = walk.page
        page.goto(f"{base}/requests/new?lang=ja")
        page.check("input[name=kind][value=disclosure]")
        page.click("main button[type=submit]")
        page.wait_for_selector("#name")
        page.fill("#name", "Script Off")
        page.fill("#email", "script-off@example.com")
        page.click("main form[method=post] button[type=submit]")
        page.wait_for_url(re.compile(r".*/requests/status/.*"))
        walk.check(page.url, "ja", accessibility=False)
    finally:
        walk.close()
    assert not walk.problems, "\n".join(walk.problems)


def test_jis_5_appi_32_the_notice_names_what_the_law_asks_in_both_languages(
    browser: Any, site: tuple[str, str]
) -> None:
    """The public notice (APPI Art. 32(1), JIS Q 15001 A.3.4.4 / 5) as a person reads it: who holds
    the data, the purposes, how to ask for disclosure and where to complain, in words, on a phone."""
    base, _ = site
    walk = Walk(browser, base, "public")
    try:
        for lang in LANGS:
            walk.check(f"{base}/?lang={lang}", lang, accessibility=True)
            text = walk.page.evaluate(VISIBLE_TEXT)
            words = catalog(lang)
            for key in ("notice_organization", "notice_purposes", "notice_requests", "notice_contact"):
                assert words[key] in text, (lang, key)
    finally:
        walk.close()
    assert not walk.problems, "\n".join(walk.problems)


def test_appi_33_appi_32b_the_answer_letter_reads_in_words(browser: Any, site: tuple[str, str]) -> None:
    """Answered requests' letters (APPI Art. 33 disclosure, Art. 32(2) purpose notification, and the
    others): each in the language the person asked in, field labels in words, dates as people write
    them in Japan, no code and no UTC time, on a phone as on a desk, passing axe."""
    base, password = site
    walk = Walk(browser, base, "pm01")
    letters: dict[str, int] = {}
    try:
        _sign_in(walk, password)
        walk.page.goto(f"{base}/console/requests?all=true&lang=ja")
        paths = walk.page.eval_on_selector_all(
            "main a[href*='/console/requests/']", "els => els.map(e => e.getAttribute('href'))"
        )
        for path in paths[:40]:
            walk.page.goto(f"{base}{path}")
            link = walk.page.locator("a[href*='/letter']")
            if not link.count():
                continue
            href = str(link.first.get_attribute("href"))
            walk.page.goto(f"{base}{href}")
            lang = str(walk.page.evaluate("document.documentElement.lang"))
            walk.check(f"{base}{href}", lang, accessibility=not letters)
            text = walk.page.evaluate(VISIBLE_TEXT)
            assert "UTC" not in text and not re.search(r"\d{4}-\d{2}-\d{2}T", text), href
            if lang == "ja":
                assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text), href
            letters[lang] = letters.get(lang, 0) + 1
            if sum(letters.values()) >= 4:
                break
    finally:
        walk.close()
    assert letters, "no answered request has a letter"
    assert not walk.problems, "\n".join(walk.problems)
