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
    #: Art. 28(3): information on a foreign party's conforming system and the measures taken, on request.
    FOREIGN_INFORMATION = "foreign_information"
    ACCESS_HISTORY = "access_history"  # not in the law: who used my data, for what, when (from the audit log)


#: The kinds whose answer discloses data (Art. 33(2) grounds apply to them).
DISCLOSING = frozenset(
    {RequestKind.DISCLOSURE, RequestKind.PROVISION_RECORD_DISCLOSURE, RequestKind.ACCESS_HISTORY}
)
#: The kinds that need one of the Art. 35 grounds.
NEEDS_GROUND = frozenset({RequestKind.STOP_USE, RequestKind.ERASE, RequestKind.STOP_PROVISION})


def asks(kind: RequestKind | None) -> dict[str, bool]:
    """What a request of ``kind`` asks of the person beyond who they are and how to reach them: the
    answer method (a disclosure), the Art. 35 grounds, the purposes to stop or erase, the recipients to
    stop, the corrections (Art. 34)."""
    return {
        "method": kind in DISCLOSING,
        "grounds": kind in NEEDS_GROUND,
        "purposes": kind in (RequestKind.STOP_USE, RequestKind.ERASE),
        "recipients": kind is RequestKind.STOP_PROVISION,
        "corrections": kind is RequestKind.CORRECTION,
    }


class CessationGround(StrEnum):
    """APPI Art. 35: the grounds for cessation of use, erasure, or cessation of third-party provision."""

    BEYOND_PURPOSE = "beyond_purpose"  # Art. 35(1): used beyond the purpose (Art. 18)
    IMPROPER_USE = "improper_use"  # Art. 35(1): improper use (Art. 19)
    IMPROPER_ACQUISITION = "improper_acquisition"  # Art. 35(1): improperly acquired (Art. 20)
    PROVISION_WITHOUT_CONSENT = "provision_without_consent"  # Art. 35(3): provided against Art. 27(1)/28
    NO_LONGER_NEEDED = "no_longer_needed"  # Art. 35(5): the business no longer needs it (2022)
    REPORTABLE_BREACH = "reportable_breach"  # Art. 35(5): a reportable breach involved it (2022)
    RIGHTS_HARMED = "rights_harmed"  # Art. 35(5): the person's rights or legitimate interests may be harmed


class RefusalGround(StrEnum):
    """Why a request is refused in whole or in part; the letter gives it with the office's reasons (Art. 36)."""

    HARM_TO_PERSON = "harm_to_person"  # Art. 33(2)(i): harm to the life, body, property or rights of anyone
    BUSINESS_HINDRANCE = "business_hindrance"  # Art. 33(2)(ii): significant hindrance to the business
    OTHER_LAW = "other_law"  # Art. 33(2)(iii): disclosure would violate another law
    NOT_UNTRUE = "not_untrue"  # Art. 34: investigated, the content is not untrue
    GROUND_NOT_ESTABLISHED = "ground_not_established"  # Art. 35: none of the grounds applies
    ALTERNATIVE_MEASURE = "alternative_measure"  # Art. 35(2)(4) proviso: costly or difficult; another measure
    STATUTORY_HOLD = "statutory_hold"  # Art. 36: a law requires the data to be kept
    PURPOSE_EXEMPT = "purpose_exempt"  # Art. 32(2) proviso: the purpose is evident or notice would harm
    IDENTITY_NOT_VERIFIED = "identity_not_verified"  # Art. 37: the requester could not be verified


#: Which refusal grounds fit which kind of request.
REFUSAL_GROUNDS: dict[RequestKind, frozenset[RefusalGround]] = {
    kind: frozenset({RefusalGround.IDENTITY_NOT_VERIFIED})
    | (
        frozenset({RefusalGround.HARM_TO_PERSON, RefusalGround.BUSINESS_HINDRANCE, RefusalGround.OTHER_LAW})
        if kind in DISCLOSING
        else frozenset({RefusalGround.NOT_UNTRUE})
        if kind is RequestKind.CORRECTION
        else frozenset(
            {
                RefusalGround.GROUND_NOT_ESTABLISHED,
                RefusalGround.ALTERNATIVE_MEASURE,
                RefusalGround.STATUTORY_HOLD,
            }
        )
        if kind in NEEDS_GROUND
        else frozenset({RefusalGround.PURPOSE_EXEMPT})
    )
    for kind in RequestKind
}
#: Rules Art. 18(3): the information may be withheld only where giving it would significantly hinder
#: the business.
REFUSAL_GROUNDS[RequestKind.FOREIGN_INFORMATION] = frozenset(
    {RefusalGround.IDENTITY_NOT_VERIFIED, RefusalGround.BUSINESS_HINDRANCE}
)


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
