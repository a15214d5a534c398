"""Data-subject request kinds under APPI Arts. 32-35 and which of them may carry a fee (Art. 38)."""

from __future__ import annotations

from enum import StrEnum


class RequestKind(StrEnum):
    """The kinds of request a person may make about their retained personal data."""

    PURPOSE_NOTIFICATION = "purpose_notification"  # Art. 32(2)
    DISCLOSURE = "disclosure"  # Art. 33(1)
    PROVISION_RECORD_DISCLOSURE = "provision_record_disclosure"  # Art. 33(5)
    CORRECTION = "correction"  # Art. 34: correction, addition or deletion of untrue content
    STOP_USE = "stop_use"  # Art. 35(1): cessation of use
    ERASE = "erase"  # Art. 35(1): erasure
    STOP_PROVISION = "stop_provision"  # Art. 35(3): cessation of third-party provision


#: APPI Art. 38: a fee may be charged only for purpose notification and disclosure
#: (provision-record disclosure is a disclosure under Art. 33(5)).
FEE_ALLOWED: frozenset[RequestKind] = frozenset(
    {
        RequestKind.PURPOSE_NOTIFICATION,
        RequestKind.DISCLOSURE,
        RequestKind.PROVISION_RECORD_DISCLOSURE,
    }
)


def fee_allowed(kind: RequestKind) -> bool:
    """Whether APPI Art. 38 lets a business charge a fee for a request of this kind."""
    return kind in FEE_ALLOWED
