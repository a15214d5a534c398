"""End to end: a fresh workspace, the real `mamoru` command, a real uvicorn server on loopback."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

MAMORU = [sys.executable, "-m", "mamoru.cli.main"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_serving(env: dict[str, str], port: int, *, timeout: float = 30) -> subprocess.Popen[str]:
    """``mamoru serve`` on ``port`` with ``env``, once /healthz answers (fails the test if it never does)."""
    process = subprocess.Popen(
        [*MAMORU, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("server did not start")
            time.sleep(0.2)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORU_")}
    env["MAMORU_HOME"] = str(home)
    return env


def initialized(tmp_path: Path, sqlite_initialized: Path) -> dict[str, str]:
    """The environment of a workspace in ``tmp_path / "ws"`` as `mamoru init` leaves it: a copy of the one
    initialized once per test process (for tests about something else than `mamoru init`)."""
    shutil.copytree(sqlite_initialized, tmp_path / "ws")
    return _env(tmp_path / "ws")


def test_serve_refuses_to_start_without_a_key(tmp_path: Path, sqlite_initialized: Path) -> None:
    env = initialized(tmp_path, sqlite_initialized)
    (tmp_path / "ws" / "master.key").unlink()
    done = subprocess.run(
        [*MAMORU, "serve", "--port", str(_free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "no master key" in done.stderr


def test_serve_refuses_to_start_with_an_invalid_policy(tmp_path: Path, sqlite_initialized: Path) -> None:
    env = initialized(tmp_path, sqlite_initialized)
    policy = tmp_path / "ws" / "policy.yaml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace("    disclosure: 1000\n", "    erase: 1000\n"),
        encoding="utf-8",
    )
    done = subprocess.run(
        [*MAMORU, "serve", "--port", str(_free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "requests.fees.erase" in done.stderr


def test_init_demo_and_serve_print_the_passwords_once_and_show_the_notice_in_both_languages(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path / "ws")
    first = subprocess.run([*MAMORU, "init"], env=env, capture_output=True, text=True, timeout=120)
    assert "sign in to /console/ as 'admin' with:" in first.stdout
    again = subprocess.run([*MAMORU, "init"], env=env, capture_output=True, text=True, timeout=120)
    assert "sign in" not in again.stdout
    # A dataset map in <home>/datasets whose URL is not set: the demo runs without reaching it.
    folder = tmp_path / "ws" / "datasets"
    assert folder.is_dir()  # `init` makes it
    env.pop("COMPOSITE_URL", None)
    composite = (Path(__file__).parent / "connector_cases" / "composite.yaml").read_text(encoding="utf-8")
    (folder / "composite.yaml").write_text(composite, encoding="utf-8")
    demo = subprocess.run([*MAMORU, "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "sign in to /console/ with:" in demo.stdout and "Traceback" not in demo.stderr
    rerun = subprocess.run(
        [*MAMORU, "demo", "--if-empty"], env=env, capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == 0 and "already has data" in rerun.stdout, rerun.stderr
    # had one of its requests reached the mapped datastore, it would have stopped in "needs attention"
    listed = subprocess.run(
        [*MAMORU, "requests", "list", "--all", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode in (0, 1), listed.stderr  # 1: a demo request is past its deadline
    statuses = Counter(r["status"] for r in json.loads(listed.stdout))
    assert statuses["completed"] >= 1 and statuses["needs_attention"] == 0, statuses
    assert (folder / "composite.yaml").read_text(encoding="utf-8") == composite
    # and it serves the notice in both languages
    port = _free_port()
    server = subprocess.Popen(
        [*MAMORU, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("server did not start")
                time.sleep(0.2)
        assert health.json()["notice_current"] is True
        ja = httpx.get(f"{base}/?lang=ja", timeout=5)
        en = httpx.get(f"{base}/?lang=en", timeout=5)
        assert "保有個人データの利用目的" in ja.text
        assert "Purposes of use of retained personal data" in en.text
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "Traceback" not in output
