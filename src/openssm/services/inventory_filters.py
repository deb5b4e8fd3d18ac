"""Inventory filters: a key `<TypeName>.<Attribute>` (or `TypeName`, with Exists) checked against the account's
types, and which nodes match it. A node matches when one of its entries of the type matches (one of) the values;
NotEqual is the contrary: a node of the type none of whose entries equals a value. Name and Version are answered
from the entries' indexed key columns, any other attribute from the entry's JSON, LessThan and GreaterThan (numbers
for NUMBER attributes, text otherwise) here in Python."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement

from openssm.services.instances import listed
from openssm.services.inventory_model import EXPIRY, Filter, InvalidFilter, InvalidTypeName
from openssm.services.inventory_sql import attribute_value, prefix_range
from openssm.services.inventory_types import INSTANCE_INFORMATION, NUMBER, InventoryType
from openssm.store.tables.instances import managed_instances
from openssm.store.tables.inventory import KEY_LENGTH, inventory_entries, inventory_items

TYPE_NAME_KEY = "TypeName"
KEY_COLUMNS = ("Name", "Version")  # the attributes copied into indexed columns (key_column)


@dataclass(frozen=True)
class Condition:
    """A filter resolved against the account's types; `type` is None for the TypeName key."""

    type: InventoryType | None
    attribute: str | None
    comparison: str
    values: tuple[str, ...]
    numeric: bool = False

    @property
    def on_instance_information(self) -> bool:
        return self.type is not None and self.type.type_name == INSTANCE_INFORMATION


def split_key(key: str, types: Mapping[str, InventoryType]) -> tuple[InventoryType, str]:
    """`AWS:Application.Name` -> (AWS:Application, "Name"); type names may hold dots, so the longest known one
    wins."""
    for name in sorted(types, key=len, reverse=True):
        if key.startswith(name + "."):
            return types[name], key[len(name) + 1:]
    type_name = key.rsplit(".", 1)[0] if "." in key else key
    if type_name.startswith(("AWS:", "Custom:")):
        raise InvalidTypeName(f"The inventory type {type_name} in {key} does not exist. Check GetInventorySchema "
                              "for the types of this account.")
    raise InvalidFilter(f"The filter key {key} is not valid. A key names an inventory type and one of its "
                        "attributes, such as AWS:Application.Name.")


def resolve(f: Filter, types: Mapping[str, InventoryType]) -> Condition:
    if f.key == TYPE_NAME_KEY:
        if f.comparison != "Exists":
            raise InvalidFilter(f"The filter key {TYPE_NAME_KEY} takes only the Exists type.")
        for value in f.values:
            if value not in types:
                raise InvalidTypeName(f"The inventory type {value} does not exist.")
        return Condition(None, None, "Exists", f.values)
    kind, attribute = split_key(f.key, types)
    found = kind.attribute(attribute)
    if found is None:
        raise InvalidFilter(f"The filter key {f.key} is not valid: {kind.type_name} has no attribute {attribute}.")
    numeric = found.data_type == NUMBER
    if f.comparison in ("LessThan", "GreaterThan"):
        if len(f.values) != 1:
            raise InvalidFilter(f"The {f.comparison} filter on {f.key} takes exactly one value.")
        if numeric and _number(f.values[0]) is None:
            raise InvalidFilter(f"The {f.comparison} filter on {f.key} takes a number, not {f.values[0]}.")
    return Condition(kind, attribute, f.comparison, f.values, numeric)


def matches(condition: Condition, value: str | None) -> bool:
    """Whether one entry's value of the condition's attribute (None: the entry lacks it) satisfies it."""
    how, values = condition.comparison, condition.values
    if how == "Exists":
        return value is not None
    if how == "NotEqual":
        return value not in values
    if value is None:
        return False
    if how == "Equal":
        return value in values
    if how == "BeginWith":
        return any(value.startswith(v) for v in values)
    if condition.numeric:
        number, limit = _number(value), _number(values[0])
        if number is None or limit is None:
            return False
        return number < limit if how == "LessThan" else number > limit
    return value < values[0] if how == "LessThan" else value > values[0]


