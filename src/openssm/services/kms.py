"""KMS: symmetric keys, their life cycle and policies, and envelope encryption with AES-256-GCM.

Key material (256 random bits per key) is sealed under the master key at rest. A ciphertext blob names
its key (see `kms_ciphertext`), so Decrypt needs no KeyId; the encryption context is authenticated data,
so a different context fails. Callers pass the connection: reads and writes join the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, bindparam, insert, select, update

from openssm.errors import ValidationError
from openssm.iam.policy import MalformedPolicyDocument as PolicyError
from openssm.iam.policy import PolicyKind, parse_policy
from openssm.services import kms_aliases, kms_ciphertext, kms_tags
from openssm.services.kms_model import (
    AWS_SSM_ALIAS,
    IncorrectKey,
    InvalidCiphertext,
    InvalidState,
    Key,
    KeyManager,
    KeyState,
    MalformedPolicyDocument,
    NotFound,
    aws_managed_key_policy,
    default_key_policy,
    key_arn,
)
from openssm.store.db import Database
from openssm.store.secrets import SecretBox
from openssm.store.tables.kms import kms_keys

MATERIAL_VERSION = 1
_KEY_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATA_KEY_SIZES = {"AES_256": 32, "AES_128": 16}
_METADATA = [c for c in kms_keys.c if c.name != "material_sealed"]
_BY_ID = select(*_METADATA).where(kms_keys.c.key_id == bindparam("key_id"), kms_keys.c.account_id == bindparam(
    "account"), kms_keys.c.region == bindparam("region"))
_MATERIAL = select(kms_keys.c.material_sealed).where(kms_keys.c.key_id == bindparam("key_id"))


def _from_row(r: Any) -> Key:
    return Key(r.key_id, r.account_id, r.region, r.arn, r.description, KeyManager(r.key_manager),
               KeyState(r.state), r.created_at, r.policy, r.deletion_date)


def data_key_size(number_of_bytes: int | None, key_spec: str | None) -> int:
    """GenerateDataKey's length: exactly one of NumberOfBytes and KeySpec."""
    if (number_of_bytes is None) == (key_spec is None):
        raise ValidationError("Please specify either number of bytes or key spec.")
    return number_of_bytes if number_of_bytes is not None else _DATA_KEY_SIZES[key_spec or ""]


def check_policy(policy: str) -> None:
    try:
        parse_policy(policy, PolicyKind.RESOURCE)
    except PolicyError as err:
        raise MalformedPolicyDocument(err.message) from err


