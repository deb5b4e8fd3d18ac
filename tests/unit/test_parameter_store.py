"""Parameter Store on the in-memory store with a fake clock: versions and their limit, selectors, labels,
expiration, SecureString through KMS, paths, filters and pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from openssm.clock import FakeClock
from openssm.errors import AccessDenied, ValidationError
from openssm.services.kms import KmsService
from openssm.services.kms_model import InvalidCiphertext, Key
from openssm.services.parameter_model import (
    InvalidKeyId,
    InvalidNextToken,
    InvalidResourceId,
    ParameterAlreadyExists,
    ParameterMaxVersionLimitExceeded,
    ParameterNotFound,
    ParameterType,
    ParameterVersionLabelLimitExceeded,
    ParameterVersionNotFound,
    Scope,
    Tier,
)
from openssm.services.parameter_queries import Filter
from openssm.services.parameters import ParameterService, PutRequest
from openssm.services.resource_tags import TaggableResources
from openssm.store.db import open_database
from openssm.store.secrets import SecretBox

ACCOUNT, REGION = "123456789012", "us-east-1"
STRING, SECURE = ParameterType.STRING, ParameterType.SECURE_STRING


@dataclass
class Store:
    db: Any = field(default_factory=lambda: open_database("sqlite://"))
    clock: FakeClock = field(default_factory=FakeClock)

    def __post_init__(self) -> None:
        self.kms = KmsService(self.db, SecretBox(b"m" * 32))
        self.params = ParameterService(self.db, self.kms)

    def scope(self, account: str = ACCOUNT) -> Scope:
        return Scope(account, REGION, f"arn:aws:iam::{account}:user/alice", self.clock.now())

    def put(self, name: str, value: str, kind: ParameterType | None = STRING, **kw: Any) -> int:
        with self.db.begin() as conn:
            return self.params.put(conn, self.scope(), PutRequest(name, value, kind, **kw)).version

    def get(self, name: str, decrypt: bool = False, **kw: Any) -> str:
        with self.db.read() as conn:
            return self.params.get(conn, self.scope(), name, decrypt, **kw).value

    def call(self, method: str, *args: Any) -> Any:
        with self.db.begin() as conn:
            return getattr(self.params, method)(conn, self.scope(), *args)


@pytest.fixture
def store() -> Store:
    return Store()


def test_overwrite_makes_a_new_version_and_without_it_the_name_is_taken(store: Store) -> None:
    assert store.put("/app/db", "one") == 1
    with pytest.raises(ParameterAlreadyExists):
        store.put("/app/db", "two")
    assert store.put("/app/db", "two", None, overwrite=True) == 2
    assert store.get("/app/db") == "two"
    assert store.get("/app/db:1") == "one"
    assert store.get(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db:1") == "one"


def test_a_new_parameter_needs_a_type_and_keeps_it_on_overwrite(store: Store) -> None:
    with pytest.raises(ValidationError) as err:
        store.put("/typeless", "x", None)
    assert err.value.message == "A parameter type is required when you create a parameter."
    store.put("/list", "a,b", ParameterType.STRING_LIST)
    store.put("/list", "c", None, overwrite=True)
    with store.db.read() as conn:
        assert store.params.get(conn, store.scope(), "/list", False).version.type is ParameterType.STRING_LIST


def test_tags_and_overwrite_cannot_be_used_together(store: Store) -> None:
    with pytest.raises(ValidationError) as err:
        store.put("/t", "x", overwrite=True, tags={"a": "b"})
    assert err.value.message.startswith("Invalid request: tags and overwrite can't be used together.")


def test_a_root_level_name_with_and_without_its_slash_is_one_parameter_shown_as_asked(store: Store) -> None:
    store.put("/flat", "v")
    with pytest.raises(ParameterAlreadyExists):
        store.put("flat", "w")
    with store.db.read() as conn:
        assert store.params.get(conn, store.scope(), "flat", False).version.name == "flat"
        assert store.params.get(conn, store.scope(), "/flat", False).version.name == "/flat"


def test_the_101st_version_drops_the_oldest_unless_a_label_holds_it(store: Store) -> None:
    store.put("/many", "0")
    for i in range(1, 100):
        store.put("/many", str(i), None, overwrite=True)
    assert store.put("/many", "100", None, overwrite=True) == 101
    history, _ = store.call("history", "/many", False, lambda *a: None, None, 50)
    assert history[0].version.version == 2
    with pytest.raises(ParameterVersionNotFound):
        store.get("/many:1")
    store.call("label", "/many", 2, ["keep"])
    with pytest.raises(ParameterMaxVersionLimitExceeded) as err:
        store.put("/many", "x", None, overwrite=True)
    assert err.value.message == (
        "You attempted to create a new version of /many by calling the PutParameter API with the overwrite flag. "
        "Version 2, the oldest version, can't be deleted because it has a label associated with it. Move the label "
        "to another version of the parameter, and try again.")


def test_labels_select_versions_move_between_them_and_are_limited_to_ten(store: Store) -> None:
    store.put("/l", "v1")
    store.put("/l", "v2", None, overwrite=True)
    assert store.call("label", "/l", 1, ["prod", "1bad", "awsx", "ssm-y"]) == (1, ["1bad", "awsx", "ssm-y"])
    assert store.get("/l:prod") == "v1"
    assert store.call("label", "/l", None, ["prod"]) == (2, [])
    assert store.get("/l:prod") == "v2"
    history, _ = store.call("history", "/l", False, lambda *a: None, None, 50)
    assert [h.version.labels for h in history] == [(), ("prod",)]
    assert store.call("unlabel", "/l", 2, ["prod", "none"]) == (["prod"], ["none"])
    with pytest.raises(ParameterVersionNotFound):
        store.get("/l:prod")
    with pytest.raises(ParameterVersionNotFound):
        store.call("label", "/l", 9, ["x"])
    store.call("label", "/l", 1, [f"l{i}" for i in range(10)])
    with pytest.raises(ParameterVersionLabelLimitExceeded):
        store.call("label", "/l", 1, ["eleventh"])


def test_selectors_that_match_nothing_raise_the_matching_errors(store: Store) -> None:
    with pytest.raises(ParameterNotFound) as err:
        store.get("/nothing")
    assert err.value.message == ""
    store.put("/s", "x")
    with pytest.raises(ParameterVersionNotFound) as version_err:
        store.get("/s:7")
    assert version_err.value.message == ("Systems Manager could not find version 7 of /s. Verify the version and try "
                                         "again.")
    with pytest.raises(ParameterNotFound):
        store.get("/nothing:1")


def test_an_expired_parameter_is_gone_from_every_read_and_its_name_is_free_again(store: Store) -> None:
    policy = json.dumps([{"Type": "Expiration", "Version": "1.0",
                          "Attributes": {"Timestamp": "2026-01-01T01:00:00.000Z"}}])
    store.put("/temp/x", "v", tier=Tier.ADVANCED, policies=policy)
    store.put("/temp/x", "w", None, overwrite=True)
    assert store.get("/temp/x") == "w"
    store.clock.advance(hours=2)
    with pytest.raises(ParameterNotFound):
        store.get("/temp/x")
    with store.db.read() as conn:
        assert store.params.describe(conn, store.scope(), [], None, 10).items == []
    with pytest.raises(ParameterNotFound):
        store.call("delete", "/temp/x")
    assert store.put("/temp/x", "again") == 1


def test_policies_need_the_advanced_tier_and_intelligent_tiering_chooses_it(store: Store) -> None:
    policy = json.dumps([{"Type": "NoChangeNotification", "Attributes": {"After": "30", "Unit": "Days"}}])
    with pytest.raises(ValidationError):
        store.put("/p", "v", policies=policy)
    with store.db.begin() as conn:
        stored = store.params.put(conn, store.scope(), PutRequest("/p", "v", STRING, tier=Tier.INTELLIGENT,
                                                                  policies=policy))
    assert stored.tier is Tier.ADVANCED
    with store.db.begin() as conn:
        assert store.params.put(conn, store.scope(), PutRequest("/p", "w", overwrite=True)).policies is not None
        assert store.params.put(conn, store.scope(), PutRequest("/p", "w", overwrite=True,
                                                                policies="[]")).policies is None


class Recorder:
    """A KeyAccess that records what was asked, and refuses when told to."""

    def __init__(self, refuse: bool = False) -> None:
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.refuse = refuse

    def __call__(self, action: str, key: Key, context: Mapping[str, str]) -> None:
        self.calls.append((action, key.key_manager.value, dict(context)))
        if self.refuse:
            raise AccessDenied(f"not authorized to perform: {action}")


def test_a_secure_string_is_stored_encrypted_under_its_arn_and_decrypted_with_kms_permission(store: Store) -> None:
    access = Recorder()
    with store.db.begin() as conn:
        stored = store.params.put(conn, store.scope(), PutRequest("/s/pw", "hunter2", SECURE), access)
    assert "hunter2" not in stored.value and stored.key_id == "alias/aws/ssm"
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/s/pw"
    assert access.calls == [("kms:Encrypt", "AWS", {"PARAMETER_ARN": arn})]
    assert store.get("/s/pw") == stored.value
    assert store.get("/s/pw", decrypt=True, access=access) == "hunter2"
    assert access.calls[-1] == ("kms:Decrypt", "AWS", {"PARAMETER_ARN": arn})
    with pytest.raises(AccessDenied):
        store.get("/s/pw", decrypt=True, access=Recorder(refuse=True))
    with store.db.begin() as conn:
        key = store.kms.resolve(conn, ACCOUNT, REGION, "alias/aws/ssm", store.clock.now())
        elsewhere = {"PARAMETER_ARN": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/other"}
        with pytest.raises(InvalidCiphertext):
            store.kms.decrypt(conn, key, base64.b64decode(stored.value), elsewhere)


def test_a_secure_string_with_a_customer_key_keeps_the_key_across_versions(store: Store) -> None:
    with store.db.begin() as conn:
        key = store.kms.create_key(conn, ACCOUNT, REGION, store.clock.now())
    store.put("/c", "one", SECURE, key_id=key.arn)
    store.put("/c", "two", None, overwrite=True)
    with store.db.read() as conn:
        got = store.params.get(conn, store.scope(), "/c", True)
    assert (got.value, got.version.key_id) == ("two", key.arn)
    with pytest.raises(InvalidKeyId) as err:
        store.put("/d", "x", SECURE, key_id="alias/none")
    assert err.value.message.startswith(f"Alias arn:aws:kms:{REGION}:{ACCOUNT}:alias/none is not found.")
    with pytest.raises(ValidationError):
        store.put("/e", "x", STRING, key_id=key.arn)
    with store.db.begin() as conn:
        store.kms.set_enabled(conn, key, False)
    with pytest.raises(InvalidKeyId) as err:
        store.get("/c", decrypt=True)
    assert "is disabled." in err.value.message


def test_get_many_reports_what_it_cannot_find(store: Store) -> None:
    store.put("/m/a", "a")
    with store.db.read() as conn:
        found, invalid = store.params.get_many(conn, store.scope(), ["/m/a", "/m/a", "/m/none", "/m/a:9"], False)
    assert [p.value for p in found] == ["a"] and invalid == ["/m/none", "/m/a:9"]


def test_delete_many_reports_deleted_and_invalid_names(store: Store) -> None:
    store.put("/d/a", "a")
    assert store.call("delete_many", ["/d/a", "/d/b"]) == (["/d/a"], ["/d/b"])
    with pytest.raises(ParameterNotFound):
        store.call("delete", "/d/a")


def test_by_path_pages_one_level_or_recursively_and_filters_by_type_and_label(store: Store) -> None:
    for i in range(12):
        store.put(f"/app/k{i:02d}", str(i))
    store.put("/app/deep/s", "secret", SECURE)
    store.put("/apple/x", "not under /app")
    store.call("label", "/app/k03", None, ["prod"])

    def by_path(path: str, recursive: bool, filters: list[Filter], token: str | None = None) -> Any:
        with store.db.read() as conn:
            return store.params.by_path(conn, store.scope(), path, recursive, filters, True, lambda *a: None, token,
                                        10)

    first, token = by_path("/app", False, [])
    rest, last = by_path("/app", False, [], token)
    assert [p.version.name for p in first + rest] == [f"/app/k{i:02d}" for i in range(12)] and last is None
    found, _ = by_path("/app/", True, [Filter("Type", None, ("SecureString",))])
    assert [(p.version.name, p.value) for p in found] == [("/app/deep/s", "secret")]
    found, _ = by_path("/", True, [Filter("Label", None, ("prod",))])
    assert [p.version.name for p in found] == ["/app/k03"]
    with pytest.raises(InvalidNextToken):
        by_path("/app", False, [], "%%%")


def test_describe_filters_by_tag_and_name_and_pages(store: Store) -> None:
    store.put("/q/one", "1", tags={"team": "blue"})
    store.put("/q/two", "2", ParameterType.STRING_LIST)
    store.put("/q/three", "3")

    def describe(filters: list[Filter], token: str | None = None, size: int = 10) -> Any:
        with store.db.read() as conn:
            return store.params.describe(conn, store.scope(), filters, token, size)

    assert [p.name for p in describe([Filter("tag:team", None, ("blue",))]).items] == ["/q/one"]
    assert [p.name for p in describe([Filter("Type", None, ("StringList",))]).items] == ["/q/two"]
    page = describe([Filter("Path", None, ("/q",))], size=2)
    assert [p.name for p in page.items] == ["/q/one", "/q/three"]
    assert [p.name for p in describe([Filter("Path", None, ("/q",))], page.next_token, 2).items] == ["/q/two"]


def test_tags_go_with_the_parameter_and_any_resource_type_is_dispatched(store: Store) -> None:
    tagging = TaggableResources(store.params.tags, {"Parameter": store.params})
    store.put("/tagged", "v", tags={"a": "1"})
    with store.db.begin() as conn:
        tagging.add(conn, store.scope(), "Parameter", "/tagged", {"b": "2"})
        tagging.remove(conn, store.scope(), "Parameter", "/tagged", ["a"])
        assert tagging.tags(conn, store.scope(), "Parameter", "/tagged") == {"b": "2"}
        with pytest.raises(InvalidResourceId):
            tagging.tags(conn, store.scope(), "Parameter", "/none")
    store.call("delete", "/tagged")
    store.put("/tagged", "again")
    with store.db.read() as conn:
        assert tagging.tags(conn, store.scope(), "Parameter", "/tagged") == {}


def test_accounts_do_not_see_each_others_parameters(store: Store) -> None:
    store.put("/mine", "v")
    with store.db.read() as conn, pytest.raises(ParameterNotFound):
        store.params.get(conn, store.scope("210987654321"), "/mine", False)
