"""The audit trail's chain: each record's hash covers its content and the previous record's hash.

The hash is an HMAC keyed from the master key, so someone who can write the database but not read
the master key cannot rewrite a record and recompute the chain after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64


CHAIN_KEY_LABEL = b"openssm audit chain v1"


def link_hash(key: bytes, prev_hash: str, seq: int, event_json: str) -> str:
    message = json.dumps([prev_hash, seq, event_json], separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainRow:
    seq: int
    event_json: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    count: int
    broken_at: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(key: bytes, rows: Iterable[ChainRow]) -> ChainReport:
    """Walk rows in sequence order; the first that does not follow from its predecessor breaks the chain."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        if row.seq != expected_seq:
            return ChainReport(count, row.seq, f"record {expected_seq} is missing (found {row.seq} next)")
        if row.prev_hash != prev_hash:
            return ChainReport(count, row.seq, f"record {row.seq} does not follow record {row.seq - 1}")
        if link_hash(key, row.prev_hash, row.seq, row.event_json) != row.hash:
            return ChainReport(count, row.seq, f"record {row.seq} was altered")
        prev_hash, expected_seq, count = row.hash, expected_seq + 1, count + 1
    return ChainReport(count, None, None)
