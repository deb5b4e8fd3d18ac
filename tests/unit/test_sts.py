"""STS's rules on the in-memory store with a fake clock: trust policies, AWS's same- and cross-account
rules, session tags, session policies, durations, source identity, and expiry of the credentials."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest
from sqlalchemy import select

from openssm.api.auth import Authenticated, Authenticator, IncomingRequest
from openssm.errors import AccessDenied, AuthFailure, ValidationError
from openssm.iam import sts
from openssm.iam.policy import MalformedPolicyDocument
from openssm.iam.principals import Caller, PrincipalType, root_caller
from openssm.iam.session_tags import InvalidParameterValue
from openssm.iam.sts import AssumedRole, AssumeRoleRequest, PackedPolicyTooLarge
from openssm.store.tables.sts import sts_sessions
from tests.support.server import Credentials
from tests.support.signing import query_request, sign
from tests.unit.identity_world import ACCOUNT, OTHER_ACCOUNT, World, allow, policy, trust


@pytest.fixture
def world() -> World:
    return World()


def assume(world: World, caller: Caller, role_arn: str, **kw: object) -> AssumedRole:
    req = AssumeRoleRequest(role_arn=role_arn, session_name=str(kw.pop("session_name", "sess")), **kw)
    with world.iam.write() as conn:
        return sts.assume_role(conn, world.box, world.authorizer, world.facts(caller), req)


def user_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def test_a_user_named_by_the_trust_policy_gets_a_role_session(world: World) -> None:
    alice = world.user("alice")
    role = world.role("builder", trust(user_arn("alice")))
    assumed = assume(world, alice, role.arn, session_name="build-42")
    assert assumed.credentials.access_key_id.startswith("ASIA") and len(assumed.credentials.access_key_id) == 20
    assert len(assumed.credentials.session_token) >= 100
    assert assumed.credentials.expiration == world.clock.now() + dt.timedelta(hours=1)
    assert assumed.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/builder/build-42"
    assert assumed.assumed_role_id == f"{role.entity_id}:build-42" and role.entity_id.startswith("AROA")
    assert assumed.packed_policy_size is None


def test_the_session_resolves_to_the_assumed_role_with_its_secret_sealed_at_rest(world: World) -> None:
    alice = world.user("alice")
    role = world.role("reader", trust(user_arn("alice")), allow("ssm:*"))
    assumed = assume(world, alice, role.arn, session_name="s1")
    with world.db.read() as conn:
        row = conn.execute(select(sts_sessions)).one()
    assert assumed.credentials.secret_access_key.encode() not in row.secret_sealed
    assert assumed.credentials.session_token.encode() not in row.token_sealed
    resolved = world.iam.credentials.resolve(assumed.credentials.access_key_id)
    assert resolved is not None and resolved.session_token == assumed.credentials.session_token
    assert resolved.secret_access_key == assumed.credentials.secret_access_key
    assert resolved.expires_at == assumed.credentials.expiration
    caller = resolved.caller
    assert (caller.principal_type, caller.arn, caller.role_arn) == (PrincipalType.ASSUMED_ROLE, assumed.arn, role.arn)
    assert caller.user_id == assumed.assumed_role_id and caller.account_id == ACCOUNT


def test_a_trust_policy_that_does_not_name_the_caller_is_access_denied_in_aws_words(world: World) -> None:
    mallory = world.user("mallory", allow("sts:AssumeRole"))
    role = world.role("private", trust(user_arn("alice")))
    with pytest.raises(AccessDenied) as err:
        assume(world, mallory, role.arn)
    assert err.value.message == (f"User: {mallory.arn} is not authorized to perform: sts:AssumeRole on resource: "
                                 f"{role.arn}")


def test_a_missing_role_is_access_denied_not_no_such_entity(world: World) -> None:
    alice = world.user("alice", allow("sts:AssumeRole"))
    missing = f"arn:aws:iam::{ACCOUNT}:role/nope"
    with pytest.raises(AccessDenied, match="sts:AssumeRole on resource: " + missing):
        assume(world, alice, missing)
    with pytest.raises(ValidationError, match="not-an-arn-at-all-really is invalid"):
        assume(world, alice, "not-an-arn-at-all-really")


def test_roles_may_not_be_assumed_by_root(world: World) -> None:
    role = world.role("anyone", trust(f"arn:aws:iam::{ACCOUNT}:root"))
    with pytest.raises(AccessDenied, match="^Roles may not be assumed by root accounts.$"):
        assume(world, root_caller(ACCOUNT), role.arn)


def test_a_trust_naming_only_the_account_needs_the_callers_own_permission(world: World) -> None:
    role = world.role("shared", trust(f"arn:aws:iam::{ACCOUNT}:root"))
    without = world.user("without", allow("ssm:*"))
    with pytest.raises(AccessDenied, match="because no identity-based policy allows the sts:AssumeRole action"):
        assume(world, without, role.arn)
    with_permission = world.user("with", allow("sts:AssumeRole", role.arn))
    assert assume(world, with_permission, role.arn).arn.endswith("assumed-role/shared/sess")


def test_across_accounts_the_caller_needs_its_own_permission_even_when_named(world: World) -> None:
    role = world.role("cross", trust(user_arn("alice", OTHER_ACCOUNT)), account=ACCOUNT)
    alice = world.user("alice", allow("ssm:*"), account=OTHER_ACCOUNT)
    with pytest.raises(AccessDenied):
        assume(world, alice, role.arn)
    bob_role = world.role("cross-bob", trust(user_arn("bob", OTHER_ACCOUNT)), account=ACCOUNT)
    bob = world.user("bob", allow("sts:AssumeRole"), account=OTHER_ACCOUNT)
    assumed = assume(world, bob, bob_role.arn)
    assert assumed.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/cross-bob/sess"
    assert world.session_caller(assumed.credentials.access_key_id).account_id == ACCOUNT


def test_an_explicit_deny_in_the_trust_policy_wins(world: World) -> None:
    alice = world.user("alice")
    denying = policy({"Effect": "Allow", "Principal": {"AWS": user_arn("alice")}, "Action": "sts:AssumeRole"},
                     {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
    role = world.role("locked", denying)
    with pytest.raises(AccessDenied):
        assume(world, alice, role.arn)


def test_an_external_id_condition_is_checked_against_sts_external_id(world: World) -> None:
    alice = world.user("alice")
    role = world.role("vendor", trust(user_arn("alice"), Condition={"StringEquals": {"sts:ExternalId": "x-123"}}))
    with pytest.raises(AccessDenied):
        assume(world, alice, role.arn)
    with pytest.raises(AccessDenied):
        assume(world, alice, role.arn, external_id="wrong")
    assert assume(world, alice, role.arn, external_id="x-123")


def test_session_tags_need_sts_tag_session_in_the_trust_policy(world: World) -> None:
    alice = world.user("alice")
    role = world.role("untaggable", trust(user_arn("alice")))
    with pytest.raises(AccessDenied, match="sts:TagSession on resource"):
        assume(world, alice, role.arn, tags=(("team", "blue"),))


def test_session_tags_override_role_tags_case_insensitively_and_feed_principal_tag(world: World) -> None:
    alice = world.user("alice")
    role = world.role("abac", trust(user_arn("alice"), ["sts:AssumeRole", "sts:TagSession"]),
                      allow("ssm:GetParameter", "arn:aws:ssm:*:*:parameter/${aws:PrincipalTag/team}/*"),
                      role_tags={"Team": "red", "cost": "42"})
    assumed = assume(world, alice, role.arn, tags=(("team", "blue"),))
    caller = world.session_caller(assumed.credentials.access_key_id)
    assert caller.tags == {"cost": "42", "team": "blue"}
    assert world.allowed(caller, "ssm:GetParameter", "arn:aws:ssm:us-east-1:111111111111:parameter/blue/key")
    assert not world.allowed(caller, "ssm:GetParameter", "arn:aws:ssm:us-east-1:111111111111:parameter/red/key")
    assert assumed.packed_policy_size is not None


def test_session_tag_rules_follow_sts(world: World) -> None:
    alice = world.user("alice")
    role = world.role("tags", trust(user_arn("alice"), ["sts:AssumeRole", "sts:TagSession"]))
    with pytest.raises(InvalidParameterValue, match="Tag keys are case insensitive"):
        assume(world, alice, role.arn, tags=(("Team", "a"), ("team", "b")))
    with pytest.raises(InvalidParameterValue, match="must be included in the requested tags"):
        assume(world, alice, role.arn, tags=(("team", "a"),), transitive_keys=("project",))


def test_transitive_tags_pass_down_a_role_chain_and_cannot_be_overridden(world: World) -> None:
    alice = world.user("alice")
    first = world.role("first", trust(user_arn("alice"), ["sts:AssumeRole", "sts:TagSession"]), allow("sts:*"))
    second = world.role("second", trust(first.arn, ["sts:AssumeRole", "sts:TagSession"]))
    hop1 = assume(world, alice, first.arn, tags=(("project", "apollo"), ("team", "blue")), transitive_keys=("project",))
    session1 = world.session_caller(hop1.credentials.access_key_id)
    with pytest.raises(InvalidParameterValue, match="conflicts with a transitive tag key from the calling session"):
        assume(world, session1, second.arn, tags=(("Project", "gemini"),))
    hop2 = assume(world, session1, second.arn)
    session2 = world.session_caller(hop2.credentials.access_key_id)
    assert session2.tags == {"project": "apollo"}
    assert session2.transitive_tag_keys == ("project",)


def test_a_chained_session_may_last_at_most_one_hour(world: World) -> None:
    alice = world.user("alice")
    first = world.role("long", trust(user_arn("alice")), allow("sts:AssumeRole"), max_duration=43200)
    second = world.role("next", trust(first.arn), max_duration=43200)
    hop1 = assume(world, alice, first.arn, duration_seconds=43200)
    assert hop1.credentials.expiration == world.clock.now() + dt.timedelta(hours=12)
    session1 = world.session_caller(hop1.credentials.access_key_id)
    with pytest.raises(ValidationError, match="1 hour session limit for roles assumed by role chaining"):
        assume(world, session1, second.arn, duration_seconds=7200)
    assert assume(world, session1, second.arn, duration_seconds=3600)


def test_duration_cannot_exceed_the_roles_max_session_duration(world: World) -> None:
    alice = world.user("alice")
    role = world.role("short", trust(user_arn("alice")), max_duration=3600)
    with pytest.raises(ValidationError) as err:
        assume(world, alice, role.arn, duration_seconds=3601)
    assert err.value.message == "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    assert assume(world, alice, role.arn, duration_seconds=900).credentials.expiration == (
        world.clock.now() + dt.timedelta(seconds=900))


def test_a_session_policy_limits_the_session_to_the_intersection(world: World) -> None:
    alice = world.user("alice")
    role = world.role("wide", trust(user_arn("alice")), allow(["ssm:*", "iam:ListUsers"]))
    narrow = allow(["ssm:DescribeParameters", "kms:Decrypt"])
    assumed = assume(world, alice, role.arn, policy=narrow)
    caller = world.session_caller(assumed.credentials.access_key_id)
    assert caller.session_policies == (narrow,)
    assert world.allowed(caller, "ssm:DescribeParameters")
    assert not world.allowed(caller, "ssm:GetParameter")  # the role allows it, the session policy does not
    assert not world.allowed(caller, "kms:Decrypt")  # the session policy allows it, the role does not
    assert assumed.packed_policy_size == len("".join(narrow.split())) * 100 // 2048


def test_a_malformed_or_oversized_session_policy_is_refused(world: World) -> None:
    alice = world.user("alice")
    role = world.role("r", trust(user_arn("alice"), ["sts:AssumeRole", "sts:TagSession"]))
    with pytest.raises(MalformedPolicyDocument):
        assume(world, alice, role.arn, policy='{"Statement": "nope"}')
    big_tags = tuple((f"k{i}", "v" * 60) for i in range(40))
    with pytest.raises(PackedPolicyTooLarge, match=r"^Packed policy consumes \d+% of allotted space"):
        assume(world, alice, role.arn, policy=allow("ssm:GetParameter"), tags=big_tags)


def test_source_identity_needs_permission_and_persists_down_the_chain(world: World) -> None:
    alice = world.user("alice")
    plain = world.role("plain", trust(user_arn("alice")))
    with pytest.raises(AccessDenied, match="sts:SetSourceIdentity"):
        assume(world, alice, plain.arn, source_identity="alice@example.com")
    first = world.role("first", trust(user_arn("alice"), ["sts:AssumeRole", "sts:SetSourceIdentity"]),
                       allow("sts:AssumeRole"))
    second = world.role("second", trust(first.arn, ["sts:AssumeRole", "sts:SetSourceIdentity"],
                                        Condition={"StringEquals": {"sts:SourceIdentity": "alice@example.com"}}))
    hop1 = assume(world, alice, first.arn, source_identity="alice@example.com")
    assert hop1.source_identity == "alice@example.com"
    session1 = world.session_caller(hop1.credentials.access_key_id)
    assert session1.source_identity == "alice@example.com"
    with pytest.raises(AccessDenied, match="sts:SetSourceIdentity"):
        assume(world, session1, second.arn, source_identity="mallory")
    hop2 = assume(world, session1, second.arn)
    assert world.session_caller(hop2.credentials.access_key_id).source_identity == "alice@example.com"


def test_get_session_token_gives_a_user_its_own_permissions_for_twelve_hours_by_default(world: World) -> None:
    alice = world.user("alice", allow("ssm:*"), user_tags={"team": "blue"})
    with world.iam.write() as conn:
        creds = sts.get_session_token(conn, world.box, world.facts(alice), None)
    assert creds.expiration == world.clock.now() + dt.timedelta(hours=12)
    caller = world.session_caller(creds.access_key_id)
    assert (caller.principal_type, caller.arn, caller.tags) == (PrincipalType.USER, alice.arn, {"team": "blue"})
    assert world.allowed(caller, "ssm:GetParameter")
    with world.iam.write() as conn, pytest.raises(AccessDenied, match="with session credentials"):
        sts.get_session_token(conn, world.box, world.facts(caller), 900)


def test_the_roots_session_tokens_last_at_most_an_hour(world: World) -> None:
    with world.iam.write() as conn:
        creds = sts.get_session_token(conn, world.box, world.facts(root_caller(ACCOUNT)), 129600)
    assert creds.expiration == world.clock.now() + dt.timedelta(hours=1)


def authenticate(world: World, creds: Credentials) -> Authenticated:
    """A GetCallerIdentity request signed with `creds` at the fake clock's time, through SigV4 verification."""
    now = world.clock.now()
    signed = sign(query_request("http://localhost", "Action=GetCallerIdentity&Version=2011-06-15"), creds, "sts",
                  "us-east-1", when=now).prepare()
    url = urllib.parse.urlsplit(signed.url)
    headers = {"host": url.netloc, **{k.lower(): v for k, v in signed.headers.items()}}
    incoming = IncomingRequest(signed.method, url.path, url.query, headers, signed.body)
    authenticator = Authenticator(world.iam.credentials)
    return authenticator.authenticate(incoming, authenticator.signature_scope(incoming), "query", now, "sts")


