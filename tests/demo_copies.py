"""The demo organization loaded once per test process and seed, then copied into each test's workspace.

Loading the demo (people, acquisitions, vault keys and sealed values, audit entries) is the slowest part
of many tests' set-up. The first test that asks for a seed loads it into its own workspace, the way
``load_demo`` always has, and keeps a copy of the result (the workspace's files and, on PostgreSQL, a
template database); every later test with that seed gets that copy instead of loading again. Every test
workspace of a process is a copy of the same initialized one (same keys), so the copies open with its keys.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import os
import shutil
import tempfile
from pathlib import Path

from mamoru.demo import DemoPlan, load_demo
from mamoru.people.auth import set_password
from mamoru.workspace import Workspace
from tests import pg_scratch

_ADMIN = os.environ.get(
    "MAMORU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
).replace("+psycopg", "")
_ROOT = Path(tempfile.mkdtemp(prefix="mamoru-demo-copies-"))
#: (seed, password, master key, policy, database kind) -> (home, template database or None, plan)
_KEPT: dict[tuple[int, str | None, str, str, bool], tuple[Path, str | None, DemoPlan]] = {}


def _release(ws: Workspace) -> None:
    """Close every connection of the workspace (they reopen by themselves on the next use)."""
    ws.db.dispose()
    ws.keystore.dispose()
    if ws._mn_keystore is not None:
        ws._mn_keystore.dispose()


def _database(ws: Workspace) -> str | None:
    url = ws.settings.database_url
    return url.rsplit("/", 1)[1] if url and url.startswith("postgresql") else None


def _admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(_ADMIN, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@atexit.register
def _drop_templates() -> None:
    names = [db for _, db, _ in _KEPT.values() if db]
    if names:
        with contextlib.suppress(Exception):  # the server may be gone at exit; they are scratch databases
            _admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))
    shutil.rmtree(_ROOT, ignore_errors=True)


def _copy_files(source: Path, target: Path) -> None:
    for stale in [*target.glob("*-wal"), *target.glob("*-shm"), *target.glob("*-journal")]:
        stale.unlink()
    shutil.copytree(source, target, dirs_exist_ok=True)


def demo_copy(ws: Workspace, seed: int, *, password: str | None = None) -> DemoPlan:
    """The demo organization of ``seed`` in ``ws`` (a freshly initialized workspace), with every demo staff
    member's password set to ``password`` if given; returns its plan."""
    database = _database(ws)
    # A copy opens only under the keys it was sealed with: workspaces initialized on their own (another
    # master key) load the demo themselves; the demo depends on the policy enforced (its recipients, its
    # version), so a workspace with another policy file gets a demo of its own.
    key = (seed, password, ws.master_key.key_id, ws.policy.sha256, database is not None)
    kept = _KEPT.get(key)
    if kept is None:
        with ws.db.session() as session:
            plan = load_demo(session, ws.vault, ws.policy.policy, seed)
            for member in plan.staff if password else ():
                set_password(session, member.login, password, actor="test")
        _release(ws)
        home = _ROOT / f"seed{seed}-{len(_KEPT)}"
        shutil.copytree(ws.settings.home, home)
        template = None
        if database is not None:
            template = f"{database}_demo{len(_KEPT)}"[:63]
            pg_scratch.admin(f'CREATE DATABASE "{template}" TEMPLATE "{database}"')
        _KEPT[key] = (home, template, copy.deepcopy(plan))
        return plan
    home, template, plan = kept
    _release(ws)
    if database is not None and template is not None:
        pg_scratch.replace(database, template)
    _copy_files(home, ws.settings.home)
    return copy.deepcopy(plan)
