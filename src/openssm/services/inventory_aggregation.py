"""GetInventory's Aggregators (user guide, "Aggregating inventory data"): for an expression and its nested ones,
how many nodes have each combination of values (attributes of one type come from the same entry; across types,
from the same node); for a group, how many nodes match all its filters and how many do not.

Counting happens in SQL where it can: one entry type, grouped with COUNT(DISTINCT node), once per combination of
the AWS:InstanceInformation values the path names (which split the fleet); only a path through two entry types
is combined here node by node.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement

from openssm.services import inventory_counts
from openssm.services.inventory_filters import KEY_COLUMNS, key_column, resolve, split_key
from openssm.services.inventory_model import (
    EXPIRY,
    Aggregate,
    Aggregator,
    Group,
    InvalidAggregator,
    InvalidFilter,
    InvalidInventoryGroup,
    InvalidTypeName,
)
from openssm.services.inventory_nodes import node_values, sift
from openssm.services.inventory_sql import among, attribute_value
from openssm.services.inventory_types import INSTANCE_INFORMATION, InventoryType
from openssm.store.tables.inventory import KEY_LENGTH, inventory_entries, inventory_items

Values = tuple[str, ...]


@dataclass(frozen=True)
class _Term:
    type: InventoryType
    attribute: str

    @property
    def on_node(self) -> bool:
        return self.type.type_name == INSTANCE_INFORMATION


@dataclass(frozen=True)
class _Scope:
    account_id: str
    region: str
    now: dt.datetime
    ids: Sequence[str]  # the nodes counted


def aggregate(conn: Connection, account_id: str, region: str, now: dt.datetime, aggregators: Sequence[Aggregator],
              ids: Sequence[str], types: Mapping[str, InventoryType]) -> list[Aggregate]:
    """One answer per top-level aggregator (per group, for groups), keyed by type or group name, over the nodes
    `ids`."""
    scope = _Scope(account_id, region, now, ids)
    out: list[Aggregate] = []
    for top in aggregators:
        if top.groups:
            if top.expression or top.aggregators:
                raise InvalidAggregator("An aggregator takes either an Expression (with nested Aggregators) or "
                                        "Groups, not both.")
            names = [group.name for group in top.groups]
            if len(set(names)) != len(names):
                raise InvalidInventoryGroup(f"Group names must differ: {', '.join(names)}.")
            out += [_group(conn, scope, group, types) for group in top.groups]
            continue
        paths = _paths(top, types, nested=False)
        rows = [row for path in paths for row in _count(conn, scope, path)]
        out.append(Aggregate(paths[0][0].type.type_name, tuple(rows)))
    keys = [a.key for a in out]
    if len(set(keys)) != len(keys):
        raise InvalidAggregator(f"Two aggregators answer under the same name: {', '.join(sorted(keys))}.")
    return out



def _paths(aggregator: Aggregator, types: Mapping[str, InventoryType], *, nested: bool) -> list[list[_Term]]:
    """The aggregator's chains of expressions, outermost first (one per innermost aggregator)."""
    if aggregator.groups and nested:
        raise InvalidAggregator("Groups are allowed only in a top-level aggregator.")
    if not aggregator.expression:
        raise InvalidAggregator("An aggregator needs an Expression, such as AWS:Application.Name, or Groups.")
    try:
        kind, attribute = split_key(aggregator.expression, types)
    except (InvalidFilter, InvalidTypeName) as err:
        raise InvalidAggregator(f"The aggregator expression {aggregator.expression} is not valid: "
                                f"{err.message}") from err
    if not kind.may_aggregate(attribute):
        allowed = ", ".join(f"{kind.type_name}.{a}" for a in kind.aggregatable) or "none"
        raise InvalidAggregator(f"The aggregator expression {aggregator.expression} is not valid: attributes of "
                                f"{kind.type_name} that may be aggregated: {allowed}.")
    term = _Term(kind, attribute)
    if not aggregator.aggregators:
        return [[term]]
    return [[term, *(t for t in path if t != term)]
            for child in aggregator.aggregators for path in _paths(child, types, nested=True)]


