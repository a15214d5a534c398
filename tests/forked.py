"""Children for the crash tests, forked from one process that has imported mamoru once.

A crash test kills a child with SIGKILL again and again; a fresh interpreter for each child spent most
of the test importing mamoru (a second or more of CPU each time). Here one helper process imports the
modules once and forks a child for each run: from the fork on, the child is an ordinary process that
opens its own database and workspace, writes its lines to a pipe and can be killed at any moment, as
before. The helper holds no connection and no thread when it forks (it checks), so a child inherits no
lock and no database handle.

Protocol on the helper's stdout: the child's own first line is ``pid N``; then everything the child
writes, byte for byte; then, once the helper has reaped it, ``MARK exit-code``. A line cut by a kill keeps
no newline, exactly as a pipe at the end of a killed process's output.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

MARK = b"\x1eforked-exit "  # the helper's HELPER spells it too

HELPER = r"""
import importlib, os, sys, threading, traceback

body = compile(sys.argv[1], "<child>", "exec")
for name in sys.argv[2:]:
    importlib.import_module(name)
for line in sys.stdin:
    if threading.active_count() != 1:
        sys.exit("a thread in the helper: a forked child would inherit its locks")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            sys.stdin.close()
            sys.argv = ["-c", *line.split()]
            print("pid", os.getpid(), flush=True)
            exec(body, {"__name__": "__main__"})
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(b"\x1eforked-exit " + str(os.waitstatus_to_exitcode(status)).encode() + b"\n")
    sys.stdout.flush()
"""


class Child:
    """One forked run: its output lines as they come, a SIGKILL, its end."""

    def __init__(self, helper: Forker, pid: int) -> None:
        self._helper = helper
        self.pid = pid
        self.returncode: int | None = None

    def __iter__(self) -> Iterator[bytes]:
        """The child's output, line by line (the last one without a newline if a kill cut it)."""
        while self.returncode is None:
            line = self._helper._readline()
            at = line.find(MARK)
            if at < 0:
                yield line
                continue
            self.returncode = int(line[at + len(MARK) :])
            if at:
                yield line[:at]

    def kill(self) -> None:
        """SIGKILL (the helper reaps the child only after the test has read its end, so the pid is
        still this child's)."""
        os.kill(self.pid, signal.SIGKILL)

    def communicate(self) -> bytes:
        """The rest of the output, once the child has ended."""
        return b"".join(self)


class Forker:
    """A helper process that imports ``preload`` and then runs ``body`` (Python source, its ``sys.argv``
    as for ``python -c``) in a freshly forked child for each :meth:`start`."""

    def __init__(self, body: str, preload: Sequence[str], errors: Path, timeout: float = 60) -> None:
        self._errors: IO[bytes] = errors.open("w+b")
        self._timeout = timeout
        self._buffer = b""
        self._child: Child | None = None
        self.process = subprocess.Popen(
            [sys.executable, "-c", HELPER, body, *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env=dict(os.environ),
        )

    def start(self, *argv: str) -> Child:
        """Fork a child with ``argv``; returns once it runs (its first line read)."""
        assert self.process.stdin is not None
        self.process.stdin.write((" ".join(argv) + "\n").encode())
        self.process.stdin.flush()
        first = self._readline()
        assert first.startswith(b"pid "), self.errors()
        self._child = Child(self, int(first.split()[1]))
        return self._child

    def errors(self) -> str:
        """What the helper and its children wrote to stderr (the end of it)."""
        self._errors.flush()
        self._errors.seek(0)
        return self._errors.read().decode(errors="replace")[-3000:]

    def _readline(self) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + self._timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            assert left > 0, f"no line from the forked child in {self._timeout} s\n{self.errors()}"
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 65536)
                assert chunk, f"the helper ended\n{self.errors()}"
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line + b"\n"

    def close(self) -> None:
        """End the helper; a child still running (a test that failed half-way) is killed first."""
        if self._child is not None and self._child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._child.kill()
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self._errors.close()

    def __enter__(self) -> Forker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
