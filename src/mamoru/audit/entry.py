"""Audit events and their canonical encoding.

A stored entry ("leaf") is ``previous entry hash (32 bytes) || sequence number (8 bytes, big-endian)
|| canonical JSON body``. Its hash, ``SHA-256(0x00 || leaf)``, is both the next entry's link and the
RFC 6962 leaf hash of the Merkle tree, so one hash serves the chain and the checkpoints.

No personal value may enter an event: only references (subject ids, object ids, logins) and codes.
:func:`check_no_personal_values` enforces it at the door.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import orjson

from mamoru.errors import Invalid
from mamoru.references import (
    PLAIN_REFERENCE_RE,
    REFERENCE_PATTERN,
    UUID_REFERENCE_RE,
    reference_problem,
)

__all__ = ["REFERENCE_PATTERN", "AuditEvent", "BadAuditEvent", "PersonalValueInAudit"]

HASH_BYTES = 32
HEADER_BYTES = HASH_BYTES + 8
GENESIS = b"\x00" * HASH_BYTES


def digest_ref(data: bytes) -> str:
    """A reference to some bytes by their SHA-256, fit for an audit entry: base32, because a hex digest
    can hold a run of twelve digits that the log refuses as a possible Individual Number."""
    import base64
    import hashlib

    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()[:20]).decode().lower()


class BadAuditEvent(Invalid):
    """An audit event would carry something that is not a reference or a code (a null, a number, a
    name): refused before anything is written, as invalid input (422) naming the event's field."""


class PersonalValueInAudit(BadAuditEvent):
    """An audit event carried something that is not a reference or a code."""


_REQUIRED = ("actor", "action")
_OPTIONAL = ("purpose", "decision", "policy_version")
_LISTS = ("subjects", "objects", "reasons")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened: who, did what, for which purpose, to which subjects and objects, and the outcome.

    Every string is a reference or a code (``[A-Za-z0-9_.:/-]``, at most 128 characters); building an
    event with anything else (a null, a number, a name) raises :class:`BadAuditEvent`, so no event
    that the log or its index could not hold ever exists.
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

    def __post_init__(self) -> None:
        if (
            type(self.subjects) is not tuple
            or type(self.objects) is not tuple
            or type(self.reasons) is not tuple
        ):
            for name in _LISTS:
                value = getattr(self, name)
                if not isinstance(value, list | tuple):
                    raise BadAuditEvent([(name, "a list of references is expected")])
                object.__setattr__(self, name, tuple(value))
        if type(self.counts) is not dict:
            raise BadAuditEvent([("counts", "a mapping of codes to integers is expected")])
        check_no_personal_values(self)


# Strings already seen to be references: repeated actors, actions and purposes cost a set lookup.
# An absent optional field stands in as ``_ABSENT`` (a reference); None itself is never in the set, so
# a null in a required field or a list is never taken for a clean value.
_ABSENT = "-"
_checked: set[str] = {_ABSENT}
_CHECKED_MAX = 100_000


def _clean(value: object) -> bool:
    """True if ``value`` is plainly a reference (remembered, so that the next time is a set lookup)."""
    if not isinstance(value, str):
        return False
    if value in _checked:
        return True
    if PLAIN_REFERENCE_RE.match(value) or UUID_REFERENCE_RE.match(value):
        if len(_checked) >= _CHECKED_MAX:
            _checked.clear()
            _checked.add(_ABSENT)
        _checked.add(value)
        return True
    return False


def _refuse(where: str, value: object) -> None:
    """Raise for ``value`` unless it is a reference after all (a run of twelve digits that is no
    Individual Number); the error names the field, never the value."""
    why = reference_problem(value)
    if why is not None:
        cls = PersonalValueInAudit if isinstance(value, str) else BadAuditEvent
        raise cls([(where, f"an audit event holds references and codes only: {why}")])


def _check_each(event: AuditEvent) -> None:
    """The slow path: each string, with its field's name for the error."""
    for name in _REQUIRED:
        value = getattr(event, name)
        if not _clean(value):
            _refuse(name, value)
    for name in _OPTIONAL:
        value = getattr(event, name)
        if value is not None and not _clean(value):
            _refuse(name, value)
    for name in _LISTS:
        for i, value in enumerate(getattr(event, name)):
            if not _clean(value):
                _refuse(f"{name}.{i}", value)


def check_no_personal_values(event: AuditEvent) -> None:
    """Refuse an event whose strings are not plain references (a null, a number, a name, an address),
    or that carries a My Number-shaped value: :class:`BadAuditEvent` naming the field.

    Strings already seen to be clean are remembered, so repeated actors and purposes cost a set lookup.
    """
    purpose, decision, version = event.purpose, event.decision, event.policy_version
    values = (
        event.actor,
        event.action,
        _ABSENT if purpose is None else purpose,
        _ABSENT if decision is None else decision,
        _ABSENT if version is None else version,
        *event.subjects,
        *event.objects,
        *event.reasons,
    )
    try:  # C-level: the common case is every string seen before, or one new subject
        unseen: Collection[object] = () if _checked.issuperset(values) else set(values).difference(_checked)
    except TypeError:  # something unhashable: not a reference, found below
        unseen = (None,)
    for value in unseen:
        if not _clean(value):
            _check_each(event)  # finds the field; raises unless it is a reference after all
            break
    for key, count in event.counts.items():
        if not _clean(key):
            _refuse("counts", key)  # the key itself is never repeated in the message
        if type(count) is not int:
            raise BadAuditEvent([("counts", "a count must be an integer")])


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
