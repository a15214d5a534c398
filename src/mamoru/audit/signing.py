"""The Ed25519 key that signs checkpoints, and the exact statement it signs.

The statement is plain text so that a witness can check it with any Ed25519 tool:
``mamoru-checkpoint/v2\\n<number>\\n<tree size>\\n<Merkle root hex>\\n<chain head hex>\\n<unix microseconds>\\n<previous checkpoint's hash hex>\\n``
(checkpoints signed before numbering use ``mamoru-checkpoint/v1``, without the number and the hash).
The Merkle root anchors inclusion and consistency proofs; the chain head lets a verifier that walks
the chain check the signature without rebuilding the tree.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mamoru.errors import KeyUnavailable

KEY_FILE = "audit-signing.key"


def statement(tree_size: int, root_hash: bytes, chain_hash: bytes, ts_us: int) -> bytes:
    return f"mamoru-checkpoint/v1\n{tree_size}\n{root_hash.hex()}\n{chain_hash.hex()}\n{ts_us}\n".encode(
        "ascii"
    )


def chained_statement(
    number: int, tree_size: int, root_hash: bytes, chain_hash: bytes, ts_us: int, prev_hash: bytes
) -> bytes:
    """The statement of a numbered checkpoint: the first format's lines, then its number and the hash of
    the checkpoint before it (:func:`checkpoint_hash`), so that checkpoints form a chain of their own."""
    return (
        f"mamoru-checkpoint/v2\n{number}\n{tree_size}\n{root_hash.hex()}\n{chain_hash.hex()}\n{ts_us}\n"
        f"{prev_hash.hex()}\n"
    ).encode("ascii")


def checkpoint_hash(signed_statement: bytes) -> bytes:
    """What the next checkpoint signs as ``prev_hash``: SHA-256 of this one's statement."""
    return hashlib.sha256(signed_statement).digest()


def public_key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key_pem(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def verify_statement(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return public_key_id(self.public)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())


def ensure_key_file(path: Path) -> bool:
    """Create the signing key with mode 0600 if missing; True if it was created."""
    if path.exists():
        return False
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return True


def load_signer(path: Path) -> Signer:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyUnavailable(f"{path}: no audit signing key; run `mamoru init`") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyUnavailable(f"{path}: the signing key is readable by others; chmod 600 it")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyUnavailable(f"{path}: not an Ed25519 private key")
    return Signer(key)
