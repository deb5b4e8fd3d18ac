"""Inventory schemas: AWS's types (inventory_types) and the account's Custom: types, whose attributes are the ones
their items have used; GetInventorySchema's answers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.services.inventory_model import InvalidTypeName
from openssm.services.inventory_types import AWS_TYPES, InventoryType, custom_type, version_key
from openssm.store.tables.inventory import inventory_schemas


@dataclass(frozen=True)
class CustomSchema:
    type: InventoryType
    disabled_version: str | None = None

    def disables(self, version: str) -> bool:
        """Items of a version DeleteInventory's DisableSchema turned off (or an older one) are ignored."""
        return self.disabled_version is not None and version_key(version) <= version_key(self.disabled_version)


def custom_schemas(conn: Connection, account_id: str, region: str) -> dict[str, CustomSchema]:
    c = inventory_schemas.c
    rows = conn.execute(sa.select(c.type_name, c.version, c.attributes, c.disabled_version).where(
        c.account_id == account_id, c.region == region).order_by(c.type_name))
    return {r.type_name: CustomSchema(custom_type(r.type_name, r.version, json.loads(r.attributes)),
                                      r.disabled_version) for r in rows}


def known_types(conn: Connection, account_id: str, region: str) -> dict[str, InventoryType]:
    """Every type a query may name: AWS's and the account's custom ones."""
    return {**AWS_TYPES, **{name: s.type for name, s in custom_schemas(conn, account_id, region).items()}}


def type_named(types: Mapping[str, InventoryType], type_name: str) -> InventoryType:
    found = types.get(type_name)
    if found is None:
        raise InvalidTypeName(f"The inventory type {type_name} does not exist. Check GetInventorySchema for the "
                              "types of this account.")
    return found


def record_custom(conn: Connection, account_id: str, region: str, type_name: str, version: str,
                  attributes: Iterable[str], existing: CustomSchema | None, now: dt.datetime) -> None:
    """A custom type as its newest item leaves it: the attributes seen so far and the highest version put."""
    c = inventory_schemas.c
    names = json.dumps(list(attributes))
    if existing is None:
        conn.execute(sa.insert(inventory_schemas).values(account_id=account_id, region=region, type_name=type_name,
                                                         version=version, attributes=names, created_at=now))
        return
    newest = max(existing.type.version, version, key=version_key)
    conn.execute(sa.update(inventory_schemas).where(c.account_id == account_id, c.region == region,
                                                    c.type_name == type_name).values(version=newest,
                                                                                     attributes=names))


def drop_custom(conn: Connection, account_id: str, region: str, type_name: str, *, disable: bool) -> None:
    """DeleteInventory's schema options: DeleteSchema forgets the type; DisableSchema ignores its current version
    (and older ones) from now on."""
    c = inventory_schemas.c
    where = (c.account_id == account_id, c.region == region, c.type_name == type_name)
    if disable:
        conn.execute(sa.update(inventory_schemas).where(*where).values(disabled_version=c.version))
    else:
        conn.execute(sa.delete(inventory_schemas).where(*where))


def schemas(conn: Connection, account_id: str, region: str, type_name: str | None = None, *,
            aggregator: bool = False, sub_type: bool = False) -> list[InventoryType]:
    """GetInventorySchema: every type (or the one named), or only the aggregatable attributes of the types that
    have some. No type has sub-types here, so SubType answers none."""
    if sub_type:
        return []
    types = known_types(conn, account_id, region)
    chosen = [type_named(types, type_name)] if type_name else list(types.values())
    if not aggregator:
        return chosen
    return [InventoryType(t.type_name, t.version, tuple(a for a in t.attributes if a.name in t.aggregatable),
                          t.accepted_versions, t.aggregatable, t.display_name)
            for t in chosen if t.aggregatable]
