"""IAM users and groups on the in-memory store: ids, ARNs, renames that carry everything along, and the
order in which AWS refuses to delete an entity that still owns something."""

from __future__ import annotations

import re

import pytest

from openssm.iam import access_keys, bindings, entities, groups, tags, users
from openssm.iam.entities import EntityKind
from openssm.iam.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, NoSuchEntity
from tests.unit.iam_fixtures import ACCOUNT, Iam, allow

USER, GROUP = EntityKind.USER, EntityKind.GROUP
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.fixture
def iam() -> Iam:
    return Iam()


def test_a_new_user_gets_an_aida_id_and_an_arn_with_its_path(iam: Iam) -> None:
    with iam.write() as conn:
        bob = users.create_user(conn, ACCOUNT, "bob", "/eng/", iam.clock.now(), user_tags={"team": "blue"})
        found = tags.tags_of(conn, ACCOUNT, "user", "bob")
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", bob.entity_id)
    assert bob.arn == f"arn:aws:iam::{ACCOUNT}:user/eng/bob"
    assert bob.created_at == iam.clock.now()
    assert found == {"team": "blue"}


def test_user_names_are_unique_ignoring_case_with_aws_message(iam: Iam) -> None:
    with iam.write() as conn:
        users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        with pytest.raises(EntityAlreadyExists, match=r"^User with name BOB already exists\.$"):
            users.create_user(conn, ACCOUNT, "BOB", "/", iam.clock.now())


def test_the_same_name_may_exist_in_another_account(iam: Iam) -> None:
    with iam.write() as conn:
        users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        other = users.create_user(conn, "210987654321", "bob", "/", iam.clock.now())
    assert other.arn == "arn:aws:iam::210987654321:user/bob"


def test_a_missing_user_is_reported_with_aws_wording(iam: Iam) -> None:
    with iam.read() as conn, pytest.raises(NoSuchEntity) as err:
        entities.get(conn, ACCOUNT, USER, "nobody")
    assert err.value.message == "The user with name nobody cannot be found."
    assert err.value.status == 404


def test_a_path_must_begin_and_end_with_a_slash(iam: Iam) -> None:
    with iam.write() as conn, pytest.raises(InvalidInput):
        users.create_user(conn, ACCOUNT, "bob", "/eng", iam.clock.now())


def test_a_boundary_must_name_an_existing_policy(iam: Iam) -> None:
    with iam.write() as conn:
        with pytest.raises(NoSuchEntity, match="does not exist or is not attachable"):
            users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now(),
                              boundary_arn=f"arn:aws:iam::{ACCOUNT}:policy/missing")
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now(), boundary_arn=READ_ONLY)
    assert bob.boundary_arn == READ_ONLY


def test_renaming_a_user_keeps_its_id_and_carries_keys_tags_policies_and_groups(iam: Iam) -> None:
    with iam.write() as conn:
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now(), user_tags={"k": "v"})
        groups.create_group(conn, ACCOUNT, "devs", "/", iam.clock.now())
        users.add_to_group(conn, ACCOUNT, "devs", "bob")
        bindings.attach(conn, bob, READ_ONLY)
        bindings.put_inline(conn, bob, "inline", allow("ssm:GetParameter"))
        key, _ = access_keys.create_key(conn, iam.box, bob, iam.clock.now())
        robert = users.update_user(conn, ACCOUNT, "bob", new_name="robert", new_path="/ops/")
    with iam.read() as conn:
        assert entities.find(conn, ACCOUNT, USER, "bob") is None
        assert robert.entity_id == bob.entity_id
        assert robert.arn == f"arn:aws:iam::{ACCOUNT}:user/ops/robert"
        assert tags.tags_of(conn, ACCOUNT, "user", "robert") == {"k": "v"}
        assert bindings.attached(conn, robert) == [READ_ONLY]
        assert list(bindings.inline(conn, robert)) == ["inline"]
        assert [g.name for g in users.groups_of(conn, robert)] == ["devs"]
        assert [k.access_key_id for k in access_keys.keys_of(conn, robert)] == [key.access_key_id]


def test_renaming_onto_an_existing_user_fails(iam: Iam) -> None:
    with iam.write() as conn:
        users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        users.create_user(conn, ACCOUNT, "alice", "/", iam.clock.now())
        with pytest.raises(EntityAlreadyExists, match="User with name Alice already exists"):
            users.update_user(conn, ACCOUNT, "bob", new_name="Alice")


def test_changing_only_the_case_of_a_name_is_a_rename(iam: Iam) -> None:
    with iam.write() as conn:
        users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        renamed = users.update_user(conn, ACCOUNT, "bob", new_name="Bob")
    assert renamed.name == "Bob" and renamed.arn.endswith(":user/Bob")


