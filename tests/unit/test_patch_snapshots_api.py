"""GetDeployablePatchSnapshotForInstance through its handler, and the snapshot download route: only the node
itself asks, its baseline (or its override) is frozen, and the URL serves the contract's JSON until it expires."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from openssm.api import patch_snapshots as route
from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_patch_snapshots import get_deployable_patch_snapshot_for_instance as get_snapshot
from openssm.clock import FakeClock
from openssm.config import ServerConfig
from openssm.container import Container
from openssm.errors import AccessDenied, AwsError, ValidationError
from openssm.iam.principals import Caller, PrincipalType
from openssm.services import activations, instances, patch_groups
from openssm.services.activations import NewActivation
from openssm.services.patch_platforms import OperatingSystem
from openssm.store.db import open_database
from openssm.store.secrets import SecretBox
from openssm.types import AccountId, Arn, Region, RequestId

ACCOUNT, REGION = AccountId("111122223333"), Region("eu-west-1")
NOW = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
SNAP = "5f6a7b8c-1d2e-4f30-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    config = ServerConfig(data_dir=tmp_path, database_url="sqlite://", port=9443, default_account=ACCOUNT)
    built = Container(config, open_database("sqlite://"), SecretBox(b"m" * 32), FakeClock(NOW))
    yield built
    built.close()


def node(container: Container, name: str = "Debian GNU/Linux", version: str = "12",
         tags: dict[str, str] | None = None) -> str:
    with container.db.begin() as conn:
        made, code = activations.create(conn, ACCOUNT, REGION, NewActivation("R", registration_limit=10), NOW)
        instance_id = instances.register(conn, activations.redeem(conn, made.activation_id, code, NOW), "key",
                                         f"fp-{uuid.uuid4()}", NOW)
        instances.heartbeat(conn, ACCOUNT, REGION, instance_id, {
            "PlatformType": "Linux", "PlatformName": name, "PlatformVersion": version,
            "AgentName": "amazon-ssm-agent", "AgentVersion": "3.3.0.0", "IPAddress": "192.0.2.1"}, NOW)
        if tags:
            container.parameters.tags.add(conn, ACCOUNT, REGION, "ManagedInstance", instance_id, tags)
    return instance_id


def ctx(container: Container, caller_node: str | None) -> RequestContext:
    arn = (f"arn:aws:sts::{ACCOUNT}:assumed-role/SSMServiceRole/{caller_node}" if caller_node
           else f"arn:aws:iam::{ACCOUNT}:user/alice")
    caller = Caller(ACCOUNT, Arn(arn), PrincipalType.ASSUMED_ROLE if caller_node else PrincipalType.USER, "AIDA",
                    caller_node or "alice", instance_id=caller_node)
    return RequestContext(RequestId("r"), "ssm", "GetDeployablePatchSnapshotForInstance", REGION, caller,
                          "192.0.2.9", "ua", True, container.clock.now(), container, host="ssm.test:9443")


def ask(container: Container, instance_id: str, **extra: Any) -> dict[str, Any]:
    return get_snapshot(ctx(container, instance_id), {"InstanceId": instance_id, "SnapshotId": SNAP, **extra})


def download(container: Container, url: str) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=Starlette(routes=route.routes(container)))
        async with httpx.AsyncClient(transport=transport, base_url="https://ssm.test:9443") as client:
            return await client.get(url)
    return asyncio.run(get())


def test_a_node_gets_its_default_baseline_frozen_behind_a_url_on_this_server(container: Container) -> None:
    me = node(container)
    answer = ask(container, me)
    assert answer["InstanceId"] == me and answer["SnapshotId"] == SNAP and answer["Product"] == "Debian12"
    assert answer["SnapshotDownloadUrl"].startswith("https://ssm.test:9443/openssm/v1/patch-snapshots/")
    got = download(container, answer["SnapshotDownloadUrl"])
    assert got.status_code == 200
    doc = got.json()
    assert {k: doc[k] for k in ("SnapshotId", "InstanceId", "AccountId", "Region", "Product", "OperatingSystem",
                                "PatchGroup", "CreatedTime")} == {
        "SnapshotId": SNAP, "InstanceId": me, "AccountId": ACCOUNT, "Region": REGION, "Product": "Debian12",
        "OperatingSystem": "DEBIAN", "PatchGroup": "", "CreatedTime": "2026-12-06T12:00:00Z"}
    baseline = doc["PatchBaseline"]
    assert baseline["OperatingSystem"] == "DEBIAN" and baseline["BaselineId"].startswith("arn:aws:ssm:")
    assert {"BaselineId", "Name", "GlobalFilters", "ApprovalRules", "ApprovedPatches", "RejectedPatches",
            "RejectedPatchesAction", "ApprovedPatchesComplianceLevel", "Sources"} <= set(baseline)


def test_only_the_node_itself_may_ask_for_its_snapshot(container: Container) -> None:
    me, other = node(container), node(container)
    with pytest.raises(AccessDenied, match="only the node itself"):
        get_snapshot(ctx(container, other), {"InstanceId": me, "SnapshotId": SNAP})
    with pytest.raises(AccessDenied, match="user/alice"):
        get_snapshot(ctx(container, None), {"InstanceId": me, "SnapshotId": SNAP})


def test_the_patch_groups_baseline_governs_a_tagged_node(container: Container) -> None:
    me = node(container, tags={"Patch Group": "web"})
    ungrouped = download(container, ask(container, node(container))["SnapshotDownloadUrl"]).json()
    with container.db.begin() as conn:
        custom = _custom_baseline(container, conn)
        patch_groups.register(conn, ACCOUNT, REGION, custom, OperatingSystem.DEBIAN, "web", NOW)
    doc = download(container, ask(container, me)["SnapshotDownloadUrl"]).json()
    assert doc["PatchGroup"] == "web" and doc["PatchBaseline"]["BaselineId"] == custom
    assert ungrouped["PatchGroup"] == "" and ungrouped["PatchBaseline"]["BaselineId"] != custom


def _custom_baseline(container: Container, conn: Any) -> str:
    from openssm.services import patch_baselines
    from openssm.services.patch_baseline_model import BaselineSpec
    spec = BaselineSpec(name="web-debian", operating_system=OperatingSystem.DEBIAN, approved_patches=("openssl",))
    return patch_baselines.create(conn, ACCOUNT, REGION, spec, {}, None, NOW)


def test_a_baseline_override_replaces_the_rules_and_keeps_the_baseline_it_replaces(container: Container) -> None:
    me = node(container)
    plain = download(container, ask(container, me)["SnapshotDownloadUrl"]).json()["PatchBaseline"]
    override = {"OperatingSystem": "DEBIAN", "ApprovedPatches": ["curl"], "RejectedPatches": ["telnet"],
                "RejectedPatchesAction": "BLOCK", "ApprovalRules": {"PatchRules": [{
                    "PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Required"]}]},
                    "ComplianceLevel": "HIGH"}]}}
    doc = download(container, ask(container, me, BaselineOverride=override)["SnapshotDownloadUrl"]).json()
    baseline = doc["PatchBaseline"]
    assert baseline["BaselineId"] == plain["BaselineId"] and baseline["ApprovedPatches"] == ["curl"]
    assert baseline["RejectedPatchesAction"] == "BLOCK"
    assert baseline["ApprovalRules"]["PatchRules"][0]["ComplianceLevel"] == "HIGH"
    assert download(container, ask(container, me)["SnapshotDownloadUrl"]).json()["PatchBaseline"] == plain


def test_an_override_for_another_system_or_breaking_a_baselines_rules_is_refused(container: Container) -> None:
    me = node(container)
    with pytest.raises(ValidationError, match="UBUNTU"):
        ask(container, me, BaselineOverride={"OperatingSystem": "UBUNTU"})
    with pytest.raises(AwsError):
        ask(container, me, BaselineOverride={"GlobalFilters": {"PatchFilters": [
            {"Key": "MSRC_SEVERITY", "Values": ["Critical"]}]}})


def test_a_node_on_an_unknown_system_gets_unsupported_operating_system(container: Container) -> None:
    me = node(container, name="Plan 9", version="4")
    with pytest.raises(AwsError) as raised:
        ask(container, me)
    assert raised.value.code == "UnsupportedOperatingSystem"


def test_an_expired_or_tampered_url_is_refused(container: Container) -> None:
    me = node(container)
    url = ask(container, me)["SnapshotDownloadUrl"]
    head, _, token = url.rpartition("/")
    assert download(container, f"{head}/{token[:-2]}xx").status_code == 403
    assert download(container, f"{head}/{token.replace('.', '.A', 1)}").status_code == 403
    assert isinstance(container.clock, FakeClock)
    container.clock.advance(hours=24, seconds=1)
    refused = download(container, url)
    assert refused.status_code == 403 and refused.json()["__type"] == "AccessDeniedException"


def test_a_url_for_a_snapshot_that_was_replaced_is_not_found(container: Container) -> None:
    me = node(container)
    ask(container, me)
    claims = route.Claims(ACCOUNT, REGION, me, SNAP, int(NOW.timestamp()) - 1, int(NOW.timestamp()) + 60)
    stale = route.snapshot_tokens(container).issue(claims)
    assert download(container, f"/openssm/v1/patch-snapshots/{stale}").status_code == 404
