"""GetInventory, ListInventoryEntries and GetInventorySchema: which nodes filters keep, what aggregators count,
and AWS's errors for keys, aggregators and result attributes that are not valid."""

from __future__ import annotations

import datetime as dt

import pytest

from openssm.services import inventory, inventory_queries, inventory_schemas
from openssm.services.inventory_model import (
    Aggregator,
    Filter,
    Group,
    InvalidAggregator,
    InvalidFilter,
    InvalidInventoryGroup,
    InvalidResultAttribute,
    InvalidTypeName,
)
from openssm.store.tables.inventory import KEY_LENGTH
from tests.unit.test_inventory_fixtures import ACCOUNT, NOW, REGION, World, apps, item, new_world


@pytest.fixture
def world() -> World:
    return new_world()


@pytest.fixture
def fleet(world: World) -> list[str]:
    """Three Linux nodes and a Windows one, with applications and a custom type on some."""
    a, b, c, win = world.add_nodes("Linux", "Linux", "Linux", "Windows")
    world.put(a, item(content=apps("bash=5.1", "nginx=1.2", "nginx-common=1.2", Publisher="Debian")),
              item("Custom:Rack", [{"Location": "B1"}]))
    world.put(b, item(content=apps("bash=5.2", "curl=8.0", "openssl=3.0", Publisher="Debian")),
              item("AWS:InstanceDetailedInformation", [{"CPUCores": "16", "CPUModel": "EPYC"}]))
    world.put(c, item(content=apps("bash=5.1", "bash=5.1", Publisher="Ubuntu")),
              item("AWS:InstanceDetailedInformation", [{"CPUCores": "4", "CPUModel": "Xeon"}]))
    world.put(win, item(content=apps("Amazon SSM Agent=3.3", Publisher="Amazon Web Services")),
              item("Custom:Rack", [{"Location": "B2"}]))
    return [a, b, c, win]


def test_without_filters_every_node_is_answered_with_its_instance_information_a_page_at_a_time(
        world: World, fleet: list[str]) -> None:
    with world.db.read() as conn:
        first = inventory_queries.get_inventory(conn, ACCOUNT, REGION, NOW, [], None, 0, 3)
        rest = inventory_queries.get_inventory(conn, ACCOUNT, REGION, NOW, [], None, 3, 3)
    assert [e.id for e in first.items + rest.items] == sorted(fleet)
    assert first.next_offset == 3 and rest.next_offset is None
    info = first.items[0].data["AWS:InstanceInformation"]
    assert info.schema_version == "1.0" and info.capture_time == "2026-12-06T12:00:00Z"
    assert info.content[0]["InstanceId"] == first.items[0].id


def test_a_node_matches_when_one_of_its_entries_matches(world: World, fleet: list[str]) -> None:
    a, b, c, win = fleet
    name = "AWS:Application.Name"
    assert world.ids(Filter(name, ("nginx",))) == [a]
    assert world.ids(Filter(name, ("nginx", "curl"))) == sorted([a, b])  # values: any of them
    assert world.ids(Filter(name, ("nginx",), "BeginWith")) == [a]
    assert world.ids(Filter(name, ("Amazon", "cu"), "BeginWith")) == sorted([b, win])
    # NotEqual: the nodes of the type with no such entry.
    assert world.ids(Filter(name, ("bash",), "NotEqual")) == [win]
    assert world.ids(Filter(name, ("bash",)), Filter("AWS:Application.Version", ("5.1",))) == sorted([a, c])
    assert world.ids(Filter("AWS:Application.Publisher", ("Debian",))) == sorted([a, b])  # from the entry's JSON
    assert world.ids(Filter("AWS:Application.Publisher", ("Amazon",), "BeginWith")) == [win]
    assert world.ids(Filter("Custom:Rack.Location", ("B2",))) == [win]
    assert world.ids(Filter(name, ("nginx",)), Filter("Custom:Rack.Location", ("B2",))) == []


