"""Access keys and the credential resolver on the in-memory store: key formats, the two-key quota, sealed
secrets, and resolutions cached until an IAM write or the TTL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select

from openssm.iam import access_keys, entities, users
from openssm.iam.entities import EntityKind
from openssm.iam.errors import LimitExceeded, NoSuchEntity
from openssm.iam.ports import ResolvedCredential
from openssm.iam.principals import Caller, PrincipalType
from openssm.store.tables.iam import iam_access_keys
from openssm.types import AccountId, Arn
from tests.unit.iam_fixtures import ACCOUNT, Iam

USER = EntityKind.USER


@pytest.fixture
def iam() -> Iam:
    return Iam()


def _user_with_key(iam: Iam, name: str = "bob", user_tags: dict[str, str] | None = None) -> tuple[str, str]:
    with iam.write() as conn:
        user = users.create_user(conn, ACCOUNT, name, "/", iam.clock.now(), user_tags=user_tags)
        key, secret = access_keys.create_key(conn, iam.box, user, iam.clock.now())
    return key.access_key_id, secret


def test_access_keys_have_aws_formats_and_the_secret_is_sealed_at_rest(iam: Iam) -> None:
    key_id, secret = _user_with_key(iam)
    with iam.read() as conn:
        sealed = conn.execute(select(iam_access_keys.c.secret_sealed)).scalar_one()
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", key_id)
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", secret)
    assert secret.encode() not in sealed


def test_a_user_may_hold_two_keys_and_no_more(iam: Iam) -> None:
    _user_with_key(iam)
    with iam.write() as conn:
        bob = entities.get(conn, ACCOUNT, USER, "bob")
        access_keys.create_key(conn, iam.box, bob, iam.clock.now())
        with pytest.raises(LimitExceeded, match=r"^Cannot exceed quota for AccessKeysPerUser: 2$"):
            access_keys.create_key(conn, iam.box, bob, iam.clock.now())


def test_a_key_is_managed_only_through_its_own_user(iam: Iam) -> None:
    key_id, _ = _user_with_key(iam)
    _user_with_key(iam, "alice")
    with iam.write() as conn:
        alice = entities.get(conn, ACCOUNT, USER, "alice")
        with pytest.raises(NoSuchEntity, match=f"^The Access Key with id {key_id} cannot be found.$"):
            access_keys.set_status(conn, alice, key_id, False)
        with pytest.raises(NoSuchEntity):
            access_keys.delete_key(conn, alice, key_id)


def test_a_user_key_resolves_to_the_user_with_its_id_and_tags(iam: Iam) -> None:
    key_id, secret = _user_with_key(iam, user_tags={"team": "blue"})
    resolved = iam.service.credentials.resolve(key_id)
    assert resolved is not None and resolved.active
    caller = resolved.caller
    assert resolved.secret_access_key == secret and resolved.session_token is None
    assert caller.principal_type is PrincipalType.USER and caller.name == "bob"
    assert caller.arn == f"arn:aws:iam::{ACCOUNT}:user/bob" and caller.user_id.startswith("AIDA")
    assert caller.account_id == ACCOUNT and caller.access_key_id == key_id
    assert dict(caller.tags) == {"team": "blue"}


def test_an_unknown_key_resolves_to_nothing(iam: Iam) -> None:
    assert iam.service.credentials.resolve("AKIAAAAAAAAAAAAAAAAA") is None


def test_an_inactive_key_resolves_but_is_marked_inactive(iam: Iam) -> None:
    key_id, _ = _user_with_key(iam)
    with iam.write() as conn:
        access_keys.set_status(conn, entities.get(conn, ACCOUNT, USER, "bob"), key_id, False)
    resolved = iam.service.credentials.resolve(key_id)
    assert resolved is not None and not resolved.active


def test_resolutions_are_cached_so_hot_keys_skip_the_database(iam: Iam) -> None:
    key_id, _ = _user_with_key(iam)
    assert iam.service.credentials.resolve(key_id) is not None
    with iam.db.begin() as conn:  # behind IAM's back: no invalidation
        conn.execute(delete(iam_access_keys))
    assert iam.service.credentials.resolve(key_id) is not None


def test_an_iam_write_in_this_process_drops_cached_credentials_at_once(iam: Iam) -> None:
    key_id, _ = _user_with_key(iam)
    assert iam.service.credentials.resolve(key_id) is not None
    with iam.write() as conn:
        access_keys.delete_key(conn, entities.get(conn, ACCOUNT, USER, "bob"), key_id)
    assert iam.service.credentials.resolve(key_id) is None


def test_a_cached_resolution_expires_after_its_ttl(iam: Iam, monkeypatch: pytest.MonkeyPatch) -> None:
    key_id, _ = _user_with_key(iam)
    now = [1000.0]
    monkeypatch.setattr("openssm.iam.credentials.time.monotonic", lambda: now[0])
    assert iam.service.credentials.resolve(key_id) is not None
    with iam.db.begin() as conn:
        conn.execute(delete(iam_access_keys))
    now[0] += 2.5
    assert iam.service.credentials.resolve(key_id) is None


def test_temporary_keys_are_handed_to_the_session_resolver(iam: Iam) -> None:
    caller = Caller(AccountId(ACCOUNT), Arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"), PrincipalType.ASSUMED_ROLE,
                    "AROAEXAMPLE:s", "s")
    asked: list[str] = []

    def sessions(_conn: object, _box: object, key: str) -> ResolvedCredential | None:
        asked.append(key)
        return ResolvedCredential("secret", caller, session_token="token")

    iam.service.credentials.session_resolver = sessions
    resolved = iam.service.credentials.resolve("ASIAEXAMPLEEXAMPLE00")
    assert resolved is not None and resolved.caller == caller and asked == ["ASIAEXAMPLEEXAMPLE00"]
    assert iam.service.credentials.resolve("AKIAEXAMPLEEXAMPLE00") is None and len(asked) == 1
