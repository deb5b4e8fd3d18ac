"""Patch groups (one baseline per group and operating system, 25 groups per baseline) and the baseline that
governs a node: its patch group's, else the account's default, else AWS's."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services import activations, instances, patch_baseline_groups, patch_baselines
from openssm.services.activations import NewActivation
from openssm.services.instances import InvalidInstanceId
from openssm.services.parameter_model import InvalidResourceId
from openssm.services.patch_baseline_model import AlreadyExists, BaselineSpec, DoesNotExist, ResourceLimitExceeded
from openssm.services.patch_platforms import OperatingSystem, UnsupportedOperatingSystem
from openssm.services.resource_tags import ResourceTagStore
from openssm.store.db import open_database

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
ACCOUNT, REGION = "111122223333", "us-east-1"
AWS_DEBIAN = "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-09a5f8eb62bde80b1"
AWS_WINDOWS = "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-09ca3fb51f0412ec3"
_fingerprints = itertools.count()


@pytest.fixture
def conn() -> Iterator[Connection]:
    db = open_database("sqlite://")
    with db.begin() as c:
        yield c


def baseline(conn: Connection, os_name: OperatingSystem = OperatingSystem.DEBIAN, name: str = "b1") -> str:
    return patch_baselines.create(conn, ACCOUNT, REGION, BaselineSpec(name=name, operating_system=os_name), {},
                                  None, NOW)


def node(conn: Connection, platform: tuple[str, str, str] | None = ("Linux", "Debian GNU/Linux", "12"),
         **tags: str) -> str:
    made, code = activations.create(conn, ACCOUNT, REGION, NewActivation("R"), NOW)
    instance_id = instances.register(conn, activations.redeem(conn, made.activation_id, code, NOW), "KEY",
                                     f"fp-{next(_fingerprints)}", NOW)
    fields = dict(zip(("PlatformType", "PlatformName", "PlatformVersion"), platform or (), strict=False))
    instances.heartbeat(conn, ACCOUNT, REGION, instance_id, fields, NOW)
    ResourceTagStore().add(conn, ACCOUNT, REGION, "ManagedInstance", instance_id, tags)
    return instance_id


def register(conn: Connection, baseline_id: str, group: str) -> str:
    return patch_baseline_groups.register(conn, ACCOUNT, REGION, baseline_id, group, NOW)


def test_a_group_holds_one_baseline_per_operating_system(conn: Connection) -> None:
    debian, other_debian = baseline(conn), baseline(conn, name="b2")
    ubuntu = baseline(conn, OperatingSystem.UBUNTU)
    assert register(conn, debian, "web") == debian
    register(conn, ubuntu, "web")
    with pytest.raises(AlreadyExists, match="OperatingSystem DEBIAN"):
        register(conn, other_debian, "web")
    assert patch_baselines.get(conn, ACCOUNT, REGION, debian).patch_groups == ("web",)
    found = patch_baselines.baseline_for_group(conn, ACCOUNT, REGION, "web", OperatingSystem.UBUNTU)
    assert found.baseline_id == ubuntu


def test_a_baseline_serves_at_most_25_groups(conn: Connection) -> None:
    debian = baseline(conn)
    for n in range(25):
        register(conn, debian, f"g{n}")
    with pytest.raises(ResourceLimitExceeded):
        register(conn, debian, "one-more")


def test_awss_baselines_can_serve_a_group_and_unknown_ones_cannot(conn: Connection) -> None:
    assert register(conn, AWS_DEBIAN, "legacy") == AWS_DEBIAN
    assert patch_baselines.get(conn, ACCOUNT, REGION, AWS_DEBIAN).patch_groups == ("legacy",)
    with pytest.raises(DoesNotExist, match="does not exist"):
        register(conn, "pb-0123456789abcdef0", "web")
    with pytest.raises(InvalidResourceId):
        register(conn, AWS_DEBIAN, "   ")


def test_deregistering_frees_the_group_and_an_unregistered_pair_is_refused(conn: Connection) -> None:
    debian = baseline(conn)
    register(conn, debian, "web")
    assert patch_baseline_groups.deregister(conn, ACCOUNT, REGION, debian, "web") == debian
    with pytest.raises(InvalidResourceId, match="not registered"):
        patch_baseline_groups.deregister(conn, ACCOUNT, REGION, debian, "web")
    assert patch_baselines.baseline_for_group(
        conn, ACCOUNT, REGION, "web", OperatingSystem.DEBIAN).baseline_id == AWS_DEBIAN


def test_a_group_without_its_own_baseline_uses_the_default_windows_unless_told(conn: Connection) -> None:
    assert patch_baselines.baseline_for_group(
        conn, ACCOUNT, REGION, "nobody", OperatingSystem.WINDOWS).baseline_id == AWS_WINDOWS


def test_describe_patch_groups_lists_each_mapping_and_filters(conn: Connection) -> None:
    debian, ubuntu = baseline(conn), baseline(conn, OperatingSystem.UBUNTU)
    register(conn, debian, "web")
    register(conn, ubuntu, "web")
    register(conn, debian, "db")

    def mapped(*filters: tuple[str, list[str]]) -> list[tuple[str, str]]:
        return [(m.patch_group, m.baseline.baseline_id)
                for m in patch_baseline_groups.describe(conn, ACCOUNT, REGION, list(filters))]

    assert mapped() == [("db", debian), ("web", debian), ("web", ubuntu)]
    assert mapped(("NAME_PREFIX", ["w"])) == [("web", debian), ("web", ubuntu)]
    assert mapped(("OPERATING_SYSTEM", ["UBUNTU"])) == [("web", ubuntu)]
    with pytest.raises(ValidationError, match="Invalid filter key"):
        mapped(("OWNER", ["Self"]))


def test_a_node_gets_awss_baseline_then_the_accounts_default_then_its_groups(conn: Connection) -> None:
    instance_id = node(conn, **{"Patch Group": "web"})
    found = patch_baselines.baseline_for_instance(conn, ACCOUNT, REGION, instance_id, NOW)
    assert (found.baseline.baseline_id, found.patch_group, found.operating_system, found.product) == (
        AWS_DEBIAN, "web", "DEBIAN", "Debian12")
    default = baseline(conn, name="default")
    patch_baselines.register_default(conn, ACCOUNT, REGION, default)
    assert patch_baselines.baseline_for_instance(conn, ACCOUNT, REGION, instance_id, NOW).baseline.baseline_id == default
    web = baseline(conn, name="web")
    register(conn, web, "web")
    chosen = patch_baselines.baseline_for_instance(conn, ACCOUNT, REGION, instance_id, NOW)
    assert (chosen.baseline.baseline_id, chosen.baseline.spec.name) == (web, "web")


def test_the_patchgroup_tag_works_too_and_only_the_nodes_os_counts(conn: Connection) -> None:
    instance_id = node(conn, ("Linux", "Ubuntu", "22.04"), PatchGroup="db")
    register(conn, baseline(conn), "db")  # a Debian baseline: not for this Ubuntu node
    found = patch_baselines.baseline_for_instance(conn, ACCOUNT, REGION, instance_id, NOW)
    assert (found.patch_group, found.operating_system, found.product) == ("db", "UBUNTU", "Ubuntu22.04")
    assert found.baseline.spec.name == "AWS-UbuntuDefaultPatchBaseline"


def test_unknown_nodes_and_platforms_get_awss_errors(conn: Connection) -> None:
    with pytest.raises(InvalidInstanceId):
        patch_baselines.baseline_for_instance(conn, ACCOUNT, REGION, "mi-0123456789abcdef0", NOW)
    with pytest.raises(UnsupportedOperatingSystem):
        patch_baselines.baseline_for_instance(conn, ACCOUNT, REGION, node(conn, ("Linux", "Gentoo", "2.14")), NOW)
    with pytest.raises(UnsupportedOperatingSystem):
        patch_baselines.baseline_for_instance(conn, ACCOUNT, REGION, node(conn, None), NOW)
