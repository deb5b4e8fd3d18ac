"""Encryption at rest for secrets (secret access keys, key material): AES-256-GCM under a master key.

The master key lives outside the database (a 0600 file in the data directory, or a path given by the
operator, shared by every replica), so a copy of the database alone reveals no secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class SecretBox:
    """Seals and opens byte strings; `aad` binds a ciphertext to the row it belongs to."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._aead = AESGCM(key)
        self._key = key

    def derive_key(self, label: bytes) -> bytes:
        """A key for another purpose (e.g. the audit chain's HMAC), derived so it reveals nothing of this one."""
        return hmac.new(self._key, label, hashlib.sha256).digest()

    def seal(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes, aad: bytes = b"") -> bytes:
        return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], aad)


def load_or_create_master_key(path: Path) -> bytes:
    """Read the master key, creating it (mode 0600) on first use."""
    if path.exists():
        key = path.read_bytes()
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = AESGCM.generate_key(bit_length=256)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
    if len(key) != 32:
        raise ValueError(f"{path} does not hold a 32-byte master key")
    return key
