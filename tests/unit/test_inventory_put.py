"""PutInventory's rules: AWS's types, versions, attributes and limits, custom types inferred from their data, the
content hash, the service's own AWS:InstanceInformation, and the 30-day expiry."""

from __future__ import annotations

import datetime as dt

import pytest

from openssm.errors import ValidationError
from openssm.services import inventory, inventory_counts, inventory_deletions, inventory_rules, inventory_schemas
from openssm.services.instances import InvalidInstanceId
from openssm.services.inventory_model import (
    Aggregator,
    CustomSchemaCountLimitExceeded,
    InvalidItemContent,
    InvalidItemContext,
    InvalidTypeName,
    ItemContentMismatch,
    ItemSizeLimitExceeded,
    TotalSizeLimitExceeded,
    UnsupportedItemContext,
    UnsupportedSchemaVersion,
)
from tests.unit.test_inventory_fixtures import ACCOUNT, NOW, REGION, World, apps, item, new_world


@pytest.fixture
def world() -> World:
    return new_world()


def entries(w: World, node: str, type_name: str = "AWS:Application") -> list[dict[str, str]]:
    with w.db.read() as conn:
        found = inventory.list_entries(conn, ACCOUNT, REGION, node, type_name, [], NOW)
    return [dict(e) for e in found.content] if found else []


def test_an_item_replaces_the_nodes_item_of_its_type_and_keeps_its_entries_order(world: World) -> None:
    node, other = world.add_nodes("Linux", "Linux")
    world.put(node, item(content=apps("zsh", "bash=5.1")), item("Custom:Rack", [{"Location": "B1"}]))
    world.put(other, item(content=apps("vim")))
    assert [e["Name"] for e in entries(world, node)] == ["zsh", "bash"]
    world.put(node, item(content=apps("curl")))
    assert entries(world, node) == [{"Name": "curl", "Version": "1.0"}]
    assert entries(world, node, "Custom:Rack") == [{"Location": "B1"}]  # other types are left alone
    assert entries(world, other) == [{"Name": "vim", "Version": "1.0"}]


