"""Patch states from what nodes report (AWS:PatchSummary, compliance items of type Patch): per node, per patch
group with count filters, the group's counts, each node's patches and the account's distinct patches."""

from __future__ import annotations

import datetime as dt

import pytest

from openssm.errors import ValidationError
from openssm.services import compliance, patch_catalog, patch_states
from openssm.services.compliance import ExecutionSummary, ItemInput
from openssm.services.inventory_model import InvalidFilter
from openssm.services.patch_catalog import PatchFilter
from openssm.services.patch_states import StateFilter
from tests.unit.test_inventory_fixtures import ACCOUNT, NOW, REGION, World, item, new_world

COUNTS = ("InstalledCount", "InstalledOtherCount", "InstalledPendingRebootCount", "InstalledRejectedCount",
          "MissingCount", "FailedCount", "NotApplicableCount", "UnreportedNotApplicableCount",
          "CriticalNonCompliantCount", "SecurityNonCompliantCount", "OtherNonCompliantCount")


def summary(group: str = "web", operation: str = "Scan", **counts: int) -> dict[str, str]:
    """An AWS:PatchSummary entry as the patching contract has the agent send it (every value a string)."""
    return {"PatchGroup": group, "BaselineId": "pb-0123456789abcdef0",
            "SnapshotId": "5f6a7b8c-1d2e-4f30-8a9b-0c1d2e3f4a5b", "OwnerInformation": "",
            **{name: str(counts.get(name, 0)) for name in COUNTS}, "OperationType": operation,
            "OperationStartTime": "2026-12-06T11:00:00Z", "OperationEndTime": "2026-12-06T11:05:00Z",
            "RebootOption": "NoReboot", "InstallOverrideList": "", "LastNoRebootInstallOperationTime": "",
            "ExecutionId": "cmd-1"}


def report(world: World, node: str, **kw: object) -> None:
    world.put(node, item("AWS:PatchSummary", [summary(**kw)]))  # type: ignore[arg-type]


def patch(name: str, state: str, status: str = "COMPLIANT", **details: str) -> ItemInput:
    facts = {"PatchState": state, "Name": name, "Arch": "amd64", "Version": "1.0", "Product": "Debian12",
             "Classification": "", "PatchSeverity": "", **details}
    return ItemInput(f"{name}.amd64", f"{name}.amd64:0:1.0", "UNSPECIFIED", status,
                     {k: v for k, v in facts.items() if v})


def put_patches(world: World, node: str, *items: ItemInput) -> None:
    with world.db.begin() as conn:
        compliance.put_items(conn, ACCOUNT, REGION, node, "ManagedInstance", "Patch",
                             ExecutionSummary(NOW, "cmd-1", "Command"), items, NOW)


@pytest.fixture
def world() -> World:
    w = new_world()
    w.add_nodes("Linux", "Linux", "Linux")
    return w


def test_a_nodes_state_is_its_last_summary_with_numbers_and_times(world: World) -> None:
    a, b, silent = world.nodes
    report(world, a, MissingCount=3, CriticalNonCompliantCount=1, InstalledCount=40)
    report(world, b, group="db", operation="Install")
    with world.db.read() as conn:
        found = patch_states.states(conn, ACCOUNT, REGION, [b, silent, a, a], NOW)
    assert [s.instance_id for s in found] == [b, a]  # asked order, reporting nodes only, once each
    state = found[1]
    assert state.counts["MissingCount"] == 3 and state.counts["InstalledCount"] == 40
    assert state.counts["CriticalNonCompliantCount"] == 1
    assert state.operation == "Scan" and found[0].operation == "Install"
    assert state.operation_end == dt.datetime(2026, 12, 6, 11, 5, tzinfo=dt.UTC)
    assert state.last_no_reboot_install is None and state.install_override_list is None
    assert state.owner_information is None and state.reboot_option == "NoReboot"
    assert state.patch_group == "web" and state.baseline_id == "pb-0123456789abcdef0"


def test_garbled_counts_and_times_read_as_zero_and_absent(world: World) -> None:
    entry = {**summary(), "MissingCount": "many", "FailedCount": "-2", "OperationEndTime": "yesterday"}
    world.put(world.nodes[0], item("AWS:PatchSummary", [entry]))
    with world.db.read() as conn:
        [state] = patch_states.states(conn, ACCOUNT, REGION, world.nodes[:1], NOW)
    assert state.counts["MissingCount"] == 0 == state.counts["FailedCount"]
    assert state.operation_end == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def test_a_patch_groups_states_take_count_filters(world: World) -> None:
    a, b, c = world.nodes
    report(world, a, MissingCount=3)
    report(world, b, MissingCount=0, FailedCount=1)
    report(world, c, group="db", MissingCount=9)

    def ids(*filters: StateFilter) -> list[str]:
        with world.db.read() as conn:
            return [s.instance_id for s in patch_states.group_states(conn, ACCOUNT, REGION, "web", filters, NOW)]

    assert ids() == sorted([a, b])
    assert ids(StateFilter("MissingCount", ("0",), "GreaterThan")) == [a]
    assert ids(StateFilter("MissingCount", ("3",), "LessThan")) == [b]
    assert ids(StateFilter("FailedCount", ("1",), "Equal"), StateFilter("MissingCount", ("3",), "NotEqual")) == [b]