@pytest.mark.parametrize(("setup", "message"), [
    ("key", "Cannot delete entity, must delete access keys first."),
    ("group", "Cannot delete entity, must remove user from all groups first."),
    ("attached", "Cannot delete entity, must detach all policies first."),
    ("inline", "Cannot delete entity, must delete policies first."),
])
def test_deleting_a_user_that_still_owns_something_is_a_conflict(iam: Iam, setup: str, message: str) -> None:
    with iam.write() as conn:
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        if setup == "key":
            access_keys.create_key(conn, iam.box, bob, iam.clock.now())
        elif setup == "group":
            groups.create_group(conn, ACCOUNT, "devs", "/", iam.clock.now())
            users.add_to_group(conn, ACCOUNT, "devs", "bob")
        elif setup == "attached":
            bindings.attach(conn, bob, READ_ONLY)
        else:
            bindings.put_inline(conn, bob, "p", allow("ssm:*"))
        with pytest.raises(DeleteConflict) as err:
            users.delete_user(conn, ACCOUNT, "bob")
    assert err.value.message == message and err.value.status == 409


def test_deleting_a_user_drops_its_tags_so_a_new_user_of_that_name_starts_clean(iam: Iam) -> None:
    with iam.write() as conn:
        users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now(), user_tags={"k": "v"})
        users.delete_user(conn, ACCOUNT, "bob")
        users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        assert tags.tags_of(conn, ACCOUNT, "user", "bob") == {}


def test_a_group_with_members_or_policies_cannot_be_deleted(iam: Iam) -> None:
    with iam.write() as conn:
        devs = groups.create_group(conn, ACCOUNT, "devs", "/", iam.clock.now())
        users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        users.add_to_group(conn, ACCOUNT, "devs", "bob")
        with pytest.raises(DeleteConflict, match="must remove users from group first"):
            groups.delete_group(conn, ACCOUNT, "devs")
        users.remove_from_group(conn, ACCOUNT, "devs", "bob")
        bindings.attach(conn, devs, READ_ONLY)
        with pytest.raises(DeleteConflict, match="must detach all policies first"):
            groups.delete_group(conn, ACCOUNT, "devs")
        bindings.detach(conn, devs, READ_ONLY)
        groups.delete_group(conn, ACCOUNT, "devs")
        assert entities.find(conn, ACCOUNT, GROUP, "devs") is None


def test_a_group_id_starts_with_agpa_and_a_renamed_group_keeps_its_members(iam: Iam) -> None:
    with iam.write() as conn:
        devs = groups.create_group(conn, ACCOUNT, "devs", "/", iam.clock.now())
        users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        users.add_to_group(conn, ACCOUNT, "devs", "bob")
        renamed = groups.update_group(conn, ACCOUNT, "devs", new_name="builders", new_path="/eng/")
        members = [u.name for u in groups.members(conn, renamed)]
    assert devs.entity_id.startswith("AGPA") and renamed.entity_id == devs.entity_id
    assert renamed.arn == f"arn:aws:iam::{ACCOUNT}:group/eng/builders"
    assert members == ["bob"]


def test_removing_a_user_that_is_not_in_the_group_is_no_such_entity(iam: Iam) -> None:
    with iam.write() as conn:
        groups.create_group(conn, ACCOUNT, "devs", "/", iam.clock.now())
        users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        with pytest.raises(NoSuchEntity, match="The user with name bob cannot be found in group devs."):
            users.remove_from_group(conn, ACCOUNT, "devs", "bob")


def test_adding_a_user_twice_to_a_group_is_harmless(iam: Iam) -> None:
    with iam.write() as conn:
        groups.create_group(conn, ACCOUNT, "devs", "/", iam.clock.now())
        bob = users.create_user(conn, ACCOUNT, "bob", "/", iam.clock.now())
        users.add_to_group(conn, ACCOUNT, "devs", "bob")
        users.add_to_group(conn, ACCOUNT, "DEVS", "BOB")
        assert [g.name for g in users.groups_of(conn, bob)] == ["devs"]


def test_listing_filters_by_path_prefix_and_sorts_by_name(iam: Iam) -> None:
    with iam.write() as conn:
        for name, path in (("carol", "/eng/"), ("alice", "/eng/team/"), ("bob", "/ops/")):
            users.create_user(conn, ACCOUNT, name, path, iam.clock.now())
        assert [u.name for u in entities.list_entities(conn, ACCOUNT, USER, "/eng/")] == ["alice", "carol"]
        assert [u.name for u in entities.list_entities(conn, ACCOUNT, USER)] == ["alice", "bob", "carol"]


def test_paging_hands_out_a_marker_until_the_list_is_done() -> None:
    items = list(range(5))
    first, marker = entities.page(items, None, 2)
    second, marker2 = entities.page(items, marker, 2)
    third, end = entities.page(items, marker2, 2)
    assert (first, second, third, end) == ([0, 1], [2, 3], [4], None)
