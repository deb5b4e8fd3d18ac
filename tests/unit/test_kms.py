"""KMS on the in-memory store with a fake clock: finding keys by every name, key states, aliases, tags,
the ciphertext format and the encryption context."""

from __future__ import annotations

import json
import struct
import uuid
from typing import Any

import pytest

from openssm.clock import FakeClock
from openssm.errors import ValidationError
from openssm.services import kms_aliases, kms_ciphertext, kms_tags
from openssm.services.kms import KmsService, data_key_size
from openssm.services.kms_model import (
    AlreadyExists,
    Disabled,
    IncorrectKey,
    InvalidCiphertext,
    InvalidState,
    Key,
    KeyManager,
    KeyState,
    MalformedPolicyDocument,
    NotAuthorized,
    NotFound,
    TagError,
)
from openssm.store.db import open_database
from openssm.store.secrets import SecretBox
from openssm.store.tables.kms import kms_keys

ACCOUNT, REGION = "123456789012", "us-east-1"


class World:
    def __init__(self) -> None:
        self.db = open_database("sqlite://")
        self.clock = FakeClock()
        self.kms = KmsService(self.db, SecretBox(b"k" * 32))

    def key(self, **kw: Any) -> Key:
        with self.db.begin() as conn:
            return self.kms.create_key(conn, ACCOUNT, REGION, self.clock.now(), **kw)

    def find(self, ref: str, region: str = REGION) -> Key:
        with self.db.read() as conn:
            return self.kms.resolve_existing(conn, ACCOUNT, region, ref, self.clock.now())


@pytest.fixture
def world() -> World:
    return World()


def test_a_key_is_found_by_id_arn_alias_and_alias_arn(world: World) -> None:
    key = world.key(description="app")
    with world.db.begin() as conn:
        kms_aliases.create_alias(conn, "alias/app", key, world.clock.now())
    for ref in (key.key_id, key.arn, "alias/app", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/app"):
        assert world.find(ref).key_id == key.key_id
    assert key.arn == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key.key_id}"
    assert (key.state, key.key_manager, key.description) == (KeyState.ENABLED, KeyManager.CUSTOMER, "app")
    policy = json.loads(key.policy)
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


