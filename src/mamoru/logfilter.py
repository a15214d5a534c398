"""No Individual Number in any log (MN-6), and no status link: every log record is redacted where it
is made.

A record factory (not a handler filter) so that every logger — ours, uvicorn's access log, a library's
— is covered, whatever handlers are attached later. Any 12-digit run that passes the My Number check
digit, written with full-width digits or separators or not, is replaced before the record exists; so
is the secret part of a request's status link (``/requests/status/<token>``), which is the only key to
that request's page and package and would otherwise be in every access-log line that reached it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from mamoru.law.mynumber import find_candidates, is_valid

REDACTED = "[redacted:my_number]"
LINK_REDACTED = "[redacted:link]"
_installed = False


#: Twelve digits, ASCII or full-width, optionally split by spaces or hyphens (as people write them).
_LOOSE = re.compile(r"(?<![0-9０-９])[0-9０-９](?:[ \-‐－ー−]?[0-9０-９]){11}(?![0-9０-９])")

#: What either pattern needs: twelve digits, each after at most one separator. A text without one (an
#: access-log line, nearly every record) is returned as it is, without running either.
_MAYBE = re.compile(r"\d(?:[ \-‐－ー−]?\d){11}")


#: The token of a status link, raw or percent-encoded, up to the next path separator or query.
_STATUS_LINK = re.compile(r"(/requests/status/)[^/?#\s\"']+")


def redact_links(text: str) -> str:
    """``text`` with the token of every status link replaced."""
    if "/status/" not in text:
        return text
    return _STATUS_LINK.sub(lambda m: m.group(1) + LINK_REDACTED, text)


def redact(text: str) -> str:
    if _MAYBE.search(text) is None:
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
            return redact(redact_links(value))
        if isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
            redacted = redact(text)
            return redacted if redacted != text else value
        return value

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        # Redact the parts, keeping the record's shape: some formatters (uvicorn's access log) read
        # ``args`` themselves.
        if isinstance(record.msg, str):
            record.msg = redact(redact_links(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: clean(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(redact_links(logging.Formatter().formatException(record.exc_info)))
            record.exc_info = None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