class KmsService:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self._box = box

    # -- finding keys -------------------------------------------------------------------------------
    def _by_id(self, conn: Connection, account_id: str, region: str, key_id: str, now: dt.datetime) -> Key | None:
        row = conn.execute(_BY_ID, {"key_id": key_id.lower(), "account": account_id, "region": region}).first()
        key = None if row is None else _from_row(row)
        # A key whose waiting period is over is deleted, whenever the deletion is carried out.
        if key is not None and key.deletion_date is not None and key.deletion_date <= now:
            return None
        return key

    def find(self, conn: Connection, account_id: str, region: str, ref: str, now: dt.datetime) -> Key | None:
        """A key by id, key ARN, alias name or alias ARN, or None; never creates a key."""
        try:
            return self.resolve_existing(conn, account_id, region, ref, now)
        except NotFound:
            return None

    def resolve_existing(self, conn: Connection, account_id: str, region: str, ref: str, now: dt.datetime) -> Key:
        """A key by any of its names, with KMS's NotFoundException wording when there is none."""
        if ref.startswith("arn:"):
            parts = ref.split(":", 5)
            if len(parts) < 6 or parts[2] != "kms":
                raise NotFound(f"Invalid keyId '{ref}'")
            if parts[3] != region:
                raise NotFound(f"Invalid arn {parts[3]}")
            if parts[5].startswith("alias/"):
                return self._by_alias(conn, account_id, region, parts[5], now)
            ref = parts[5].removeprefix("key/")
        elif ref.startswith("alias/"):
            return self._by_alias(conn, account_id, region, ref, now)
        if not _KEY_ID.match(ref):
            raise NotFound(f"Invalid keyId '{ref}'")
        key = self._by_id(conn, account_id, region, ref, now)
        if key is None:
            raise NotFound(f"Key '{key_arn(region, account_id, ref)}' does not exist")
        return key

    def _by_alias(self, conn: Connection, account_id: str, region: str, alias: str, now: dt.datetime) -> Key:
        target = kms_aliases.target_of(conn, account_id, region, alias)
        key = None if target is None else self._by_id(conn, account_id, region, target, now)
        if key is None:
            raise kms_aliases.not_found(account_id, region, alias)
        return key

    def resolve(self, conn: Connection, account_id: str, region: str, ref: str, now: dt.datetime) -> Key:
        """Like `resolve_existing`, but alias/aws/ssm is created on first use (needs a write transaction)."""
        found = self.find(conn, account_id, region, ref, now)
        if found is not None:
            return found
        if ref in (AWS_SSM_ALIAS, f"arn:aws:kms:{region}:{account_id}:{AWS_SSM_ALIAS}"):
            return self._create_aws_managed(conn, account_id, region, "ssm", now)
        return self.resolve_existing(conn, account_id, region, ref, now)

    def list_keys(self, conn: Connection, account_id: str, region: str, now: dt.datetime) -> list[Key]:
        rows = conn.execute(select(*_METADATA).where(kms_keys.c.account_id == account_id, kms_keys.c.region == region)
                            .order_by(kms_keys.c.key_id))
        keys = [_from_row(r) for r in rows]
        return [k for k in keys if k.deletion_date is None or k.deletion_date > now]

    # -- key life cycle -----------------------------------------------------------------------------
    def create_key(self, conn: Connection, account_id: str, region: str, now: dt.datetime, description: str = "",
                   policy: str | None = None, tags: Mapping[str, str] | None = None,
                   key_manager: KeyManager = KeyManager.CUSTOMER) -> Key:
        """A new enabled symmetric key with fresh material; the default key policy unless one is given."""
        if policy is not None:
            check_policy(policy)
        key_id = str(uuid.uuid4())
        material = AESGCM.generate_key(bit_length=256)
        conn.execute(insert(kms_keys).values(
            key_id=key_id, account_id=account_id, region=region, arn=key_arn(region, account_id, key_id),
            description=description, key_manager=key_manager.value, state=KeyState.ENABLED.value, created_at=now,
            policy=policy or default_key_policy(account_id),
            material_sealed=self._box.seal(material, key_id.encode())))
        if tags:
            kms_tags.add_tags(conn, key_id, tags)
        key = self._by_id(conn, account_id, region, key_id, now)
        assert key is not None
        return key

    def _create_aws_managed(self, conn: Connection, account_id: str, region: str, service: str,
                            now: dt.datetime) -> Key:
        key = self.create_key(conn, account_id, region, now,
                              f"Default key that protects my {service.upper()} parameters when no other key is "
                              "defined", aws_managed_key_policy(account_id, region, service), None, KeyManager.AWS)
        kms_aliases.create_alias(conn, f"alias/aws/{service}", key, now, managed=True)
        return key

    def _set(self, conn: Connection, key: Key, **values: Any) -> Key:
        conn.execute(update(kms_keys).where(kms_keys.c.key_id == key.key_id).values(**values))
        row = conn.execute(_BY_ID, {"key_id": key.key_id, "account": key.account_id, "region": key.region}).one()
        return _from_row(row)

    def set_enabled(self, conn: Connection, key: Key, enabled: bool) -> Key:
        key.require_not_pending_deletion()
        return self._set(conn, key, state=(KeyState.ENABLED if enabled else KeyState.DISABLED).value)

    def schedule_deletion(self, conn: Connection, key: Key, days: int, now: dt.datetime) -> Key:
        if not 7 <= days <= 30:
            raise ValidationError(f"PendingWindowInDays should be between 7 and 30, but it is {days}")
        key.require_not_pending_deletion()
        return self._set(conn, key, state=KeyState.PENDING_DELETION.value, deletion_date=now + dt.timedelta(days=days))

    def cancel_deletion(self, conn: Connection, key: Key) -> Key:
        if key.state is not KeyState.PENDING_DELETION:
            raise InvalidState(f"{key.arn} is not pending deletion.")
        return self._set(conn, key, state=KeyState.DISABLED.value, deletion_date=None)

    def update_description(self, conn: Connection, key: Key, description: str) -> Key:
        key.require_not_pending_deletion()
        return self._set(conn, key, description=description)

    def put_policy(self, conn: Connection, key: Key, policy: str) -> Key:
        key.require_not_pending_deletion()
        check_policy(policy)
        return self._set(conn, key, policy=policy)

    # -- tags ---------------------------------------------------------------------------------------
    def tag(self, conn: Connection, key: Key, tags: Mapping[str, str]) -> None:
        key.require_not_pending_deletion()
        kms_tags.add_tags(conn, key.key_id, tags)

    def untag(self, conn: Connection, key: Key, tag_keys: list[str]) -> None:
        key.require_not_pending_deletion()
        kms_tags.remove_tags(conn, key.key_id, tag_keys)

    # -- cryptography -------------------------------------------------------------------------------
    def _material(self, conn: Connection, key: Key) -> bytes:
        key.require_usable()
        sealed = conn.execute(_MATERIAL, {"key_id": key.key_id}).scalar_one()
        return self._box.open(sealed, key.key_id.encode())

    def encrypt(self, conn: Connection, key: Key, plaintext: bytes, context: Mapping[str, str] | None) -> bytes:
        head = kms_ciphertext.header(key.key_id, MATERIAL_VERSION)
        nonce = os.urandom(kms_ciphertext.NONCE_SIZE)
        sealed = AESGCM(self._material(conn, key)).encrypt(nonce, plaintext, head + kms_ciphertext.canonical_context(
            context))
        return kms_ciphertext.pack(head, nonce, sealed)

    def key_of_ciphertext(self, conn: Connection, account_id: str, region: str, blob: bytes,
                          now: dt.datetime) -> Key:
        """The key that sealed `blob`, in the caller's account and region."""
        key = self._by_id(conn, account_id, region, kms_ciphertext.unpack(blob).key_id, now)
        if key is None:
            raise InvalidCiphertext()
        return key

    def decrypt(self, conn: Connection, key: Key, blob: bytes, context: Mapping[str, str] | None,
                expected: Key | None = None) -> bytes:
        """Open `blob` with `key`; `expected` is the key the caller named, which must be the same one."""
        if expected is not None and expected.key_id != key.key_id:
            raise IncorrectKey()
        parts = kms_ciphertext.unpack(blob)
        material = self._material(conn, key)
        if parts.key_id != key.key_id or parts.material_version != MATERIAL_VERSION:
            raise InvalidCiphertext()
        try:
            return AESGCM(material).decrypt(parts.nonce, parts.sealed, parts.associated_data(context))
        except InvalidTag as err:
            raise InvalidCiphertext() from err

    def generate_data_key(self, conn: Connection, key: Key, size: int,
                          context: Mapping[str, str] | None) -> tuple[bytes, bytes]:
        """A fresh data key: (plaintext, the same encrypted under `key`)."""
        plaintext = os.urandom(size)
        return plaintext, self.encrypt(conn, key, plaintext, context)
