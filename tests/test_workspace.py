"""The workspace: `mamoru init` is idempotent; mamoru refuses to start without a key or a valid policy."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from pydantic import SecretStr

from mamoru.errors import ConfigurationError, KeyUnavailable
from mamoru.policy.errors import PolicyError
from mamoru.settings import Settings
from mamoru.setup import initialize
from mamoru.workspace import Workspace
from tests.conftest import sqlite_only


def test_init_creates_key_0600_config_policy_schema_and_notice(settings: Settings) -> None:
    report = initialize(settings)
    key_file = settings.resolved_key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_file.read_text())) == 32
    assert settings.resolved_policy_file.exists()
    assert (settings.home / "mamoru.toml").exists()
    assert report.notice_version == "2026.11"
    assert any("published notice" in line for line in report.created)


def test_init_is_idempotent(settings: Settings) -> None:
    initialize(settings)
    key = settings.resolved_key_file.read_bytes()
    again = initialize(settings)
    assert again.created == []
    assert settings.resolved_key_file.read_bytes() == key


def test_two_workspaces_get_different_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, b = Settings(home=tmp_path / "a"), Settings(home=tmp_path / "b")
    initialize(a)
    initialize(b)
    assert a.resolved_key_file.read_bytes() != b.resolved_key_file.read_bytes()


def test_refuses_to_open_without_a_key(settings: Settings) -> None:
    initialize(settings)
    settings.resolved_key_file.unlink()
    with pytest.raises(KeyUnavailable, match="no master key"):
        Workspace.open(settings)


def test_refuses_a_key_file_others_can_read(settings: Settings) -> None:
    initialize(settings)
    os.chmod(settings.resolved_key_file, 0o644)
    with pytest.raises(KeyUnavailable, match="readable by others"):
        Workspace.open(settings)


@pytest.mark.parametrize("value", ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "bm90LWEta2V5", "%%%"])
def test_refuses_a_placeholder_or_malformed_master_key(settings: Settings, value: str) -> None:
    initialize(settings)
    unsafe = settings.model_copy(update={"master_key": SecretStr(value)})
    with pytest.raises(KeyUnavailable):
        Workspace.open(unsafe)


def test_refuses_to_open_with_an_invalid_policy(settings: Settings) -> None:
    initialize(settings)
    policy = settings.resolved_policy_file
    policy.write_text(
        policy.read_text(encoding="utf-8").replace("erase: 0", "") + "\nbogus: 1\n", encoding="utf-8"
    )
    with pytest.raises(PolicyError, match="bogus"):
        Workspace.open(settings)


def test_refuses_to_open_an_unmigrated_database(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    initialize(settings)
    other = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    with pytest.raises(ConfigurationError, match="run `mamoru init`"):
        Workspace.open(other)


def test_master_key_from_environment_needs_no_key_file(settings: Settings) -> None:
    from mamoru.vault.keys import MasterKey

    with_env = settings.model_copy(update={"master_key": SecretStr(MasterKey.generate().encode())})
    initialize(with_env)
    assert not with_env.resolved_key_file.exists()
    Workspace.open(with_env).close()


@sqlite_only
def test_database_file_is_private(settings: Settings) -> None:
    initialize(settings)
    db_file = settings.home / "mamoru.db"
    assert stat.S_IMODE(db_file.stat().st_mode) & 0o077 == 0


def test_a_script_that_imports_only_what_it_uses_can_open_the_workspace_and_write(settings: Settings) -> None:
    """Opening the workspace maps every table, so a script importing one module still flushes rows
    whose foreign keys point into others (found writing a screenshot script)."""
    import subprocess
    import sys

    initialize(settings)
    script = (
        "from mamoru.settings import Settings\n"
        "from mamoru.workspace import Workspace\n"
        "from mamoru.people.auth import set_password\n"
        "ws = Workspace.open(Settings())\n"
        "with ws.db.session() as s:\n"
        "    set_password(s, 'admin', 'a long enough password', actor='test')\n"
        "ws.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_server_or_worker_opening_the_workspace_loads_no_migration_tool_no_other_broker_no_emoji_table(
    settings: Settings,
) -> None:
    """`mamoru serve` and `mamoru worker` open the workspace, make the broker and print a few lines:
    Alembic (with Mako and Pygments behind it) is for migrations, pika for an amqp:// broker and Rich's
    emoji table for nothing they print; loaded anyway, they held about 10 MB in each process."""
    import subprocess
    import sys

    initialize(settings)
    script = (
        "import sys\n"
        "from mamoru.cli.common import out\n"
        "from mamoru.settings import Settings\n"
        "from mamoru.work.queue import broker_for\n"
        "from mamoru.workspace import Workspace\n"
        "ws = Workspace.open(Settings())\n"
        "assert ws.db.current_revision()\n"
        "broker_for('redis://127.0.0.1:6379/15', 'test')\n"  # made, never connected
        "out.print('ready :smile:')\n"
        "loaded = {m.split('.')[0] for m in sys.modules} | set(sys.modules)\n"
        "print(sorted(loaded & {'alembic', 'mako', 'pygments', 'pika', 'rich._emoji_codes'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["ready :smile:", "[]"]
