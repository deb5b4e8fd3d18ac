"""IAM roles and instance profiles on the in-memory store: trust policies, session duration, the delete
rules, and the one role an instance profile may carry."""

from __future__ import annotations

import json

import pytest

from openssm.iam import bindings, entities, instance_profiles, roles, tags
from openssm.iam.entities import EntityKind
from openssm.iam.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from openssm.iam.policy import MalformedPolicyDocument
from openssm.iam.roles import NewRole
from tests.unit.iam_fixtures import ACCOUNT, Iam, allow, policy

ROLE = EntityKind.ROLE
TRUST = policy({"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"})
CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


@pytest.fixture
def iam() -> Iam:
    return Iam()


def test_a_role_keeps_its_trust_policy_description_duration_and_tags(iam: Iam) -> None:
    spec = NewRole("ssm-role", TRUST, "/service-role/", "for SSM", 7200, tags={"env": "prod"})
    with iam.write() as conn:
        role = roles.create_role(conn, ACCOUNT, spec, iam.clock.now())
        found = tags.tags_of(conn, ACCOUNT, "role", "ssm-role")
    assert role.entity_id.startswith("AROA") and len(role.entity_id) == 21
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/service-role/ssm-role"
    assert (role.trust_policy, role.description, role.max_session_duration) == (TRUST, "for SSM", 7200)
    assert found == {"env": "prod"}


def test_a_role_without_a_duration_gets_one_hour(iam: Iam) -> None:
    with iam.write() as conn:
        role = roles.create_role(conn, ACCOUNT, NewRole("r", TRUST), iam.clock.now())
    assert role.max_session_duration == 3600


def test_a_trust_policy_without_a_principal_is_malformed(iam: Iam) -> None:
    no_principal = allow("sts:AssumeRole")
    with iam.write() as conn, pytest.raises(MalformedPolicyDocument):
        roles.create_role(conn, ACCOUNT, NewRole("r", no_principal), iam.clock.now())


def test_a_trust_policy_over_the_role_quota_is_refused(iam: Iam) -> None:
    principals = [f"arn:aws:iam::{ACCOUNT}:user/user-{i:04d}" for i in range(60)]
    big = policy({"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"})
    with iam.write() as conn, pytest.raises(LimitExceeded, match="ACLSizePerRole: 2048"):
        roles.create_role(conn, ACCOUNT, NewRole("r", big), iam.clock.now())


def test_a_duplicate_role_name_is_refused_with_aws_message(iam: Iam) -> None:
    with iam.write() as conn:
        roles.create_role(conn, ACCOUNT, NewRole("r", TRUST), iam.clock.now())
        with pytest.raises(EntityAlreadyExists, match=r"^Role with name R already exists\.$"):
            roles.create_role(conn, ACCOUNT, NewRole("R", TRUST), iam.clock.now())


def test_updating_a_role_changes_only_what_is_given(iam: Iam) -> None:
    with iam.write() as conn:
        roles.create_role(conn, ACCOUNT, NewRole("r", TRUST, description="old"), iam.clock.now())
        longer = roles.update_role(conn, ACCOUNT, "r", max_session_duration=43200)
        described = roles.update_role(conn, ACCOUNT, "r", description="new")
    assert (longer.description, longer.max_session_duration) == ("old", 43200)
    assert (described.description, described.max_session_duration) == ("new", 43200)


def test_update_assume_role_policy_replaces_the_trust_policy_after_checking_it(iam: Iam) -> None:
    other = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "sts:AssumeRole"})
    with iam.write() as conn:
        roles.create_role(conn, ACCOUNT, NewRole("r", TRUST), iam.clock.now())
        with pytest.raises(MalformedPolicyDocument):
            roles.update_trust_policy(conn, ACCOUNT, "r", json.dumps({"Version": "2012-10-17"}))
        updated = roles.update_trust_policy(conn, ACCOUNT, "r", other)
    assert updated.trust_policy == other