@pytest.mark.parametrize(("bad", "message"), [
    (StateFilter("CriticalNonCompliantCount", ("1",), "Equal"), "not valid"),
    (StateFilter("MissingCount", ("many",), "Equal"), "not an integer"),
    (StateFilter("MissingCount", ("1", "2"), "Equal"), "exactly one"),
    (StateFilter("MissingCount", ("1",), "BeginWith"), "type"),
])
def test_bad_state_filters_are_invalid_filters(world: World, bad: StateFilter, message: str) -> None:
    with world.db.read() as conn, pytest.raises(InvalidFilter, match=message):
        patch_states.group_states(conn, ACCOUNT, REGION, "web", [bad], NOW)


def test_a_groups_state_counts_its_nodes_with_patches_in_each_state(world: World) -> None:
    a, b, c = world.nodes
    report(world, a, MissingCount=3, InstalledCount=5, CriticalNonCompliantCount=2)
    report(world, b, InstalledCount=7, InstalledPendingRebootCount=1, OtherNonCompliantCount=1)
    report(world, c, group="db", MissingCount=1)
    with world.db.read() as conn:
        state = patch_states.group_state(conn, ACCOUNT, REGION, "web", NOW)
        empty = patch_states.group_state(conn, ACCOUNT, REGION, "nobody", NOW)
    assert state.instances == 2
    assert state.with_counts["InstalledCount"] == 2 and state.with_counts["MissingCount"] == 1
    assert state.with_counts["CriticalNonCompliantCount"] == 1 and state.with_counts["FailedCount"] == 0
    assert state.with_counts["InstalledPendingRebootCount"] == 1 == state.with_counts["OtherNonCompliantCount"]
    assert empty.instances == 0 and set(empty.with_counts.values()) == {0}


def test_a_nodes_patches_come_from_its_patch_compliance_items_with_filters(world: World) -> None:
    a = world.nodes[0]
    put_patches(world, a, patch("curl", "Missing", "NON_COMPLIANT", PatchSeverity="Important",
                                Classification="Security", CVEIds="CVE-2024-1,CVE-2024-2"),
                patch("bash", "Installed", InstalledTime="2026-11-01T10:00:00Z"))
    with world.db.begin() as conn:  # another type's items are not patches
        compliance.put_items(conn, ACCOUNT, REGION, a, "ManagedInstance", "Custom:Other",
                             ExecutionSummary(NOW), [ItemInput("x", "x", "LOW", "COMPLIANT")], NOW)

    def rows(*filters: PatchFilter) -> list[patch_catalog.InstancePatch]:
        with world.db.read() as conn:
            return patch_catalog.instance_patches(conn, ACCOUNT, REGION, a, filters)

    bash, curl = rows()
    assert (bash.kb_id, bash.state, bash.installed_time) == (
        "bash.amd64", "INSTALLED", dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC))
    assert (curl.title, curl.state, curl.severity, curl.classification, curl.cve_ids) == (
        "curl.amd64:0:1.0", "MISSING", "Important", "Security", "CVE-2024-1,CVE-2024-2")
    assert curl.installed_time == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert rows(PatchFilter("State", ("Missing",))) == [curl] == rows(PatchFilter("State", ("MISSING",)))
    assert rows(PatchFilter("Severity", ("Important",)), PatchFilter("KBId", ("curl.amd64",))) == [curl]
    assert rows(PatchFilter("Classification", ("Bugfix",))) == []
    with world.db.read() as conn, pytest.raises(InvalidFilter, match="Valid filter keys"):
        patch_catalog.instance_patches(conn, ACCOUNT, REGION, a, [PatchFilter("NAME", ("curl",))])


def test_available_patches_are_the_distinct_patches_the_nodes_reported(world: World) -> None:
    a, b, _ = world.nodes
    put_patches(world, a, patch("curl", "Missing", "NON_COMPLIANT", CVEIds="CVE-2024-1", Section="web",
                                Priority="optional", Epoch="1", ReleaseDate="2026-10-01T00:00:00Z"),
                patch("bash", "Installed"))
    put_patches(world, b, patch("curl", "Missing", "NON_COMPLIANT", CVEIds="CVE-2024-1"),
                patch("zsh", "Installed", Product="Debian11"))

    def titles(*filters: PatchFilter) -> list[str]:
        with world.db.read() as conn:
            return [p.title for p in patch_catalog.available_patches(conn, ACCOUNT, REGION, filters)]

    assert titles() == ["zsh.amd64:0:1.0", "bash.amd64:0:1.0", "curl.amd64:0:1.0"]  # by product, then title
    product = PatchFilter("PRODUCT", ("Debian12",))
    assert titles(product, PatchFilter("CVE_ID", ("CVE-2024-1",))) == ["curl.amd64:0:1.0"]
    assert titles(product, PatchFilter("NAME", ("bash", "zsh"))) == ["bash.amd64:0:1.0"]
    with world.db.read() as conn:
        [curl] = patch_catalog.available_patches(conn, ACCOUNT, REGION, [product, PatchFilter("SECTION", ("web",))])
    assert (curl.id, curl.name, curl.epoch, curl.cve_ids, curl.product) == (
        "curl.amd64:0:1.0", "curl", 1, ("CVE-2024-1",), "Debian12")
    assert curl.release_date == dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def test_linux_filters_need_a_product_and_unknown_keys_are_refused(world: World) -> None:
    with world.db.read() as conn:
        with pytest.raises(ValidationError, match="PRODUCT"):
            patch_catalog.available_patches(conn, ACCOUNT, REGION, [PatchFilter("CVE_ID", ("CVE-2018-3615",))])
        with pytest.raises(ValidationError, match="not valid"):
            patch_catalog.available_patches(conn, ACCOUNT, REGION, [PatchFilter("COLOUR", ("red",))])
        assert patch_catalog.available_patches(conn, ACCOUNT, REGION,
                                               [PatchFilter("CLASSIFICATION", ("Security",))]) == []
