"""The privacy policy as a typed model.

One file describes the organization, its purposes of use, data categories, subject kinds, processors,
recipients, retention, request procedure and security measures. The public notice is rendered from
it and the guard enforces it, so there is exactly one source of truth.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mamoru.law.mynumber import StatutoryAffair
from mamoru.law.requests import RequestKind

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_\-]{0,63}$", min_length=1, max_length=64)
]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

SCHEMA_ID = "mamoru.policy/1"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(_Frozen):
    """A text a person reads, in Japanese and English; both are required."""

    ja: NonEmpty
    en: NonEmpty

    def in_(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


class Contact(_Frozen):
    """Where people send inquiries, requests and complaints."""

    desk: Text
    address: Text
    phone: NonEmpty | None = None
    email: NonEmpty | None = None
    hours: Text | None = None


class Organization(_Frozen):
    name: Text
    address: Text
    representative: Text = Field(description="Title and name of top management (JIS-5, APPI-32).")
    protection_manager: Text = Field(description="Who administers the handling of personal information.")
    inquiry_contact: Contact | None = None
    accredited_organization: Text | None = Field(
        default=None, description="Accredited personal-information protection organization, if any."
    )


class Category(_Frozen):
    """A data category. The flags drive the guard, breach classification and notices."""

    id: Identifier
    name: Text
    special_care: bool = False  # 要配慮個人情報 (APPI Art. 2(3))
    my_number: bool = False  # 個人番号・特定個人情報
    referable: bool = False  # 個人関連情報 (APPI Art. 2(7))
    financial_risk: bool = False  # misuse could cause financial damage (Rules Art. 7(ii))
    pseudonymized: bool = (
        False  # 仮名加工情報 (APPI Art. 41): never joined to identity, never used to contact
    )
    identifying: bool = (
        False  # identifies the person directly (name, contact): may not be joined to pseudonymized data
    )
    identification_code: bool = False  # 個人識別符号: passport, licence, insurance numbers, biometrics


class SubjectKind(_Frozen):
    id: Identifier
    name: Text


class MyNumberUse(_Frozen):
    """The statutory affairs a My Number purpose is restricted to (closed list, MN-1)."""

    affairs: Annotated[list[StatutoryAffair], Field(min_length=1)]


class ImproperUseAssessment(_Frozen):
    """The check that a purpose, in this version, is not used by a method that may encourage or induce an
    illegal or improper act (APPI Art. 19). A purpose is not put in force without it."""

    version: Annotated[int, Field(ge=1)] = Field(description="The purpose version that was assessed.")
    assessed_on: date
    assessed_by: NonEmpty = Field(description="Who assessed it (a staff login or a title).")
    conclusion: Text = Field(description="What was checked and why the use is not improper.")


class PurposeChange(_Frozen):
    """One change of a purpose's text (APPI Art. 17(2), 21(3)): whether the new purpose is reasonably
    related to the previous one, and why. A related change is notified to the persons concerned before
    their data is used under it; an unrelated one needs each person's consent."""

    version: Annotated[int, Field(ge=2)]
    related: bool = Field(description="Reasonably recognised as related to the previous purpose.")
    justification: Text
    previous_text: Text = Field(description="The purpose as it read before this change.")
    changed_on: date


class Purpose(_Frozen):
    id: Identifier
    text: Text
    subject_kinds: Annotated[list[Identifier], Field(min_length=1)]
    categories: Annotated[list[Identifier], Field(min_length=1)]
    my_number: MyNumberUse | None = None
    effective_from: date
    version: Annotated[int, Field(ge=1)] = 1
    changes: list[PurposeChange] = Field(
        default_factory=list, description="Every change since version 1, oldest first (one per version)."
    )
    improper_use: ImproperUseAssessment | None = None

    def change(self, version: int) -> PurposeChange | None:
        return next((c for c in self.changes if c.version == version), None)

    def consent_since(self) -> int:
        """The latest version whose change was not related to its predecessor (1 if none): each person
        must have agreed to it, or acquired under it, before their data is used for this purpose."""
        return max((c.version for c in self.changes if not c.related), default=1)


class AccessAction(StrEnum):
    """What a use of personal data does. The guard decides each one."""

    READ = "read"
    EXPORT = "export"
    CORRECT = "correct"
    PROVIDE = "provide"
    ENTRUST = "entrust"
    CONTACT = "contact"
    ERASE = "erase"


