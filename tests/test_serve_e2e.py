"""End to end: a fresh workspace, the real `mamoru` command, a real uvicorn server on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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


def test_init_demo_serve_shows_the_notice_in_both_languages(tmp_path: Path) -> None:
    env = _env(tmp_path / "ws")
    for args in (["init"], ["demo", "--if-empty", "--seed", "2"], ["demo", "--if-empty"]):
        done = subprocess.run([*MAMORU, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
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


def test_serve_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    env = _env(tmp_path / "ws")
    assert subprocess.run([*MAMORU, "init"], env=env, capture_output=True, timeout=120).returncode == 0
    (tmp_path / "ws" / "master.key").unlink()
    done = subprocess.run(
        [*MAMORU, "serve", "--port", str(_free_port())], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "no master key" in done.stderr


def test_serve_refuses_to_start_with_an_invalid_policy(tmp_path: Path) -> None:
    env = _env(tmp_path / "ws")
    assert subprocess.run([*MAMORU, "init"], env=env, capture_output=True, timeout=120).returncode == 0
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


def test_init_and_demo_print_the_passwords_once_and_they_work(tmp_path: Path) -> None:
    env = _env(tmp_path / "ws")
    first = subprocess.run([*MAMORU, "init"], env=env, capture_output=True, text=True, timeout=120)
    assert "sign in to /console/ as 'admin' with:" in first.stdout
    again = subprocess.run([*MAMORU, "init"], env=env, capture_output=True, text=True, timeout=120)
    assert "sign in" not in again.stdout
    demo = subprocess.run([*MAMORU, "demo"], env=env, capture_output=True, text=True, timeout=120)
    assert "sign in to /console/ with:" in demo.stdout
