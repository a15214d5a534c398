"""The decision every use of personal data needs: frozen, explained, and the only thing the audit log
stores about it."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from mamoru.policy.model import AccessAction

Action = AccessAction


class Reason(StrEnum):
    """Why a decision went the way it did. Closed: every code is documented in docs/guard.md."""

    ALLOWED = "allowed"
    PURPOSE_UNKNOWN = "purpose_unknown"
    PURPOSE_NOT_IN_FORCE = "purpose_not_in_force"
    PURPOSE_NOT_ASSESSED = "purpose_not_assessed"
    PURPOSE_CHANGE_NOT_NOTIFIED = "purpose_change_not_notified"
    PURPOSE_CHANGE_NEEDS_CONSENT = "purpose_change_needs_consent"
    ACTOR_INACTIVE = "actor_inactive"
    ROLE_LACKS_PURPOSE = "role_lacks_purpose"
    PLEDGE_MISSING = "pledge_missing"
    TRAINING_LAPSED = "training_lapsed"
    CATEGORY_OUTSIDE_PURPOSE = "category_outside_purpose"
    NOT_ACQUIRED_FOR_PURPOSE = "not_acquired_for_purpose"
    CONSENT_BEYOND_PURPOSE = "consent_beyond_purpose"
    STATUTORY_EXCEPTION = "statutory_exception"
    SUBJECT_REQUEST = "subject_request"
    BREACH_NOTICE = "breach_notice"
    USE_STOPPED = "use_stopped"
    RETENTION_EXPIRED = "retention_expired"
    SUBJECT_ERASED = "subject_erased"
    MY_NUMBER_OUTSIDE_AFFAIRS = "my_number_outside_affairs"
    MY_NUMBER_NOT_HANDLER = "my_number_not_handler"
    PROVISION_NEEDS_CONSENT = "provision_needs_consent"
    CONSENT_DOES_NOT_COVER = "consent_does_not_cover"
    PROCESSOR_NOT_SUPERVISED = "processor_not_supervised"
    FOREIGN_CHECK_OVERDUE = "foreign_check_overdue"
    REFERABLE_NOT_CONFIRMED = "referable_not_confirmed"
    EXCEPTION_NEEDS_JUSTIFICATION = "exception_needs_justification"
    PSEUDONYMIZED_NO_JOIN = "pseudonymized_no_join"
    PSEUDONYMIZED_NO_CONTACT = "pseudonymized_no_contact"
    PSEUDONYMIZED_NO_PROVISION = "pseudonymized_no_provision"
    ANONYMIZED_NOT_PUBLISHED = "anonymized_not_published"
    ANONYMIZED_NO_STATEMENT = "anonymized_no_statement"
    ANONYMIZED_NO_REIDENTIFICATION = "anonymized_no_reidentification"
    DEID_METHOD_SECRET = "deid_method_secret"


class Decision(NamedTuple):
    """Allow or deny, why, by which rule, under which policy version, with what obligations.

    Immutable (a named tuple: cheap to build, which matters at a hundred thousand decisions a second).
    """

    allow: bool
    actor: str
    purpose: str
    action: Action
    subjects: tuple[str, ...]
    categories: tuple[str, ...]
    reasons: tuple[Reason, ...]
    rule: str
    policy_version: str
    mask_fields: tuple[str, ...] = ()

    def covers(self, subject_id: str) -> bool:
        return self.allow and subject_id in self.subjects


def answer_fields(d: Decision) -> dict[str, object]:
    """A one-subject decision as the API and the CLI answer it (plain data: subject, allow, reasons,
    rule, policy version, fields to mask)."""
    return {
        "subject": d.subjects[0],
        "allow": d.allow,
        "reasons": [r.value for r in d.reasons],
        "rule": d.rule,
        "policy_version": d.policy_version,
        "mask_fields": list(d.mask_fields),
    }
