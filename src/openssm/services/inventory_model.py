"""Inventory's vocabulary: what a caller sends and is answered, AWS's limits, and AWS's errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from openssm.errors import AwsError

EXPIRY = dt.timedelta(days=30)  # AWS deletes inventory a node has not reported for 30 days
MAX_CUSTOM_TYPES = 20  # per account (user guide, "Working with custom inventory"); counted per Region here
MAX_SCHEMA_ATTRIBUTES = 50  # InventoryItemSchema.Attributes holds at most 50
# AWS's agent caps an item at 3 MB and a call at 10 MB (agent/plugins/inventory/model: "We have more strict size
# limit rule in the micro service", whose figures AWS does not publish); sizes count the content's characters.
MAX_ITEM_SIZE = 3 * 1024 * 1024
MAX_CALL_SIZE = 10 * 1024 * 1024
T = TypeVar("T")
COMPARISONS = ("Equal", "NotEqual", "BeginWith", "LessThan", "GreaterThan", "Exists")


class InvalidTypeName(AwsError):
    code = "InvalidTypeNameException"


class InvalidItemContent(AwsError):
    code = "InvalidItemContentException"


class ItemContentMismatch(AwsError):
    code = "ItemContentMismatchException"


class ItemSizeLimitExceeded(AwsError):
    code = "ItemSizeLimitExceededException"


class TotalSizeLimitExceeded(AwsError):
    code = "TotalSizeLimitExceededException"


class CustomSchemaCountLimitExceeded(AwsError):
    code = "CustomSchemaCountLimitExceededException"


class UnsupportedSchemaVersion(AwsError):
    code = "UnsupportedInventorySchemaVersionException"


class UnsupportedItemContext(AwsError):
    code = "UnsupportedInventoryItemContextException"


class InvalidItemContext(AwsError):
    code = "InvalidInventoryItemContextException"


class InvalidFilter(AwsError):
    code = "InvalidFilter"


class InvalidAggregator(AwsError):
    code = "InvalidAggregatorException"


class InvalidInventoryGroup(AwsError):
    code = "InvalidInventoryGroupException"


class InvalidResultAttribute(AwsError):
    code = "InvalidResultAttributeException"


class InvalidDeletionId(AwsError):
    code = "InvalidDeletionIdException"


class InvalidDeleteParameters(AwsError):
    code = "InvalidDeleteInventoryParametersException"


@dataclass(frozen=True)
class ItemInput:
    """One of PutInventory's Items. `content` is None when the caller sent only the hash (AWS's agent does so
    when its content has not changed since the last upload)."""

    type_name: str
    schema_version: str
    capture_time: str
    content: tuple[Mapping[str, str], ...] | None = ()
    content_hash: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """A node's stored item of one type, as GetInventory and ListInventoryEntries answer it."""

    instance_id: str
    type_name: str
    schema_version: str
    capture_time: str
    content: tuple[Mapping[str, str], ...]
    content_hash: str | None = None


@dataclass(frozen=True)
class Filter:
    key: str
    values: tuple[str, ...]
    comparison: str = "Equal"


@dataclass(frozen=True)
class Group:
    name: str
    filters: tuple[Filter, ...]


@dataclass(frozen=True)
class Aggregator:
    expression: str | None = None
    aggregators: tuple[Aggregator, ...] = ()
    groups: tuple[Group, ...] = ()


@dataclass(frozen=True)
class Entity:
    """One node of GetInventory's answer: its items by type name."""

    id: str
    data: Mapping[str, Item]


@dataclass(frozen=True)
class Aggregate:
    """One aggregator's answer: rows of counts ("Count", or a group's matchingCount/notMatchingCount) under `key`,
    the aggregated type's name or the group's."""

    key: str
    rows: tuple[Mapping[str, str], ...]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_offset: int | None = None