def test_an_item_whose_hash_is_unchanged_is_not_rewritten_but_its_capture_time_moves(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    world.put(node, item(content=apps("bash"), content_hash="h1"))
    world.put(node, item(content=apps("changed"), content_hash="h1", captured="2026-12-06T11:30:00Z"))
    with world.db.read() as conn:
        found = inventory.list_entries(conn, ACCOUNT, REGION, node, "AWS:Application", [], NOW)
    assert found is not None and found.capture_time == "2026-12-06T11:30:00Z"
    assert [e["Name"] for e in found.content] == ["bash"]
    world.put(node, item(content=apps("changed"), content_hash="h2"))
    assert [e["Name"] for e in entries(world, node)] == ["changed"]


def test_an_item_sent_as_its_hash_alone_needs_the_stored_hash(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    world.put(node, item(content=apps("bash"), content_hash="h1"))
    world.put(node, item(content=None, content_hash="h1"), now=NOW + dt.timedelta(days=20))
    # AWS's agent answers ItemContentMismatchException by sending the whole content again.
    with pytest.raises(ItemContentMismatch, match="AWS:Application"):
        world.put(node, item(content=None, content_hash="h2"))
    # The hash-only report of day 20 kept the item alive past 30 days from the first...
    with world.db.read() as conn:
        later = inventory.list_entries(conn, ACCOUNT, REGION, node, "AWS:Application", [], NOW + dt.timedelta(days=40))
    assert later is not None and later.content[0]["Name"] == "bash"
    # ...but an expired item is as good as gone: its hash no longer stands for content.
    with pytest.raises(ItemContentMismatch):
        world.put(node, item(content=None, content_hash="h1"), now=NOW + dt.timedelta(days=51))


def test_aws_types_are_the_published_ones_and_custom_types_need_a_name(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    with pytest.raises(InvalidTypeName, match="AWS:Packages"):
        world.put(node, item("AWS:Packages", apps("bash")))
    with pytest.raises(InvalidTypeName, match="no name"):
        world.put(node, item("Custom:", [{"A": "b"}]))
    with pytest.raises(InvalidItemContent, match="more than once"):
        world.put(node, item(content=apps("a")), item(content=apps("b")))


def test_aws_types_take_only_their_schema_versions(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    world.put(node, item(content=apps("bash"), version="1.0"))  # older agents' AWS:Application
    world.put(node, item("AWS:Network", [{"Name": "eth0", "IPV4": "10.0.0.1"}]))
    with pytest.raises(UnsupportedSchemaVersion, match="GetInventorySchema"):
        world.put(node, item(content=apps("bash"), version="2.0"))


def test_entries_of_aws_types_use_only_their_schemas_attributes(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    with pytest.raises(InvalidItemContent, match="Colour"):
        world.put(node, item(content=apps("bash", Colour="red")))
    # AWS's agent sends KernelVersion in AWS:InstanceDetailedInformation, beyond the user guide's list.
    world.put(node, item("AWS:InstanceDetailedInformation", [{"CPUCores": "4", "KernelVersion": "6.1.0"}]))


def test_context_is_only_for_compliance_items_and_only_with_their_context_keys(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    with pytest.raises(UnsupportedItemContext, match="AWS:ComplianceItem"):
        world.put(node, item(content=apps("bash"), context={"ExecutionId": "1"}))
    with pytest.raises(InvalidItemContext, match="Colour"):
        world.put(node, item("AWS:ComplianceItem", [{"Id": "x", "Status": "COMPLIANT"}], context={"Colour": "red"}))
    world.put(node, item("AWS:ComplianceItem", [{"Id": "x", "Status": "COMPLIANT"}],
                         context={"ExecutionId": "1", "ExecutionType": "Command", "ComplianceType": "Custom:X"}))


def test_a_custom_type_takes_its_attributes_from_its_items_spelled_one_way(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    world.put(node, item("Custom:Rack", [{"Location": "B1"}, {"Vendor": "DELL"}]))
    world.put(node, item("Custom:Rack", [{"Zone": "z1"}], version="2.0"))
    with world.db.read() as conn:
        (rack,) = inventory_schemas.schemas(conn, ACCOUNT, REGION, "Custom:Rack")
    assert rack.version == "2.0" and [a.name for a in rack.attributes] == ["Location", "Vendor", "Zone"]
    assert {a.data_type for a in rack.attributes} == {"STRING"}
    with pytest.raises(InvalidItemContent, match="vendor.*Vendor"):
        world.put(node, item("Custom:Rack", [{"vendor": "HP"}]))
    with pytest.raises(InvalidItemContent, match="at most 50"):
        world.put(node, item("Custom:Wide", [{f"A{n}": "x" for n in range(30)}, {f"B{n}": "x" for n in range(30)}]))


def test_an_account_has_at_most_20_custom_types(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    world.put(node, *(item(f"Custom:T{n}", [{"A": "b"}]) for n in range(20)))
    world.put(node, item("Custom:T3", [{"A": "c"}]))  # an existing type is no new one
    with pytest.raises(CustomSchemaCountLimitExceeded, match="at most 20"):
        world.put(node, item("Custom:T20", [{"A": "b"}]))


def test_items_and_calls_have_a_size_limit(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    (node,) = world.add_nodes("Linux")
    monkeypatch.setattr(inventory_rules, "MAX_ITEM_SIZE", 100)
    monkeypatch.setattr(inventory_rules, "MAX_CALL_SIZE", 150)
    with pytest.raises(ItemSizeLimitExceeded, match="Custom:Big"):
        world.put(node, item("Custom:Big", [{"A": "x" * 100}]))
    with pytest.raises(TotalSizeLimitExceeded):
        world.put(node, item("Custom:One", [{"A": "x" * 80}]), item("Custom:Two", [{"A": "x" * 80}]))
    world.put(node, item("Custom:One", [{"A": "x" * 80}]))


def test_capture_time_is_a_real_time(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    with pytest.raises(ValidationError, match="2026-02-30"):
        world.put(node, item(content=apps("bash"), captured="2026-02-30T10:00:00Z"))


def test_only_a_registered_node_of_the_account_takes_inventory(world: World) -> None:
    with pytest.raises(InvalidInstanceId, match="mi-00000000000000000"):
        world.put("mi-00000000000000000", item(content=apps("bash")))


def test_instance_information_is_the_services_own_view_of_the_node(world: World) -> None:
    (node,) = world.add_nodes("Windows")
    world.put(node, item("AWS:InstanceInformation", [{"PlatformType": "Linux"}]))  # taken, not stored
    (info,) = entries(world, node, "AWS:InstanceInformation")
    assert info == {"AgentType": "amazon-ssm-agent", "AgentVersion": "3.3.0.0", "InstanceId": node,
                    "IpAddress": "192.0.2.1", "PlatformName": "Windows OS", "PlatformType": "Windows",
                    "ResourceType": "ManagedInstance", "InstanceStatus": "Active"}


def test_items_of_a_disabled_custom_schema_version_are_ignored_and_a_newer_version_is_taken(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    world.put(node, item("Custom:Rack", [{"Location": "B1"}]))
    with world.db.begin() as conn:
        inventory_deletions.delete(conn, ACCOUNT, REGION, "Custom:Rack", "DisableSchema", False, None, NOW)
    world.put(node, item("Custom:Rack", [{"Location": "B2"}]))
    assert entries(world, node, "Custom:Rack") == []
    world.put(node, item("Custom:Rack", [{"Location": "B3"}], version="1.1"))
    assert entries(world, node, "Custom:Rack") == [{"Location": "B3"}]


def test_inventory_not_reported_for_30_days_is_never_answered_and_the_sweep_deletes_it(world: World) -> None:
    old, fresh = world.add_nodes("Linux", "Linux")
    world.put(old, item(content=apps("bash", "vim")), item("Custom:Rack", [{"Location": "B1"}]))
    world.put(fresh, item(content=apps("bash")), now=NOW + dt.timedelta(days=20))
    later = NOW + dt.timedelta(days=30, seconds=1)
    with world.db.read() as conn:
        assert inventory.list_entries(conn, ACCOUNT, REGION, old, "AWS:Application", [], later) is None
    assert world.ids(result="AWS:Application", now=later) == [fresh]
    assert world.counts(_name_aggregator(), now=later) == [{"Name": "bash", "Count": "1"}]
    assert inventory.sweep(world.db, later) == 2
    assert inventory.sweep(world.db, later) == 0
    assert world.counts(_name_aggregator(), now=later) == [{"Name": "bash", "Count": "1"}]
    assert world.ids(result="AWS:Application", now=NOW) == [fresh]  # gone for good, whatever the clock says


def _name_aggregator() -> Aggregator:
    return Aggregator("AWS:Application.Name")


def test_the_kept_name_counts_follow_every_change_of_the_stored_items(world: World) -> None:
    a, b = world.add_nodes("Linux", "Linux")

    def kept(type_name: str = "AWS:Application") -> dict[str, int]:
        with world.db.read() as conn:
            return inventory_counts.counts(conn, ACCOUNT, REGION, type_name)

    world.put(a, item(content=apps("bash", "bash=2", "vim")), item("Custom:Rack", [{"Name": "r1"}]))
    world.put(b, item(content=apps("bash", "curl")))
    assert kept() == {"bash": 2, "vim": 1, "curl": 1} and kept("Custom:Rack") == {"r1": 1}
    world.put(a, item(content=apps("bash", "nano"), content_hash="h"))
    world.put(a, item(content=apps("ignored"), content_hash="h"))  # unchanged: nothing moves
    assert kept() == {"bash": 2, "nano": 1, "curl": 1}
    with world.db.begin() as conn:
        inventory_deletions.delete(conn, ACCOUNT, REGION, "Custom:Rack", None, False, None, NOW)
    assert kept("Custom:Rack") == {}
    world.put(b, item(content=apps("curl")), now=NOW + dt.timedelta(days=10))
    inventory.sweep(world.db, NOW + dt.timedelta(days=31))
    assert kept() == {"curl": 1}


def test_the_nodes_tags_become_its_aws_tag_item_and_an_agents_own_is_not_taken(world: World) -> None:
    (node,) = world.add_nodes("Linux")
    with world.db.begin() as conn:
        inventory.put(conn, ACCOUNT, REGION, node, [item("AWS:Tag", [{"Key": "Forged", "Value": "x"}])], NOW,
                      {"Team": "web", "Env": "prod"})
    assert entries(world, node, "AWS:Tag") == [{"Key": "Env", "Value": "prod"}, {"Key": "Team", "Value": "web"}]
    with world.db.begin() as conn:
        inventory.put(conn, ACCOUNT, REGION, node, [], NOW, {})
    assert entries(world, node, "AWS:Tag") == []
