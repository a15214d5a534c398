"""What people read about requests (kinds, grounds, outcomes, statuses), from the one catalog.

Each table is the catalog key's prefix (``req_kind_disclosure``); the words themselves are in
``mamoru/web/locale/<lang>/LC_MESSAGES/messages.po``, read through :mod:`mamoru.words`.
"""

from __future__ import annotations

from mamoru.words import word

KINDS = "req_kind_"
CESSATION_GROUNDS = "req_ground_"
REFUSAL_GROUNDS = "req_refusal_"
OUTCOMES = "req_outcome_"
SHORT_OUTCOMES = "req_outcome_short_"
STATUSES = "req_status_"
AGENTS = "req_agent_"
#: Why a request stopped in "needs attention" (main's connector work; its words are in the catalog).
ATTENTION = "req_attention_"
#: How well a candidate person matched a request, why, and why an identity document is needed.
CONFIDENCE = "req_confidence_"
MATCH_REASONS = "req_match_"
IDENTITY_NEEDS = "req_identity_need_"
IDENTITY_STATUS = "req_identity_"
#: The kinds of agent a requester may name (APPI Art. 37(2)).
AGENT_KINDS: tuple[str, ...] = ("legal_representative", "appointed")

LAW: dict[str, str] = {
    "disclosure": "Art. 33(1)",
    "provision_record_disclosure": "Art. 33(5)",
    "purpose_notification": "Art. 32(2)",
    "correction": "Art. 34",
    "stop_use": "Art. 35(1)",
    "erase": "Art. 35(1)",
    "stop_provision": "Art. 35(3)",
    "foreign_information": "Art. 28(3)",
    "access_history": "",
}


def text(table: str, key: str | None, lang: str) -> str:
    """The words for ``key`` of ``table`` in ``lang``; empty for no key, the key when none is known."""
    if key is None:
        return ""
    return word(f"{table}{key}", lang, default=key)