def test_session_credentials_work_until_they_expire_then_answer_expired_token(world: World) -> None:
    alice = world.user("alice")
    role = world.role("brief", trust(user_arn("alice")))
    issued = assume(world, alice, role.arn, duration_seconds=900).credentials
    creds = Credentials(issued.access_key_id, issued.secret_access_key, issued.session_token)
    assert authenticate(world, creds).caller.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/brief/sess"
    world.clock.advance(seconds=899)
    assert authenticate(world, creds).caller.principal_type is PrincipalType.ASSUMED_ROLE
    world.clock.advance(seconds=1)
    with pytest.raises(AuthFailure) as err:
        authenticate(world, creds)
    assert (err.value.code, err.value.status, err.value.message) == (
        "ExpiredToken", 403, "The security token included in the request is expired")
    with pytest.raises(AuthFailure) as err:
        authenticate(world, Credentials(issued.access_key_id, issued.secret_access_key, "forged" * 30))
    assert err.value.code == "InvalidClientTokenId"  # a forged token is unknown, expired or not


def test_sessions_expired_for_a_week_are_dropped_when_new_ones_are_issued(world: World) -> None:
    alice = world.user("alice")
    role = world.role("r", trust(user_arn("alice")))
    old = assume(world, alice, role.arn, duration_seconds=900).credentials
    world.clock.advance(days=7, seconds=901)
    assume(world, alice, role.arn)
    world.iam.invalidate()
    assert world.iam.credentials.resolve(old.access_key_id) is None
