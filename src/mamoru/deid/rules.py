"""What may be done with a pseudonymized or anonymized dataset: one pure function, the guard's reason
codes (:class:`mamoru.guard.decision.Reason`, a closed list) and the article behind each refusal.

No database, no clock. The service (:mod:`mamoru.deid.service`) loads the dataset's state, asks here,
and audits the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mamoru.deid.plan import Kind
from mamoru.guard.decision import Reason


class Use(StrEnum):
    PROVIDE = "provide"  # to another business
    JOIN = "join"  # with other data
    CONTACT = "contact"  # reach a person through contact details in the data
    READ_METHOD = "read_method"  # the processing-method information (the plan, the token mapping)
    MATCH = "match"  # compare with other information to identify a person


class Basis(StrEnum):
    """Why a dataset goes to another business. Pseudonymized data goes only on the last three (APPI Art.
    41(6), applying Art. 27(5)): those recipients are not third parties."""

    THIRD_PARTY = "third_party"
    ENTRUSTMENT = "entrustment"
    JOINT_USE = "joint_use"
    LAW = "law"


_PSEUDO_BASES = frozenset({Basis.ENTRUSTMENT, Basis.JOINT_USE, Basis.LAW})

#: The article each refusal rests on, kept in the audit entry beside the reason code.
ARTICLES: dict[Reason, str] = {
    Reason.PSEUDONYMIZED_NO_PROVISION: "appi-41-6",
    Reason.PSEUDONYMIZED_NO_JOIN: "appi-41-7",
    Reason.PSEUDONYMIZED_NO_CONTACT: "appi-41-8",
    Reason.ANONYMIZED_NOT_PUBLISHED: "appi-43-4",
    Reason.ANONYMIZED_NO_STATEMENT: "appi-43-4",
    Reason.ANONYMIZED_NO_REIDENTIFICATION: "appi-45",
    Reason.DEID_METHOD_SECRET: "appi-43-2",
}


@dataclass(frozen=True)
class UseRequest:
    kind: Kind
    use: Use
    basis: Basis | None = None
    received: bool = False  # an anonymized dataset we did not create (APPI-44)
    provision_published: bool = False  # items and method of this provision published in advance
    statement: bool = False  # the recipient is told explicitly that the data is anonymized
    with_identifying: bool = False  # the other side of a join holds identifying data or identification codes
    office: bool = False  # the actor is the privacy office (keeps the processing method secure)


@dataclass(frozen=True)
class UseVerdict:
    allow: bool
    reason: Reason
    rule: str

    @property
    def article(self) -> str | None:
        return ARTICLES.get(self.reason)


def _deny(reason: Reason, rule: str) -> UseVerdict:
    return UseVerdict(False, reason, rule)


def decide_use(req: UseRequest) -> UseVerdict:
    """Allow or deny one use of a dataset; the first rule that fails decides."""
    pseudo = req.kind is Kind.PSEUDONYMIZED
    if req.use is Use.MATCH:
        return _deny(
            Reason.PSEUDONYMIZED_NO_JOIN if pseudo else Reason.ANONYMIZED_NO_REIDENTIFICATION,
            f"{req.kind}.match",
        )
    if req.use is Use.JOIN and req.with_identifying:
        return _deny(
            Reason.PSEUDONYMIZED_NO_JOIN if pseudo else Reason.ANONYMIZED_NO_REIDENTIFICATION,
            f"{req.kind}.join",
        )
    if req.use is Use.CONTACT:
        return _deny(
            Reason.PSEUDONYMIZED_NO_CONTACT if pseudo else Reason.ANONYMIZED_NO_REIDENTIFICATION,
            f"{req.kind}.contact",
        )
    if req.use is Use.READ_METHOD and (req.received or not req.office):
        # The creator keeps it secure (Art. 43(2), 41(2)); whoever uses or receives the data never
        # acquires it (Art. 45).
        return _deny(Reason.DEID_METHOD_SECRET, f"{req.kind}.method")
    if req.use is Use.PROVIDE:
        if pseudo and req.basis not in _PSEUDO_BASES:
            return _deny(Reason.PSEUDONYMIZED_NO_PROVISION, "pseudonymized.provision")
        if not pseudo and not req.provision_published:
            return _deny(Reason.ANONYMIZED_NOT_PUBLISHED, "anonymized.publication")
        if not pseudo and not req.statement:
            return _deny(Reason.ANONYMIZED_NO_STATEMENT, "anonymized.statement")
    return UseVerdict(True, Reason.ALLOWED, "allow")
