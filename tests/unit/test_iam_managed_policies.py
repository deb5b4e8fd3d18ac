"""Managed policies on the in-memory store: customer policies with at most five versions, AWS's own
bundled policies (read-only, attachable), attachments, inline policies and their quotas."""

from __future__ import annotations

import json
import re

import pytest

from openssm.iam import bindings, managed_policies, users
from openssm.iam.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from openssm.iam.policy import MalformedPolicyDocument, PolicyKind, parse_policy
from tests.unit.iam_fixtures import ACCOUNT, Iam, allow

AWS = "arn:aws:iam::aws:policy/"
REQUIRED = ("AmazonSSMManagedInstanceCore", "AmazonSSMManagedEC2InstanceDefaultPolicy", "AmazonSSMFullAccess",
            "AmazonSSMReadOnlyAccess", "AdministratorAccess", "ReadOnlyAccess", "IAMFullAccess", "IAMReadOnlyAccess")


@pytest.fixture
def iam() -> Iam:
    return Iam()


def _create(iam: Iam, name: str = "p", document: str | None = None, path: str = "/") -> str:
    with iam.write() as conn:
        created = managed_policies.create_policy(conn, ACCOUNT, name, path, document or allow("ssm:GetParameter"),
                                                 "desc", iam.clock.now())
    return created.arn


def test_a_new_policy_has_an_anpa_id_and_version_one_as_default(iam: Iam) -> None:
    arn = _create(iam, "reader", path="/team/")
    with iam.read() as conn:
        created = managed_policies.get_policy(conn, arn)
        versions = managed_policies.versions(conn, arn)
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/team/reader"
    assert re.fullmatch(r"ANPA[A-Z0-9]{17}", created.policy_id)
    assert created.default_version == "v1" and created.attachment_count == 0
    assert [(v.version_id, v.is_default) for v in versions] == [("v1", True)]


def test_policy_names_are_unique_in_an_account_with_aws_message(iam: Iam) -> None:
    _create(iam, "p")
    with pytest.raises(EntityAlreadyExists, match=r"^A policy called P already exists\. Duplicate names are not "):
        _create(iam, "P", path="/other/")


def test_a_malformed_document_is_refused(iam: Iam) -> None:
    with pytest.raises(MalformedPolicyDocument):
        _create(iam, "bad", json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}))


def test_a_document_over_6144_characters_without_white_space_is_refused(iam: Iam) -> None:
    big = allow([f"ssm:GetParameter{i:05d}" for i in range(320)])
    with pytest.raises(LimitExceeded, match="PolicySize: 6144"):
        _create(iam, "big", big)


def test_a_sixth_version_is_refused_until_one_is_deleted(iam: Iam) -> None:
    arn = _create(iam)
    with iam.write() as conn:
        for _ in range(4):
            managed_policies.create_version(conn, arn, allow("ssm:*"), False, iam.clock.now())
        with pytest.raises(LimitExceeded, match="A managed policy can have up to 5 versions"):
            managed_policies.create_version(conn, arn, allow("ssm:*"), False, iam.clock.now())
        managed_policies.delete_version(conn, arn, "v2")
        sixth = managed_policies.create_version(conn, arn, allow("ssm:*"), True, iam.clock.now())
        default = managed_policies.get_policy(conn, arn).default_version
    # Version ids are never reused, as at AWS.
    assert sixth.version_id == "v6" and default == "v6"


def test_the_default_version_cannot_be_deleted_and_can_be_moved(iam: Iam) -> None:
    arn = _create(iam)
    with iam.write() as conn:
        managed_policies.create_version(conn, arn, allow("ssm:*"), False, iam.clock.now())
        with pytest.raises(DeleteConflict, match="Cannot delete the default version of a policy."):
            managed_policies.delete_version(conn, arn, "v1")
        managed_policies.set_default_version(conn, arn, "v2", iam.clock.now())
        managed_policies.delete_version(conn, arn, "v1")
        assert managed_policies.default_document(conn, arn) == allow("ssm:*")


def test_a_missing_version_is_no_such_entity(iam: Iam) -> None:
    arn = _create(iam)
    with iam.write() as conn, pytest.raises(NoSuchEntity, match=f"Policy {arn} version v9 does not exist"):
        managed_policies.set_default_version(conn, arn, "v9", iam.clock.now())


def test_an_attached_policy_or_one_with_several_versions_cannot_be_deleted(iam: Iam) -> None:
    arn = _create(iam)
    with iam.write() as conn:
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        bindings.attach(conn, bob, arn)
        with pytest.raises(DeleteConflict, match="Cannot delete a policy attached to entities."):
            managed_policies.delete_policy(conn, arn)
        bindings.detach(conn, bob, arn)
        managed_policies.create_version(conn, arn, allow("ssm:*"), False, iam.clock.now())
        with pytest.raises(DeleteConflict, match="more than one version"):
            managed_policies.delete_policy(conn, arn)
        managed_policies.delete_version(conn, arn, "v2")
        managed_policies.delete_policy(conn, arn)
        assert managed_policies.find_policy(conn, arn) is None


