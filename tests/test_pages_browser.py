"""Every page as a person sees it, in a real browser (Debian's Chromium, driven by Playwright).

One server with the demo organization and one browser serve the whole module. The console is walked as
each demo user with a set of system roles of its own (one test each, so pytest-xdist can spread them),
and the public portal as anyone, by following the links a person can follow (one page of each kind, so a
new page is covered as soon as it is linked), in Japanese and in English, at 1280×900 and at 390×844.
Every console page a person's links do not reach is opened by its address too: it answers the page, or
the refusal (403) or not-found (404) page in words, never a 500 or JSON. On every page:

- nothing is wider than the screen (no horizontal scroll);
- no code shows where words belong (``pending_verification``, ``department_user``, or on a Japanese
  page an English code such as ``erase``);
- the browser logs no error (a blocked script, a missing file);
- axe-core (shipped in the ``axe-playwright-python`` package, no network) finds nothing serious or
  critical (run once for each kind of page in each language, at 1280×900: the checks above are cheap
  DOM reads, axe is not).

Cost: one browser for the module, one context (one tab) for each person and language, one visit for
each page that both sizes and every check read.

The portal is also read without JavaScript. The screenshots in the README come from these runs
(``MAMORU_SCREENSHOTS=docs`` writes them there).
"""

from __future__ import annotations

import html
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
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, APIRouter

from mamoru.demo import STAFF_PLAN
from mamoru.people.tables import Role
from mamoru.words import catalog
from tests.conftest import SEED, Inbox
from tests.test_serve_e2e import MAMORU, _env, _free_port, start_serving

CHROMIUM = os.environ.get("MAMORU_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
SHOTS = os.environ.get("MAMORU_SCREENSHOTS", "")

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LANGS = ("ja", "en")


def _people() -> tuple[str, ...]:
    """One demo user for each set of system roles the demo hands out (the protection manager, the privacy
    staff, the audit side, a department with My Number affairs, a department, IT). Business roles say
    which purposes a person serves: the guard's answer on a subject's page, not which pages open."""
    system = {str(role) for role in Role}
    first: dict[frozenset[str], str] = {}
    for login, _, roles, _ in STAFF_PLAN:
        first.setdefault(frozenset(str(r) for r in roles if str(r) in system), login)
    return tuple(first.values())


ROLES = _people()

#: Links a walk does not follow: files, sign-out, machine pages, another page of the same list.
SKIP = re.compile(
    r"/(export|package|documents/|outputs/|logout|api/|docs|openapi|static/|healthz)|[?&](page|format)="
)
#: One page of each kind: ids, refs and codes in a path (a segment with a digit, a capital, a dash or
#: an underscore) become one placeholder.
_ID = re.compile(r"/(?=[^/]*[0-9A-Z_-])[^/]+")

#: A code in place of words: snake_case (``pending_verification``).
SNAKE = re.compile(r"(?<![\w.@/:#-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/])")
#: What may look like a code but is not one: addresses and e-mail addresses.
NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|/\S+")
#: The catalog's label families: the part after the prefix is the code a label stands for.
LABELLED = re.compile(
    r"^(req_kind|req_status|req_outcome|role|dept|staff|clock|cat|stage|gap|area|scan_target|scan_basis|rule_topic|inquiry_outcome)_(.+)$"
)


def _codes() -> frozenset[str]:
    """Every code the catalog has a label for; on a Japanese page, any of them is a raw code."""
    return frozenset(
        m.group(2)
        for key in catalog("ja")
        if (m := LABELLED.match(key)) and re.fullmatch(r"[a-z]{3,}", m.group(2))
    )


CODES = _codes()


def _console_pages() -> tuple[str, ...]:
    """Every console page's path template (a GET route that answers an HTML page), read from the
    routers, so that a page nobody links to is still opened."""
    import importlib
    import pkgutil

    import mamoru.web

    found: set[str] = set()
    for info in pkgutil.iter_modules(mamoru.web.__path__):
        for router in vars(importlib.import_module(f"mamoru.web.{info.name}")).values():
            if not isinstance(router, APIRouter):
                continue
            for route in router.routes:
                if (
                    isinstance(route, APIRoute)
                    and "GET" in route.methods
                    and route.path.startswith("/console/")
                    and route.response_class is HTMLResponse
                    and not SKIP.search(route.path)
                    and not route.path.endswith("/login")
                ):
                    found.add(route.path)
    return tuple(sorted(found))


CONSOLE_PAGES = _console_pages()
#: What an address holds where a route takes a closed list rather than an id ("1").
SAMPLE = {"kind": "ppc_prelim"}


def _matches(template: str, path: str) -> bool:
    """Whether ``path`` is a page of the route ``template`` (``/console/incidents/{ref}``)."""
    return re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) is not None


