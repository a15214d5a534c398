"""Audit events and their canonical encoding.

A stored entry ("leaf") is ``previous entry hash (32 bytes) || sequence number (8 bytes, big-endian)
|| canonical JSON body``. Its hash, ``SHA-256(0x00 || leaf)``, is both the next entry's link and the
RFC 6962 leaf hash of the Merkle tree, so one hash serves the chain and the checkpoints.

No personal value may enter an event: only references (subject ids, object ids, logins) and codes.
:func:`check_no_personal_values` enforces it at the door.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from mamoru.errors import MamoruError
from mamoru.law.mynumber import find_candidates

HASH_BYTES = 32
HEADER_BYTES = HASH_BYTES + 8
GENESIS = b"\x00" * HASH_BYTES

#: What a reference or code looks like: the only kind of string the audit log (and the API) accepts.
REFERENCE_PATTERN = r"^[A-Za-z0-9_.:/\-]{1,128}$"
_REF = re.compile(REFERENCE_PATTERN)
_PLAIN_REF = re.compile(r"^(?!.*\d{12})[A-Za-z0-9_.:/\-]{1,128}$")
# A random UUID's last group is twelve digits once in a few hundred; it is a reference all the same.
_UUID = re.compile(r"^(?:[a-z_]{1,32}:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def digest_ref(data: bytes) -> str:
    """A reference to some bytes by their SHA-256, fit for an audit entry: base32, because a hex digest
    can hold a run of twelve digits that the log refuses as a possible Individual Number."""
    import base64
    import hashlib

    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()[:20]).decode().lower()


class PersonalValueInAudit(MamoruError):
    """An audit event carried something that is not a reference or a code."""

    http_status = 500


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened: who, did what, for which purpose, to which subjects and objects, and the outcome.

    Every string is a reference or a code (``[A-Za-z0-9_.:/-]``, at most 128 characters).
    """

    actor: str
    action: str
    purpose: str | None = None
    subjects: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    decision: str | None = None
    reasons: tuple[str, ...] = ()
    policy_version: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


_checked: set[str] = {None}  # type: ignore[arg-type]  # None (an absent field) is always clean
_CHECKED_MAX = 100_000


def _check_value(value: str) -> None:
    if value in _checked:
        return
    if isinstance(value, str) and (_PLAIN_REF.match(value) or _UUID.match(value)):  # plainly a reference
        _remember(value)
        return
    if not isinstance(value, str) or not _REF.match(value):
        raise PersonalValueInAudit(
            "audit events hold references and codes only ([A-Za-z0-9_.:/-], ≤128 characters); "
            f"a value of {len(value) if isinstance(value, str) else type(value).__name__} was refused"
        )
    if find_candidates(value):
        raise PersonalValueInAudit("an audit event carried a value shaped like an Individual Number; refused")
    _remember(value)


def _remember(value: str) -> None:
    if len(_checked) >= _CHECKED_MAX:
        _checked.clear()
        _checked.add(None)  # type: ignore[arg-type]
    _checked.add(value)


def check_no_personal_values(event: AuditEvent) -> None:
    """Refuse an event whose strings are not plain references, or that carry a My Number-shaped value.

    Strings already seen to be clean are remembered, so repeated actors and purposes cost a set lookup.
    """
    values = (
        event.actor,
        event.action,
        event.purpose,
        event.decision,
        event.policy_version,
        *event.subjects,
        *event.objects,
        *event.reasons,
    )
    if not _checked.issuperset(values):  # one C-level test for the common case: all seen before
        for value in values:
            if value is not None:
                _check_value(value)
    for name, count in event.counts.items():
        _check_value(name)
        if not isinstance(count, int) or isinstance(count, bool):
            raise PersonalValueInAudit(f"count '{name}' must be an integer")


def encode_body(event: AuditEvent, ts_us: int) -> bytes:
    """The canonical JSON body: sorted keys, compact, UTF-8; empty fields are left out."""
    body: dict[str, Any] = {"action": event.action, "actor": event.actor, "ts": ts_us}
    if event.counts:
        body["counts"] = event.counts
    if event.decision is not None:
        body["decision"] = event.decision
    if event.objects:
        body["objects"] = event.objects
    if event.policy_version is not None:
        body["policy_version"] = event.policy_version
    if event.purpose is not None:
        body["purpose"] = event.purpose
    if event.reasons:
        body["reasons"] = event.reasons
    if event.subjects:
        body["subjects"] = event.subjects
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class DecodedEntry:
    """An entry read back from its leaf, for queries and reports."""

    seq: int
    prev_hash: bytes
    entry_hash: bytes
    body: dict[str, Any]

    @property
    def ts_us(self) -> int:
        return int(self.body["ts"])


_DEFAULTS: dict[str, Any] = {
    "counts": {},
    "decision": None,
    "objects": [],
    "policy_version": None,
    "purpose": None,
    "reasons": [],
    "subjects": [],
}


def _with_defaults(body: dict[str, Any]) -> dict[str, Any]:
    return {**_DEFAULTS, **body}


def decode_leaf(leaf: bytes, entry_hash: bytes) -> DecodedEntry:
    return DecodedEntry(
        seq=int.from_bytes(leaf[HASH_BYTES:HEADER_BYTES], "big"),
        prev_hash=leaf[:HASH_BYTES],
        entry_hash=entry_hash,
        body=_with_defaults(orjson.loads(leaf[HEADER_BYTES:])),
    )
