"""Erasure in an organization's datastore, killed with SIGKILL again and again while it runs: after every
kill the datastore holds either everything or nothing of the erasure, and the last run finishes it."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from mamoru.law.requests import RequestKind
from mamoru.requests import jobs, service
from mamoru.workspace import Workspace
from tests.forked import Forker
from tests.requests_helpers import OFFICER, load_office, person, verified
from tests.test_connectors import CASES, MASK, customers, fill, order_items, orders
from tests.test_requests_crash import CHILD, PRELOAD

ORDERS = 20000


def _state(url: str) -> tuple[int, int, bool]:
    engine = create_engine(url)
    with engine.connect() as conn:
        n_orders = conn.execute(
            select(func.count()).select_from(orders).where(orders.c.customer_id == 1)
        ).scalar()
        n_items = conn.execute(select(func.count()).select_from(order_items)).scalar()
        email = conn.execute(select(customers.c.email).where(customers.c.id == 1)).scalar()
    engine.dispose()
    return int(n_orders or 0), int(n_items or 0), str(email).startswith(MASK)


@pytest.mark.slow
def test_sigkill_during_erasure_leaves_the_datastore_whole_and_the_rerun_finishes(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load_office(workspace)
    email = person(plan, "customer").values["email"]
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    fill(url, subject=email)
    engine = create_engine(url)
    with engine.begin() as conn:  # many rows, so that a kill lands inside the transaction
        conn.execute(
            orders.insert(),
            [{"id": 10 + i, "customer_id": 1, "total_yen": i, "ordered_at": None} for i in range(ORDERS)],
        )
        conn.execute(
            order_items.insert(), [{"id": 10 + i, "order_id": 10 + i, "sku": f"S{i}"} for i in range(ORDERS)]
        )
    engine.dispose()
    before = _state(url)
    assert before == (ORDERS + 2, ORDERS + 3, False)
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    (workspace.settings.home / "datasets").mkdir(exist_ok=True)
    (workspace.settings.home / "datasets" / "shop.yaml").write_text(
        (CASES / "shop.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    request_id = verified(workspace, RequestKind.ERASE, email, grounds=["no_longer_needed"])
    with workspace.db.session() as session:
        service.approve(
            session,
            service.get(session, request_id),
            actor=OFFICER,
            now=datetime.now(UTC),
        )

    rng = random.Random(8)
    kills = 0
    with Forker(CHILD, PRELOAD, tmp_path / "children.log") as forker:
        for _ in range(12):
            if not jobs.pending(workspace):
                break
            child = forker.start()
            for line in child:
                if line.startswith(b"start") and b"connector_erase" in line:
                    time.sleep(rng.uniform(0.005, 0.08))
                    child.kill()
                    kills += 1
                    break
            child.communicate()
            state = _state(url)
            assert state in (before, (0, 1, True)), f"half-applied erasure after a kill: {state}"
    assert kills >= 3
    for pending in jobs.pending(workspace):
        jobs.run(workspace, pending)
    assert _state(url) == (0, 1, True)  # the other customer's order item is all that is left
    with workspace.db.session() as session:
        assert service.get(session, request_id).status == "completed"
