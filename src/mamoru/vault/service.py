"""The vault: personal values encrypted per subject, found by blind index, erased by destroying keys.

Writing is open to the services that acquire data. Reading needs an allowing guard decision for the
subject (see :meth:`Vault.read`); there is no other way to get a plaintext out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Protocol

from sqlalchemy import Engine, delete, event, select
from sqlalchemy.orm import Session

from mamoru.errors import MamoruError
from mamoru.vault import crypto
from mamoru.vault.errors import DecryptionFailed
from mamoru.vault.keys import MasterKey
from mamoru.vault.keystore import KeyStore, flush_deleted
from mamoru.vault.tables import SubjectField

#: Fields that get a blind index so a person can be found by them (requests, deduplication). A name or a
#: date of birth alone finds many people; requests match them only together (see requests.matching).
SEARCHABLE_FIELDS = frozenset({"email", "phone", "employee_number", "customer_number", "name", "birth_date"})
BLIND_INDEX_KEY = "blind_index"


class Grant(Protocol):
    """What a read needs from an allowing decision (the guard's ``Decision`` is one): which subjects it
    covers, which data categories it allowed, why it went as it did, and which fields must come back
    masked."""

    @property
    def reasons(self) -> tuple[str, ...]: ...

    @property
    def categories(self) -> tuple[str, ...]: ...

    @property
    def mask_fields(self) -> tuple[str, ...]: ...

    def covers(self, subject_id: str) -> bool: ...


class AccessDenied(MamoruError):
    """A read without an allowing decision for the subject."""

    http_status = 403


class SubjectErased(DecryptionFailed):
    """The subject's key was destroyed; its values cannot be read or written any more."""

    http_status = 410


def flush_after_commit(session: Session) -> None:
    """Once the caller's transaction commits, flush the main SQLite file too (``secure_delete`` is on
    there as well), so that deleted ciphertexts are overwritten on disk and not left in the
    write-ahead log. Best effort: the key is what erasure destroys, and it is gone already."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name != "sqlite" or session.info.get("flush_after_commit"):
        return
    session.info["flush_after_commit"] = True

    def flush(done: Session) -> None:
        done.info.pop("flush_after_commit", None)
        flush_deleted(engine, attempts=1, wait_ms=1000)

    event.listen(session, "after_commit", flush, once=True)


def normalize_for_index(field: str, value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if field == "email":
        return value.lower()
    if field == "phone":
        return "".join(ch for ch in value if ch.isdigit())
    if field == "name":
        # 山田 太郎, 山田　太郎 and 山田太郎 are one name; Latin letters in any case.
        return "".join(value.split()).casefold()
    if field == "birth_date":
        return _iso_date(value)
    if field == "customer_number":
        return "".join(ch for ch in value if ch not in " -").upper()
    return value


def _iso_date(value: str) -> str:
    """1980-04-02, 1980/4/2, 19800402 and 1980年4月2日 are one day; anything else is kept as given."""
    parts = re.findall(r"\d+", value)
    if len(parts) == 1 and len(parts[0]) == 8:
        parts = [parts[0][:4], parts[0][4:6], parts[0][6:]]
    if len(parts) == 3 and len(parts[0]) == 4:
        try:
            return date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
        except ValueError:
            return value
    return value


class Vault:
    """Per-subject envelope encryption: subject data key ← key-encryption key ← master key."""

    def __init__(self, master: MasterKey, keystore: KeyStore) -> None:
        self._master = master
        self._kek = master.kek
        self.keystore = keystore
        self._index_key = self._named_key(BLIND_INDEX_KEY)

    def _named_key(self, name: str) -> bytes:
        stored = self.keystore.named_key(name)
        if stored is None:
            key = crypto.new_data_key()
            self.keystore.add_named_key(
                name, crypto.wrap_data_key(self._kek, f"named:{name}", key), self._master.key_id
            )
            return key
        return crypto.unwrap_data_key(self._kek, f"named:{name}", stored.wrapped_key)

    def _data_key(self, subject_id: str, *, create: bool) -> bytes:
        stored = self.keystore.subject_key(subject_id)
        if stored is None:
            if not create:
                raise SubjectErased(f"subject {subject_id} has no key: it was erased or never stored")
            key = crypto.new_data_key()
            self.keystore.add_subject_key(
                subject_id, crypto.wrap_data_key(self._kek, subject_id, key), self._master.key_id
            )
            return key
        return crypto.unwrap_data_key(self._kek, subject_id, stored.wrapped_key)

    def seal_private(self, holder: str, name: str, data: bytes) -> bytes:
        """Seal a record the system keeps about a holder that is not a data subject's field (a request's
        own details, a disclosure package), under the holder's own key; erasing the holder destroys it."""
        return crypto.seal_bytes(self._data_key(holder, create=True), holder, name, data)

    def sealer(self, holder: str) -> Callable[[str, bytes], bytes]:
        """:meth:`seal_private` for many records of one holder: its key is unwrapped once."""
        key = self._data_key(holder, create=True)
        return lambda name, data: crypto.seal_bytes(key, holder, name, data)

    def open_private(self, holder: str, name: str, blob: bytes) -> bytes:
        return crypto.open_bytes(self._data_key(holder, create=False), holder, name, blob)

    def keyed_hash(self, purpose: str, value: str) -> str:
        """A keyed hash (HMAC under the blind-index key, domain-separated by ``purpose``): comparable, not
        reversible without the key; used for one-time codes and before/after values in the audit log."""
        digest = hmac.new(self._index_key, f"hash:{purpose}\x00{value}".encode(), hashlib.sha256).digest()
        # Base32: a hex digest can hold a run of twelve digits, which the audit log refuses as a
        # possible Individual Number; base32's few digits (2-7) practically never do.
        return base64.b32encode(digest).decode().rstrip("=").lower()

    def blind_index(self, field: str, value: str) -> str:
        return crypto.blind_index(self._index_key, field, normalize_for_index(field, value))

    def store(self, session: Session, subject_id: str, values: dict[str, str], *, new: bool = False) -> None:
        """Encrypt and store (or replace) field values of one subject, in the caller's transaction.

        ``new`` creates the subject's data key; otherwise a subject without a key (erased) is refused.
        """
        key = self._data_key(subject_id, create=new)
        existing = {
            row.field: row
            for row in session.scalars(select(SubjectField).where(SubjectField.subject_id == subject_id))
        }
        for field, value in values.items():
            blob = crypto.seal(key, subject_id, field, value)
            index = self.blind_index(field, value) if field in SEARCHABLE_FIELDS else None
            if field in existing:
                existing[field].ciphertext = blob
                existing[field].blind_index = index
            else:
                session.add(
                    SubjectField(subject_id=subject_id, field=field, ciphertext=blob, blind_index=index)
                )

    def find(self, session: Session, field: str, value: str) -> list[str]:
        """Subjects whose searchable ``field`` equals ``value`` (after normalisation)."""
        return self.find_by_index(session, field, self.blind_index(field, value))

    def find_by_index(self, session: Session, field: str, index: str) -> list[str]:
        """Subjects whose searchable ``field`` has this blind index (one computed earlier by
        :meth:`blind_index`, e.g. kept on a request so that the value itself need not be)."""
        if field not in SEARCHABLE_FIELDS:
            raise ValueError(f"'{field}' is not a searchable field")
        rows = session.scalars(
            select(SubjectField.subject_id).where(
                SubjectField.field == field, SubjectField.blind_index == index
            )
        )
        return sorted(set(rows))

    def reindex(self, session: Session) -> int:
        """Give a blind index to the searchable values stored before their field became searchable;
        returns how many. Opens only those values (a one-off after an upgrade, not a search)."""
        rows = list(
            session.scalars(
                select(SubjectField).where(
                    SubjectField.field.in_(sorted(SEARCHABLE_FIELDS)), SubjectField.blind_index.is_(None)
                )
            )
        )
        done = 0
        for row in rows:
            try:
                key = self._data_key(row.subject_id, create=False)
            except SubjectErased:
                continue
            value = crypto.open_sealed(key, row.subject_id, row.field, row.ciphertext)
            row.blind_index = self.blind_index(row.field, value)
            done += 1
        return done

    def find_many(self, session: Session, field: str, values: Iterable[str]) -> dict[str, list[str]]:
        """:meth:`find` for many values at once (one query per 500): value -> its subjects (values
        nobody has are left out)."""
        if field not in SEARCHABLE_FIELDS:
            raise ValueError(f"'{field}' is not a searchable field")
        by_index: dict[str, list[str]] = {}
        for value in set(values):
            by_index.setdefault(self.blind_index(field, value), []).append(value)
        found: dict[str, set[str]] = {}
        indexes = list(by_index)
        for batch in (indexes[i : i + 500] for i in range(0, len(indexes), 500)):
            rows = session.execute(
                select(SubjectField.blind_index, SubjectField.subject_id).where(
                    SubjectField.field == field, SubjectField.blind_index.in_(batch)
                )
            )
            for index, subject_id in rows:
                for value in by_index.get(index or "", ()):
                    found.setdefault(value, set()).add(subject_id)
        return {value: sorted(subjects) for value, subjects in found.items()}

    def field_names(self, session: Session, subject_id: str) -> list[str]:
        """Which fields a subject has stored (names only; nothing is decrypted)."""
        return sorted(
            session.scalars(select(SubjectField.field).where(SubjectField.subject_id == subject_id))
        )

    def decrypt(
        self, session: Session, subject_id: str, fields: Iterable[str] | None = None
    ) -> dict[str, str]:
        """Plaintext values of one subject. Internal: callers outside the vault use :meth:`read`."""
        key = self._data_key(subject_id, create=False)
        query = select(SubjectField).where(SubjectField.subject_id == subject_id)
        if fields is not None:
            query = query.where(SubjectField.field.in_(list(fields)))
        return {
            row.field: crypto.open_sealed(key, subject_id, row.field, row.ciphertext)
            for row in session.scalars(query)
        }

    def read(
        self,
        session: Session,
        decision: Grant,
        subject_id: str,
        fields: Iterable[str],
        *,
        categories_of: Mapping[str, str],
    ) -> dict[str, str]:
        """The plaintext of ``fields`` of one subject, only under an allowing decision for that subject,
        and only of the fields whose category (``categories_of``: the policy's field -> category) the
        decision allowed: a field of another category, or of none, is not opened.

        Fields the decision asks to mask come back masked (last four characters only).
        """
        if not decision.covers(subject_id):
            raise AccessDenied(
                f"no allowing decision for subject {subject_id}: {', '.join(decision.reasons)}"
            )
        allowed = set(decision.categories)
        scoped = [f for f in fields if categories_of.get(f) in allowed]
        values = self.decrypt(session, subject_id, scoped) if scoped else {}
        for name in decision.mask_fields:
            if name in values:
                values[name] = "*" * max(len(values[name]) - 4, 0) + values[name][-4:]
        return values

    def drop_fields(self, session: Session, subject_id: str, fields: Iterable[str]) -> None:
        """Delete some stored fields of one subject, in the caller's transaction; the subject's key and
        its other fields stay (a partial erasure, where a law requires the rest to be kept)."""
        names = list(fields)
        if names:
            session.execute(
                delete(SubjectField).where(
                    SubjectField.subject_id == subject_id, SubjectField.field.in_(names)
                )
            )
            flush_after_commit(session)

    def erase(self, session: Session, subject_id: str) -> bool:
        """Crypto-erase: destroy the subject's key, then drop its ciphertexts. Idempotent.

        The key goes first: once it is gone, every copy of the ciphertexts anywhere is unreadable, and a
        crash before the rows are dropped leaves nothing readable behind; running erase again finishes.
        On SQLite the key store's files no longer hold the key when this returns, and the main file is
        flushed once the caller commits.
        """
        destroyed = self.keystore.destroy_subject_key(subject_id)
        session.execute(delete(SubjectField).where(SubjectField.subject_id == subject_id))
        flush_after_commit(session)
        return destroyed

    def rotate(self, new_master: MasterKey) -> int:
        """Re-wrap every data key and named key under ``new_master``; the data is not touched.

        Keys already wrapped by the new master key are skipped, so an interrupted rotation resumes.
        """
        new_kek = new_master.kek
        rewrapped = 0
        from mamoru.vault.keystore import StoredNamedKey, StoredSubjectKey

        with self.keystore.session() as session:
            for row in session.scalars(select(StoredSubjectKey)):
                if row.kek_id == new_master.key_id:
                    continue
                key = crypto.unwrap_data_key(self._kek, row.subject_id, row.wrapped_key)
                row.wrapped_key = crypto.wrap_data_key(new_kek, row.subject_id, key)
                row.kek_id = new_master.key_id
                rewrapped += 1
            for named in session.scalars(select(StoredNamedKey)):
                if named.kek_id == new_master.key_id:
                    continue
                key = crypto.unwrap_data_key(self._kek, f"named:{named.name}", named.wrapped_key)
                named.wrapped_key = crypto.wrap_data_key(new_kek, f"named:{named.name}", key)
                named.kek_id = new_master.key_id
        return rewrapped