def test_the_required_aws_managed_policies_are_bundled_with_their_published_versions(iam: Iam) -> None:
    with iam.read() as conn:
        bundled = {p.name: p for p in managed_policies.list_policies(conn, ACCOUNT, "AWS")}
        core = managed_policies.get_version(conn, AWS + "AmazonSSMManagedInstanceCore", "v2")
    assert set(REQUIRED) <= set(bundled)
    assert bundled["AmazonSSMManagedInstanceCore"].default_version == "v2"
    assert bundled["AmazonSSMAutomationRole"].arn == AWS + "service-role/AmazonSSMAutomationRole"
    assert core.is_default and "ssm:UpdateInstanceInformation" in core.document


def test_every_bundled_document_parses_and_read_only_access_reads_ssm_but_never_writes(iam: Iam) -> None:
    with iam.read() as conn:
        docs = {p.name: managed_policies.default_document(conn, p.arn)
                for p in managed_policies.list_policies(conn, ACCOUNT, "AWS")}
    parsed = {name: parse_policy(text or "", PolicyKind.IDENTITY) for name, text in docs.items()}
    read_only = json.loads(docs["ReadOnlyAccess"] or "")
    actions = {a for s in read_only["Statement"] for a in s.get("Action", [])}
    assert parsed["AdministratorAccess"].statements
    assert {"ssm:Get*", "iam:Get*", "kms:Describe*"} <= actions
    assert not any(a.startswith("ssm:Put") for a in actions)


def test_aws_managed_policies_cannot_be_changed_or_deleted(iam: Iam) -> None:
    with iam.write() as conn:
        for change in (lambda: managed_policies.delete_policy(conn, AWS + "ReadOnlyAccess"),
                       lambda: managed_policies.create_version(conn, AWS + "ReadOnlyAccess", allow("*"), True,
                                                               iam.clock.now())):
            with pytest.raises(InvalidInput, match="is an AWS managed policy"):
                change()


def test_list_policies_scopes_only_attached_and_path_prefix(iam: Iam) -> None:
    local = _create(iam, "local", path="/team/")
    with iam.write() as conn:
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        bindings.attach(conn, bob, AWS + "ReadOnlyAccess")
        only_local = [p.arn for p in managed_policies.list_policies(conn, ACCOUNT, "Local")]
        attached = [p.arn for p in managed_policies.list_policies(conn, ACCOUNT, "All", only_attached=True)]
        under_team = [p.arn for p in managed_policies.list_policies(conn, ACCOUNT, "All", path_prefix="/team/")]
        in_other_account = managed_policies.get_policy(conn, AWS + "ReadOnlyAccess", "210987654321")
    assert only_local == [local]
    assert attached == [AWS + "ReadOnlyAccess"]
    assert under_team == [local]
    assert in_other_account.attachment_count == 0


def test_an_entity_takes_at_most_ten_managed_policies(iam: Iam) -> None:
    arns = [_create(iam, f"p{i}") for i in range(11)]
    with iam.write() as conn:
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        for arn in arns[:10]:
            bindings.attach(conn, bob, arn)
        with pytest.raises(LimitExceeded, match="Cannot exceed quota for PoliciesPerUser: 10"):
            bindings.attach(conn, bob, arns[10])


def test_attaching_a_missing_policy_or_detaching_an_unattached_one_is_no_such_entity(iam: Iam) -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:policy/missing"
    with iam.write() as conn:
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        with pytest.raises(NoSuchEntity, match=f"^Policy {missing} does not exist or is not attachable.$"):
            bindings.attach(conn, bob, missing)
        with pytest.raises(NoSuchEntity, match="was not found"):
            bindings.detach(conn, bob, AWS + "ReadOnlyAccess")


def test_inline_policies_are_replaced_by_name_and_share_the_users_2048_quota(iam: Iam) -> None:
    half = allow([f"ssm:GetParameter{i:03d}" for i in range(45)])
    with iam.write() as conn:
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        bindings.put_inline(conn, bob, "a", half)
        bindings.put_inline(conn, bob, "a", half)
        with pytest.raises(LimitExceeded, match="Maximum policy size of 2048 bytes exceeded for user bob"):
            bindings.put_inline(conn, bob, "b", half)
        with pytest.raises(NoSuchEntity, match="The user policy with name b cannot be found."):
            bindings.get_inline(conn, bob, "b")
        assert list(bindings.inline(conn, bob)) == ["a"]