def test_instance_information_filters_read_the_nodes_themselves(world: World, fleet: list[str]) -> None:
    a, b, c, win = fleet
    assert world.ids(Filter("AWS:InstanceInformation.PlatformType", ("Windows",))) == [win]
    assert world.ids(Filter("AWS:InstanceInformation.InstanceId", (b, "mi-00000000000000000"))) == [b]
    assert world.ids(Filter("AWS:InstanceInformation.InstanceStatus", ("Active",)),
                     Filter("AWS:Application.Name", ("bash",))) == sorted([a, b, c])


def test_less_than_and_greater_than_compare_numbers_for_number_attributes(world: World, fleet: list[str]) -> None:
    _, b, c, _ = fleet
    cores = "AWS:InstanceDetailedInformation.CPUCores"
    assert world.ids(Filter(cores, ("8",), "GreaterThan")) == [b]  # 16 > 8, though "16" < "8" as text
    assert world.ids(Filter(cores, ("8",), "LessThan")) == [c]
    assert world.ids(Filter("AWS:Application.Name", ("c",), "LessThan")) == sorted(fleet[:3] + [fleet[3]])


def test_filters_that_are_not_valid_get_aws_errors(world: World, fleet: list[str]) -> None:
    with pytest.raises(InvalidTypeName, match="AWS:Packages"):
        world.ids(Filter("AWS:Packages.Name", ("x",)))
    with pytest.raises(InvalidFilter, match="has no attribute Colour"):
        world.ids(Filter("AWS:Application.Colour", ("x",)))
    with pytest.raises(InvalidFilter, match="not valid"):
        world.ids(Filter("Name", ("x",)))
    with pytest.raises(InvalidFilter, match="must be used with aggregators"):
        world.ids(Filter("AWS:Application.Name", ("x",), "Exists"))
    with pytest.raises(InvalidFilter, match="exactly one value"):
        world.ids(Filter("AWS:Application.Name", ("a", "b"), "LessThan"))
    with pytest.raises(InvalidFilter, match="takes a number"):
        world.ids(Filter("AWS:InstanceDetailedInformation.CPUCores", ("many",), "GreaterThan"))
    with pytest.raises(InvalidFilter, match="only the Exists type"):
        world.aggregate(Aggregator("AWS:Application.Name"), filters=[Filter("TypeName", ("AWS:Application",))])


def test_result_attributes_choose_the_type_answered_and_leave_out_nodes_without_it(
        world: World, fleet: list[str]) -> None:
    a, _, _, win = fleet
    with world.db.read() as conn:
        page = inventory_queries.get_inventory(conn, ACCOUNT, REGION, NOW, [], "Custom:Rack", 0, 50)
    assert [e.id for e in page.items] == sorted([a, win])
    assert page.items[0].data["Custom:Rack"].content[0]["Location"] in ("B1", "B2")
    with pytest.raises(InvalidResultAttribute, match="Custom:Nothing"):
        world.ids(result="Custom:Nothing")


def test_an_aggregation_counts_nodes_not_entries(world: World, fleet: list[str]) -> None:
    assert world.counts(Aggregator("AWS:Application.Name")) == [
        {"Name": "bash", "Count": "3"}, {"Name": "Amazon SSM Agent", "Count": "1"}, {"Name": "curl", "Count": "1"},
        {"Name": "nginx", "Count": "1"}, {"Name": "nginx-common", "Count": "1"}, {"Name": "openssl", "Count": "1"}]
    assert world.counts(Aggregator("AWS:InstanceInformation.PlatformType")) == [
        {"PlatformType": "Linux", "Count": "3"}, {"PlatformType": "Windows", "Count": "1"}]
    filtered = world.aggregate(Aggregator("AWS:Application.Name"),
                               filters=[Filter("AWS:InstanceInformation.PlatformType", ("Windows",))])
    assert [dict(r) for r in filtered[0].rows] == [{"Name": "Amazon SSM Agent", "Count": "1"}]