#: What a person can read: rendered text outside code samples, the choices of a list, and what a form's
#: fields hold (a value put there for the person to edit is read as much as a label).
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || el.closest('code, pre, script, style, svg, select')) continue;
    if (el.checkVisibility && !el.checkVisibility()) continue;
    out.push(walker.currentNode.textContent);
  }
  const shown = (el) => !el.checkVisibility || el.checkVisibility();
  for (const el of document.querySelectorAll('select')) {
    if (shown(el)) for (const o of el.options) out.push(o.text);
  }
  const typed = 'input:not([type]), input[type=text], input[type=search], input[type=email], input[type=tel], '
    + 'input[type=url], input[type=number], input[type=submit], input[type=button], textarea';
  for (const el of document.querySelectorAll(typed)) {
    if (shown(el)) out.push(el.value, el.placeholder || '');
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
    process = start_serving(env, port, timeout=120)  # a loaded machine starts it slowly
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


#: The kinds of page axe has read in each language, for the module (axe takes seconds, a DOM read does not).
AXED: set[tuple[str, str]] = set()
#: A page of each route that only some pages lead to, once found (the same for every person who opens it).
FOUND: dict[str, str] = {}
#: (route, person) with no such page to be found
MISSING: set[tuple[str, str]] = set()


class Walk:
    """One person's browser tab in one language, checking each page it opens; problems are collected,
    not raised, so that one run lists them all."""

    def __init__(self, browser: Any, base: str, who: str, lang: str, *, script: bool = True) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.base = base
        self.who = who
        self.lang = lang
        self.context = browser.new_context(viewport=DESKTOP, java_script_enabled=script)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.problems: list[str] = []
        self.axe = Axe() if script else None
        self.seen: set[str] = set()
        #: pages answered with the refusal page
        self.refused: list[str] = []
        #: every page a link led to, followed or not; the error pages seen in the tab
        self.hrefs: list[str] = []
        self.rendered: set[int] = set()

    def close(self) -> None:
        self.context.close()

    def check(
        self,
        url: str,
        *,
        accessibility: bool = True,
        status: int | tuple[int, ...] = 200,
        own_language: bool = False,
    ) -> int:
        """Open ``url`` and check it at both sizes; the status it answered. ``status``: the answers
        expected; an error page (403, 404) must be the page in words: the catalog's heading in the page's
        language, not JSON (the browser logs its status as an error, which is expected).
        ``own_language``: a page in a language of its own (a letter is in the language the person
        asked in, whatever the console's), read in that language."""
        page = self.page
        lang = self.lang
        self.errors.clear()
        response = page.goto(url)
        got = response.status if response is not None else 0
        where = f"{self.who} {lang} {urlsplit(url).path}"
        if got not in ((status,) if isinstance(status, int) else status):
            self.problems.append(f"{where}: status {got}")
            return got
        if got != 200:
            self.errors[:] = [e for e in self.errors if f"status of {got}" not in e]
            heading = page.locator("h1").first
            kind = str(response.headers.get("content-type", "")) if response is not None else ""
            if not kind.startswith("text/html") or not heading.count():
                self.problems.append(f"{where}: {got} is not a page ({kind})")
                return got
            if heading.inner_text().strip() != catalog(lang)[f"errpage_{got}_title"]:
                self.problems.append(f"{where}: {got} page says {heading.inner_text()!r}")
            if got == 403:
                self.refused.append(urlsplit(url).path)
        if own_language:
            lang = str(page.evaluate("document.documentElement.lang"))
        elif page.evaluate("document.documentElement.lang") != lang:
            self.problems.append(f"{where}: the page is not in {lang}")
        codes = raw_codes(page.evaluate(VISIBLE_TEXT), lang)
        if codes:
            self.problems.append(f"{where}: codes shown: {sorted(codes)[:8]}")
        kind_of_page = (
            f"{got} {_ID.sub('/#', urlsplit(url).path)}" if got != 200 else _ID.sub("/#", urlsplit(url).path)
        )
        if self.axe is not None and accessibility and (kind_of_page, lang) not in AXED:
            AXED.add((kind_of_page, lang))
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
        return got

    def probe(self, path: str) -> int:
        """Open a page a person's links do not lead to, by its address: over HTTP alone (no rendering,
        the tab's cookies), then in the tab when it opens (200) or when it is the first error page of
        this walk; any other error page is read for its words. The status it answered."""
        url = f"{self.base}{path}?lang={self.lang}"
        answer = self.context.request.get(url, max_redirects=0)
        got = int(answer.status)
        if got == 200 or (got in (403, 404) and got not in self.rendered):
            self.rendered.add(got)
            return self.check(url, status=(200, 403, 404))
        where = f"{self.who} {self.lang} {path}"
        body = answer.text()
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S)
        if got not in (403, 404):
            self.problems.append(f"{where}: status {got}")
        elif not answer.headers.get("content-type", "").startswith("text/html") or heading is None:
            self.problems.append(f"{where}: {got} is not a page ({answer.headers.get('content-type')})")
        elif html.unescape(heading.group(1)).strip() != catalog(self.lang)[f"errpage_{got}_title"]:
            self.problems.append(f"{where}: {got} page says {heading.group(1)!r}")
        elif f'<html lang="{self.lang}"' not in body:
            self.problems.append(f"{where}: the page is not in {self.lang}")
        if got == 403:
            self.refused.append(path)
        return got

    def find(self, template: str) -> str | None:
        """A page of ``template`` that only some pages of its parent's kind lead to (the letter of an
        answered request, the confirmation of an erasure): the parent pages this walk saw and those its
        list shows with every item (``all=true``), read over HTTP until one leads to it. A page found
        before (as another person, in the other language) is taken if this person's parent page leads
        there too."""
        parent = template.rsplit("/", 1)[0]
        if parent.count("{") != 1 or not any(_matches(parent, p) for p in self.hrefs):
            return None
        if (template, self.who) in MISSING:
            return None
        known = FOUND.get(template)
        found = self._search(template, [known.rsplit("/", 1)[0]]) if known else self._search(template, None)
        if found is None:
            MISSING.add((template, self.who))
        else:
            FOUND[template] = found
        return found

    def _search(self, template: str, candidates: list[str] | None) -> str | None:
        parent = template.rsplit("/", 1)[0]
        if candidates is None:
            listing = parent.rsplit("/", 1)[0]
            answer = self.context.request.get(
                f"{self.base}{listing}?all=true&lang={self.lang}", max_redirects=0
            )
            listed = re.findall(r'href="([^"?#]+)', answer.text()) if answer.status == 200 else []
            candidates = list(dict.fromkeys(p for p in [*self.hrefs, *listed] if _matches(parent, p)))
        for path in candidates[:40]:
            body = self.context.request.get(f"{self.base}{path}?lang={self.lang}").text()
            # a link, or a form that asks before it acts (method get)
            for target in re.findall(r'(?:href|<form method="get" action)="([^"?#]+)', body):
                if _matches(template, target):
                    return str(target)
        return None

    def links(self, prefix: str) -> list[str]:
        hrefs: list[str] = self.page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))"
        )
        out = []
        for href in hrefs:
            path = urlsplit(href).path
            if href.startswith(prefix) and path not in self.hrefs:
                self.hrefs.append(path)
            if not href.startswith(prefix) or SKIP.search(href) or (path == "/" and prefix != "/"):
                continue
            if prefix == "/" and path.startswith("/console"):
                continue
            kind = _ID.sub("/#", path)
            if kind not in self.seen:
                self.seen.add(kind)
                out.append(path)
        return out

    def walk(self, start: str, prefix: str, limit: int = 60) -> list[str]:
        """Every kind of page reachable from ``start`` by links under ``prefix``, checked (a page a
        person's own links lead to must open: 200)."""
        self.seen = {_ID.sub("/#", urlsplit(start).path)}
        queue, visited = [start], []
        while queue and len(visited) < limit:
            path = queue.pop(0)
            self.check(f"{self.base}{path}?lang={self.lang}")
            visited.append(path)
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


