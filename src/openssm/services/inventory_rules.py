"""PutInventory's rules for the items of one call, before anything is stored: type names, schema versions,
Context, the attributes an entry may use, custom types' attributes, and AWS's size limits. Pure: the store's
view (the account's custom schemas) is passed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openssm.errors import ValidationError
from openssm.services.inventory_model import (
    MAX_CALL_SIZE,
    MAX_CUSTOM_TYPES,
    MAX_ITEM_SIZE,
    MAX_SCHEMA_ATTRIBUTES,
    CustomSchemaCountLimitExceeded,
    InvalidItemContent,
    InvalidItemContext,
    InvalidTypeName,
    ItemInput,
    ItemSizeLimitExceeded,
    TotalSizeLimitExceeded,
    UnsupportedItemContext,
    UnsupportedSchemaVersion,
)
from openssm.services.inventory_schemas import CustomSchema
from openssm.services.inventory_types import AWS_TYPES, InventoryType, custom_type

CUSTOM_PREFIX = "Custom:"


@dataclass(frozen=True)
class CheckedItem:
    item: ItemInput
    type: InventoryType  # for a custom type, with the attributes this item adds
    custom: CustomSchema | None  # the custom type as it was before this call (None: AWS's type, or a new one)


def check_items(items: Sequence[ItemInput], custom: Mapping[str, CustomSchema]) -> list[CheckedItem]:
    """The items to store, in order; items of a disabled custom schema version are left out, as AWS ignores
    them. Raises AWS's error for the first rule an item breaks."""
    seen: set[str] = set()
    checked: list[CheckedItem] = []
    total = 0
    for item in items:
        if item.type_name in seen:
            raise InvalidItemContent(f"The inventory type {item.type_name} appears more than once in the request.")
        seen.add(item.type_name)
        _check_capture_time(item.capture_time)
        one = _check_item(item, custom)
        size = _size(item)
        if size > MAX_ITEM_SIZE:
            raise ItemSizeLimitExceeded(f"The inventory item {item.type_name} is {size} bytes, more than the "
                                        f"{MAX_ITEM_SIZE} bytes an item may hold.")
        total += size
        if one is not None:
            checked.append(one)
    if total > MAX_CALL_SIZE:
        raise TotalSizeLimitExceeded(f"The inventory items of the request are {total} bytes, more than the "
                                     f"{MAX_CALL_SIZE} bytes a request may hold.")
    new_types = {c.type.type_name for c in checked if c.type.is_custom and c.custom is None}
    if new_types and len(custom) + len(new_types) > MAX_CUSTOM_TYPES:
        raise CustomSchemaCountLimitExceeded(
            f"The account has {len(custom)} custom inventory types and may have at most {MAX_CUSTOM_TYPES}; "
            f"{', '.join(sorted(new_types))} would exceed that. Delete one or more custom schemas and try again.")
    return checked


def _check_item(item: ItemInput, custom: Mapping[str, CustomSchema]) -> CheckedItem | None:
    if item.type_name.startswith(CUSTOM_PREFIX):
        return _check_custom(item, custom.get(item.type_name))
    known = AWS_TYPES.get(item.type_name)
    if known is None:
        raise InvalidTypeName(f"The inventory type {item.type_name} is not an AWS inventory type. Custom types are "
                              f"named {CUSTOM_PREFIX}<name>.")
    if item.schema_version not in known.accepted_versions:
        raise UnsupportedSchemaVersion(
            f"Schema version {item.schema_version} of {item.type_name} is not supported; supported: "
            f"{', '.join(sorted(known.accepted_versions))}. Check output of GetInventorySchema to see the "
            "available schema version for each type.")
    _check_context(item, known)
    allowed = known.content_attributes
    for entry in item.content or ():
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise InvalidItemContent(f"The attributes {', '.join(unknown)} are not part of the schema of "
                                     f"{item.type_name} version {known.version}.")
    return CheckedItem(item, known, None)


def _check_custom(item: ItemInput, schema: CustomSchema | None) -> CheckedItem | None:
    if len(item.type_name) == len(CUSTOM_PREFIX):
        raise InvalidTypeName(f"The custom inventory type {item.type_name} has no name after {CUSTOM_PREFIX}.")
    if schema is not None and schema.disables(item.schema_version):
        return None
    _check_context(item, None)
    names = [a.name for a in schema.type.attributes] if schema else []
    by_folded = {n.casefold(): n for n in names}
    for entry in item.content or ():
        for attribute in entry:
            known = by_folded.get(attribute.casefold())
            if known is None:
                by_folded[attribute.casefold()] = attribute
                names.append(attribute)
            elif known != attribute:
                # The user guide: an attribute must be spelled the same way, case included, in every item.
                raise InvalidItemContent(f"The attribute {attribute} of {item.type_name} differs only in case from "
                                         f"the attribute {known} the type already has.")
    if len(names) > MAX_SCHEMA_ATTRIBUTES:
        raise InvalidItemContent(f"The custom inventory type {item.type_name} would have {len(names)} attributes; "
                                 f"a type may have at most {MAX_SCHEMA_ATTRIBUTES}.")
    return CheckedItem(item, custom_type(item.type_name, item.schema_version, names), schema)


def _check_context(item: ItemInput, known: InventoryType | None) -> None:
    if not item.context:
        return
    allowed = known.context_attributes if known else frozenset()
    if not allowed:
        raise UnsupportedItemContext(f"The Context attribute isn't allowed for {item.type_name}. You can only use "
                                     "the Context attribute with inventory types like AWS:ComplianceItem.")
    unknown = sorted(set(item.context) - allowed)
    if unknown:
        raise InvalidItemContext(f"The Context keys {', '.join(unknown)} are not valid for {item.type_name}; "
                                 f"valid keys: {', '.join(sorted(allowed))}.")


def _check_capture_time(value: str) -> None:
    # The model's pattern lets through days a month does not have (2024-02-31).
    try:
        dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise ValidationError(f"CaptureTime {value} is not a valid time.") from None


def _size(item: ItemInput) -> int:
    return sum(len(k) + len(v) for entry in item.content or () for k, v in entry.items())
