"""Staff members and their roles."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, LargeBinary, String
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

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    subject_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("data_subjects.id", ondelete="SET NULL"), default=None
    )
    department: Mapped[str] = mapped_column(String(64))
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
    """Another system of the organization that calls the API. Only a hash of its token is kept."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ConsoleSession(Base):
    """A signed-in staff member's session. Only a hash of the cookie's token is kept."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