@pytest.mark.parametrize("who", ROLES)
def test_every_console_page_reads_in_words_fits_the_screen_and_passes_axe_as_each_role(
    who: str, browser: Any, site: tuple[str, str]
) -> None:
    """Each person's console, in both languages: every page their links lead to opens and passes the
    checks; every other console page answers them the refusal page (or not found) in words."""
    base, password = site
    problems: list[str] = []
    for lang in LANGS:
        walk = Walk(browser, base, who, lang)
        try:
            _sign_in(walk, password)
            walked = walk.walk("/console/", "/console/")
            for template in CONSOLE_PAGES:
                if any(_matches(template, path) for path in walked):
                    continue
                found = walk.find(template)
                if found is not None:
                    walk.check(f"{base}{found}?lang={lang}", own_language=template.endswith("/letter"))
                    walked.append(found)
                else:
                    # a page no link of this person's leads to, opened by its address
                    walk.probe(re.sub(r"\{([^}]+)\}", lambda m: SAMPLE.get(m.group(1), "1"), template))
            if who == "pm01" and lang == "ja":
                # the privacy office reaches nearly every page by a link; a page it may open that no link
                # leads to is a page nobody finds
                unlinked = [
                    t
                    for t in CONSOLE_PAGES
                    if not any(_matches(t, p) for p in walked) and not t.startswith("/console/mynumber")
                ]
                assert not unlinked, unlinked
                _shoot(walk, CONSOLE_SHOTS)
            # no demo role opens every page: the My Number pages are the handlers' alone, who are not
            # the office
            assert walk.refused, f"{who} {lang}: no page refused"
            assert walked[0] == "/console/"
        finally:
            problems += walk.problems
            walk.close()
    assert not problems, "\n".join(problems)


