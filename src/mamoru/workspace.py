"""The workspace: settings, master key, database and the policy in force, opened together.

mamoru fails closed: it refuses to open without a usable key or with a policy that does not validate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from mamoru.audit.signing import Signer, ensure_key_file, load_signer
from mamoru.audit.writer import AuditWriter
from mamoru.errors import ConfigurationError
from mamoru.policy.load import LoadedPolicy, load_policy, pack_source
from mamoru.policy.service import current_notice, publish
from mamoru.settings import CONFIG_FILE, Settings
from mamoru.store.db import Database
from mamoru.vault.keys import MasterKey, read_key_file, write_key_file
from mamoru.vault.keystore import KeyStore
from mamoru.vault.service import BLIND_INDEX_KEY, Vault

SYSTEM_ACTOR = "system:init"

_CONFIG_TEMPLATE = """\
# mamoru workspace settings. Environment variables prefixed MAMORU_ override these.
# database_url = "postgresql://mamoru@127.0.0.1:5432/mamoru"
# base_url = "http://127.0.0.1:8600"
"""


def load_master_key(settings: Settings) -> MasterKey:
    """The master key from MAMORU_MASTER_KEY, else from the key file; never a default."""
    if settings.master_key is not None:
        return MasterKey.decode(settings.master_key.get_secret_value(), origin="MAMORU_MASTER_KEY")
    _finish_rotation(settings)
    return read_key_file(settings.resolved_key_file)


def _next_key_file(settings: Settings) -> Path:
    return settings.resolved_key_file.with_name(settings.resolved_key_file.name + ".next")


def _finish_rotation(settings: Settings) -> None:
    """Complete or undo a rotation that stopped between re-wrapping the keys and replacing the key file."""
    pending = _next_key_file(settings)
    if not pending.exists():
        return
    new_key = read_key_file(pending)
    keystore = KeyStore(settings.resolved_keystore_url)
    try:
        named = keystore.named_key(BLIND_INDEX_KEY)
    finally:
        keystore.dispose()
    if named is not None and named.kek_id == new_key.key_id:
        os.replace(pending, settings.resolved_key_file)
    else:
        pending.unlink()


def rotate_master_key(settings: Settings) -> tuple[str, int]:
    """Replace the master key: every data key is re-wrapped in one key-store transaction, then the new
    key file takes the old one's place. Returns the new key's id and the number of keys re-wrapped.

    The new key is written first (``master.key.next``); a stop at any point leaves either the old
    key with the old wrapping or the new key with the new wrapping (finished on the next start).
    """
    if settings.master_key is not None:
        raise ConfigurationError("the master key comes from MAMORU_MASTER_KEY; rotate it where it is kept")
    old = load_master_key(settings)
    new = MasterKey.generate()
    pending = _next_key_file(settings)
    write_key_file(pending, new)
    keystore = KeyStore(settings.resolved_keystore_url)
    try:
        count = Vault(old, keystore).rotate(new)
    finally:
        keystore.dispose()
    os.replace(pending, settings.resolved_key_file)
    return new.key_id, count


@dataclass
class InitReport:
    """What ``mamoru init`` created; an empty report means the workspace was already complete."""

    home: Path
    created: list[str] = field(default_factory=list)
    notice_version: str = ""
    #: The first protection manager's password, only on the run that created the account.
    initial_login: str = ""
    initial_password: str = field(default="", repr=False)


def initialize(settings: Settings) -> InitReport:
    """Create what is missing: folder, key file (0600), config, policy file, schema, published notice.

    Idempotent: running it again on a complete workspace changes nothing.
    """
    report = InitReport(home=settings.home)
    if not settings.home.exists():
        settings.home.mkdir(parents=True, mode=0o700)
        report.created.append(f"workspace {settings.home}")
    if settings.master_key is None and not settings.resolved_key_file.exists():
        write_key_file(settings.resolved_key_file, MasterKey.generate())
        report.created.append(f"master key {settings.resolved_key_file} (mode 0600)")
    load_master_key(settings)
    if not settings.resolved_mynumber_key_file.exists():
        write_key_file(settings.resolved_mynumber_key_file, MasterKey.generate())
        report.created.append(f"My Number vault key {settings.resolved_mynumber_key_file} (mode 0600)")
    KeyStore(settings.resolved_mynumber_keystore_url).dispose()
    _make_private_file(settings.resolved_mynumber_keystore_url)
    if ensure_key_file(settings.resolved_signing_key_file):
        report.created.append(f"audit signing key {settings.resolved_signing_key_file} (mode 0600)")
    config = settings.home / CONFIG_FILE
    if not config.exists():
        config.write_text(_CONFIG_TEMPLATE, encoding="utf-8")
        report.created.append(f"settings {config}")
    policy_file = settings.resolved_policy_file
    if not policy_file.exists():
        policy_file.write_text(pack_source(), encoding="utf-8")
        report.created.append(f"policy {policy_file} (reference pack)")
    loaded = load_policy(policy_file)
    keystore_exists = (
        settings.resolved_keystore_url != f"sqlite:///{(settings.home / 'keys.db').resolve()}"
        or (settings.home / "keys.db").exists()
    )
    KeyStore(settings.resolved_keystore_url).dispose()
    _make_private_file(settings.resolved_keystore_url)
    if not keystore_exists:
        report.created.append(f"key store {settings.home / 'keys.db'} (mode 0600)")
    db = Database(settings.resolved_database_url)
    try:
        before = db.current_revision()
        db.migrate()
        _make_private(db)
        if db.current_revision() != before:
            report.created.append(f"database schema at {db.current_revision()}")
        with db.session() as session:
            previous = current_notice(session)
            notice = publish(session, loaded, SYSTEM_ACTOR)
            if previous is None or previous.id != notice.id:
                report.created.append(f"published notice {notice.policy_version}")
            report.notice_version = notice.policy_version
            _first_protection_manager(session, report)
    finally:
        db.dispose()
    return report


FIRST_LOGIN = "admin"


def _first_protection_manager(session: Session, report: InitReport) -> None:
    """Create the first protection manager account if there is none (JIS Q 15001 needs one)."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from mamoru.people.auth import new_password, set_password
    from mamoru.people.tables import Role, Staff, StaffRole

    exists = session.scalar(select(StaffRole).where(StaffRole.role == Role.PROTECTION_MANAGER.value).limit(1))
    if exists is not None:
        return
    now = datetime.now(UTC)
    session.add(
        Staff(
            login=FIRST_LOGIN,
            department="privacy_office",
            joined_on=now.date(),
            pledge_signed_at=now,
            training_completed_at=now,
            roles=[StaffRole(role=Role.PROTECTION_MANAGER.value), StaffRole(role=Role.PRIVACY_STAFF.value)],
        )
    )
    session.flush()
    password = new_password()
    set_password(session, FIRST_LOGIN, password, actor=SYSTEM_ACTOR)
    report.created.append(f"protection manager account '{FIRST_LOGIN}'")
    report.initial_login, report.initial_password = FIRST_LOGIN, password


