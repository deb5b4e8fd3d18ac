"""The ciphertext blob KMS hands out: which key (and key material) sealed it, and the AES-GCM output.

Layout (format 2): b"OSK" | format 0x02 | key id (16-byte UUID) | material version (uint32, big-endian) |
nonce (12) | ciphertext and GCM tag. The header and the canonical encryption context are the AEAD's
associated data, so a changed header or a different context fails authentication.
Format 1 blobs (b"OSK1" | key id as 36 ASCII characters | nonce | sealed, context alone as associated
data) were written by earlier builds and are still read.
"""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from openssm.services.kms_model import InvalidCiphertext

_MAGIC = b"OSK"
_FORMAT = 2
_HEADER = struct.Struct(">3sB16sI")
_LEGACY_MAGIC = b"OSK1"
_LEGACY_HEADER = len(_LEGACY_MAGIC) + 36
NONCE_SIZE = 12
_TAG_SIZE = 16


@dataclass(frozen=True)
class Blob:
    key_id: str
    material_version: int
    nonce: bytes
    sealed: bytes
    header: bytes

    def associated_data(self, context: Mapping[str, str] | None) -> bytes:
        return self.header + canonical_context(context)


def canonical_context(context: Mapping[str, str] | None) -> bytes:
    """The encryption context as bytes that do not depend on the order of its pairs."""
    return json.dumps(dict(sorted((context or {}).items())), separators=(",", ":")).encode()


def header(key_id: str, material_version: int) -> bytes:
    return _HEADER.pack(_MAGIC, _FORMAT, uuid.UUID(key_id).bytes, material_version)


def pack(head: bytes, nonce: bytes, sealed: bytes) -> bytes:
    return head + nonce + sealed


def unpack(blob: bytes) -> Blob:
    """Split a blob, or raise InvalidCiphertextException as KMS does for anything it did not make."""
    if blob.startswith(_LEGACY_MAGIC) and len(blob) >= _LEGACY_HEADER + NONCE_SIZE + _TAG_SIZE:
        try:
            key_id = str(uuid.UUID(blob[len(_LEGACY_MAGIC):_LEGACY_HEADER].decode("ascii")))
        except (UnicodeDecodeError, ValueError) as err:
            raise InvalidCiphertext() from err
        body = blob[_LEGACY_HEADER:]
        return Blob(key_id, 1, body[:NONCE_SIZE], body[NONCE_SIZE:], b"")
    if len(blob) < _HEADER.size + NONCE_SIZE + _TAG_SIZE:
        raise InvalidCiphertext()
    magic, fmt, raw_id, material_version = _HEADER.unpack_from(blob)
    if magic != _MAGIC or fmt != _FORMAT:
        raise InvalidCiphertext()
    body = blob[_HEADER.size:]
    return Blob(str(uuid.UUID(bytes=raw_id)), material_version, body[:NONCE_SIZE], body[NONCE_SIZE:],
                blob[:_HEADER.size])
