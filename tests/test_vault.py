"""The vault end to end: nothing personal at rest, crypto-erase that reaches old copies, key rotation,
and reads only under an allowing decision."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from mamoru.demo import DemoPlan
from mamoru.guard.decision import Action, Decision, Reason
from mamoru.settings import Settings
from mamoru.setup import initialize
from mamoru.store.db import Database
from mamoru.vault.service import AccessDenied, SubjectErased
from mamoru.workspace import Workspace, _next_key_file, rotate_master_key
from tests.demo_copies import demo_copy

from .conftest import IN_CI, sqlite_only


def demo_values(plan: DemoPlan) -> list[bytes]:
    skip = {"birth_date", "employee_number"}
    return [v.encode() for p in plan.all_people() for k, v in p.values.items() if k not in skip]


def load(ws: Workspace, seed: int = 3) -> DemoPlan:
    return demo_copy(ws, seed)


def test_raw_sqlite_file_after_demo_holds_no_names_emails_phones_or_addresses(workspace: Workspace) -> None:
    plan = load(workspace)
    workspace.db.dispose()
    workspace.keystore.dispose()
    home = workspace.settings.home
    raw = b"".join(p.read_bytes() for p in home.iterdir() if p.name.startswith(("mamoru.db", "keys.db")))
    leaked = [v for v in demo_values(plan) if v in raw]
    assert leaked == []


@pytest.mark.postgres
def test_postgres_dump_after_demo_holds_no_names_emails_phones_or_addresses(
    pg_url: str, tmp_path: Path
) -> None:
    if shutil.which("pg_dump") is None:
        if IN_CI:
            pytest.fail("pg_dump is not installed")
        pytest.skip("pg_dump is not installed")
    settings = Settings(home=tmp_path / "ws", database_url=pg_url)
    initialize(settings)
    ws = Workspace.open(settings)
    try:
        plan = load(ws)
    finally:
        ws.close()
    dump = subprocess.run(
        ["pg_dump", "--no-owner", pg_url.replace("+psycopg", "")], capture_output=True, check=True
    ).stdout
    assert b"subject_fields" in dump
    assert [v for v in demo_values(plan) if v in dump] == []


@sqlite_only
def test_erasure_reaches_a_copy_of_the_database_taken_before_it(workspace: Workspace, tmp_path: Path) -> None:
    plan = load(workspace)
    victim, other = plan.subjects[0].subject_id, plan.subjects[1].subject_id
    db_file = Path(str(workspace.db.engine.url.database))
    workspace.db.dispose()
    with sqlite3.connect(db_file) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = tmp_path / "before-erasure.db"
    shutil.copy(db_file, copy)
    with workspace.db.session() as session:
        assert workspace.vault.erase(session, victim)
    old = Database(f"sqlite:///{copy}")
    with old.session() as session:
        with pytest.raises(SubjectErased):
            workspace.vault.decrypt(session, victim)
        assert workspace.vault.decrypt(session, other)["name"] == plan.subjects[1].values["name"]
    old.dispose()
    with workspace.db.session() as session:
        assert not workspace.vault.erase(session, victim)  # idempotent


def test_master_key_rotation_rewraps_keys_and_keeps_data_and_search(settings: Settings) -> None:
    initialize(settings)
    ws = Workspace.open(settings)
    plan = load(ws)
    person = next(p for p in plan.subjects if "email" in p.values)
    ws.close()
    before = settings.resolved_key_file.read_bytes()
    key_id, count = rotate_master_key(settings)
    assert count == len(plan.all_people())
    assert settings.resolved_key_file.read_bytes() != before
    ws = Workspace.open(settings)
    try:
        assert ws.master_key.key_id == key_id
        with ws.db.session() as session:
            assert ws.vault.decrypt(session, person.subject_id) == person.values
            assert ws.vault.find(session, "email", person.values["email"].upper()) == [person.subject_id]
    finally:
        ws.close()


def test_rotation_stopped_before_the_key_store_commit_is_undone(settings: Settings) -> None:
    from mamoru.vault.keys import MasterKey, write_key_file

    initialize(settings)
    old = settings.resolved_key_file.read_bytes()
    write_key_file(_next_key_file(settings), MasterKey.generate())  # stopped right after writing it
    Workspace.open(settings).close()
    assert settings.resolved_key_file.read_bytes() == old and not _next_key_file(settings).exists()


def test_rotation_stopped_after_the_key_store_commit_is_finished(settings: Settings) -> None:
    from mamoru.vault.keys import MasterKey, read_key_file, write_key_file
    from mamoru.vault.keystore import KeyStore
    from mamoru.vault.service import Vault

    initialize(settings)
    ws = Workspace.open(settings)
    plan = load(ws)
    ws.close()
    new = MasterKey.generate()
    write_key_file(_next_key_file(settings), new)
    store = KeyStore(settings.resolved_keystore_url)
    Vault(read_key_file(settings.resolved_key_file), store).rotate(new)  # committed; then the power went
    store.dispose()
    ws = Workspace.open(settings)
    try:
        assert ws.master_key.key_id == new.key_id
        with ws.db.session() as session:
            subject = plan.subjects[0]
            assert ws.vault.decrypt(session, subject.subject_id) == subject.values
    finally:
        ws.close()


def test_rotation_refuses_a_key_given_in_the_environment(settings: Settings) -> None:
    from mamoru.errors import ConfigurationError
    from mamoru.vault.keys import MasterKey

    env = settings.model_copy(update={"master_key": SecretStr(MasterKey.generate().encode())})
    with pytest.raises(ConfigurationError):
        rotate_master_key(env)


def decision(
    allow: bool,
    subject: str,
    mask: tuple[str, ...] = (),
    categories: tuple[str, ...] = ("identity", "contact"),
) -> Decision:
    return Decision(
        allow=allow,
        actor="staff:sa01",
        purpose="services",
        action=Action.READ,
        subjects=(subject,),
        categories=categories,
        reasons=(Reason.ALLOWED,) if allow else (Reason.ROLE_LACKS_PURPOSE,),
        rule="test",
        policy_version="2026.11",
        mask_fields=mask,
    )


def test_vault_reads_only_under_an_allowing_decision_for_that_subject(workspace: Workspace) -> None:
    plan = load(workspace)
    a, b = plan.subjects[0], plan.subjects[1]
    fields = workspace.policy.policy.fields
    with workspace.db.session() as session:
        assert workspace.vault.read(
            session, decision(True, a.subject_id), a.subject_id, ["name"], categories_of=fields
        ) == {"name": a.values["name"]}
        with pytest.raises(AccessDenied, match="role_lacks_purpose"):
            workspace.vault.read(
                session, decision(False, a.subject_id), a.subject_id, ["name"], categories_of=fields
            )
        with pytest.raises(AccessDenied):
            workspace.vault.read(
                session, decision(True, a.subject_id), b.subject_id, ["name"], categories_of=fields
            )
        masked = workspace.vault.read(
            session, decision(True, a.subject_id, ("phone",)), a.subject_id, ["phone"], categories_of=fields
        )
        assert masked["phone"].endswith(a.values["phone"][-4:]) and masked["phone"] != a.values["phone"]


def test_appi_18_the_vault_opens_only_the_fields_of_the_categories_the_decision_allowed(
    workspace: Workspace,
) -> None:
    plan = load(workspace)
    person = next(p for p in plan.subjects if {"name", "email", "phone"} <= set(p.values))
    sid = person.subject_id
    fields = workspace.policy.policy.fields
    with workspace.db.session() as session:
        workspace.vault.store(
            session, sid, {"nickname": "はなちゃん"}
        )  # a field the policy gives no category
        contact_only = decision(True, sid, categories=("contact",))
        got = workspace.vault.read(
            session, contact_only, sid, ["name", "email", "phone", "nickname"], categories_of=fields
        )
        assert got == {"email": person.values["email"], "phone": person.values["phone"]}
        identity_only = decision(True, sid, categories=("identity",))
        got = workspace.vault.read(session, identity_only, sid, ["email", "nickname"], categories_of=fields)
        assert got == {}


# --- erasure on disk: no copy of the files decrypts an erased person ------------------------------

SIDECARS = ("", "-wal", "-shm")


def _copy_files(files: list[Path], into: Path, *, with_wal: bool) -> list[Path]:
    """Copy database files as someone with access to the disk would, while they are open."""
    into.mkdir()
    copied = []
    for db_file in files:
        for suffix in SIDECARS if with_wal else ("",):
            source = db_file.with_name(db_file.name + suffix)
            if source.exists():
                copied.append(into / source.name)
                shutil.copyfile(source, copied[-1])
    return copied


@sqlite_only
@pytest.mark.parametrize("with_wal", [True, False], ids=["with-wal", "main-files-only"])
def test_appi_22_an_erased_person_cannot_be_decrypted_from_a_copy_of_the_files(
    workspace: Workspace, tmp_path: Path, with_wal: bool
) -> None:
    from sqlalchemy import select

    from mamoru.vault.keystore import KeyStore
    from mamoru.vault.service import Vault
    from mamoru.vault.tables import SubjectField

    plan = load(workspace)
    person = next(p for p in plan.subjects if {"name", "address"} <= set(p.values))
    sid = person.subject_id
    stored = workspace.keystore.subject_key(sid)
    assert stored is not None
    with workspace.db.session() as session:
        ciphertexts = list(
            session.scalars(select(SubjectField.ciphertext).where(SubjectField.subject_id == sid))
        )
    assert ciphertexts
    with workspace.db.session() as session:
        assert workspace.vault.erase(session, sid)

    files = [
        Path(str(workspace.db.engine.url.database)),
        Path(str(workspace.keystore.engine.url.database)),
    ]
    copies = _copy_files(files, tmp_path / "copy", with_wal=with_wal)
    raw = b"".join(p.read_bytes() for p in copies)
    secrets_ = [person.values["name"].encode(), person.values["address"].encode(), stored.wrapped_key]
    secrets_ += [c[13:] for c in ciphertexts]  # the sealed bytes, without the format byte and nonce
    assert [s for s in secrets_ if s in raw] == []

    keystore = KeyStore(f"sqlite:///{tmp_path / 'copy' / files[1].name}")
    old = Database(f"sqlite:///{tmp_path / 'copy' / files[0].name}")
    try:
        assert keystore.subject_key(sid) is None
        vault = Vault(workspace.master_key, keystore)
        with old.session() as session:
            assert session.scalars(select(SubjectField).where(SubjectField.subject_id == sid)).all() == []
            with pytest.raises(SubjectErased):
                vault.decrypt(session, sid)
            other = plan.subjects[1] if plan.subjects[0] is person else plan.subjects[0]
            assert vault.decrypt(session, other.subject_id)["name"] == other.values["name"]  # still a vault
    finally:
        keystore.dispose()
        old.dispose()


@pytest.mark.postgres
def test_appi_22_on_postgresql_an_erased_key_is_gone_from_the_table_and_from_a_dump(pg_url: str) -> None:
    from sqlalchemy import text

    from mamoru.vault.keys import MasterKey
    from mamoru.vault.keystore import KeyStore
    from mamoru.vault.service import Vault

    keystore = KeyStore(pg_url)
    try:
        vault = Vault(MasterKey.generate(), keystore)
        vault.seal_private("subject-a", "details", b"a")
        vault.seal_private("subject-b", "details", b"b")
        wrapped = keystore.subject_key("subject-a")
        assert wrapped is not None
        assert keystore.destroy_subject_key("subject-a")
        assert keystore.subject_key("subject-a") is None
        with keystore.engine.connect() as conn:
            # What pg_dump reads: every live row of the key table, as a COPY would write it.
            rows = conn.execute(text("SELECT subject_id, wrapped_key, kek_id FROM subject_keys")).all()
        dumped = b"".join(bytes(r.wrapped_key) + r.subject_id.encode() for r in rows)
        assert [r.subject_id for r in rows] == ["subject-b"]
        assert wrapped.wrapped_key not in dumped and b"subject-a" not in dumped
    finally:
        keystore.dispose()
    if shutil.which("pg_dump") is not None:
        dump = subprocess.run(
            ["pg_dump", "--no-owner", "--table=subject_keys", pg_url.replace("+psycopg", "")],
            capture_output=True,
            check=True,
        ).stdout
        assert b"subject-a" not in dump and wrapped.wrapped_key.hex().encode() not in dump