def _make_private(db: Database) -> None:
    """An embedded SQLite file holds ciphertexts and references only, but is still nobody else's to read."""
    if db.engine.dialect.name == "sqlite":
        _make_private_file(db.url)


def _make_private_file(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists():
            path.chmod(0o600)


@dataclass
class Workspace:
    """An opened workspace: what every service and adapter works with."""

    settings: Settings
    db: Database
    policy: LoadedPolicy
    master_key: MasterKey = field(repr=False)
    signer: Signer = field(repr=False)
    keystore: KeyStore = field(repr=False)
    _writer: AuditWriter | None = field(default=None, repr=False)
    _vault: Vault | None = field(default=None, repr=False)
    _mn_vault: Vault | None = field(default=None, repr=False)
    _mn_keystore: KeyStore | None = field(default=None, repr=False)

    @property
    def mynumber_vault(self) -> Vault:
        """The My Number vault's keys: a master key and a key store of its own (MN-2, MN-6)."""
        if self._mn_vault is None:
            path = self.settings.resolved_mynumber_key_file
            if not path.exists():
                raise ConfigurationError(f"{path}: the My Number vault has no key; run `mamoru init`")
            self._mn_keystore = KeyStore(self.settings.resolved_mynumber_keystore_url)
            self._mn_vault = Vault(read_key_file(path), self._mn_keystore)
        return self._mn_vault

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            self._vault = Vault(self.master_key, self.keystore)
        return self._vault

    @property
    def audit_writer(self) -> AuditWriter:
        """The group-commit writer for high-volume entries (decisions); started on first use."""
        if self._writer is None:
            self._writer = AuditWriter(self.db, signer=self.signer)
        return self._writer

    @classmethod
    def open(cls, settings: Settings | None = None) -> Workspace:
        """Open the workspace, refusing to run without a key, a valid policy or a migrated database."""
        import mamoru.store.tables  # noqa: F401 - every table mapped, so foreign keys resolve in any script

        settings = settings or Settings()
        master_key = load_master_key(settings)
        signer = load_signer(settings.resolved_signing_key_file)
        loaded = load_policy(settings.resolved_policy_file)
        url = settings.resolved_database_url
        pooled = {} if url.startswith("sqlite") else {"pool_size": settings.db_pool_size, "max_overflow": 10}
        db = Database(url, **pooled)
        if db.current_revision() is None:
            db.dispose()
            raise ConfigurationError(f"{_redact(db.url)}: the database has no schema; run `mamoru init`")
        keystore = KeyStore(settings.resolved_keystore_url)
        _make_private_file(settings.resolved_keystore_url)
        return cls(
            settings=settings, db=db, policy=loaded, master_key=master_key, signer=signer, keystore=keystore
        )

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.keystore.dispose()
        if self._mn_keystore is not None:
            self._mn_keystore.dispose()
        self.db.dispose()


def _redact(url: str) -> str:
    """A database URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
