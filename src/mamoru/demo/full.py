"""The whole demo organization, step by step, as `mamoru demo` loads it: the ledger and staff, then
requests, incidents, Individual Numbers, the people side and a scanned file share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from mamoru.connectors.registry import without_datastores
from mamoru.demo import DemoPlan, is_empty, load_demo
from mamoru.demo.deid import load_demo_deid
from mamoru.demo.incidents import load_demo_incidents
from mamoru.demo.mynumber import load_demo_numbers
from mamoru.demo.people import load_demo_people
from mamoru.demo.requests import load_demo_requests
from mamoru.demo.share import write_demo_share
from mamoru.people.auth import new_password, set_password
from mamoru.scan import service as scan_service
from mamoru.workspace import Workspace


@dataclass(frozen=True)
class Loaded:
    """What was loaded, in counts; ``password`` is the demo staff's one password, shown once."""

    plan: DemoPlan
    password: str
    requests: int
    incidents: int
    numbers: int
    inquiries: int
    door_events: int
    gaps: int
    deid: dict[str, int] = field(default_factory=dict)  # rows of the pseudonymized and anonymized datasets


def load_everything(
    ws: Workspace, seed: int, *, if_empty: bool = False, with_datastores: bool = False
) -> Loaded | None:
    """Load the demo organization into ``ws``; ``None`` when ``if_empty`` and it already has data. Its
    requests reach no datastore the operator mapped in ``<home>/datasets`` unless ``with_datastores``."""
    if with_datastores:
        return _load(ws, seed, if_empty=if_empty)
    with without_datastores(ws):
        return _load(ws, seed, if_empty=if_empty)


def _load(ws: Workspace, seed: int, *, if_empty: bool) -> Loaded | None:
    with ws.db.session() as session:
        if if_empty and not is_empty(session):
            return None
        plan = load_demo(session, ws.vault, ws.policy.policy, seed)
        password = new_password()
        for member in plan.staff:
            set_password(session, member.login, password, actor="system:demo")
    requests_made = load_demo_requests(ws, plan, datetime.now(UTC))
    incidents_made = load_demo_incidents(ws, plan, datetime.now(UTC))
    numbers = load_demo_numbers(ws, plan, datetime.now(UTC), seed)
    with ws.db.session() as session:
        people = load_demo_people(session, ws.vault, ws.policy.policy, datetime.now(UTC))
    return Loaded(
        plan=plan,
        password=password,
        requests=len(requests_made),
        incidents=len(incidents_made),
        numbers=len(numbers),
        inquiries=people["inquiries"],
        door_events=people["door_events"],
        gaps=_scan_share(ws, seed, numbers),
        deid=load_demo_deid(ws, datetime.now(UTC)),
    )


def _scan_share(ws: Workspace, seed: int, numbers_in_vault: list[str]) -> int:
    """Write the demo file share and scan it once, so the console's discovery page has a run."""
    started = datetime.now(UTC)
    root = write_demo_share(ws.settings.home, seed, avoid=numbers_in_vault)
    result = scan_service.scan_files(ws, [root], workers=1)
    with ws.db.session() as session:
        scan_service.record(session, ws, result, actor="system:demo", started_at=started)
    return len(result.gaps)
