"""What a reference is: the only kind of string the audit log keeps, and the type the API accepts for it.

A reference names a subject, an object, an actor or a code (``staff:pm01``, a subject's UUID,
``incident:INC-2026-0001``): letters, digits and ``_.:/-``, 1 to 128 characters, and never a run of
twelve digits that passes the Individual Number check digit. Anything else (a name, an e-mail
address, a null) is refused where it enters, so it can never reach the log or its index.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from mamoru.law.mynumber import find_candidates

#: What a reference or code looks like.
REFERENCE_PATTERN = r"^[A-Za-z0-9_.:/\-]{1,128}$"
REFERENCE_RE = re.compile(REFERENCE_PATTERN)
#: A reference with no run of twelve digits: nothing more to check.
PLAIN_REFERENCE_RE = re.compile(r"^(?!.*\d{12})[A-Za-z0-9_.:/\-]{1,128}$")
# A random UUID's last group is twelve digits once in a few hundred; it is a reference all the same.
UUID_REFERENCE_RE = re.compile(
    r"^(?:[a-z_]{1,32}:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)

SHAPE = "a reference of letters, digits and _.:/- (1 to 128 characters) is expected"
MY_NUMBER_SHAPED = "a value shaped like an Individual Number is not a reference"


def reference_problem(value: object) -> str | None:
    """Why ``value`` is not a reference, or None if it is one. Never repeats the value."""
    if not isinstance(value, str):
        return f"{SHAPE}, not {'null' if value is None else type(value).__name__}"
    if PLAIN_REFERENCE_RE.match(value) or UUID_REFERENCE_RE.match(value):
        return None
    if not REFERENCE_RE.match(value):
        return SHAPE
    if find_candidates(value):
        return MY_NUMBER_SHAPED
    return None


def is_reference(value: object) -> bool:
    return reference_problem(value) is None


def _no_my_number(value: str) -> str:
    if find_candidates(value) and not UUID_REFERENCE_RE.match(value):
        raise ValueError(MY_NUMBER_SHAPED)
    return value


#: A reference in an API model: a string (never null, never a number) of the reference shape.
Reference = Annotated[
    str,
    Field(strict=True, min_length=1, max_length=128, pattern=REFERENCE_PATTERN),
    AfterValidator(_no_my_number),
]