class AccessRole(_Frozen):
    """A business role: which purposes its holders may use personal data for, and how."""

    id: Identifier
    name: Text
    purposes: Annotated[list[Identifier], Field(min_length=1)]
    actions: Annotated[list[AccessAction], Field(min_length=1)]


class ForeignTransfer(_Frozen):
    """What APPI Art. 28 needs for a party in a foreign country: what the person is told before consenting,
    or the route that makes consent unnecessary."""

    route: Literal["consent", "conforming_system", "equivalent_country"] = Field(
        description="consent after the information below; a recipient with a system conforming to the "
        "Rules (periodic check); or a country the PPC found equivalent (EEA, UK)."
    )
    country_system: Text = Field(
        description="Information on the country's personal-information protection system."
    )
    recipient_measures: Text = Field(description="The measures the recipient takes to protect the data.")
    check_interval_days: Annotated[int, Field(ge=30, le=730)] = 365
    version: Annotated[int, Field(ge=1)] = Field(
        default=1,
        description="Raise it whenever the information above changes: a consent records the version the "
        "person was shown, and one given after an older version no longer counts (APPI Art. 28(2)).",
    )
    source: Text | None = Field(
        default=None,
        description="Where the country information was obtained (an appropriate and reasonable method, "
        "Rules Art. 17(1)), such as the PPC's survey of foreign systems.",
    )


class JointUse(_Frozen):
    """The five items APPI Art. 27(5)(iii) requires to be notified or published before joint use."""

    items: Annotated[list[Identifier], Field(min_length=1)]
    users: Text = Field(description="The scope of the joint users.")
    purpose: Text
    manager: Text = Field(description="Name, address and representative of the party responsible.")


class OptOutNotice(_Frozen):
    """What APPI Art. 27(2) requires to be notified, or put where people can easily know it, and filed
    with the PPC before personal data is provided by opt-out. The organization's name, address and
    representative, the purpose (provision itself), the items (``categories``) and that provision stops
    at the person's request come from the rest of the policy; these are the rest. Optional here so that
    a missing one is named by the policy check (``rules``), not as a schema error."""

    acquisition_method: Text | None = Field(default=None, description="How the data is acquired.")
    provision_method: Text | None = Field(default=None, description="How the data is provided.")
    request_method: Text | None = Field(default=None, description="How a request to stop is accepted.")
    update_method: Text | None = Field(default=None, description="How the data provided is kept up to date.")
    starts_on: date | None = Field(default=None, description="The day provision by opt-out starts.")


class Processor(_Frozen):
    """A declared entrustee (委託先) and the work entrusted to it."""

    id: Identifier
    name: Text
    entrusted_work: Text
    country: CountryCode = "JP"
    purposes: Annotated[list[Identifier], Field(min_length=1)]
    categories: Annotated[list[Identifier], Field(min_length=1)]
    entrusted_by: Identifier | None = Field(
        default=None, description="For re-entrustment: the processor that entrusts the work to this one."
    )
    monitoring_days: Annotated[int, Field(ge=30, le=730)] = Field(
        default=365, description="How often its handling is checked, as the contract sets."
    )
    foreign: ForeignTransfer | None = None


class Recipient(_Frozen):
    """A declared third party to which personal data may be provided, and on what basis."""

    id: Identifier
    name: Text
    country: CountryCode = "JP"
    basis: Literal["consent", "law", "opt_out", "joint_use", "succession"]
    purposes: Annotated[list[Identifier], Field(min_length=1)]
    categories: Annotated[list[Identifier], Field(min_length=1)]
    foreign: ForeignTransfer | None = None
    joint_use: JointUse | None = None
    opt_out: OptOutNotice | None = None
    links_referable: bool = Field(
        default=False,
        description="The recipient will link personally referable information to individuals (APPI Art. 31).",
    )


class RetentionStart(StrEnum):
    ACQUISITION = "acquisition"
    END_OF_USE = "end_of_use"
    END_OF_CONTRACT = "end_of_contract"
    END_OF_EMPLOYMENT = "end_of_employment"
    FILING_DEADLINE = "filing_deadline"