def live_holders(conn: Connection, account_id: str, region: str, type_names: Iterable[str],
                 now: dt.datetime) -> set[str]:
    """The nodes holding an unexpired item of one of the types (every node holds AWS:InstanceInformation)."""
    names = list(type_names)
    if INSTANCE_INFORMATION in names:
        return listed_nodes(conn, account_id, region)
    c = inventory_items.c
    return {r.instance_id for r in conn.execute(sa.select(c.instance_id).where(
        c.account_id == account_id, c.region == region, c.type_name.in_(names), c.updated_at >= now - EXPIRY))}


def listed_nodes(conn: Connection, account_id: str, region: str) -> set[str]:
    return {r[0] for r in conn.execute(sa.select(managed_instances.c.instance_id).where(*listed(account_id, region)))}


def matching_nodes(conn: Connection, account_id: str, region: str, condition: Condition,
                   now: dt.datetime) -> set[str]:
    """The nodes whose unexpired item of the condition's type satisfies it (not for AWS:InstanceInformation,
    which the caller judges from the fleet)."""
    if condition.type is None:
        return live_holders(conn, account_id, region, condition.values, now)
    holders = live_holders(conn, account_id, region, [condition.type.type_name], now)
    if condition.comparison == "NotEqual":
        equal = Condition(condition.type, condition.attribute, "Equal", condition.values, condition.numeric)
        return holders - _entry_matches(conn, account_id, region, equal)
    return holders & _entry_matches(conn, account_id, region, condition)


def _entry_matches(conn: Connection, account_id: str, region: str, condition: Condition) -> set[str]:
    assert condition.type is not None and condition.attribute is not None
    e = inventory_entries.c
    scope = (e.account_id == account_id, e.region == region, e.type_name == condition.type.type_name)
    dialect = conn.dialect.name
    exact = attribute_value(e.attributes, condition.attribute, dialect)
    key = key_column(condition.attribute)
    how, values = condition.comparison, condition.values
    if how in ("LessThan", "GreaterThan"):
        rows = conn.execute(sa.select(e.instance_id, exact).where(*scope, exact.is_not(None)))
        return {r[0] for r in rows if matches(condition, r[1])}
    if how == "Exists":
        return _ids(conn, scope, (key if key is not None else exact).is_not(None))
    if key is None:
        test = exact.in_(values) if how == "Equal" else sa.or_(
            *(sa.func.substr(exact, 1, len(v)) == v for v in values))
        return _ids(conn, scope, test)
    # Equal / BeginWith on a key column: exact in SQL for operands shorter than a key, rechecked otherwise.
    if how == "Equal":
        short, long = [v for v in values if len(v) < KEY_LENGTH], [v for v in values if len(v) >= KEY_LENGTH]
        found = _ids(conn, scope, key.in_(short)) if short else set()
    else:
        short, long = [v for v in values if len(v) <= KEY_LENGTH], [v for v in values if len(v) > KEY_LENGTH]
        found = _ids(conn, scope, sa.or_(*(prefix_range(key, v) for v in short))) if short else set()
    if long:
        rows = conn.execute(sa.select(e.instance_id, e.attributes).where(
            *scope, key.in_([v[:KEY_LENGTH] for v in long])))
        found |= {r.instance_id for r in rows
                  if matches(condition, json.loads(r.attributes).get(condition.attribute))}
    return found


def _ids(conn: Connection, scope: tuple[ColumnElement[bool], ...], test: ColumnElement[bool]) -> set[str]:
    e = inventory_entries.c
    # No DISTINCT: with it SQLite walks the primary key (in node order) instead of the name index.
    return {r[0] for r in conn.execute(sa.select(e.instance_id).where(*scope, test))}


def key_column(attribute: str) -> ColumnElement[Any] | None:
    """The indexed column holding the attribute's first KEY_LENGTH characters, for Name and Version."""
    column: ColumnElement[Any] | None = {"Name": inventory_entries.c.name,
                                         "Version": inventory_entries.c.version}.get(attribute)
    return column


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
