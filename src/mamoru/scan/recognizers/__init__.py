"""The recognizers, one a file, and the registry that checks them when they are registered."""

from __future__ import annotations

import re

from mamoru.errors import MamoruError
from mamoru.scan.recognizer import Recognizer
from mamoru.scan.recognizers.address import AddressRecognizer
from mamoru.scan.recognizers.bank_account import BankAccountRecognizer
from mamoru.scan.recognizers.birth_date import BirthDateRecognizer
from mamoru.scan.recognizers.corporate_number import CorporateNumberRecognizer
from mamoru.scan.recognizers.credit_card import CreditCardRecognizer
from mamoru.scan.recognizers.drivers_license import DriversLicenseRecognizer
from mamoru.scan.recognizers.email import EmailRecognizer
from mamoru.scan.recognizers.health_insurance import HealthInsuranceRecognizer
from mamoru.scan.recognizers.invoice_registration import InvoiceRegistrationRecognizer
from mamoru.scan.recognizers.my_number import MyNumberRecognizer
from mamoru.scan.recognizers.passport import PassportRecognizer
from mamoru.scan.recognizers.person import PersonRecognizer
from mamoru.scan.recognizers.phone import PhoneRecognizer
from mamoru.scan.recognizers.postal_code import PostalCodeRecognizer
from mamoru.scan.recognizers.special_care import SpecialCareRecognizer
from mamoru.scan.text import fold

ALL: tuple[type[Recognizer], ...] = (
    MyNumberRecognizer,
    InvoiceRegistrationRecognizer,
    CorporateNumberRecognizer,
    DriversLicenseRecognizer,
    CreditCardRecognizer,
    PhoneRecognizer,
    PostalCodeRecognizer,
    AddressRecognizer,
    EmailRecognizer,
    BankAccountRecognizer,
    PassportRecognizer,
    HealthInsuranceRecognizer,
    BirthDateRecognizer,
    SpecialCareRecognizer,
    PersonRecognizer,
)


class RegistryError(MamoruError):
    """A recognizer that cannot be registered (a duplicate entity, a missing label, a bad pattern)."""


_ENTITY = re.compile(r"[a-z][a-z0-9_]{1,31}")


def check(recognizers: tuple[type[Recognizer], ...]) -> tuple[type[Recognizer], ...]:
    """Validate a set of recognizers when it is registered, not when it first runs."""
    seen: set[str] = set()
    for rec in recognizers:
        where = rec.__name__
        entity = getattr(rec, "entity", None)
        if not isinstance(entity, str) or not _ENTITY.fullmatch(entity):
            raise RegistryError(f"{where}: entity must be a lower-case identifier, got {entity!r}")
        if entity in seen:
            raise RegistryError(f"{where}: entity {entity!r} is already registered")
        seen.add(entity)
        label = getattr(rec, "label", None)
        if not isinstance(label, dict) or not label.get("ja") or not label.get("en"):
            raise RegistryError(f"{where}: a label in Japanese and English is required")
        if not rec.patterns:
            raise RegistryError(f"{where}: at least one pattern is required")
        for p in rec.patterns:
            if not 0.0 <= p.score <= 1.0:
                raise RegistryError(f"{where}: pattern {p.name!r} has score {p.score} outside 0..1")
            if any(not w or w != fold(w).lower() for w in p.requires):
                raise RegistryError(
                    f"{where}: pattern {p.name!r} requires words that are not folded lower case"
                )
            try:
                re.compile(p.regex, p.flags)
                re.compile(p.holds)
            except re.error as exc:
                raise RegistryError(f"{where}: pattern {p.name!r} does not compile: {exc}") from exc
    return recognizers


REGISTERED = check(ALL)
ENTITIES: tuple[str, ...] = tuple(r.entity for r in REGISTERED)
LABELS: dict[str, dict[str, str]] = {r.entity: r.label for r in REGISTERED}
PERSONAL: frozenset[str] = frozenset(r.entity for r in REGISTERED if r.personal)
