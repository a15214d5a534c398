"""AES-256-GCM for data keys and fields, each ciphertext bound to its subject and field.

Binding (associated data) means a ciphertext copied to another row or field fails to open, so
rows cannot be swapped unnoticed in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mamoru.vault.errors import DecryptionFailed

FORMAT = b"\x01"
NONCE_BYTES = 12


@lru_cache(maxsize=4096)
def _aead(key: bytes) -> AESGCM:
    """Key schedules are reused: building one costs more than sealing a short field."""
    return AESGCM(key)


def _aad(kind: bytes, subject_id: str, field: str = "") -> bytes:
    return b"mamoru/v1|" + kind + b"|" + subject_id.encode() + b"|" + field.encode()


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_data_key(kek: bytes, subject_id: str, data_key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT + nonce + _aead(kek).encrypt(nonce, data_key, _aad(b"dek", subject_id))


def unwrap_data_key(kek: bytes, subject_id: str, wrapped: bytes) -> bytes:
    try:
        return _aead(kek).decrypt(wrapped[1:13], wrapped[13:], _aad(b"dek", subject_id))
    except (InvalidTag, ValueError):
        raise DecryptionFailed(
            f"the data key of subject {subject_id} does not open under this master key"
        ) from None


def seal(data_key: bytes, subject_id: str, field: str, value: str) -> bytes:
    """Encrypt one field value for one subject."""
    nonce = os.urandom(NONCE_BYTES)
    return (
        FORMAT
        + nonce
        + _aead(data_key).encrypt(nonce, value.encode("utf-8"), _aad(b"field", subject_id, field))
    )


def open_sealed(data_key: bytes, subject_id: str, field: str, blob: bytes) -> str:
    """Decrypt one field value; fails if the blob belongs to another subject, field or key."""
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != FORMAT:
        raise DecryptionFailed(f"field '{field}' of subject {subject_id}: not a mamoru ciphertext")
    try:
        plain = _aead(data_key).decrypt(blob[1:13], blob[13:], _aad(b"field", subject_id, field))
    except InvalidTag:
        raise DecryptionFailed(
            f"field '{field}' of subject {subject_id}: the ciphertext does not belong to this subject and field"
        ) from None
    return plain.decode("utf-8")


def blind_index(key: bytes, field: str, normalized_value: str) -> str:
    """A keyed hash that lets equal values be found without storing them."""
    return hmac.new(key, field.encode() + b"\x00" + normalized_value.encode(), hashlib.sha256).hexdigest()


def seal_bytes(data_key: bytes, holder: str, name: str, data: bytes) -> bytes:
    """Encrypt a byte string for one holder and name (a document, a package)."""
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT + nonce + _aead(data_key).encrypt(nonce, data, _aad(b"blob", holder, name))


def open_bytes(data_key: bytes, holder: str, name: str, blob: bytes) -> bytes:
    try:
        return _aead(data_key).decrypt(blob[1:13], blob[13:], _aad(b"blob", holder, name))
    except (InvalidTag, ValueError):
        raise DecryptionFailed(f"sealed {name} of {holder} does not open: wrong key or altered") from None
