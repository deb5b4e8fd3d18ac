"""Deployable patch snapshots: frozen per SnapshotId, patch group, operating system (and override) for three days;
the download token; and AWS-RunPatchBaseline's document."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection

from openssm.api.patch_snapshots import Claims, SnapshotTokens
from openssm.services import document_content, patch_snapshots
from openssm.services.document_content import InvalidDocumentContent
from openssm.services.documents_builtin import BUILT_IN
from openssm.services.patch_snapshots import Resolved
from openssm.store.db import open_database

ACCOUNT, REGION = "111122223333", "eu-west-1"
NOW = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
SNAP = "5f6a7b8c-1d2e-4f30-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def conn() -> Iterator[Connection]:
    db = open_database("sqlite://")
    with db.begin() as connection:
        yield connection


def resolved(baseline_id: str = "pb-0123456789abcdef0", group: str = "", os_name: str = "DEBIAN",
             product: str = "Debian12", **fields: Any) -> Resolved:
    return Resolved(os_name, product, group, baseline_id, {"BaselineId": baseline_id, "Name": "b", **fields})


def deploy(conn: Connection, node: str, r: Resolved, now: dt.datetime = NOW, digest: str = "",
           snapshot_id: str = SNAP) -> patch_snapshots.NodeSnapshot:
    return patch_snapshots.deploy(conn, ACCOUNT, REGION, node, snapshot_id, r, digest, now)


def test_asking_again_with_the_same_snapshot_id_answers_the_frozen_baseline(conn: Connection) -> None:
    first = deploy(conn, "mi-00000000000000001", resolved(Description="before"))
    again = deploy(conn, "mi-00000000000000001", resolved(Description="after"), NOW + dt.timedelta(hours=5))
    other_node = deploy(conn, "mi-00000000000000002", resolved(Description="after", product="Debian11"),
                        NOW + dt.timedelta(days=1))
    assert first.baseline["Description"] == again.baseline["Description"] == "before"
    assert other_node.baseline["Description"] == "before" and other_node.created_at == first.created_at
    assert other_node.product == "Debian11"  # the node's own product, the shared baseline


def test_a_snapshot_is_per_patch_group_operating_system_and_override(conn: Connection) -> None:
    deploy(conn, "mi-00000000000000001", resolved(Description="plain"))
    grouped = deploy(conn, "mi-00000000000000002", resolved(group="web", Description="web"))
    ubuntu = deploy(conn, "mi-00000000000000003", resolved(os_name="UBUNTU", Description="ubuntu"))
    overridden = deploy(conn, "mi-00000000000000004", resolved(Description="override"), digest="d1")
    assert [s.baseline["Description"] for s in (grouped, ubuntu, overridden)] == ["web", "ubuntu", "override"]
    assert grouped.patch_group == "web"


def test_after_three_days_the_same_id_makes_a_new_snapshot_and_the_old_one_is_gone(conn: Connection) -> None:
    deploy(conn, "mi-00000000000000001", resolved(Description="old"))
    later = NOW + patch_snapshots.SNAPSHOT_LIFETIME + dt.timedelta(seconds=1)
    assert patch_snapshots.for_node(conn, ACCOUNT, REGION, SNAP, "mi-00000000000000001", later) is None
    renewed = deploy(conn, "mi-00000000000000001", resolved(Description="new"), later)
    assert renewed.baseline["Description"] == "new" and renewed.created_at == later


def test_a_node_reads_only_the_snapshot_it_was_handed(conn: Connection) -> None:
    deploy(conn, "mi-00000000000000001", resolved())
    assert patch_snapshots.for_node(conn, ACCOUNT, REGION, SNAP, "mi-00000000000000002", NOW) is None
    assert patch_snapshots.for_node(conn, "444455556666", REGION, SNAP, "mi-00000000000000001", NOW) is None
    mine = patch_snapshots.for_node(conn, ACCOUNT, REGION, SNAP, "mi-00000000000000001", NOW)
    assert mine is not None and mine.instance_id == "mi-00000000000000001"


def test_the_downloaded_document_has_the_contracts_fields(conn: Connection) -> None:
    snapshot = deploy(conn, "mi-00000000000000001", resolved(group="web"))
    doc = snapshot.document()
    assert doc == {"SnapshotId": SNAP, "InstanceId": "mi-00000000000000001", "AccountId": ACCOUNT,
                   "Region": REGION, "Product": "Debian12", "OperatingSystem": "DEBIAN", "PatchGroup": "web",
                   "CreatedTime": "2026-12-06T12:00:00Z",
                   "PatchBaseline": {"BaselineId": "pb-0123456789abcdef0", "Name": "b"}}
    json.dumps(doc)


def test_the_same_override_in_any_key_order_has_one_digest_and_none_has_none() -> None:
    a = patch_snapshots.override_digest({"OperatingSystem": "DEBIAN", "ApprovedPatches": ["x"]})
    b = patch_snapshots.override_digest({"ApprovedPatches": ["x"], "OperatingSystem": "DEBIAN"})
    assert a == b and len(a) == 64
    assert patch_snapshots.override_digest(None) == "" == patch_snapshots.override_digest({})


TOKENS = SnapshotTokens(b"k" * 32)
CLAIMS = Claims(ACCOUNT, REGION, "mi-00000000000000001", SNAP, 1_800_000_000, int(NOW.timestamp()) + 60)


def test_a_token_reads_back_until_it_expires() -> None:
    token = TOKENS.issue(CLAIMS)
    assert TOKENS.read(token, NOW) == CLAIMS
    assert TOKENS.read(token, NOW + dt.timedelta(seconds=61)) is None


def test_a_tampered_token_or_one_under_another_key_is_refused() -> None:
    token = TOKENS.issue(CLAIMS)
    body, _, mac = token.partition(".")
    forged = TOKENS.issue(Claims(ACCOUNT, REGION, "mi-00000000000000002", SNAP, CLAIMS.created, CLAIMS.expires))
    assert TOKENS.read(f"{forged.partition('.')[0]}.{mac}", NOW) is None  # another node's claims, this MAC
    assert TOKENS.read(SnapshotTokens(b"j" * 32).issue(CLAIMS), NOW) is None
    for junk in ("", "abc", f"{body}.", f"{body}.{mac}x", "!!.!!"):
        assert TOKENS.read(junk, NOW) is None


def test_aws_run_patch_baseline_has_aws_parameters_and_openssms_linux_step() -> None:
    doc = BUILT_IN["AWS-RunPatchBaseline"]
    parsed = document_content.parse(doc.content, platform_types=doc.platform_types)
    assert parsed.schema_version == "2.2" and doc.platform_types == ("Windows", "Linux", "MacOS")
    params = {p.name: p for p in parsed.parameters}
    assert list(params) == ["Operation", "SnapshotId", "InstallOverrideList", "BaselineOverride", "RebootOption"]
    content = json.loads(doc.content)
    assert content["parameters"]["Operation"]["allowedValues"] == ["Scan", "Install"]
    assert "default" not in content["parameters"]["Operation"]  # required
    assert content["parameters"]["RebootOption"]["default"] == "RebootIfNeeded"
    [step] = content["mainSteps"]
    assert step["action"] == "aws:runPatchBaseline"
    assert step["precondition"] == {"StringEquals": ["platformType", "Linux"]}
    assert step["inputs"]["SnapshotId"] == "{{ SnapshotId }}" and len(step["inputs"]) == 5


def test_a_users_document_may_use_the_patch_step_with_its_inputs_only() -> None:
    def doc(inputs: dict[str, Any]) -> str:
        return json.dumps({"schemaVersion": "2.2", "description": "d", "mainSteps": [
            {"action": "aws:runPatchBaseline", "name": "patch", "inputs": inputs}]})

    assert document_content.parse(doc({"Operation": "Scan"})).platform_types == ("Linux",)
    with pytest.raises(InvalidDocumentContent, match="Unknown property"):
        document_content.parse(doc({"Operation": "Scan", "Kernel": "yes"}))
    with pytest.raises(InvalidDocumentContent, match="strings"):
        document_content.parse(doc({"Operation": ["Scan"]}))


def test_a_node_racing_another_to_freeze_the_same_snapshot_takes_the_one_frozen_first(
        conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    first = deploy(conn, "mi-00000000000000001", resolved(Description="first"))
    real = patch_snapshots._snapshot_row
    calls: list[int] = []

    def unlucky(c: Connection, key: Any) -> Any:  # the racer looked before the first node's insert landed
        calls.append(1)
        return None if len(calls) == 1 else real(c, key)

    monkeypatch.setattr(patch_snapshots, "_snapshot_row", unlucky)
    racer = deploy(conn, "mi-00000000000000002", resolved(Description="second"))
    assert racer.baseline["Description"] == "first" and racer.created_at == first.created_at
    assert len(calls) == 2