@pytest.mark.parametrize(("ref", "message"), [
    ("not-a-uuid", "Invalid keyId 'not-a-uuid'"),
    ("2b5e1c8a-1111-4222-8333-444455556666",
     f"Key 'arn:aws:kms:{REGION}:{ACCOUNT}:key/2b5e1c8a-1111-4222-8333-444455556666' does not exist"),
    ("alias/none", f"Alias arn:aws:kms:{REGION}:{ACCOUNT}:alias/none is not found."),
    (f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/2b5e1c8a-1111-4222-8333-444455556666", "Invalid arn eu-west-1"),
])
def test_unknown_keys_are_not_found_with_kms_wording(world: World, ref: str, message: str) -> None:
    with pytest.raises(NotFound) as err:
        world.find(ref)
    assert err.value.message == message


def test_alias_aws_ssm_is_created_on_first_use_as_an_aws_managed_key(world: World) -> None:
    with world.db.read() as conn:
        assert world.kms.find(conn, ACCOUNT, REGION, "alias/aws/ssm", world.clock.now()) is None
    with world.db.begin() as conn:
        key = world.kms.resolve(conn, ACCOUNT, REGION, "alias/aws/ssm", world.clock.now())
        again = world.kms.resolve(conn, ACCOUNT, REGION, "alias/aws/ssm", world.clock.now())
    assert key.key_id == again.key_id and key.key_manager is KeyManager.AWS
    statement = json.loads(key.policy)["Statement"][0]
    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == f"ssm.{REGION}.amazonaws.com"


def test_encryption_needs_the_same_context_and_an_untampered_blob(world: World) -> None:
    key = world.key()
    context = {"PARAMETER_ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/x", "b": "2"}
    with world.db.read() as conn:
        blob = world.kms.encrypt(conn, key, b"secret", context)
        assert blob[:3] == b"OSK" and blob[3] == 2 and uuid.UUID(bytes=blob[4:20]) == uuid.UUID(key.key_id)
        assert world.kms.decrypt(conn, key, blob, dict(reversed(list(context.items())))) == b"secret"
        for other in ({}, {"PARAMETER_ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/y", "b": "2"}):
            with pytest.raises(InvalidCiphertext):
                world.kms.decrypt(conn, key, blob, other)
        tampered = blob[:-1] + bytes([blob[-1] ^ 1])
        with pytest.raises(InvalidCiphertext):
            world.kms.decrypt(conn, key, tampered, context)
        with pytest.raises(InvalidCiphertext):
            world.kms.key_of_ciphertext(conn, ACCOUNT, REGION, b"not a blob at all, just bytes", world.clock.now())
        assert world.kms.key_of_ciphertext(conn, ACCOUNT, REGION, blob, world.clock.now()).key_id == key.key_id
        with pytest.raises(InvalidCiphertext):
            world.kms.key_of_ciphertext(conn, "210987654321", REGION, blob, world.clock.now())


def test_a_changed_header_fails_authentication(world: World) -> None:
    key = world.key()
    with world.db.read() as conn:
        blob = world.kms.encrypt(conn, key, b"x", None)
        version_bumped = blob[:20] + struct.pack(">I", 1) + blob[24:]
        assert version_bumped == blob
        with pytest.raises(InvalidCiphertext):
            world.kms.decrypt(conn, key, blob[:20] + struct.pack(">I", 2) + blob[24:], None)


def test_decrypt_with_another_key_named_is_an_incorrect_key(world: World) -> None:
    key, other = world.key(), world.key()
    with world.db.read() as conn:
        blob = world.kms.encrypt(conn, key, b"x", None)
        with pytest.raises(IncorrectKey):
            world.kms.decrypt(conn, key, blob, None, expected=other)


def test_blobs_of_the_first_format_are_still_read(world: World) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = world.key()
    with world.db.read() as conn:
        sealed = conn.execute(kms_keys.select().where(kms_keys.c.key_id == key.key_id)).one().material_sealed
        material = SecretBox(b"k" * 32).open(sealed, key.key_id.encode())
    nonce = b"\x01" * 12
    legacy = b"OSK1" + key.key_id.encode() + nonce + AESGCM(material).encrypt(
        nonce, b"old", kms_ciphertext.canonical_context({"a": "1"}))
    with world.db.read() as conn:
        found = world.kms.key_of_ciphertext(conn, ACCOUNT, REGION, legacy, world.clock.now())
        assert world.kms.decrypt(conn, found, legacy, {"a": "1"}) == b"old"


def test_a_disabled_key_refuses_cryptography_until_enabled(world: World) -> None:
    key = world.key()
    with world.db.begin() as conn:
        blob = world.kms.encrypt(conn, key, b"x", None)
        disabled = world.kms.set_enabled(conn, key, False)
        with pytest.raises(Disabled) as err:
            world.kms.encrypt(conn, disabled, b"x", None)
        assert err.value.message == f"{key.arn} is disabled."
        enabled = world.kms.set_enabled(conn, disabled, True)
        assert world.kms.decrypt(conn, enabled, blob, None) == b"x"


def test_scheduled_deletion_waits_7_to_30_days_can_be_cancelled_and_then_removes_the_key(world: World) -> None:
    key = world.key()
    with world.db.begin() as conn:
        with pytest.raises(ValidationError) as err:
            world.kms.schedule_deletion(conn, key, 3, world.clock.now())
        assert err.value.message == "PendingWindowInDays should be between 7 and 30, but it is 3"
        pending = world.kms.schedule_deletion(conn, key, 7, world.clock.now())
        assert pending.state is KeyState.PENDING_DELETION
        with pytest.raises(InvalidState) as state_err:
            world.kms.encrypt(conn, pending, b"x", None)
        assert state_err.value.message == f"{key.arn} is pending deletion."
        assert world.kms.cancel_deletion(conn, pending).state is KeyState.DISABLED
        with pytest.raises(InvalidState):
            world.kms.cancel_deletion(conn, world.kms.resolve_existing(conn, ACCOUNT, REGION, key.key_id,
                                                                       world.clock.now()))
        world.kms.schedule_deletion(conn, key, 7, world.clock.now())
    world.clock.advance(days=7)
    with pytest.raises(NotFound):
        world.find(key.key_id)
    with world.db.read() as conn:
        assert world.kms.list_keys(conn, ACCOUNT, REGION, world.clock.now()) == []


def test_aliases_follow_kms_naming_rules(world: World) -> None:
    key = world.key()
    with world.db.begin() as conn:
        with pytest.raises(ValidationError) as err:
            kms_aliases.create_alias(conn, "app", key, world.clock.now())
        assert err.value.message.startswith('Alias must start with the prefix "alias/".')
        with pytest.raises(NotAuthorized):
            kms_aliases.create_alias(conn, "alias/aws/mine", key, world.clock.now())
        kms_aliases.create_alias(conn, "alias/app", key, world.clock.now())
        with pytest.raises(AlreadyExists) as exists:
            kms_aliases.create_alias(conn, "alias/app", key, world.clock.now())
        assert exists.value.message == f"An alias with the name arn:aws:kms:{REGION}:{ACCOUNT}:alias/app already exists"
        assert [a.name for a in kms_aliases.list_aliases(conn, ACCOUNT, REGION, key.key_id)] == ["alias/app"]
        kms_aliases.delete_alias(conn, ACCOUNT, REGION, "alias/app")
        with pytest.raises(NotFound):
            kms_aliases.delete_alias(conn, ACCOUNT, REGION, "alias/app")
        with pytest.raises(NotAuthorized):
            kms_aliases.delete_alias(conn, ACCOUNT, REGION, "alias/aws/ssm")


def test_tags_follow_kms_rules(world: World) -> None:
    key = world.key(tags={"team": "blue"})
    with pytest.raises(TagError, match="Duplicate tag keys"):
        kms_tags.tag_map([("a", "1"), ("a", "2")])
    with pytest.raises(TagError, match="Tags beginning with aws: are reserved"):
        kms_tags.tag_map([("aws:x", "1")])
    with pytest.raises(TagError, match="Too many tags"):
        kms_tags.tag_map([(f"k{i}", "v") for i in range(51)])
    with world.db.begin() as conn:
        world.kms.tag(conn, key, {"env": "dev", "team": "red"})
        world.kms.untag(conn, key, ["env"])
        assert kms_tags.tags_of(conn, key.key_id) == {"team": "red"}
        with pytest.raises(TagError):
            world.kms.tag(conn, key, {f"k{i}": "v" for i in range(50)})


def test_a_malformed_key_policy_is_refused(world: World) -> None:
    with pytest.raises(MalformedPolicyDocument):
        world.key(policy='{"Statement": "nope"}')


def test_data_keys_are_sized_by_exactly_one_of_key_spec_and_number_of_bytes(world: World) -> None:
    assert data_key_size(None, "AES_256") == 32 and data_key_size(None, "AES_128") == 16
    assert data_key_size(64, None) == 64
    for both_or_neither in ((None, None), (32, "AES_256")):
        with pytest.raises(ValidationError, match="Please specify either number of bytes or key spec."):
            data_key_size(*both_or_neither)
    key = world.key()
    with world.db.read() as conn:
        plaintext, blob = world.kms.generate_data_key(conn, key, 32, {"purpose": "test"})
        assert len(plaintext) == 32
        assert world.kms.decrypt(conn, key, blob, {"purpose": "test"}) == plaintext
