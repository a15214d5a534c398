"""Staff members and their roles."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mamoru.store.db import Base, utcnow


class Role(StrEnum):
    """Roles a staff member may hold. Permissions hang on these, never on people."""

    PROTECTION_MANAGER = "protection_manager"  # 個人情報保護管理者
    AUDIT_MANAGER = "audit_manager"  # 個人情報保護監査責任者
    PRIVACY_STAFF = "privacy_staff"  # privacy office staff
    DEPARTMENT_USER = "department_user"  # uses personal data for a stated purpose
    MY_NUMBER_HANDLER = "my_number_handler"  # 事務取扱担当者
    AUDITOR = "auditor"  # reads the audit trail and reports
    ADMINISTRATOR = "administrator"  # runs the system; no access to personal data by this role alone


class Staff(Base):
    """A person who works for the organization.

    The login is an opaque handle, never a name; the person's own values (name, e-mail) are those of
    the linked data subject, encrypted in the vault.
    """

    __tablename__ = "staff"
    __table_args__ = (
        #: the register's order, so that one of its pages is read from the index
        Index("ix_staff_department_login", "department", "login"),
        #: the register sorted by kind (then by id, either way)
        Index("ix_staff_kind_id", "kind", "id"),
        #: whose training has lapsed (the PMS page, the dashboard) is counted from this index alone
        Index("ix_staff_training_lapsed", "revoked_at", "training_completed_at", "left_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    subject_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("data_subjects.id", ondelete="SET NULL"), default=None
    )
    department: Mapped[str] = mapped_column(String(64))
    #: director, employee, dispatched, part_time, contractor: APPI Art. 24 covers every one of them.
    kind: Mapped[str] = mapped_column(String(16), default="employee", server_default="employee")
    #: When the exit sweep took every grant away (roles, sessions, zones, badges, two-factor secret).
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date, default=None)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # sealed TOTP secret
    totp_last_step: Mapped[int | None] = mapped_column(default=None)  # no code is accepted twice
    pledge_signed_at: Mapped[datetime | None] = mapped_column(default=None)
    training_completed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role for r in self.roles)


class StaffRole(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    staff: Mapped[Staff] = relationship(back_populates="roles")


class ApiClient(Base):
    """An API token and the one principal it acts as: a staff member (``staff_id``) or a named system
    (``scopes``). Only a hash of the token is kept; it expires, shows its last use, can be revoked."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: staff or system
    kind: Mapped[str] = mapped_column(String(8), default="system", server_default="system")
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), default=None, index=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(64), default=None)


class ConsoleSession(Base):
    """A signed-in staff member's session. Only a hash of the cookie's token is kept."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class TrainingPlan(Base):
    """A year's training plan (JIS-7): its topics and which kinds of staff must attend."""

    __tablename__ = "training_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(200))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    audience: Mapped[list[str]] = mapped_column(JSON, default=list)  # staff kinds; empty: everyone
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingSession(Base):
    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("training_plans.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(32))  # classroom, e-learning, video
    created_by: Mapped[str] = mapped_column(String(64))


class Attendance(Base):
    """One staff member at one session, with the comprehension test's score."""

    __tablename__ = "training_attendance"
    __table_args__ = (UniqueConstraint("session_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    score: Mapped[int] = mapped_column()
    passed: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleDocument(Base):
    """One version of an internal rule document (JIS-6): the topics it covers, its text's digest, approval."""

    __tablename__ = "rule_documents"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[str] = mapped_column(String(32))
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    sha256: Mapped[str] = mapped_column(String(64))
    drafted_by: Mapped[str] = mapped_column(String(64))
    drafted_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    approved_at: Mapped[datetime | None] = mapped_column(default=None)
    superseded_at: Mapped[datetime | None] = mapped_column(default=None)


class RuleAcknowledgement(Base):
    __tablename__ = "rule_acknowledgements"
    __table_args__ = (UniqueConstraint("document_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("rule_documents.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)


class Zone(Base):
    """A controlled area (APPI-23-phys); ``my_number`` marks a My Number handling zone (MN-7)."""

    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    my_number: Mapped[bool] = mapped_column(Boolean, default=False)


class ZoneGrant(Base):
    __tablename__ = "zone_grants"

    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Badge(Base):
    """A badge (IC card) issued to a staff member; only a keyed hash of its number is kept."""

    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(primary_key=True)
    badge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class DoorEvent(Base):
    """One badge or door-controller event and what mamoru made of it."""

    __tablename__ = "door_events"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # which controller or import sent it
    event_id: Mapped[str] = mapped_column(String(64))  # its own id there: a resend is not a second event
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in, out
    authenticated: Mapped[bool] = mapped_column(Boolean)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    outcome: Mapped[str] = mapped_column(String(24))  # ok, unknown_badge, unauthorized, unauthenticated…
    incident_ref: Mapped[str | None] = mapped_column(String(32), default=None)


class Inquiry(Base):
    """An inquiry or a complaint (APPI Art. 40). What the person wrote and how to reach them are sealed
    with a key of the inquiry's own; the row keeps only codes, dates and the owner."""

    __tablename__ = "inquiries"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    holder: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(16))  # inquiry, complaint
    channel: Mapped[str] = mapped_column(String(16))  # portal, email, phone, letter, in_person
    category: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(index=True)
    received_by: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(64), default=None)
    first_response_due: Mapped[datetime] = mapped_column()
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    close_due: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    actions: Mapped[list[InquiryAction]] = relationship(
        back_populates="inquiry", cascade="all, delete-orphan", lazy="selectin", order_by="InquiryAction.id"
    )


class InquiryAction(Base):
    __tablename__ = "inquiry_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # response, investigation, correction, escalation, note
    sealed_note: Mapped[bytes] = mapped_column(LargeBinary)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column()
    inquiry: Mapped[Inquiry] = relationship(back_populates="actions")
