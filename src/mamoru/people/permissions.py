"""Who may open what in the console: one table of roles by area, in the domain, so the pages, a test
of every role against every page, and (later) the API and the CLI read the same rules."""

from __future__ import annotations

from mamoru.people.auth import SignedIn
from mamoru.people.tables import Role

ANY_STAFF = frozenset({"*"})
PRIVACY = frozenset({Role.PROTECTION_MANAGER, Role.PRIVACY_STAFF})
AUDIT = frozenset({Role.PROTECTION_MANAGER, Role.AUDIT_MANAGER, Role.AUDITOR, Role.PRIVACY_STAFF})
#: Role × page: the only place that says who may open what in the console.
ACCESS: dict[str, frozenset[str]] = {
    "dashboard": ANY_STAFF,
    "ledger": PRIVACY | AUDIT,
    "ledger.review": PRIVACY,
    "ledger.export": PRIVACY | AUDIT,
    "subject": ANY_STAFF,
    "audit": AUDIT,
    "requests": PRIVACY | frozenset({Role.AUDIT_MANAGER}),
    "transfers": PRIVACY | AUDIT,
    "incidents": PRIVACY | AUDIT,
    "incidents.manage": PRIVACY,
    "mynumber": frozenset({Role.MY_NUMBER_HANDLER}),
    "datamap": PRIVACY | AUDIT,
    "requests.decide": PRIVACY,
    "audit.verify": frozenset({Role.PROTECTION_MANAGER, Role.AUDIT_MANAGER, Role.AUDITOR}),
    "people": PRIVACY | AUDIT,
    "people.manage": PRIVACY,
    "inquiries": PRIVACY,
    "pms": PRIVACY | AUDIT,
    "pms.manage": PRIVACY,
    "datastores": PRIVACY | AUDIT,
    "datastores.test": PRIVACY,
    "scans": PRIVACY | AUDIT,
    "scans.run": PRIVACY,
}


def may(who: SignedIn, area: str) -> bool:
    """Whether ``who``'s roles open ``area`` (a key of :data:`ACCESS`)."""
    allowed = ACCESS[area]
    return allowed is ANY_STAFF or bool(who.roles & allowed)