@pytest.mark.parametrize(("setup", "message"), [
    ("profile", "Cannot delete entity, must remove roles from instance profile first."),
    ("attached", "Cannot delete entity, must detach all policies first."),
    ("inline", "Cannot delete entity, must delete policies first."),
])
def test_deleting_a_role_that_is_still_in_use_is_a_conflict(iam: Iam, setup: str, message: str) -> None:
    with iam.write() as conn:
        role = roles.create_role(conn, ACCOUNT, NewRole("r", TRUST), iam.clock.now())
        if setup == "profile":
            instance_profiles.create_profile(conn, ACCOUNT, "p", "/", iam.clock.now())
            instance_profiles.add_role(conn, ACCOUNT, "p", "r")
        elif setup == "attached":
            bindings.attach(conn, role, CORE)
        else:
            bindings.put_inline(conn, role, "inline", allow("ssm:*"))
        with pytest.raises(DeleteConflict) as err:
            roles.delete_role(conn, ACCOUNT, "r")
    assert err.value.message == message


def test_a_deleted_role_is_gone_with_its_tags(iam: Iam) -> None:
    with iam.write() as conn:
        roles.create_role(conn, ACCOUNT, NewRole("r", TRUST, tags={"a": "b"}), iam.clock.now())
        roles.delete_role(conn, ACCOUNT, "r")
        assert entities.find(conn, ACCOUNT, ROLE, "r") is None
        assert tags.tags_of(conn, ACCOUNT, "role", "r") == {}


def test_an_instance_profile_carries_at_most_one_role(iam: Iam) -> None:
    with iam.write() as conn:
        profile = instance_profiles.create_profile(conn, ACCOUNT, "p", "/", iam.clock.now(), {"k": "v"})
        roles.create_role(conn, ACCOUNT, NewRole("r1", TRUST), iam.clock.now())
        roles.create_role(conn, ACCOUNT, NewRole("r2", TRUST), iam.clock.now())
        instance_profiles.add_role(conn, ACCOUNT, "p", "r1")
        with pytest.raises(LimitExceeded, match="InstanceSessionsPerInstanceProfile: 1"):
            instance_profiles.add_role(conn, ACCOUNT, "p", "r2")
        carried = [r.name for r in instance_profiles.roles_of(conn, profile)]
        holders = [p.name for p in instance_profiles.profiles_for_role(conn, ACCOUNT, "r1")]
    assert profile.entity_id.startswith("AIPA")
    assert profile.arn == f"arn:aws:iam::{ACCOUNT}:instance-profile/p"
    assert carried == ["r1"] and holders == ["p"]


def test_an_instance_profile_with_a_role_cannot_be_deleted_until_the_role_is_removed(iam: Iam) -> None:
    with iam.write() as conn:
        instance_profiles.create_profile(conn, ACCOUNT, "p", "/", iam.clock.now())
        roles.create_role(conn, ACCOUNT, NewRole("r", TRUST), iam.clock.now())
        instance_profiles.add_role(conn, ACCOUNT, "p", "r")
        with pytest.raises(DeleteConflict, match="must remove roles from instance profile first"):
            instance_profiles.delete_profile(conn, ACCOUNT, "p")
        instance_profiles.remove_role(conn, ACCOUNT, "p", "r")
        instance_profiles.delete_profile(conn, ACCOUNT, "p")
        assert entities.find(conn, ACCOUNT, EntityKind.INSTANCE_PROFILE, "p") is None


def test_instance_profile_errors_use_aws_wording(iam: Iam) -> None:
    with iam.write() as conn:
        with pytest.raises(NoSuchEntity, match=r"^Instance Profile nope cannot be found\.$"):
            instance_profiles.delete_profile(conn, ACCOUNT, "nope")
        instance_profiles.create_profile(conn, ACCOUNT, "p", "/", iam.clock.now())
        with pytest.raises(EntityAlreadyExists, match=r"^Instance Profile p already exists\.$"):
            instance_profiles.create_profile(conn, ACCOUNT, "p", "/", iam.clock.now())
        roles.create_role(conn, ACCOUNT, NewRole("r", TRUST), iam.clock.now())
        with pytest.raises(NoSuchEntity, match="The role with name r cannot be found in instance profile p."):
            instance_profiles.remove_role(conn, ACCOUNT, "p", "r")
