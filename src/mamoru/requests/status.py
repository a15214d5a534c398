"""Where a request stands and how it ended: the values of ``SubjectRequest.status`` and ``.outcome``."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    AWAITING_CODE = "awaiting_code"  # received; the requester has not entered the e-mailed code yet
    LOCKED = "locked"  # too many wrong codes; the office verifies by other means or refuses
    PENDING_VERIFICATION = "pending_verification"  # an agent's documents wait for the office (Art. 37)
    VERIFIED = "verified"  # the requester is verified; the office decides
    APPROVED = "approved"  # fulfilment planned and running
    NEEDS_ATTENTION = "needs_attention"  # a step failed (a datastore refused or broke); nothing half done
    COMPLETED = "completed"  # answered (fulfilled, partly, refused, or no data held)


OPEN_STATUSES = frozenset(
    {
        Status.AWAITING_CODE,
        Status.LOCKED,
        Status.PENDING_VERIFICATION,
        Status.VERIFIED,
        Status.APPROVED,
        Status.NEEDS_ATTENTION,
    }
)


class Outcome(StrEnum):
    FULFILLED = "fulfilled"
    PARTIAL = "partial"
    REFUSED = "refused"
    NO_DATA = "no_data"
