"""Compliance's rules: COMPLETE and PARTIAL uploads, the content hash, and the summaries' counting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from openssm.services import compliance, compliance_queries
from openssm.services.compliance import ExecutionSummary, ItemInput
from openssm.services.compliance_queries import InvalidFilter, StringFilter
from openssm.store.db import open_database

ACCOUNT, REGION = "111122223333", "eu-west-1"
NOW = dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC)
RUN = ExecutionSummary(NOW, "run-1", "Command")


@pytest.fixture
def conn() -> Iterator[Connection]:
    db = open_database("sqlite://")
    with db.begin() as connection:
        yield connection


def put(conn: Connection, node: str, items: list[ItemInput], kind: str = "Custom:Antivirus", **kw: object) -> None:
    compliance.put_items(conn, ACCOUNT, REGION, node, "ManagedInstance", kind, RUN, items, NOW, **kw)  # type: ignore[arg-type]


def ids(conn: Connection, node: str) -> list[str | None]:
    return [i.id for i in compliance.items_of(conn, ACCOUNT, REGION, [node])]


def test_a_complete_upload_replaces_the_type_and_a_partial_one_only_the_items_it_names(conn: Connection) -> None:
    put(conn, "mi-1", [ItemInput("a", "A", "HIGH", "COMPLIANT"), ItemInput("b", "B", "LOW", "NON_COMPLIANT")])
    put(conn, "mi-1", [ItemInput("x", "X", "LOW", "COMPLIANT")], kind="Custom:Other")
    put(conn, "mi-1", [ItemInput("b", "B", "LOW", "COMPLIANT")], upload_type="PARTIAL")
    assert ids(conn, "mi-1") == ["a", "b", "x"]
    assert [i.status for i in compliance.items_of(conn, ACCOUNT, REGION, ["mi-1"])] == ["COMPLIANT"] * 3
    put(conn, "mi-1", [ItemInput("c", "C", "LOW", "COMPLIANT")])  # COMPLETE: a and b go
    assert ids(conn, "mi-1") == ["c", "x"]
    put(conn, "mi-1", [])
    assert ids(conn, "mi-1") == ["x"]


def test_an_unchanged_content_hash_changes_only_the_execution_summary(conn: Connection) -> None:
    put(conn, "mi-1", [ItemInput("a", "A", "HIGH", "COMPLIANT")], item_content_hash="h1")
    put(conn, "mi-1", [ItemInput("b", "B", "HIGH", "COMPLIANT")], item_content_hash="h1")
    assert ids(conn, "mi-1") == ["a"]
    put(conn, "mi-1", [ItemInput("b", "B", "HIGH", "COMPLIANT")], item_content_hash="h2")
    assert ids(conn, "mi-1") == ["b"]


def test_bad_items_get_aws_errors(conn: Connection) -> None:
    with pytest.raises(compliance.InvalidItemContent, match="PARTIAL"):
        put(conn, "mi-1", [ItemInput(None, "A", "HIGH", "COMPLIANT")], upload_type="PARTIAL")
    with pytest.raises(compliance.InvalidResourceType, match="ManagedInstance"):
        compliance.put_items(conn, ACCOUNT, REGION, "i-1", "EC2", "Custom:X", RUN, [], NOW)
    with pytest.raises(compliance.ItemSizeLimitExceeded):
        put(conn, "mi-1", [ItemInput("a", "x" * 900_000, "HIGH", "COMPLIANT")])
    with pytest.raises(compliance.TotalSizeLimitExceeded):
        put(conn, "mi-1", [ItemInput(str(n), None, "LOW", "COMPLIANT") for n in range(10_001)])


def test_summaries_count_resources_per_type_at_their_most_severe_deciding_item(conn: Connection) -> None:
    put(conn, "mi-1", [ItemInput("a", None, "LOW", "COMPLIANT"), ItemInput("b", None, "HIGH", "NON_COMPLIANT"),
                       ItemInput("c", None, "CRITICAL", "COMPLIANT")])
    put(conn, "mi-2", [ItemInput("a", None, "MEDIUM", "COMPLIANT"), ItemInput("c", None, "LOW", "COMPLIANT")])
    put(conn, "mi-3", [])
    found = compliance.items_of(conn, ACCOUNT, REGION)
    [summary] = compliance_queries.type_summaries(found)
    assert summary.non_compliant["HIGH"] == 1 and sum(summary.non_compliant.values()) == 1
    assert summary.compliant["MEDIUM"] == 1 and sum(summary.compliant.values()) == 1

    resources = compliance_queries.resource_summaries(found, compliance.uploads_of(conn, ACCOUNT, REGION))
    assert [(r.resource_id, r.status, r.overall_severity) for r in resources] == [
        ("mi-1", "NON_COMPLIANT", "HIGH"), ("mi-2", "COMPLIANT", "MEDIUM"), ("mi-3", "COMPLIANT", "UNSPECIFIED")]
    assert resources[0].compliant["CRITICAL"] == 1 and resources[0].non_compliant["HIGH"] == 1


def test_string_filters_follow_aws_operators_and_refuse_unknown_keys(conn: Connection) -> None:
    put(conn, "mi-1", [ItemInput("a1", None, "LOW", "COMPLIANT"), ItemInput("b2", None, "HIGH", "NON_COMPLIANT")])
    found = compliance.items_of(conn, ACCOUNT, REGION)

    def kept(*filters: StringFilter) -> list[str | None]:
        return [i.id for i in compliance_queries.select(found, filters, compliance_queries.ITEM_FIELDS)]

    assert kept(StringFilter("Status", ("NON_COMPLIANT",))) == ["b2"]
    assert kept(StringFilter("Severity", ("HIGH",), "NOT_EQUAL")) == ["a1"]
    assert kept(StringFilter("Id", ("a",), "BEGIN_WITH")) == ["a1"]
    assert kept(StringFilter("Id", ("b",), "GREATER_THAN")) == ["b2"]
    with pytest.raises(InvalidFilter, match="Valid filter keys"):
        kept(StringFilter("Colour", ("red",)))
