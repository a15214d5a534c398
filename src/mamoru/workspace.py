"""The workspace: settings, master key, database and the policy in force, opened together.

mamoru fails closed: it refuses to open without a usable key or with a policy that does not validate.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from mamoru.audit.signing import Signer, load_signer
from mamoru.audit.writer import AuditWriter
from mamoru.errors import ConfigurationError
from mamoru.policy.load import LoadedPolicy, load_policy
from mamoru.policy.service import ensure_published
from mamoru.settings import Settings
from mamoru.store import versions
from mamoru.store.db import Database
from mamoru.vault.keys import MasterKey, read_key_file, write_key_file
from mamoru.vault.keystore import KeyStore
from mamoru.vault.service import BLIND_INDEX_KEY, Vault


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


def make_private(db: Database) -> None:
    """An embedded SQLite file holds ciphertexts and references only, but is still nobody else's to read."""
    if db.engine.dialect.name == "sqlite":
        make_private_file(db.url)


def make_private_file(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists():
            path.chmod(0o600)


#: one group-commit writer per workspace, even when the first decisions arrive at once
_WRITER_LOCK = threading.Lock()


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
            with _WRITER_LOCK:
                if self._writer is None:
                    self._writer = AuditWriter(self.db, signer=self.signer)
        return self._writer

    @classmethod
    def open(cls, settings: Settings | None = None) -> Workspace:
        """Open the workspace, refusing to run without a key, a valid policy or a migrated database."""
        import mamoru.schema  # noqa: F401 - every table mapped, so foreign keys resolve in any script

        settings = settings or Settings()
        versions.CHECK_SECONDS = settings.guard_state_check_ms / 1000
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
        make_private_file(settings.resolved_keystore_url)
        return cls(
            settings=settings, db=db, policy=loaded, master_key=master_key, signer=signer, keystore=keystore
        )

    def policy_file(self) -> LoadedPolicy:
        """The policy file as it is on disk now (it may differ from the policy enforced)."""
        return load_policy(self.settings.resolved_policy_file)

    def require_published(self) -> None:
        """Refuse (:class:`PolicyNotPublished`, with the difference) unless the policy enforced is the
        published version in force; the server checks this at start."""
        with self.db.session() as session:
            ensure_published(session, self.policy)

    def reload_policy(
        self, session: Session | None = None, loaded: LoadedPolicy | None = None
    ) -> LoadedPolicy:
        """Enforce the policy file as it is now (or ``loaded``), if it is the published version (seen in
        ``session`` when given); otherwise refuse with the difference and keep the policy as it was."""
        loaded = loaded or self.policy_file()
        if session is None:
            with self.db.session() as own:
                ensure_published(own, loaded)
        else:
            ensure_published(session, loaded)
        self.policy = loaded
        return loaded

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
