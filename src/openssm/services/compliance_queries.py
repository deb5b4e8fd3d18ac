"""The compliance views: items filtered with AWS's string filters (EQUAL, NOT_EQUAL, BEGIN_WITH, LESS_THAN,
GREATER_THAN), a summary per compliance type (how many resources are compliant or not, by severity), and a
summary per resource and type (its status, overall severity, and its items counted by severity)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from openssm.services.compliance import (
    COMPLIANT,
    NON_COMPLIANT,
    SEVERITIES,
    ComplianceItem,
    ExecutionSummary,
    most_severe,
)
from openssm.services.inventory_model import InvalidFilter


@dataclass(frozen=True)
class StringFilter:
    key: str
    values: tuple[str, ...]
    type: str = "EQUAL"


@dataclass(frozen=True)
class TypeSummary:
    compliance_type: str
    compliant: Mapping[str, int]  # severity -> resources
    non_compliant: Mapping[str, int]


@dataclass(frozen=True)
class ResourceSummary:
    compliance_type: str
    resource_type: str
    resource_id: str
    status: str
    overall_severity: str
    summary: ExecutionSummary
    compliant: Mapping[str, int]  # severity -> items
    non_compliant: Mapping[str, int]


T = TypeVar("T")


def _time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


ITEM_FIELDS: dict[str, Callable[[ComplianceItem], str]] = {
    "ComplianceType": lambda i: i.compliance_type, "Status": lambda i: i.status, "Severity": lambda i: i.severity,
    "Id": lambda i: i.id or "", "Title": lambda i: i.title or "", "ResourceId": lambda i: i.resource_id,
    "ResourceType": lambda i: i.resource_type, "ExecutionId": lambda i: i.summary.execution_id or "",
    "ExecutionType": lambda i: i.summary.execution_type or "",
    "ExecutionTime": lambda i: _time(i.summary.execution_time),
}
TYPE_FIELDS: dict[str, Callable[[ComplianceItem], str]] = {
    "ComplianceType": ITEM_FIELDS["ComplianceType"], "ResourceType": ITEM_FIELDS["ResourceType"]}
RESOURCE_FIELDS: dict[str, Callable[[ResourceSummary], str]] = {
    "ComplianceType": lambda r: r.compliance_type, "Status": lambda r: r.status,
    "OverallSeverity": lambda r: r.overall_severity, "ResourceId": lambda r: r.resource_id,
    "ResourceType": lambda r: r.resource_type, "ExecutionId": lambda r: r.summary.execution_id or "",
    "ExecutionType": lambda r: r.summary.execution_type or "",
    "ExecutionTime": lambda r: _time(r.summary.execution_time),
}


def _compare(value: str, wanted: str) -> int:
    try:
        left, right = float(value), float(wanted)
    except ValueError:
        return (value > wanted) - (value < wanted)
    return (left > right) - (left < right)


def _holds(value: str, f: StringFilter) -> bool:
    if f.type == "EQUAL":
        return value in f.values
    if f.type == "NOT_EQUAL":
        return value not in f.values
    if f.type == "BEGIN_WITH":
        return any(value.startswith(v) for v in f.values)
    if f.type == "LESS_THAN":
        return all(_compare(value, v) < 0 for v in f.values)
    return all(_compare(value, v) > 0 for v in f.values)  # GREATER_THAN


def select(rows: Iterable[T], filters: Sequence[StringFilter], fields: Mapping[str, Callable[[T], str]]
           ) -> list[T]:
    """The rows every filter holds for; InvalidFilter names a key these rows do not have."""
    for f in filters:
        if f.key not in fields:
            raise InvalidFilter(f"The filter key {f.key} is not valid. Valid filter keys: "
                                f"{', '.join(sorted(fields))}.")
        if not f.values:
            raise InvalidFilter(f"The filter {f.key} must have at least one value.")
    return [row for row in rows if all(_holds(fields[f.key](row), f) for f in filters)]


def type_summaries(items: Sequence[ComplianceItem]) -> list[TypeSummary]:
    """Per compliance type, the resources compliant and not, each counted once at its most severe item of the
    status that decides it."""
    by_resource: dict[tuple[str, str, str], list[ComplianceItem]] = defaultdict(list)
    for item in items:
        by_resource[(item.compliance_type, item.resource_type, item.resource_id)].append(item)
    counts: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
    for (compliance_type, _, _), own in by_resource.items():
        compliant, non_compliant = counts.setdefault(compliance_type, (_zero(), _zero()))
        failing = [i.severity for i in own if i.status == NON_COMPLIANT]
        if failing:
            non_compliant[most_severe(failing)] += 1
        else:
            compliant[most_severe([i.severity for i in own])] += 1
    return [TypeSummary(t, c, n) for t, (c, n) in sorted(counts.items())]


def resource_summaries(items: Sequence[ComplianceItem], uploads: Mapping[tuple[str, str, str], ExecutionSummary]
                       ) -> list[ResourceSummary]:
    """Per resource and compliance type with an upload: its status, overall severity and item counts."""
    by_scope: dict[tuple[str, str, str], list[ComplianceItem]] = defaultdict(list)
    for item in items:
        by_scope[(item.resource_type, item.resource_id, item.compliance_type)].append(item)
    out = []
    for scope in sorted(uploads, key=lambda s: (s[1], s[2])):
        own = by_scope.get(scope, [])
        compliant, non_compliant = _zero(), _zero()
        for item in own:
            (compliant if item.status == COMPLIANT else non_compliant)[item.severity] += 1
        failing = [i.severity for i in own if i.status == NON_COMPLIANT]
        status = NON_COMPLIANT if failing else COMPLIANT
        severity = most_severe(failing or [i.severity for i in own])
        resource_type, resource_id, compliance_type = scope
        out.append(ResourceSummary(compliance_type, resource_type, resource_id, status, severity, uploads[scope],
                                   compliant, non_compliant))
    return out


def _zero() -> dict[str, int]:
    return dict.fromkeys(SEVERITIES, 0)
