"""The worker's tasks run in the workspace `mamoru worker` opened, and hand freed memory back after each."""

from __future__ import annotations

from typing import Any

import pytest

from mamoru.settings import Settings
from mamoru.setup import initialize
from mamoru.work import queue
from mamoru.workspace import Workspace


def test_tasks_run_in_the_workspace_the_worker_opened_and_open_their_own_once_it_closed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    initialize(settings)
    seen: list[Workspace] = []
    trimmed: list[bool] = []
    monkeypatch.setitem(queue.TASKS, "test.seen", lambda ws, args: seen.append(ws))
    monkeypatch.setattr(queue, "release_memory", lambda: trimmed.append(True))
    ws = Workspace.open(settings)
    try:
        queue.use_workspace(ws)
        queue.run_task("test.seen", {})
        queue.run_task("test.seen", {})
        assert seen == [ws, ws]  # not a second workspace (its own pool, policy and vault) per process
        queue.use_workspace(None)
        queue.run_task("test.seen", {})
        assert seen[2] is not ws
        assert trimmed == [True, True, True]
    finally:
        opened = queue._worker_ws.pop("ws", None)
        if opened is not None:
            opened.close()
        ws.close()


def test_memory_is_released_after_a_task_that_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    real = queue.release_memory
    trimmed: list[bool] = []

    def broken(ws: Any, args: dict[str, Any]) -> None:
        raise RuntimeError("broken")

    monkeypatch.setitem(queue.TASKS, "test.broken", broken)
    monkeypatch.setattr(queue, "release_memory", lambda: trimmed.append(True))
    monkeypatch.setitem(queue._worker_ws, "ws", object())
    with pytest.raises(RuntimeError):
        queue.run_task("test.broken", {})
    assert trimmed == [True]
    real()  # the real one: glibc's malloc_trim where there is one, else nothing
    queue.limit_malloc_arenas()  # glibc's mallopt where there is one, else nothing