def test_nested_aggregators_count_each_combination_once_per_node(world: World, fleet: list[str]) -> None:
    versions = world.counts(Aggregator("AWS:Application.Name", (Aggregator("AWS:Application.Version"),)))
    assert [r for r in versions if r["Name"] == "bash"] == [
        {"Name": "bash", "Version": "5.1", "Count": "2"}, {"Name": "bash", "Version": "5.2", "Count": "1"}]
    platforms = world.counts(Aggregator("AWS:Application.Name",
                                        (Aggregator("AWS:InstanceInformation.PlatformType"),)))
    assert platforms[0] == {"Name": "bash", "PlatformType": "Linux", "Count": "3"}
    racks = world.counts(Aggregator("Custom:Rack.Location", (Aggregator("AWS:Application.Name"),)))
    assert racks == [{"Location": "B1", "Name": "bash", "Count": "1"},
                     {"Location": "B1", "Name": "nginx", "Count": "1"},
                     {"Location": "B1", "Name": "nginx-common", "Count": "1"},
                     {"Location": "B2", "Name": "Amazon SSM Agent", "Count": "1"}]


def test_groups_count_the_nodes_that_match_all_their_filters_and_those_that_do_not(
        world: World, fleet: list[str]) -> None:
    both = Group("RackAndApps", (Filter("TypeName", ("Custom:Rack",), "Exists"),
                                 Filter("TypeName", ("AWS:Application",), "Exists")))
    either = Group("RackOrDetails", (Filter("TypeName", ("Custom:Rack", "AWS:InstanceDetailedInformation"),
                                            "Exists"),))
    linux = Group("Linux", (Filter("AWS:InstanceInformation.PlatformType", ("Linux",)),))
    every = Group("Every", (Filter("TypeName", ("AWS:InstanceInformation",), "Exists"),))  # the service's own
    found = world.aggregate(Aggregator(groups=(both, either, linux, every)))
    assert [(a.key, [dict(r) for r in a.rows]) for a in found] == [
        ("RackAndApps", [{"notMatchingCount": "2"}, {"matchingCount": "2"}]),
        ("RackOrDetails", [{"notMatchingCount": "0"}, {"matchingCount": "4"}]),
        ("Linux", [{"notMatchingCount": "1"}, {"matchingCount": "3"}]),
        ("Every", [{"notMatchingCount": "0"}, {"matchingCount": "4"}])]


def test_aggregators_that_are_not_valid_get_aws_errors(world: World, fleet: list[str]) -> None:
    with pytest.raises(InvalidAggregator, match="AWS:Application.Name, AWS:Application.Version"):
        world.aggregate(Aggregator("AWS:Application.Publisher"))
    with pytest.raises(InvalidAggregator, match="Expression"):
        world.aggregate(Aggregator())
    with pytest.raises(InvalidAggregator, match="not both"):
        world.aggregate(Aggregator("AWS:Application.Name", groups=(Group("G", (Filter("TypeName", ("x",)),)),)))
    with pytest.raises(InvalidAggregator, match="top-level"):
        world.aggregate(Aggregator("AWS:Application.Name", (Aggregator(groups=(Group("G", ()),)),)))
    with pytest.raises(InvalidAggregator, match="AWS:Nothing"):
        world.aggregate(Aggregator("AWS:Nothing.Name"))
    with pytest.raises(InvalidAggregator, match="same name"):
        world.aggregate(Aggregator("AWS:Application.Name"), Aggregator("AWS:Application.Version"))
    with pytest.raises(InvalidInventoryGroup, match="differ"):
        world.aggregate(Aggregator(groups=(Group("G", (Filter("TypeName", ("Custom:Rack",), "Exists"),)),) * 2))


def test_names_longer_than_the_indexed_key_are_matched_and_counted_in_full(world: World) -> None:
    a, b = world.add_nodes("Linux", "Linux")
    stem = "x" * KEY_LENGTH
    world.put(a, item(content=apps(stem + "-one", "short")))
    world.put(b, item(content=apps(stem + "-two", stem + "-one")))
    assert world.ids(Filter("AWS:Application.Name", (stem + "-two",))) == [b]
    assert world.ids(Filter("AWS:Application.Name", (stem + "-o",), "BeginWith")) == sorted([a, b])
    assert world.ids(Filter("AWS:Application.Name", (stem[:-1],))) == []
    assert world.counts(Aggregator("AWS:Application.Name")) == [
        {"Name": stem + "-one", "Count": "2"}, {"Name": "short", "Count": "1"}, {"Name": stem + "-two", "Count": "1"}]