def _count(conn: Connection, scope: _Scope, path: list[_Term]) -> list[dict[str, str]]:
    on_node = [t for t in path if t.on_node]
    entry_types = list(dict.fromkeys(t.type.type_name for t in path if not t.on_node))
    counts: Counter[Values]
    if len(entry_types) > 1:
        counts = _count_across_types(conn, scope, path)
    else:
        counts = Counter()
        split = _split_by_node_values(conn, scope, on_node) if on_node else {(): set(scope.ids)}
        for node_values, ids in split.items():
            if not entry_types:
                counts[node_values] += len(ids)
                continue
            terms = [t for t in path if not t.on_node]
            for entry_values, n in _count_entries(conn, scope, terms, ids).items():
                counts[node_values + entry_values] += n
        order = on_node + [t for t in path if not t.on_node]
        if order != path:  # back to the path's order
            where = [order.index(t) for t in path]
            counts = Counter({tuple(values[i] for i in where): n for values, n in counts.items()})
    rows = [{**{t.attribute: v for t, v in zip(path, values, strict=True)}, "Count": str(n)}
            for values, n in counts.items()]
    return sorted(rows, key=lambda r: (-int(r["Count"]), [r[t.attribute] for t in path]))


def _split_by_node_values(conn: Connection, scope: _Scope, terms: list[_Term]) -> dict[Values, set[str]]:
    """The nodes by their values of the AWS:InstanceInformation attributes (nodes lacking one are left out)."""
    split: dict[Values, set[str]] = {}
    found = node_values(conn, scope.account_id, scope.region, scope.now, scope.ids, [t.attribute for t in terms])
    for node, values in found.items():
        if all(v is not None for v in values):
            split.setdefault(tuple(v for v in values if v is not None), set()).add(node)
    return split


def _count_entries(conn: Connection, scope: _Scope, terms: list[_Term], ids: set[str]) -> Counter[Values]:
    """Per combination of the attributes of one entry type, how many of the nodes `ids` have such an entry."""
    kind, attributes = terms[0].type.type_name, [t.attribute for t in terms]
    restriction = _restriction(conn, scope, kind, ids)
    if restriction is None:
        return Counter()
    e, dialect = inventory_entries.c, conn.dialect.name
    columns = [_column(a, dialect) for a in attributes]
    base = (e.account_id == scope.account_id, e.region == scope.region, e.type_name == kind, *restriction)
    if attributes == ["Name"] and not restriction:  # every stored item counts: the kept counts are exact
        grouped: Iterable[tuple[Values, int]] = (((name,), n) for name, n in inventory_counts.counts(
            conn, scope.account_id, scope.region, kind).items())
    else:
        grouped = ((tuple(row)[:-1], row[-1]) for row in conn.execute(
            sa.select(*columns, sa.func.count(e.instance_id.distinct())).where(
                *base, *(c.is_not(None) for c in columns)).group_by(*columns)))
    counts: Counter[Values] = Counter()
    truncated: list[Values] = []
    for values, n in grouped:
        if any(len(v) >= KEY_LENGTH for v, a in zip(values, attributes, strict=True) if a in KEY_COLUMNS):
            truncated.append(values)  # a key column holds only the start of a long value: count those exactly
        else:
            counts[values] = n
    if truncated:
        matched = sa.or_(*(sa.and_(*(c == v for c, v in zip(columns, values, strict=True))) for values in truncated))
        holders: dict[Values, set[str]] = {}
        for entry in conn.execute(sa.select(e.instance_id, e.attributes).where(*base, matched)):
            attributes_of = json.loads(entry.attributes)
            exact = tuple(attributes_of.get(a) for a in attributes)
            holders.setdefault(exact, set()).add(entry.instance_id)
        counts.update({values: len(nodes) for values, nodes in holders.items()})
    return counts