def test_the_sign_in_page_reads_in_words(browser: Any, site: tuple[str, str]) -> None:
    base, _ = site
    problems: list[str] = []
    for lang in LANGS:
        walk = Walk(browser, base, "public", lang)
        try:
            walk.check(f"{base}/console/login?lang={lang}")
            # signed out, a console page sends the person to sign in
            walk.page.goto(f"{base}/console/ledger?lang={lang}")
            assert "/console/login" in walk.page.url, walk.page.url
        finally:
            problems += walk.problems
            walk.close()
    assert not problems, "\n".join(problems)


def test_every_portal_page_reads_in_words_fits_a_phone_and_passes_axe(
    browser: Any, site: tuple[str, str]
) -> None:
    base, _ = site
    problems: list[str] = []
    for lang in LANGS:
        walk = Walk(browser, base, "public", lang)
        try:
            walk.walk("/", "/")
            for kind in ("disclosure", "correction", "erase"):
                walk.check(f"{base}/requests/new?kind={kind}&lang={lang}")
            walk.check(f"{base}/no/such/page?lang={lang}", status=404)
            if lang == "ja":
                # the language switch stays in view on a phone
                walk.page.set_viewport_size(PHONE)
                walk.page.goto(f"{base}/?lang=ja")
                box = walk.page.locator(".lang-switch").bounding_box()
                assert box is not None and box["x"] + box["width"] <= PHONE["width"] and box["y"] < 200
                _shoot(walk, PORTAL_SHOTS)
        finally:
            problems += walk.problems
            walk.close()
    assert not problems, "\n".join(problems)


def test_the_portal_works_without_javascript(browser: Any, site: tuple[str, str]) -> None:
    base, _ = site
    for lang in LANGS:
        walk = Walk(browser, base, "no-script", lang, script=False)
        try:
            walk.walk("/", "/", limit=12)
        finally:
            walk.close()
        assert not walk.problems, "\n".join(walk.problems)
    walk = Walk(browser, base, "no-script", "ja", script=False)
    try:
        page = walk.page
        page.goto(f"{base}/requests/new?lang=ja")
        page.check("input[name=kind][value=disclosure]")
        page.click("main button[type=submit]")
        page.wait_for_selector("#name")
        page.fill("#name", "Script Off")
        page.fill("#email", "script-off@example.com")
        page.click("main form[method=post] button[type=submit]")
        page.wait_for_url(re.compile(r".*/requests/status/.*"))
        walk.check(page.url, accessibility=False)
    finally:
        walk.close()
    assert not walk.problems, "\n".join(walk.problems)


def test_jis_5_appi_32_the_notice_names_what_the_law_asks_in_both_languages(
    browser: Any, site: tuple[str, str]
) -> None:
    """The public notice (APPI Art. 32(1), JIS Q 15001 A.3.4.4 / 5) as a person reads it: who holds
    the data, the purposes, how to ask for disclosure and where to complain, in words, on a phone."""
    base, _ = site
    problems: list[str] = []
    for lang in LANGS:
        walk = Walk(browser, base, "public", lang)
        try:
            walk.check(f"{base}/?lang={lang}")
            text = walk.page.evaluate(VISIBLE_TEXT)
            words = catalog(lang)
            for key in ("notice_organization", "notice_purposes", "notice_requests", "notice_contact"):
                assert words[key] in text, (lang, key)
        finally:
            problems += walk.problems
            walk.close()
    assert not problems, "\n".join(problems)


def test_appi_33_appi_32b_the_answer_letter_reads_in_words(browser: Any, site: tuple[str, str]) -> None:
    """Answered requests' letters (APPI Art. 33 disclosure, Art. 32(2) purpose notification, and the
    others): each in the language the person asked in, field labels in words, dates as people write
    them in Japan, no code and no UTC time, on a phone as on a desk, passing axe."""
    base, password = site
    walk = Walk(browser, base, "pm01", "ja")
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
            walk.lang = lang
            walk.check(f"{base}{href}")
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
