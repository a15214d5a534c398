"""Who may do what: one table of areas, in the domain. Each area is opened by staff roles and, for a few,
by one scope of a named system's API token. The console's pages, the API's routes and the CLI read this
table; the guard takes its office roles from it.

A console session and a staff member's token open an area through the person's roles; a system's token
only through a scope it was issued with. No scope opens a My Number area: a system never reaches the
vault of Individual Numbers (checked when this module loads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from mamoru.people.tables import Role

ANY_STAFF = frozenset({"*"})
#: The privacy office: the protection manager and the privacy staff. The guard's office for the built-in
#: purposes (answering a person's own request, telling people of a breach) is this same set.
PRIVACY = frozenset({Role.PROTECTION_MANAGER, Role.PRIVACY_STAFF})
OFFICE = PRIVACY
AUDIT = frozenset({Role.PROTECTION_MANAGER, Role.AUDIT_MANAGER, Role.AUDITOR, Role.PRIVACY_STAFF})
MY_NUMBER = frozenset({Role.MY_NUMBER_HANDLER})
USERS = PRIVACY | frozenset({Role.DEPARTMENT_USER})


class Scope(StrEnum):
    """What a named system's token may do: a closed list, each the routes one kind of system calls."""

    DOOR_EVENTS = "door_events"  # a door or badge controller posts its events
    INQUIRIES = "inquiries"  # a call centre registers inquiries and complaints
    REQUESTS = "requests"  # a call centre or member site takes in data-subject requests and follows them
    ACQUISITIONS = "acquisitions"  # a web form or CRM records personal data coming in
    CONSENTS = "consents"  # a consent manager records and withdraws consents
    GUARD = "guard"  # ask the guard about a use (decided for the system itself)
    LEDGER_READ = "ledger_read"  # read the ledger and the notices owed (no personal values)
    PMS_READ = "pms_read"  # a GRC tool reads the control catalogue and the open non-conformities
    AUDIT_READ = "audit_read"  # a witness reads audit entries and inclusion proofs


@dataclass(frozen=True)
class Permission:
    """The staff roles that open an area, and the one system scope that does (None: no system)."""

    roles: frozenset[str]
    scope: Scope | None = None
    #: A My Number area: no system token, whatever its scopes.
    my_number: bool = field(default=False)


#: Area × (roles, scope): the only place that says who may open what, in the console and the API.
PERMISSIONS: dict[str, Permission] = {
    "dashboard": Permission(ANY_STAFF),
    "ledger": Permission(PRIVACY | AUDIT, Scope.LEDGER_READ),
    "ledger.review": Permission(PRIVACY),
    "ledger.export": Permission(PRIVACY | AUDIT, Scope.LEDGER_READ),
    "acquisitions": Permission(USERS, Scope.ACQUISITIONS),
    "consents": Permission(USERS, Scope.CONSENTS),
    "retention": Permission(PRIVACY),
    "guard": Permission(ANY_STAFF, Scope.GUARD),
    "subject": Permission(ANY_STAFF),
    "audit": Permission(AUDIT, Scope.AUDIT_READ),
    "audit.verify": Permission(frozenset({Role.PROTECTION_MANAGER, Role.AUDIT_MANAGER, Role.AUDITOR})),
    "requests": Permission(PRIVACY | frozenset({Role.AUDIT_MANAGER}), Scope.REQUESTS),
    "requests.intake": Permission(PRIVACY, Scope.REQUESTS),
    "requests.decide": Permission(PRIVACY),
    "transfers": Permission(PRIVACY | AUDIT),
    "transfers.provide": Permission(ANY_STAFF),
    #: Recording processor assessments and monitoring (APPI Art. 25) is the privacy office's.
    "transfers.supervise": Permission(PRIVACY),
    #: Confirming and recording data received from another business (APPI Art. 30); a system that takes
    #: such data in records its confirmation with the acquisitions scope.
    "transfers.receive": Permission(PRIVACY, Scope.ACQUISITIONS),
    #: Opt-out filings, confirmations of a recipient's consents, links asking a person's foreign consent.
    "transfers.manage": Permission(PRIVACY),
    "incidents": Permission(PRIVACY | AUDIT),
    "incidents.manage": Permission(PRIVACY),
    "mynumber": Permission(MY_NUMBER, my_number=True),
    #: Any staff member may ask; the guard decides (handler designation, affairs), and audits and signals
    #: every refusal (MN-6), so the refusal is not lost at the door.
    "mynumber.guarded": Permission(ANY_STAFF, my_number=True),
    "datamap": Permission(PRIVACY | AUDIT),
    "people": Permission(PRIVACY | AUDIT),
    "people.manage": Permission(PRIVACY),
    "tokens": Permission(PRIVACY),
    "door_events": Permission(PRIVACY, Scope.DOOR_EVENTS),
    "inquiries": Permission(PRIVACY, Scope.INQUIRIES),
    "pms": Permission(PRIVACY | AUDIT, Scope.PMS_READ),
    "pms.manage": Permission(PRIVACY),
    "datastores": Permission(PRIVACY | AUDIT),
    "datastores.test": Permission(PRIVACY),
    "scans": Permission(PRIVACY | AUDIT),
    "scans.run": Permission(PRIVACY),
    "deid": Permission(PRIVACY | AUDIT),
    "deid.manage": Permission(PRIVACY),
    "deid.use": Permission(ANY_STAFF),
}
#: The roles of each area (what the console's pages and menus read).
ACCESS: dict[str, frozenset[str]] = {area: p.roles for area, p in PERMISSIONS.items()}

if any(p.my_number and p.scope is not None for p in PERMISSIONS.values()):  # pragma: no cover
    raise RuntimeError("a My Number area must never be opened by a system scope")


class HasRoles(Protocol):
    @property
    def roles(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class Principal:
    """Who an API token acts as: one staff member (their roles, evaluated now) or one named system (its
    scopes). ``actor`` is what the guard decides for and the audit log records."""

    token: str
    actor: str
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    staff_id: int | None = None

    @property
    def system(self) -> bool:
        return self.staff_id is None


def may(who: HasRoles, area: str) -> bool:
    """Whether ``who``'s roles open ``area`` (a key of :data:`PERMISSIONS`)."""
    allowed = PERMISSIONS[area].roles
    return allowed is ANY_STAFF or bool(who.roles & allowed)


def permits(principal: Principal, area: str) -> bool:
    """Whether an API token's principal opens ``area``: a system by a scope it holds (never a My Number
    area), a staff member by their roles."""
    permission = PERMISSIONS[area]
    if principal.system:
        return (
            not permission.my_number
            and permission.scope is not None
            and permission.scope.value in principal.scopes
        )
    return may(principal, area)
