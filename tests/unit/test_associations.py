"""Associations on the store: creating (checked as AWS checks), versions, describing, listing and deleting."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

import pytest

from openssm.services import association_executions as executions
from openssm.services import associations, documents
from openssm.services.association_model import (
    Association,
    AssociationAlreadyExists,
    AssociationDoesNotExist,
    AssociationLimitExceeded,
    AssociationSpec,
    AssociationVersionLimitExceeded,
    Execution,
    InvalidAssociationVersion,
    InvalidSchedule,
    InvalidTarget,
    InvalidUpdate,
    Target,
)
from openssm.services.document_parameters import InvalidParameters
from openssm.services.documents import InvalidDocument, InvalidDocumentVersion, NewDocument
from openssm.services.instances import InvalidInstanceId
from openssm.services.parameter_model import InvalidResourceId, Scope
from openssm.services.resource_tags import ResourceTagStore, TaggableResources
from tests.unit.test_associations_world import ACCOUNT, REGION, SCRIPT, World


@pytest.fixture
def world() -> World:
    return World()


def describe(world: World, association_id: str, version: str | None = None) -> Association:
    with world.db.read() as conn:
        return associations.describe(conn, ACCOUNT, REGION, association_id, version)


def listed(world: World, *filters: tuple[str, str]) -> list[str]:
    with world.db.read() as conn:
        return [a.association_id for a in associations.list_associations(conn, ACCOUNT, REGION, list(filters))]


def executions_of(world: World, association_id: str) -> list[Execution]:
    with world.db.read() as conn:
        return executions.executions(conn, association_id, [], 0, 50)[0]


def test_a_new_association_runs_at_once_on_the_nodes_its_targets_match(world: World) -> None:
    web, other = world.node(role="web"), world.node(role="db")
    run = world.create()
    assert run.execution_id is not None
    assert set(world.targets(run.execution_id)) == {web}
    a = describe(world, run.association_id)
    assert (a.version, a.spec.document_version, a.spec.compliance_severity, a.spec.sync_compliance) == (
        1, "$DEFAULT", "UNSPECIFIED", "AUTO")
    assert (a.overview.status, a.overview.detailed_status, dict(a.overview.counts)) == ("Pending", "Pending",
                                                                                        {"Pending": 1})
    assert other not in world.targets(run.execution_id)


def test_apply_only_at_cron_interval_waits_for_the_first_tick(world: World) -> None:
    world.node(role="web")
    run = world.create(schedule_expression="cron(0 2 ? * SUN *)", apply_only_at_cron_interval=True)
    assert run.execution_id is None and executions_of(world, run.association_id) == []
    a = describe(world, run.association_id)
    assert (a.overview.status, a.overview.detailed_status) == ("Pending", "Creating")


@pytest.mark.parametrize(("changes", "error", "words"), [
    ({"name": "No-Such-Document"}, InvalidDocument, "Document with name No-Such-Document does not exist."),
    ({"name": "AWS-StartSSHSession"}, InvalidDocument, "is a Session document"),
    ({"automation_target_parameter_name": "InstanceId"}, InvalidDocument, "only for Automation runbooks"),
    ({"document_version": "7"}, InvalidDocumentVersion, "not valid"),
    ({"parameters": {"commands": ("x",), "shell": ("zsh",)}}, InvalidParameters, "does not support parameters"),
    ({"parameters": {}}, InvalidParameters, "does not support parameters"),  # commands is required
    ({"schedule_expression": "rate(5 minutes)"}, InvalidSchedule, "rate(5 minutes)"),
    ({"targets": (Target("tag:role", ()),)}, InvalidTarget, "no values"),
    ({"targets": (), "instance_id": "mi-0123456789abcdef0"}, InvalidInstanceId, "mi-0123456789abcdef0"),
])
def test_bad_associations_are_refused_with_awss_codes(world: World, changes: dict[str, Any],
                                                      error: type[Exception], words: str) -> None:
    with pytest.raises(error) as raised:
        world.create(**changes)
    assert words in str(raised.value)
    assert listed(world) == []


def test_parameters_naming_parameter_store_are_checked_when_the_node_runs_them(world: World) -> None:
    run = world.create(parameters={"commands": ("{{ssm:/scripts/setup}}",), "executionTimeout": ("{{ssm:/t}}",)})
    assert describe(world, run.association_id).spec.parameters["commands"] == ("{{ssm:/scripts/setup}}",)


def test_a_legacy_association_is_one_per_document_and_node(world: World) -> None:
    node = world.node()
    legacy = replace(SCRIPT, targets=(), instance_id=node)
    first = world.create(legacy)
    assert first.execution_id is not None and set(world.targets(first.execution_id)) == {node}
    with pytest.raises(AssociationAlreadyExists):
        world.create(legacy)
    assert listed(world, ("InstanceId", node)) == [first.association_id]


def test_an_account_has_at_most_so_many_associations(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(associations, "MAX_ASSOCIATIONS", 2)
    world.create()
    world.create()
    with pytest.raises(AssociationLimitExceeded):
        world.create()


def update(world: World, association_id: str, spec: AssociationSpec, expected: str | None = None) -> None:
    with world.db.begin() as conn:
        associations.update(conn, ACCOUNT, REGION, association_id, spec, expected, world.now)


def test_updating_makes_a_new_version_and_runs_it(world: World) -> None:
    world.node(role="web")
    run = world.create()
    world.clock.advance(minutes=5)
    update(world, run.association_id, replace(SCRIPT, parameters={"commands": ("echo two",)},
                                              association_name="second"), expected="1")
    a = describe(world, run.association_id)
    assert (a.version, a.spec.association_name, a.updated_at) == (2, "second", world.now)
    assert describe(world, run.association_id, "1").spec.parameters == {"commands": ("echo hi",)}
    with world.db.read() as conn:
        assert [v.version for v in associations.versions(conn, ACCOUNT, REGION, run.association_id)] == [1, 2]
    assert [e.association_version for e in executions_of(world, run.association_id)] == [2, 1]


def test_an_update_naming_a_stale_version_is_refused(world: World) -> None:
    run = world.create()
    update(world, run.association_id, SCRIPT)
    with pytest.raises(InvalidAssociationVersion) as raised:
        update(world, run.association_id, SCRIPT, expected="1")
    assert "not the latest version (2)" in raised.value.message
    update(world, run.association_id, SCRIPT, expected="$LATEST")


def test_a_legacy_association_cannot_be_given_targets(world: World) -> None:
    node = world.node()
    run = world.create(replace(SCRIPT, targets=(), instance_id=node))
    with pytest.raises(InvalidUpdate):
        update(world, run.association_id, replace(SCRIPT, instance_id=node))


def test_an_association_has_at_most_so_many_versions(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(associations, "MAX_VERSIONS", 2)
    run = world.create()
    update(world, run.association_id, SCRIPT)
    with pytest.raises(AssociationVersionLimitExceeded):
        update(world, run.association_id, SCRIPT)


def test_an_unknown_association_or_version_is_refused(world: World) -> None:
    with pytest.raises(AssociationDoesNotExist) as raised:
        describe(world, "00000000-0000-4000-8000-000000000000")
    assert raised.value.message == "The specified association doesn't exist."
    run = world.create()
    with pytest.raises(InvalidAssociationVersion):
        describe(world, run.association_id, "9")


def test_deleting_removes_the_association_its_runs_and_its_node_statuses(world: World) -> None:
    world.node(role="web")
    run = world.create()
    with world.db.begin() as conn:
        associations.delete(conn, ACCOUNT, REGION, run.association_id)
    with pytest.raises(AssociationDoesNotExist):
        describe(world, run.association_id)
    assert run.execution_id is not None and world.targets(run.execution_id) == {}
    with pytest.raises(AssociationDoesNotExist), world.db.begin() as conn:
        associations.delete(conn, ACCOUNT, REGION, run.association_id)


def test_listing_filters_as_aws_does(world: World) -> None:
    node = world.node(role="web")
    named = world.create(association_name="web-setup")
    world.clock.advance(seconds=1)
    other = world.create(replace(SCRIPT, name="AWS-RunPowerShellScript"))
    world.report(node, named.association_id, "Success")
    assert listed(world) == [named.association_id, other.association_id]
    assert listed(world, ("AssociationName", "web-setup")) == [named.association_id]
    assert listed(world, ("Name", "AWS-RunPowerShellScript")) == [other.association_id]
    assert listed(world, ("AssociationStatusName", "Success")) == [named.association_id]
    assert listed(world, ("AssociationStatusName", "Pending")) == [other.association_id]
    assert listed(world, ("InstanceId", node)) == []  # Targets are not legacy InstanceIds, as at AWS
    before = (world.now + dt.timedelta(minutes=1)).isoformat()
    assert listed(world, ("LastExecutedBefore", before)) == [named.association_id]
    assert listed(world, ("LastExecutedAfter", before)) == []
    assert listed(world, ("ResourceGroupName", "g")) == []


def test_associations_run_the_callers_own_documents_at_the_version_asked(world: World) -> None:
    node = world.node(role="web")
    content = {"schemaVersion": "2.2", "description": "d", "mainSteps": [
        {"action": "aws:runShellScript", "name": "touch", "inputs": {"runCommand": ["touch /tmp/x"]}}]}
    with world.db.begin() as conn:
        scope = Scope(ACCOUNT, REGION, "arn:aws:iam::111122223333:user/a", world.now)
        documents.create(conn, scope, NewDocument("Team-Touch", json.dumps(content)))
    run = world.create(AssociationSpec("Team-Touch", document_version="$LATEST", targets=SCRIPT.targets))
    assert run.execution_id is not None and set(world.targets(run.execution_id)) == {node}


def test_associations_are_taggable_by_id_once_registered_for_resource_type_association(world: World) -> None:
    run = world.create()
    tagging = TaggableResources(ResourceTagStore(), {"Association": associations.AssociationTagTarget()})
    scope = Scope(ACCOUNT, REGION, "arn:aws:iam::111122223333:user/a", world.now)
    with world.db.begin() as conn:
        tagging.add(conn, scope, "Association", run.association_id, {"team": "ops"})
        assert tagging.tags(conn, scope, "Association", run.association_id) == {"team": "ops"}
        assert tagging.arn(scope, "Association", run.association_id) == (
            f"arn:aws:ssm:{REGION}:{ACCOUNT}:association/{run.association_id}")
        with pytest.raises(InvalidResourceId):
            tagging.add(conn, scope, "Association", "00000000-0000-4000-8000-000000000000", {"team": "ops"})