def test_expired_items_count_nowhere_even_before_the_sweep(world: World, fleet: list[str]) -> None:
    a, b, c, win = fleet
    later = NOW + dt.timedelta(days=31)
    world.put(b, item(content=apps("curl")), now=later)
    assert world.ids(Filter("AWS:Application.Name", ("curl",)), now=later) == [b]
    assert world.ids(Filter("AWS:Application.Name", ("bash",)), now=later) == []
    assert world.counts(Aggregator("AWS:Application.Name"), now=later) == [{"Name": "curl", "Count": "1"}]
    group = Group("Apps", (Filter("TypeName", ("AWS:Application",), "Exists"),))
    assert [dict(r) for r in world.aggregate(Aggregator(groups=(group,)), now=later)[0].rows] == [
        {"notMatchingCount": "3"}, {"matchingCount": "1"}]


def test_list_inventory_entries_keeps_the_entries_the_filters_match(world: World, fleet: list[str]) -> None:
    a = fleet[0]
    with world.db.read() as conn:
        found = inventory.list_entries(conn, ACCOUNT, REGION, a, "AWS:Application",
                                       [Filter("Name", ("nginx",), "BeginWith"),
                                        Filter("AWS:Application.Name", ("nginx-common",), "NotEqual")], NOW)
        nothing = inventory.list_entries(conn, ACCOUNT, REGION, fleet[3], "AWS:InstanceDetailedInformation", [], NOW)
        with pytest.raises(InvalidTypeName, match="Custom:Nothing"):
            inventory.list_entries(conn, ACCOUNT, REGION, a, "Custom:Nothing", [], NOW)
        with pytest.raises(InvalidFilter, match="Colour"):
            inventory.list_entries(conn, ACCOUNT, REGION, a, "AWS:Application", [Filter("Colour", ("x",))], NOW)
    assert found is not None and [dict(e) for e in found.content] == [
        {"Name": "nginx", "Version": "1.2", "Publisher": "Debian"}]
    assert found.schema_version == "1.1" and found.capture_time == "2026-12-06T11:00:00Z"
    assert nothing is None


def test_the_schema_lists_aws_types_and_the_accounts_custom_types(world: World, fleet: list[str]) -> None:
    with world.db.read() as conn:
        every = inventory_schemas.schemas(conn, ACCOUNT, REGION)
        aggregatable = inventory_schemas.schemas(conn, ACCOUNT, REGION, aggregator=True)
        (application,) = inventory_schemas.schemas(conn, ACCOUNT, REGION, "AWS:Application")
        assert inventory_schemas.schemas(conn, ACCOUNT, REGION, sub_type=True) == []
        with pytest.raises(InvalidTypeName):
            inventory_schemas.schemas(conn, ACCOUNT, REGION, "Custom:Nothing")
    names = [t.type_name for t in every]
    assert names[0] == "AWS:InstanceInformation" and "Custom:Rack" in names and "AWS:ComplianceItem" in names
    assert application.version == "1.1" and len(application.attributes) == 11
    assert [(t.type_name, t.display_name, [a.name for a in t.attributes]) for t in aggregatable] == [
        ("AWS:InstanceInformation", "Platform", ["PlatformName", "PlatformType", "PlatformVersion"]),
        ("AWS:Application", "Application", ["Name", "Version"]),
        ("AWS:Service", "Service", ["Name", "DisplayName", "ServiceType", "Status", "StartType"]),
        ("AWS:WindowsRole", "WindowsRole", ["Name", "DisplayName", "FeatureType", "Installed"]),
        ("AWS:ResourceGroup", "ResourceGroup", ["Name"])]
