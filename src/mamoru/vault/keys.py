"""The workspace master key: created once with mode 0600, loaded with checks, never defaulted.

The master key only derives other keys (HKDF): the key-encryption key that wraps per-subject data
keys, and the blind-index key. It never encrypts personal values itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mamoru.errors import KeyUnavailable

KEY_BYTES = 32
# Values people paste from documentation; refusing them keeps a demo key out of production.
_PLACEHOLDERS = {b"\x00" * KEY_BYTES, b"changeme".ljust(KEY_BYTES, b"\x00")}


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"mamoru/" + purpose).derive(
        master
    )


@dataclass(frozen=True)
class MasterKey:
    """A 256-bit master key and the keys derived from it."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise KeyUnavailable(f"the master key must be {KEY_BYTES} bytes, got {len(self.secret)}")
        if self.secret in _PLACEHOLDERS or len(set(self.secret)) < 8:
            raise KeyUnavailable(
                "the master key is a placeholder or has too little entropy; generate a new one"
            )

    @property
    def key_id(self) -> str:
        """A public fingerprint that tells which master key wrapped a data key."""
        return hashlib.sha256(b"mamoru/key-id" + self.secret).hexdigest()[:16]

    @property
    def kek(self) -> bytes:
        return _derive(self.secret, b"kek")

    @property
    def blind_index_key(self) -> bytes:
        return _derive(self.secret, b"blind-index")

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    def encode(self) -> str:
        return base64.b64encode(self.secret).decode("ascii")

    @classmethod
    def decode(cls, text: str, *, origin: str) -> MasterKey:
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeyUnavailable(f"{origin}: the master key is not valid base64") from None
        try:
            return cls(raw)
        except KeyUnavailable as exc:
            raise KeyUnavailable(f"{origin}: {exc}") from None


def write_key_file(path: Path, key: MasterKey) -> None:
    """Create ``path`` with mode 0600 holding ``key``; never overwrites an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.encode() + "\n")


def read_key_file(path: Path) -> MasterKey:
    """Load the master key, refusing a missing file or one that others can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyUnavailable(
            f"{path}: no master key; run `mamoru init` or set MAMORU_MASTER_KEY / MAMORU_KEY_FILE"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyUnavailable(
            f"{path}: the key file is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it"
        )
    return MasterKey.decode(path.read_text(encoding="ascii"), origin=str(path))
