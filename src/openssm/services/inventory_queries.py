"""GetInventory: the account's managed nodes that satisfy every filter, a page at a time, each with its item of
the requested type (AWS:InstanceInformation unless ResultAttributes names another), or, with Aggregators, counts
(inventory_aggregation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from openssm.services.inventory import items_of
from openssm.services.inventory_aggregation import aggregate
from openssm.services.inventory_filters import Condition, live_holders, resolve
from openssm.services.inventory_model import (
    Aggregate,
    Aggregator,
    Entity,
    Filter,
    InvalidFilter,
    InvalidResultAttribute,
    Page,
)
from openssm.services.inventory_nodes import candidate_ids, information
from openssm.services.inventory_schemas import known_types
from openssm.services.inventory_types import INSTANCE_INFORMATION, InventoryType


def get_inventory(conn: Connection, account_id: str, region: str, now: dt.datetime, filters: Sequence[Filter],
                  result_type: str | None, offset: int, size: int) -> Page[Entity]:
    """A page of nodes (ordered by id) with their item of `result_type`; nodes without one are left out."""
    types = known_types(conn, account_id, region)
    conditions = _conditions(filters, types, exists_allowed=False)
    wanted = result_type or INSTANCE_INFORMATION
    if wanted not in types:
        raise InvalidResultAttribute(f"The result attribute {wanted} is not an inventory type of this account.")
    ids = candidate_ids(conn, account_id, region, now, conditions)
    if wanted != INSTANCE_INFORMATION:
        holders = live_holders(conn, account_id, region, [wanted], now)
        ids = [i for i in ids if i in holders]
    page = ids[offset:offset + size]
    if wanted == INSTANCE_INFORMATION:
        data = information(conn, account_id, region, now, page)
    else:
        data = items_of(conn, account_id, region, wanted, page, now)
    entities = tuple(Entity(i, {wanted: data[i]}) for i in page if i in data)
    return Page(entities, offset + size if offset + size < len(ids) else None)


def get_aggregates(conn: Connection, account_id: str, region: str, now: dt.datetime, filters: Sequence[Filter],
                   aggregators: Sequence[Aggregator]) -> list[Aggregate]:
    """GetInventory with Aggregators: counts over the nodes the filters keep."""
    types = known_types(conn, account_id, region)
    ids = candidate_ids(conn, account_id, region, now, _conditions(filters, types, exists_allowed=True))
    return aggregate(conn, account_id, region, now, aggregators, ids, types)


def _conditions(filters: Sequence[Filter], types: Mapping[str, InventoryType], *,
                exists_allowed: bool) -> list[Condition]:
    conditions = [resolve(f, types) for f in filters]
    if not exists_allowed and any(c.comparison == "Exists" for c in conditions):
        # The API reference: "The Exists filter must be used with aggregators."
        raise InvalidFilter("The Exists filter must be used with aggregators.")
    return conditions
