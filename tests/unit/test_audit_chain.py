"""The audit chain: any altered, removed or reordered record breaks it."""

from __future__ import annotations

from dataclasses import replace

from openssm.services.audit_chain import GENESIS, ChainRow, link_hash, verify_chain

KEY = b"k" * 32


def chain(n: int) -> list[ChainRow]:
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        event = f'{{"eventID": "{seq}"}}'
        digest = link_hash(KEY, prev, seq, event)
        rows.append(ChainRow(seq, event, prev, digest))
        prev = digest
    return rows


def test_an_untouched_chain_verifies() -> None:
    report = verify_chain(KEY, chain(5))
    assert report.ok and report.count == 5


def test_an_altered_record_is_found() -> None:
    rows = chain(5)
    rows[2] = replace(rows[2], event_json='{"eventID": "forged"}')
    report = verify_chain(KEY, rows)
    assert (report.broken_at, report.reason) == (3, "record 3 was altered")


def test_a_removed_record_is_found() -> None:
    rows = chain(5)
    del rows[1]
    assert verify_chain(KEY, rows).broken_at == 3


def test_swapped_records_are_found() -> None:
    rows = chain(5)
    rows[1], rows[2] = replace(rows[2], seq=2), replace(rows[1], seq=3)
    assert not verify_chain(KEY, rows).ok


def test_a_chain_recomputed_without_the_key_does_not_verify() -> None:
    rows, prev = [], GENESIS
    for seq in range(1, 4):
        digest = link_hash(b"x" * 32, prev, seq, "{}")
        rows.append(ChainRow(seq, "{}", prev, digest))
        prev = digest
    assert not verify_chain(KEY, rows).ok