def _column(attribute: str, dialect: str) -> ColumnElement[Any]:
    key = key_column(attribute)
    return key if key is not None else attribute_value(inventory_entries.c.attributes, attribute, dialect)


def _restriction(conn: Connection, scope: _Scope, type_name: str,
                 ids: set[str]) -> list[ColumnElement[bool]] | None:
    """What keeps a query of `type_name`'s entries to the unexpired items of the nodes `ids`: nothing when no other
    item exists (the usual case, and the fastest), else the shorter of the two id lists; None when none is left."""
    c = inventory_items.c
    held = conn.execute(sa.select(c.instance_id, sa.case((c.updated_at >= scope.now - EXPIRY, 1), else_=0)).where(
        c.account_id == scope.account_id, c.region == scope.region, c.type_name == type_name)).all()
    live = {node for node, fresh in held if fresh and node in ids}
    if not live:
        return None
    excluded = {node for node, _ in held} - live
    if not excluded:
        return []
    dialect = conn.dialect.name
    if len(excluded) <= len(live):
        return [among(inventory_entries.c.instance_id, excluded, dialect, negate=True)]
    return [among(inventory_entries.c.instance_id, live, dialect)]


def _count_across_types(conn: Connection, scope: _Scope, path: list[_Term]) -> Counter[Values]:
    """A path through several entry types: each node's combinations, counted once per node."""
    ids = set(scope.ids)
    by_type: dict[str, dict[str, set[Values]]] = {}
    for type_name in dict.fromkeys(t.type.type_name for t in path):
        terms = [t for t in path if t.type.type_name == type_name]
        by_type[type_name] = (_node_values(conn, scope, terms) if terms[0].on_node
                              else _entry_values(conn, scope, terms, ids))
    counts: Counter[Values] = Counter()
    for node in ids:
        parts = [by_type[name].get(node, set()) for name in by_type]
        for combination in itertools.product(*parts):
            counts[_flatten(combination, by_type, path)] += 1
    return counts


def _flatten(combination: Iterable[Values], by_type: Mapping[str, object], path: list[_Term]) -> Values:
    values: dict[_Term, str] = {}
    for type_name, part in zip(by_type, combination, strict=True):
        terms = [t for t in path if t.type.type_name == type_name]
        values.update(zip(terms, part, strict=True))
    return tuple(values[t] for t in path)


def _node_values(conn: Connection, scope: _Scope, terms: list[_Term]) -> dict[str, set[Values]]:
    return {node: {values} for values, ids in _split_by_node_values(conn, scope, terms).items() for node in ids}


def _entry_values(conn: Connection, scope: _Scope, terms: list[_Term], ids: set[str]) -> dict[str, set[Values]]:
    kind = terms[0].type.type_name
    restriction = _restriction(conn, scope, kind, ids)
    if restriction is None:
        return {}
    e, dialect = inventory_entries.c, conn.dialect.name
    columns = [attribute_value(e.attributes, t.attribute, dialect) for t in terms]  # exact values, not keys
    found: dict[str, set[Values]] = {}
    for row in conn.execute(sa.select(e.instance_id, *columns).distinct().where(
            e.account_id == scope.account_id, e.region == scope.region, e.type_name == kind, *restriction,
            *(c.is_not(None) for c in columns))):
        if row[0] in ids:
            found.setdefault(row[0], set()).add(tuple(row[1:]))
    return found


def _group(conn: Connection, scope: _Scope, group: Group, types: Mapping[str, InventoryType]) -> Aggregate:
    """A group: how many of the nodes match all its filters (Exists included), and how many do not."""
    if not group.filters:
        raise InvalidInventoryGroup(f"The inventory group {group.name} has no filters.")
    conditions = [resolve(f, types) for f in group.filters]
    matched = len(sift(conn, scope.account_id, scope.region, scope.now, conditions, scope.ids))
    # AWS's answer lists notMatchingCount first (user guide, "Aggregating inventory data with groups").
    return Aggregate(group.name, ({"notMatchingCount": str(len(scope.ids) - matched)},
                                 {"matchingCount": str(matched)}))
