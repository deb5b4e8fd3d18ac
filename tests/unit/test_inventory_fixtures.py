"""A small fleet on the in-memory store for inventory's tests: registered nodes with their heartbeats, and short
ways to put and query inventory (no tests here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from openssm.services import activations, instances, inventory, inventory_queries
from openssm.services.activations import NewActivation
from openssm.services.inventory_model import Aggregate, Aggregator, Filter, ItemInput
from openssm.store.db import Database, open_database

ACCOUNT, REGION = "111122223333", "eu-west-1"
NOW = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
CAPTURED = "2026-12-06T11:00:00Z"


def apps(*names: str, **extra: str) -> tuple[dict[str, str], ...]:
    """AWS:Application entries: "name" or "name=version"."""
    out = []
    for text in names:
        name, _, version = text.partition("=")
        out.append({"Name": name, "Version": version or "1.0", **extra})
    return tuple(out)


def item(type_name: str = "AWS:Application", content: Sequence[Mapping[str, str]] | None = (),
         version: str | None = None, content_hash: str | None = None, context: Mapping[str, str] | None = None,
         captured: str = CAPTURED) -> ItemInput:
    default = "1.1" if type_name == "AWS:Application" else "1.0"
    return ItemInput(type_name, version or default, captured, None if content is None else tuple(content),
                     content_hash, context or {})


@dataclass
class World:
    db: Database
    nodes: list[str] = field(default_factory=list)

    def add_nodes(self, *platforms: str) -> list[str]:
        with self.db.begin() as conn:
            made, code = activations.create(conn, ACCOUNT, REGION, NewActivation("R", registration_limit=100), NOW)
            added = []
            for platform in platforms:
                node = instances.register(conn, activations.redeem(conn, made.activation_id, code, NOW), "key",
                                          f"fp-{len(self.nodes) + len(added)}", NOW)
                instances.heartbeat(conn, ACCOUNT, REGION, node, {
                    "PlatformType": platform, "PlatformName": f"{platform} OS", "AgentName": "amazon-ssm-agent",
                    "AgentVersion": "3.3.0.0", "IPAddress": "192.0.2.1"}, NOW)
                added.append(node)
        self.nodes += added
        return added

    def put(self, node: str, *items: ItemInput, now: dt.datetime = NOW) -> None:
        with self.db.begin() as conn:
            inventory.put(conn, ACCOUNT, REGION, node, items, now)

    def read(self) -> Iterator[Connection]:
        with self.db.read() as conn:
            yield conn

    def ids(self, *filters: Filter, result: str | None = None, now: dt.datetime = NOW) -> list[str]:
        with self.db.read() as conn:
            page = inventory_queries.get_inventory(conn, ACCOUNT, REGION, now, filters, result, 0, 1000)
        return [e.id for e in page.items]

    def aggregate(self, *aggregators: Aggregator, filters: Sequence[Filter] = (),
                  now: dt.datetime = NOW) -> list[Aggregate]:
        with self.db.read() as conn:
            return inventory_queries.get_aggregates(conn, ACCOUNT, REGION, now, filters, aggregators)

    def counts(self, *aggregators: Aggregator, now: dt.datetime = NOW) -> list[dict[str, str]]:
        """The rows of the first aggregator's answer."""
        return [dict(r) for r in self.aggregate(*aggregators, now=now)[0].rows]


def new_world() -> World:
    return World(open_database("sqlite://"))
