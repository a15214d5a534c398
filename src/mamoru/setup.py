"""Setting up a workspace: folder, keys, settings, policy, schema, the published notice and the first
protection manager. ``mamoru init`` runs it; so do the tests and the demo."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mamoru.audit.signing import ensure_key_file
from mamoru.people.staff import ensure_protection_manager
from mamoru.policy.load import load_policy, pack_source
from mamoru.policy.service import current_notice, publish
from mamoru.settings import CONFIG_FILE, Settings
from mamoru.store.db import Database
from mamoru.vault.keys import MasterKey, write_key_file
from mamoru.vault.keystore import KeyStore
from mamoru.workspace import load_master_key, make_private, make_private_file

SYSTEM_ACTOR = "system:init"
#: The first protection manager's login (JIS Q 15001 needs one from the start).
FIRST_LOGIN = "admin"

_CONFIG_TEMPLATE = """\
# mamoru workspace settings. Environment variables prefixed MAMORU_ override these.
# database_url = "postgresql://mamoru@127.0.0.1:5432/mamoru"
# base_url = "http://127.0.0.1:8600"
"""


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
    make_private_file(settings.resolved_mynumber_keystore_url)
    if ensure_key_file(settings.resolved_signing_key_file):
        report.created.append(f"audit signing key {settings.resolved_signing_key_file} (mode 0600)")
    datasets = settings.home / "datasets"
    if not datasets.exists():
        datasets.mkdir(mode=0o700)
        report.created.append(f"dataset maps folder {datasets}")
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
    make_private_file(settings.resolved_keystore_url)
    if not keystore_exists:
        report.created.append(f"key store {settings.home / 'keys.db'} (mode 0600)")
    db = Database(settings.resolved_database_url)
    try:
        before = db.current_revision()
        db.migrate()
        make_private(db)
        if db.current_revision() != before:
            report.created.append(f"database schema at {db.current_revision()}")
        with db.session() as session:
            previous = current_notice(session)
            notice = publish(session, loaded, SYSTEM_ACTOR)
            if previous is None or previous.id != notice.id:
                report.created.append(f"published notice {notice.policy_version}")
            report.notice_version = notice.policy_version
            password = ensure_protection_manager(session, login=FIRST_LOGIN, actor=SYSTEM_ACTOR)
            if password is not None:
                report.created.append(f"protection manager account '{FIRST_LOGIN}'")
                report.initial_login, report.initial_password = FIRST_LOGIN, password
    finally:
        db.dispose()
    return report
