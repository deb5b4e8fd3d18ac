"""How many nodes hold each Name, per inventory type, kept as items are stored and deleted, so that GetInventory's
commonest aggregation (AWS:Application.Name) reads a few thousand counts instead of counting distinct nodes over
every entry (2.5 M entries for 5,000 nodes took about a second on SQLite).

The counts cover the items physically stored; inventory_aggregation uses them only when every stored item of the
type is unexpired and belongs to a node being counted, and counts the entries themselves otherwise."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from openssm.store.tables.inventory import inventory_name_counts


def adjust(conn: Connection, account_id: str, region: str, type_name: str, added: Collection[str],
           removed: Collection[str]) -> None:
    """A node's item of `type_name` gained the names `added` and lost `removed` (in sorted order, so concurrent
    writers on PostgreSQL lock the rows in one order and cannot deadlock)."""
    c = inventory_name_counts.c
    key = {"account_id": account_id, "region": region, "type_name": type_name}
    if added:
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(inventory_name_counts)
        upsert = insert.values(nodes=sa.literal_column("1")).on_conflict_do_update(
            index_elements=[c.account_id, c.region, c.type_name, c.name], set_={"nodes": c.nodes + 1})
        conn.execute(upsert, [{**key, "name": n} for n in sorted(added)])
    if removed:
        scope = (c.account_id == account_id, c.region == region, c.type_name == type_name)
        conn.execute(sa.update(inventory_name_counts).where(*scope, c.name == sa.bindparam("gone"))
                     .values(nodes=c.nodes - 1), [{"gone": n} for n in sorted(removed)])
        conn.execute(sa.delete(inventory_name_counts).where(*scope, c.nodes <= 0))


def counts(conn: Connection, account_id: str, region: str, type_name: str) -> dict[str, int]:
    c = inventory_name_counts.c
    return {r.name: r.nodes for r in conn.execute(sa.select(c.name, c.nodes).where(
        c.account_id == account_id, c.region == region, c.type_name == type_name))}


def forget(conn: Connection, account_id: str, region: str, type_name: str) -> None:
    """Every item of the type is gone (DeleteInventory)."""
    c = inventory_name_counts.c
    conn.execute(sa.delete(inventory_name_counts).where(c.account_id == account_id, c.region == region,
                                                        c.type_name == type_name))
