"""The dashboard's statistics: counted in the view only when there are none yet; past their interval the
kept ones are shown while one count runs behind the pages, however many views ask at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mamoru.ledger.tables import DataSubject
from mamoru.pms import dashboard
from mamoru.workspace import Workspace

NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


def _wait_for_count(workspace: Workspace) -> None:
    kept = dashboard._STATISTICS(workspace.db.engine)
    deadline = time.monotonic() + 30
    while kept.counting and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not kept.counting


def test_a_view_past_the_interval_does_not_wait_and_forty_views_start_one_count(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = workspace.policy.policy
    today = NOW.date()
    with workspace.db.session() as session:
        first = dashboard.statistics(session, policy, NOW, today)  # none kept: counted in the view
    assert first.counted_at == NOW
    with workspace.db.session() as session:
        session.add(DataSubject(id="dashboard-test-subject", kind="customer"))
        session.commit()

    counts: list[int] = []
    real = dashboard._statistics
    release = threading.Event()

    def slow(*args: Any) -> Any:  # the real count, held until the views have all been answered
        counts.append(1)
        release.wait(30)
        return real(*args)

    monkeypatch.setattr(dashboard, "_statistics", slow)
    monkeypatch.setattr(dashboard, "STATISTICS_SECONDS", 0.0)
    later = NOW + timedelta(minutes=2)
    shown: list[Any] = []

    def view() -> None:
        with workspace.db.session() as session:
            shown.append(dashboard.statistics(session, policy, later, today))

    views = [threading.Thread(target=view) for _ in range(40)]
    for v in views:
        v.start()
    for v in views:
        v.join(30)
    assert len(shown) == 40 and all(s is first for s in shown)  # answered from the kept figures
    assert len(counts) == 1  # one count behind the pages, not forty
    release.set()
    _wait_for_count(workspace)
    with workspace.db.session() as session:
        monkeypatch.setattr(dashboard, "STATISTICS_SECONDS", 60.0)
        after = dashboard.statistics(session, policy, later, today)
    assert after.counted_at == later and after.subjects == first.subjects + 1
