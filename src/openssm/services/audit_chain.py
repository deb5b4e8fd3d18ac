"""The audit trail's chain: each record's hash covers every stored column of it and the previous hash.

The hash is an HMAC-SHA256 keyed from the master key (not a bare SHA-256), so someone who can write the
database but cannot read the master key cannot rewrite a record and recompute the chain after it. A head
record, MACed the same way, names the last record, so removing records from the end is detected too.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

GENESIS = "0" * 64

CHAIN_KEY_LABEL = b"openssm audit chain v2"

_COMPACT = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True)
class EventRecord:
    """One audit event as stored: the CloudTrail JSON plus the columns LookupEvents filters on."""

    event_id: str
    account_id: str
    event_time: dt.datetime
    event_source: str
    event_name: str
    username: str | None
    access_key_id: str | None
    read_only: bool
    resource_type: str | None
    resource_names: tuple[str, ...]
    error_code: str | None
    event_json: str

    def canonical(self, seq: int) -> str:
        """What the chain hashes: every column, so none can change unseen.

        The columns as one JSON array in a fixed order, a newline, then the event JSON as stored (JSON never
        holds a raw newline, so the split is unambiguous; embedding the event in the array would re-escape
        it, the costliest step of an append).
        """
        columns = [seq, self.event_id, self.account_id, self.event_time.astimezone(dt.UTC).isoformat(),
                   self.event_source, self.event_name, self.username, self.access_key_id, self.read_only,
                   self.resource_type, list(self.resource_names), self.error_code]
        return _COMPACT.encode(columns) + "\n" + self.event_json


def link_hash(key: bytes, prev_hash: str, seq: int, record: EventRecord) -> str:
    return hmac.digest(key, (prev_hash + record.canonical(seq)).encode(), "sha256").hex()


def head_mac(key: bytes, seq: int, digest: str) -> str:
    return hmac.digest(key, f"head:{seq}:{digest}".encode(), "sha256").hex()


@dataclass(frozen=True)
class ChainRow:
    seq: int
    record: EventRecord
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainHead:
    """The last record the trail appended, as the writer last saw it."""

    seq: int
    hash: str
    mac: str


@dataclass(frozen=True)
class ChainReport:
    count: int
    broken_at: int | None
    reason: str | None
    last_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.broken_at is None


@dataclass(frozen=True)
class Anchor:
    """A record known to have been in the trail: the head row, or a (seq, hash) an operator kept elsewhere."""

    seq: int
    hash: str
    source: str


def verify_chain(key: bytes, rows: Iterable[ChainRow], head: ChainHead | None,
                 anchors: Sequence[Anchor] = ()) -> ChainReport:
    """Walk rows in sequence order; report the first record that does not follow from its predecessor,
    or that differs from an anchor, or an anchor past the end (records removed from the end).

    Records appended after `head` was read are checked by their links alone, so a live trail verifies.
    """
    if head is not None and not hmac.compare_digest(head.mac, head_mac(key, head.seq, head.hash)):
        return ChainReport(0, head.seq, f"the head record (naming record {head.seq}) was altered")
    if head is not None:
        anchors = [*anchors, Anchor(head.seq, head.hash, "the head")]
    by_seq: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        by_seq.setdefault(anchor.seq, []).append(anchor)
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        broken = _check(key, row, expected_seq, prev_hash, by_seq.get(row.seq, ()))
        if broken is not None:
            return ChainReport(count, row.seq if row.seq == expected_seq else expected_seq, broken)
        prev_hash, expected_seq, count = row.hash, expected_seq + 1, count + 1
    if head is None and count:
        return ChainReport(count, count, "the head record is missing")
    beyond = max(anchors, key=lambda a: a.seq, default=None)
    if beyond is not None and beyond.seq > count:
        return ChainReport(count, count + 1, f"records {count + 1} to {beyond.seq} were removed from the end "
                                             f"({beyond.source} names record {beyond.seq})")
    return ChainReport(count, None, None, prev_hash)


def _check(key: bytes, row: ChainRow, expected_seq: int, prev_hash: str,
           anchors: Iterable[Anchor]) -> str | None:
    if row.seq != expected_seq:
        return f"record {expected_seq} is missing (found {row.seq} next)"
    if row.prev_hash != prev_hash:
        return f"record {row.seq} does not follow record {row.seq - 1}"
    if not hmac.compare_digest(link_hash(key, row.prev_hash, row.seq, row.record), row.hash):
        return f"record {row.seq} was altered"
    for anchor in anchors:
        if row.hash != anchor.hash:
            return f"record {row.seq} is not the record {anchor.source} names"
    return None
