"""No Individual Number in any log (MN-6): every log record is redacted where it is made.

A record factory (not a handler filter) so that every logger — ours, uvicorn's access log, a library's
— is covered, whatever handlers are attached later. Any 12-digit run that passes the My Number check
digit, written with full-width digits or separators or not, is replaced before the record exists.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from mamoru.law.mynumber import find_candidates, is_valid

REDACTED = "[redacted:my_number]"
_installed = False


#: Twelve digits, ASCII or full-width, optionally split by spaces or hyphens (as people write them).
_LOOSE = re.compile(r"(?<![0-9０-９])[0-9０-９](?:[ \-‐－ー−]?[0-9０-９]){11}(?![0-9０-９])")


def redact(text: str) -> str:
    if not any(ch.isdigit() for ch in text):
        return text
    for candidate in find_candidates(text):
        text = text.replace(candidate, REDACTED)
    return _LOOSE.sub(lambda m: REDACTED if is_valid(m.group(0)) else m.group(0), text)


def install() -> None:
    """Install the redacting record factory once per process."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
            return redact(text) if redact(text) != text else value
        return value

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        # Redact the parts, keeping the record's shape: some formatters (uvicorn's access log) read
        # ``args`` themselves.
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: clean(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
