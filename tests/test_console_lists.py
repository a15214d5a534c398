"""Every console list sorts, filters and pages on the server (issue 23): each whitelisted column in both
directions shows the rows in the order the rows' own values give, a filter narrows, a second page
exists past 50 rows, and a parameter the list does not know is said in words, never a server error.

The expected order is computed here, in Python, from every row of the table (the pages order in SQL)."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamoru.deid.tables import DeidDataset
from mamoru.incidents.tables import Incident
from mamoru.ledger.tables import LedgerEntry
from mamoru.mynumber.tables import MnEntry, MnFiling
from mamoru.people.tables import Inquiry, Staff
from mamoru.pms.tables import InternalAudit
from mamoru.requests.status import OPEN_STATUSES
from mamoru.requests.tables import SubjectRequest
from mamoru.scan.tables import ScanRun
from mamoru.server import create_app
from mamoru.settings import Settings
from mamoru.store.paging import PER_PAGE
from mamoru.transfers.tables import ProvisionRecord
from mamoru.words import catalog
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy
from tests.test_console import PASSWORD, sign_in

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SEEDED = PER_PAGE + 12  # more than a page of each list
OPEN = {s.value for s in OPEN_STATUSES}


def _seed(ws: Workspace) -> None:
    """``SEEDED`` rows in each listed table, their sortable values spread and shuffled (i * 37 % n)."""
    n = SEEDED
    holder = str(uuid.uuid4())
    report = ws.vault.seal_private(holder, "scan", orjson.dumps({"target": "t", "locations": [], "gaps": []}))
    kinds = ("disclosure", "erase", "correction")
    with ws.db.session() as s:
        auditor = s.scalar(select(Staff.id).where(Staff.login == "pm01"))
        filing = MnFiling(
            affair="withholding_slip",
            document="withholding_slip",
            year=2026,
            due_on=date(2027, 1, 31),
            created_by="staff:hr01",
        )
        s.add(filing)
        s.flush()
        for i in range(n):
            j = i * 37 % n  # a value order unlike the insertion order
            at = T0 + timedelta(hours=j)
            s.add(
                SubjectRequest(
                    id=str(uuid.uuid4()),
                    ref=f"R2026{j:04d}-LIST{i:02d}",
                    kind=kinds[i % 3],
                    status="completed" if i % 6 == 0 else ("awaiting_code", "verified")[i % 2],
                    status_token_sha256=uuid.uuid4().hex * 2,
                    email_index=uuid.uuid4().hex,
                    sealed=b"",
                    received_at=at,
                    acknowledge_by=at + timedelta(days=1),
                    escalate_at=at + timedelta(days=10),
                    due_at=T0 + timedelta(days=14, hours=(n - j) * 3),
                )
            )
            s.add(
                Incident(
                    ref=f"INC-L{j:04d}",
                    holder=str(uuid.uuid4()),
                    status="closed" if i % 6 == 0 else ("open", "draft")[i % 2],
                    source="manual",
                    opened_by="staff:pm01",
                    aware_at=at,
                    affected_count=(j * 7) % 50,
                    sealed=b"",
                )
            )
            s.add(
                Staff(
                    login=f"list{j:03d}",
                    department=("sales", "hr", "privacy_office")[i % 3],
                    kind=("employee", "contractor", "part_time")[i % 3],
                    joined_on=date(2020, 1, 1),
                )
            )
            s.add(
                Inquiry(
                    ref=f"Q-L{j:04d}",
                    holder=str(uuid.uuid4()),
                    kind=("inquiry", "complaint")[i % 2],
                    channel=("email", "phone", "letter")[i % 3],
                    category=("notice", "security", "other")[i % 3],
                    sealed=b"",
                    received_at=at,
                    received_by="staff:pm01",
                    first_response_due=at + timedelta(days=(n - j)),
                    close_due=at + timedelta(days=30 + j % 5),
                    closed_at=at if i % 6 == 0 else None,
                )
            )
            s.add(
                LedgerEntry(
                    code=f"L-list{j:03d}",
                    name=f"一覧{(n - j):03d}",
                    data_items=[],
                    purposes=[],
                    storage_location="x",
                    storage_method="x",
                    access_roles=[],
                    use_until="x",
                    retained=i % 2 == 0,
                    last_reviewed_at=at,
                    updated_at=at,
                )
            )
            s.add(
                ScanRun(
                    holder=holder,
                    target_kind=("files", "database")[i % 2],
                    started_at=at,
                    finished_at=at,
                    actor="staff:pm01",
                    files_scanned=(j * 13) % 40,
                    gap_count=j % 3,
                    totals={},
                    sealed_report=report,
                )
            )
            s.add(
                ProvisionRecord(
                    subject_id=str(uuid.uuid4()),
                    recipient=f"rcpt-{j % 4}",
                    basis=("consent", "opt_out")[i % 2],
                    mode="each",
                    categories=[],
                    created_at=at,
                    provided_on=None if i % 5 == 0 else date(2026, 5, 1) + timedelta(days=(j * 3) % 20),
                    purge_after=date(2030, 1, 1) + timedelta(days=(j * 11) % n),
                )
            )
            s.add(
                InternalAudit(
                    ref=f"IA-L{j:04d}",
                    year=2026,
                    department=("sales", "hr", "privacy_office")[i % 3],
                    scope="x",
                    auditor_id=auditor,
                    planned_on=date(2026, 1, 1) + timedelta(days=j),
                    done_on=date(2026, 3, 1) + timedelta(days=(j * 5) % n) if i % 2 else None,
                    planned_by="staff:pm01",
                )
            )
            s.add(
                MnEntry(
                    id=str(uuid.uuid4()),
                    subject_id=str(uuid.uuid4()),
                    filing_id=filing.id,
                    document=("withholding_slip", "payment_report", "social_insurance")[i % 3],
                    number_check_doc="x",
                    identity_docs=[],
                    verified_by="staff:hr01",
                    verified_at=at,
                    purge_after=date(2030, 1, 1) + timedelta(days=(j * 7) % n),
                    deleted_at=at if i % 4 == 0 else None,
                )
            )
            s.add(
                DeidDataset(
                    id=f"ds-list-{j:03d}",
                    kind=("pseudonymized", "anonymized")[i % 2],
                    title={"ja": f"データ{j}", "en": f"data {j}"},
                    status=("registered", "created", "retired")[i % 3],
                    created_at=at,
                    registered_by="staff:pm01",
                    registered_at=at,
                )
            )


@dataclass(frozen=True)
class Lst:
    """One list page: its address, the table and the column a row is known by, and how it reads."""

    path: str
    model: Any
    mark: str  # the attribute that identifies a row on the page
    row: str  # a regex of the row's identifying text in the table
    tiebreak: str
    sorts: dict[str, Callable[[Any], Any]]
    default: Callable[[Any], bool] = lambda r: True  # which rows the list shows without a filter
    filter: tuple[str, str, Callable[[Any], bool]] = ("", "", lambda r: True)
    prefix: str = ""  # of the list's parameters, where a page has more than one list
    login: str = "pm01"  # who opens the page
    width: int | None = None  # how much of the identifying value the page shows

    def mark_of(self, row: Any) -> str:
        return str(getattr(row, self.mark))[: self.width]


LISTS = {
    "requests": Lst(
        "/console/requests",
        SubjectRequest,
        "ref",
        r'<a href="/console/requests/[^"]+">([^<]+)</a>',
        "id",
        {
            "due": lambda r: r.due_at,
            "received": lambda r: r.received_at,
            "ref": lambda r: r.ref,
            "kind": lambda r: r.kind,
            "status": lambda r: r.status,
        },
        default=lambda r: r.status in OPEN,
        filter=("kind", "erase", lambda r: r.kind == "erase" and r.status in OPEN),
    ),
    "incidents": Lst(
        "/console/incidents",
        Incident,
        "ref",
        r'<a href="/console/incidents/[^"]+">([^<]+)</a>',
        "id",
        {
            "aware": lambda r: r.aware_at,
            "ref": lambda r: r.ref,
            "status": lambda r: r.status,
            "persons": lambda r: r.affected_count,
        },
        default=lambda r: r.status != "closed",
        filter=("status", "closed", lambda r: r.status == "closed"),
    ),
    "staff": Lst(
        "/console/people",
        Staff,
        "login",
        r"<tr><td>([a-z0-9_]+)</td>",
        "id",
        {
            "department": lambda r: (r.department, r.login),
            "login": lambda r: r.login,
            "kind": lambda r: r.kind,
        },
        filter=("kind", "contractor", lambda r: r.kind == "contractor"),
    ),
    "inquiries": Lst(
        "/console/inquiries",
        Inquiry,
        "ref",
        r'<a href="/console/inquiries/[^"]+">([^<]+)</a>',
        "id",
        {
            "first_response": lambda r: r.first_response_due,
            "close": lambda r: r.close_due,
            "ref": lambda r: r.ref,
            "kind": lambda r: r.kind,
            "channel": lambda r: r.channel,
            "category": lambda r: r.category,
        },
        default=lambda r: r.closed_at is None,
        filter=("channel", "phone", lambda r: r.channel == "phone" and r.closed_at is None),
    ),
    "ledger": Lst(
        "/console/ledger",
        LedgerEntry,
        "code",
        r"<tr>\s*<td>([^<]+)</td>",
        "id",
        {
            "code": lambda r: r.code,
            "name": lambda r: r.name,
            "reviewed": lambda r: r.last_reviewed_at,
        },
        filter=("retained", "no", lambda r: not r.retained),
    ),
    "scans": Lst(
        "/console/scans",
        ScanRun,
        "id",
        r"<tr><td>(\d+)</td>",
        "id",
        {
            "finished": lambda r: r.finished_at,
            "id": lambda r: r.id,
            "target": lambda r: r.target_kind,
            "scanned": lambda r: r.files_scanned,
            "gaps": lambda r: r.gap_count,
        },
        filter=("gaps", "yes", lambda r: r.gap_count > 0),
    ),
    "provisions": Lst(
        "/console/transfers",
        ProvisionRecord,
        "id",
        r"<tr><td>P(\d+)</td>",
        "id",
        {
            "recorded": lambda r: r.id,
            "date": lambda r: (r.provided_on, r.created_at),
            "keep_until": lambda r: r.purge_after,
            "recipient": lambda r: r.recipient,
            "basis": lambda r: r.basis,
        },
        filter=("basis", "opt_out", lambda r: r.basis == "opt_out"),
    ),
    "audits": Lst(
        "/console/pms",
        InternalAudit,
        "ref",
        r"<tr><td>([^<]+)</td>",
        "id",
        {
            "ref": lambda r: r.ref,
            "department": lambda r: r.department,
            "planned": lambda r: r.planned_on,
            "done": lambda r: r.done_on,
        },
        filter=("state", "done", lambda r: r.done_on is not None),
        prefix="audit_",
    ),
    "mynumber": Lst(
        "/console/mynumber",
        MnEntry,
        "subject_id",
        r"<tr><td>([0-9a-f-]{8})…",
        "id",
        {
            "keep_until": lambda r: r.purge_after,
            "verified": lambda r: r.verified_at,
            "document": lambda r: r.document,
        },
        filter=("state", "deleted", lambda r: r.deleted_at is not None),
        login="hr01",
        width=8,
    ),
    "datasets": Lst(
        "/console/deid",
        DeidDataset,
        "id",
        r"<br><small><code>([^<]+)</code></small></td>",
        "id",
        {
            "created": lambda r: r.created_at,
            "kind": lambda r: r.kind,
            "status": lambda r: r.status,
            "purpose": lambda r: r.purpose or "",
        },
        filter=("status", "retired", lambda r: r.status == "retired"),
    ),
}


@pytest.fixture(scope="module")
def seeded(
    sqlite_initialized: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Workspace, dict[str, TestClient]]]:
    """One demo copy with the rows above, shared by this module's tests (they only read). On SQLite
    whatever the run's database: the expected order below is SQLite's (NULL first, byte order)."""
    home = tmp_path_factory.mktemp("lists") / "ws"
    shutil.copytree(sqlite_initialized, home)
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MAMORU_DATABASE_URL", "MAMORU_KEY_FILE", "MAMORU_MASTER_KEY", "MAMORU_POLICY_FILE"):
            mp.delenv(var, raising=False)
        mp.setenv("MAMORU_HOME", str(home))
        ws = Workspace.open(Settings(home=home))
        demo_copy(ws, 8, password=PASSWORD)
        _seed(ws)
        app = create_app(ws)
        with TestClient(app) as pm, TestClient(app) as hr:
            assert sign_in(pm, "pm01") == 303 and sign_in(hr, "hr01") == 303
            yield ws, {"pm01": pm, "hr01": hr}
        ws.close()


def _table(html: str) -> str:
    found = re.search(r'<a class="sort.*?<tbody>(.*?)</tbody>', html, re.S)  # the table of the sort links
    assert found, html[-2000:]
    return found.group(1)


def _shown(lst: Lst, html: str) -> list[str]:
    return re.findall(lst.row, _table(html))


def _null_first(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_null_first(v) for v in value)
    return (value is not None, value if value is not None else 0)


def _expected(
    ws: Workspace, lst: Lst, key: Callable[[Any], Any], descending: bool, keep: Callable[[Any], bool]
) -> list[str]:
    with ws.db.session() as s:
        rows = [r for r in s.scalars(select(lst.model)) if keep(r)]
    rows.sort(key=lambda r: getattr(r, lst.tiebreak), reverse=descending)  # the tiebreak goes the sort's way
    rows.sort(key=lambda r: _null_first(key(r)), reverse=descending)  # stable: ties keep the tiebreak order
    return [lst.mark_of(r) for r in rows[:PER_PAGE]]


CASES = [(name, key) for name, lst in LISTS.items() for key in lst.sorts]


@pytest.mark.parametrize(("name", "key"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_each_list_sorts_by_each_of_its_columns_both_ways(
    seeded: tuple[Workspace, dict[str, TestClient]], name: str, key: str
) -> None:
    ws, clients = seeded
    lst = LISTS[name]
    client = clients[lst.login]
    for descending in (False, True):
        response = client.get(f"{lst.path}?lang=ja&{lst.prefix}sort={'-' if descending else ''}{key}")
        assert response.status_code == 200
        assert _shown(lst, response.text) == _expected(ws, lst, lst.sorts[key], descending, lst.default)
        assert f'aria-sort="{"descending" if descending else "ascending"}"' in response.text


@pytest.mark.parametrize("name", list(LISTS))
def test_each_list_filters_pages_and_reads_bad_parameters_in_words(
    seeded: tuple[Workspace, dict[str, TestClient]], name: str
) -> None:
    ws, clients = seeded
    lst = LISTS[name]
    client = clients[lst.login]
    param, value, keep = lst.filter
    key = next(iter(lst.sorts))
    p = lst.prefix
    every = client.get(f"{lst.path}?lang=ja&{p}sort={key}")
    narrowed = client.get(f"{lst.path}?lang=ja&{p}sort={key}&{p}{param}={value}")
    assert narrowed.status_code == 200
    expected = _expected(ws, lst, lst.sorts[key], False, keep)
    assert _shown(lst, narrowed.text) == expected and len(expected) < len(_shown(lst, every.text))
    # the header links keep the filter
    assert f"{p}{param}={value}" in re.search(r'<a class="sort[^"]*" href="([^"]+)"', narrowed.text).group(1)  # type: ignore[union-attr]
    # past 50 rows there is a second page, and it shows the next rows
    second = client.get(f"{lst.path}?lang=ja&{p}sort={key}&{p}page=2")
    assert second.status_code == 200 and 'rel="prev"' in second.text and 'rel="next"' in every.text
    with ws.db.session() as s:
        rows = sorted(
            (r for r in s.scalars(select(lst.model)) if lst.default(r)),
            key=lambda r: getattr(r, lst.tiebreak),
        )
    rows.sort(key=lambda r: _null_first(lst.sorts[key](r)))
    assert _shown(lst, second.text) == [lst.mark_of(r) for r in rows[PER_PAGE : 2 * PER_PAGE]]
    # what the list cannot read is left out and said in words, never a server error
    ja = catalog("ja")
    for bad in ("sort=nothing", "sort=-", "page=-1", "page=x", f"{param}=%3Cscript%3E", "page=99999999999"):
        response = client.get(f"{lst.path}?lang=ja&{p}{bad}")
        assert response.status_code == 200, bad
        assert ja["list_ignored"].split("「")[0] in response.text, bad
    # a page past the end shows the last one
    last = client.get(f"{lst.path}?lang=ja&{p}page=999")
    assert last.status_code == 200 and 'rel="next"' not in last.text


def test_a_list_reads_only_what_its_whitelist_names() -> None:
    """Nothing a page is asked reaches SQL unless the list names it; the rest is set aside by name."""
    from mamoru.requests.service import QUEUE

    asked = QUEUE.read(
        {
            "sort": "-due",
            "kind": "erase",
            "status": "drop table",
            "page": "3",
            "q": "  R2026  x ",
            "all": "no",
        }
    )
    assert (asked.sort, dict(asked.filters), asked.page, asked.search) == (
        "-due",
        {"kind": "erase"},
        3,
        "R2026 x",
    )
    assert set(asked.ignored) == {"status", "all"}
    odd = QUEUE.read({"sort": "id; --", "page": "0", "kind": "x" * 500})
    assert (odd.sort, odd.page, dict(odd.filters)) == (QUEUE.default, 1, {})
    assert set(odd.ignored) == {"sort", "page", "kind"}
    with pytest.raises(ValueError):
        replace(QUEUE, default="nothing")