class RetentionRule(_Frozen):
    id: Identifier
    categories: list[Identifier] = Field(default_factory=list)
    purposes: list[Identifier] = Field(default_factory=list)
    years: Annotated[int, Field(ge=0, le=100)] = 0
    months: Annotated[int, Field(ge=0, le=1200)] = 0
    days: Annotated[int, Field(ge=0, le=36500)] = 0
    starting: RetentionStart
    description: Text
    law: Text | None = Field(
        default=None,
        description="The law that makes keeping this data a duty; while it runs, erasure is refused (APPI-36).",
    )


class RequestProcedure(_Frozen):
    """How people make requests (APPI Art. 37) and what they cost (Art. 38)."""

    where: Text
    how: Text
    identity_verification: Text
    agents: Text
    fees: dict[RequestKind, Annotated[int, Field(ge=0, le=100_000)]] = Field(default_factory=dict)
    fee_payment: Text | None = None


class SecurityArea(StrEnum):
    """The blocks of security control measures in the PPC general guideline, section 10."""

    BASIC_POLICY = "basic_policy"
    RULES = "rules"
    ORGANIZATIONAL = "organizational"
    HUMAN = "human"
    PHYSICAL = "physical"
    TECHNICAL = "technical"
    EXTERNAL_ENVIRONMENT = "external_environment"


class StorageLocation(_Frozen):
    """Where personal data is kept (a data centre, a cloud region). A location abroad names what the
    organization knows of that country's protection system (the PPC guideline 10-7, external environment)."""

    id: Identifier
    name: Text
    country: CountryCode = "JP"
    categories: list[Identifier] = Field(default_factory=list)
    country_system: Text | None = None


class SecurityMeasure(_Frozen):
    area: SecurityArea
    text: Text


class StaffRules(_Frozen):
    """What the policy asks of staff: training at least every ``training_valid_days`` days with a score of
    at least ``training_pass_score`` (JIS-7), and a confidentiality pledge (APPI Art. 24)."""

    training_valid_days: Annotated[int, Field(ge=30, le=730)] = 365
    training_pass_score: Annotated[int, Field(ge=0, le=100)] = 70
    first_response_business_days: Annotated[int, Field(ge=1, le=30)] = 3
    inquiry_close_days: Annotated[int, Field(ge=1, le=180)] = 30


class Deidentification(_Frozen):
    """What the policy sets for anonymized information (APPI Art. 43): the k of k-anonymity every
    combination of the quasi-identifiers a plan names must reach."""

    k_anonymity: Annotated[int, Field(ge=2, le=1000)] = 5


class Policy(_Frozen):
    """A whole privacy policy, as loaded from its YAML file."""

    schema_id: Literal["mamoru.policy/1"] = Field(alias="schema")
    version: NonEmpty
    effective_from: date
    enacted_on: date
    revised_on: date | None = None
    organization: Organization
    principles: Annotated[list[Text], Field(min_length=1)]
    categories: Annotated[list[Category], Field(min_length=1)]
    subject_kinds: Annotated[list[SubjectKind], Field(min_length=1)]
    purposes: Annotated[list[Purpose], Field(min_length=1)]
    roles: list[AccessRole] = Field(default_factory=list)
    fields: dict[Identifier, Identifier] = Field(
        default_factory=dict, description="Which category each stored field belongs to (field -> category)."
    )
    processors: list[Processor] = Field(default_factory=list)
    recipients: list[Recipient] = Field(default_factory=list)
    storage: list[StorageLocation] = Field(default_factory=list)
    retention: list[RetentionRule] = Field(default_factory=list)
    requests: RequestProcedure
    security_measures: list[SecurityMeasure] = Field(default_factory=list)
    staff: StaffRules = Field(default_factory=StaffRules)
    deid: Deidentification = Field(default_factory=Deidentification)

    def category(self, category_id: str) -> Category:
        return next(c for c in self.categories if c.id == category_id)

    def purpose(self, purpose_id: str) -> Purpose:
        return next(p for p in self.purposes if p.id == purpose_id)

    def subject_kind(self, kind_id: str) -> SubjectKind:
        return next(k for k in self.subject_kinds if k.id == kind_id)

    def my_number_purposes(self) -> list[Purpose]:
        return [p for p in self.purposes if p.my_number is not None]

    def general_purposes(self) -> list[Purpose]:
        return [p for p in self.purposes if p.my_number is None]
