"""Writing personal values into the vault. Reading goes through a guard decision (a later layer)."""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.vault import crypto
from mamoru.vault.errors import DecryptionFailed
from mamoru.vault.keys import MasterKey
from mamoru.vault.tables import SubjectField, SubjectKey

#: Fields that get a blind index so a person can be found by them (requests, deduplication).
SEARCHABLE_FIELDS = frozenset({"email", "phone", "employee_number"})


def normalize_for_index(field: str, value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if field == "email":
        return value.lower()
    if field == "phone":
        return "".join(ch for ch in value if ch.isdigit())
    return value


class Vault:
    """Per-subject envelope encryption under one master key."""

    def __init__(self, master: MasterKey) -> None:
        self._master = master
        self._kek = master.kek
        self._index_key = master.blind_index_key

    def _data_key(self, session: Session, subject_id: str) -> bytes:
        row = session.get(SubjectKey, subject_id)
        if row is None:
            key = crypto.new_data_key()
            session.add(
                SubjectKey(
                    subject_id=subject_id,
                    wrapped_key=crypto.wrap_data_key(self._kek, subject_id, key),
                    kek_id=self._master.key_id,
                )
            )
            return key
        if row.wrapped_key is None:
            raise DecryptionFailed(f"subject {subject_id} was erased; its data can no longer be written")
        return crypto.unwrap_data_key(self._kek, subject_id, row.wrapped_key)

    def blind_index(self, field: str, value: str) -> str:
        return crypto.blind_index(self._index_key, field, normalize_for_index(field, value))

    def store(self, session: Session, subject_id: str, values: dict[str, str]) -> None:
        """Encrypt and store (or replace) field values of one subject, in the caller's transaction."""
        key = self._data_key(session, subject_id)
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
