"""Files people take away (backups, exports, reports): written for the owner only, and spreadsheet
cells that cannot run as formulas.

A file is written to a temporary name in the same folder with mode 0600 and renamed over the target,
so it never exists with wider rights, not even for a moment, and a file that was there before (maybe
0644) is replaced, not rewritten in place.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

PRIVATE = 0o600
#: What a spreadsheet reads as the start of a formula (OWASP "CSV injection"): =, +, -, @, and a tab or
#: a carriage return, which some programs skip before looking for one.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_private(path: Path, data: bytes | str) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` with mode 0600, atomically; returns ``path``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        os.fchmod(fd, PRIVATE)  # O_CREAT's mode does not apply to a leftover file of that name
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def create_private(path: Path) -> int:
    """A new file (refusing one that exists) with mode 0600, opened for writing: its descriptor."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    os.fchmod(fd, PRIVATE)
    return fd


def safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula gets a leading apostrophe (kept as text);
    anything else, numbers included, is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[Any]], *, bom: bool = True, lineterminator: str = "\r\n") -> str:
    """Rows as CSV for a spreadsheet: every cell through :func:`safe_cell`, a BOM so that Excel in Japan
    reads UTF-8."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    csv.writer(buffer, lineterminator=lineterminator).writerows(
        [safe_cell(cell) for cell in row] for row in rows
    )
    return buffer.getvalue()
