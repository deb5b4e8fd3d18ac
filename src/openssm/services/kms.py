"""KMS: symmetric keys, aliases, and envelope encryption with AES-256-GCM.

Key material is sealed under the master key at rest. A ciphertext blob names its key, so Decrypt
needs no KeyId; the encryption context is the AEAD's associated data, so a different context fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, delete, insert, select, update

from openssm.errors import AwsError, ValidationError
from openssm.iam.policy import MalformedPolicyDocument, PolicyKind, parse_policy
from openssm.store.db import Database
from openssm.store.secrets import SecretBox
from openssm.store.tables.kms import kms_aliases, kms_keys

_MAGIC = b"OSK1"
AWS_SSM_ALIAS = "alias/aws/ssm"


class NotFound(AwsError):
    code = "NotFoundException"


class Disabled(AwsError):
    code = "DisabledException"


class InvalidCiphertext(AwsError):
    code = "InvalidCiphertextException"


class AlreadyExists(AwsError):
    code = "AlreadyExistsException"


class MalformedPolicy(AwsError):
    code = "MalformedPolicyDocumentException"


class IncorrectKey(AwsError):
    code = "IncorrectKeyException"


class InvalidState(AwsError):
    code = "KMSInvalidStateException"


@dataclass(frozen=True)
class Key:
    key_id: str
    account_id: str
    region: str
    arn: str
    description: str
    key_manager: str
    state: str
    created_at: dt.datetime
    policy: str
    deletion_date: dt.datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.state == "Enabled"


def default_key_policy(account_id: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"}]})


def _context_aad(context: Mapping[str, str] | None) -> bytes:
    return json.dumps(dict(sorted((context or {}).items())), separators=(",", ":")).encode()


def _from_row(r: object) -> Key:
    m = r._mapping  # type: ignore[attr-defined]
    return Key(m["key_id"], m["account_id"], m["region"], m["arn"], m["description"], m["key_manager"], m["state"],
               m["created_at"], m["policy"], m["deletion_date"])


class KmsService:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self._box = box

    # -- keys ---------------------------------------------------------------------------------------
    def create_key(self, conn: Connection, account_id: str, region: str, description: str, now: dt.datetime,
                   policy: str | None = None, key_manager: str = "CUSTOMER") -> Key:
        key_id = str(uuid.uuid4())
        material = AESGCM.generate_key(bit_length=256)
        conn.execute(insert(kms_keys).values(
            key_id=key_id, account_id=account_id, region=region,
            arn=f"arn:aws:kms:{region}:{account_id}:key/{key_id}", description=description,
            key_manager=key_manager, state="Enabled", created_at=now, policy=policy or default_key_policy(account_id),
            material_sealed=self._box.seal(material, key_id.encode())))
        return self._by_id(conn, account_id, region, key_id)

    def _by_id(self, conn: Connection, account_id: str, region: str, key_id: str) -> Key:
        row = conn.execute(select(kms_keys).where(kms_keys.c.key_id == key_id, kms_keys.c.account_id == account_id,
                                                  kms_keys.c.region == region)).first()
        if row is None:
            raise NotFound(f"Key 'arn:aws:kms:{region}:{account_id}:key/{key_id}' does not exist")
        return _from_row(row)

    def resolve(self, conn: Connection, account_id: str, region: str, ref: str, now: dt.datetime) -> Key:
        """A key by id, key ARN, alias name or alias ARN; alias/aws/ssm is created on first use."""
        found = self.find(conn, account_id, region, ref)
        if found is not None:
            return found
        if ref == AWS_SSM_ALIAS:
            key = self.create_key(conn, account_id, region, "Default key that protects my SSM parameters when no "
                                  "other key is defined", now, key_manager="AWS")
            conn.execute(insert(kms_aliases).values(account_id=account_id, region=region, alias_name=ref,
                                                    key_id=key.key_id, created_at=now))
            return key
        raise NotFound(f"Alias arn:aws:kms:{region}:{account_id}:{ref} is not found.")

    def find(self, conn: Connection, account_id: str, region: str, ref: str) -> Key | None:
        """A key by any of its names, or None; never creates the AWS managed key."""
        try:
            return self.resolve_existing(conn, account_id, region, ref)
        except NotFound:
            return None

    def resolve_existing(self, conn: Connection, account_id: str, region: str, ref: str) -> Key:
        if ref.startswith("arn:aws:kms:"):
            resource = ref.split(":", 5)[5]
            ref = resource.removeprefix("key/") if resource.startswith("key/") else resource
        if not ref.startswith("alias/"):
            return self._by_id(conn, account_id, region, ref)
        row = conn.execute(select(kms_aliases.c.key_id).where(
            kms_aliases.c.account_id == account_id, kms_aliases.c.region == region,
            kms_aliases.c.alias_name == ref)).first()
        if row is None:
            raise NotFound(f"Alias arn:aws:kms:{region}:{account_id}:{ref} is not found.")
        return self._by_id(conn, account_id, region, row[0])

    def set_policy(self, conn: Connection, key: Key, policy: str) -> None:
        try:
            parse_policy(policy, PolicyKind.RESOURCE)
        except MalformedPolicyDocument as err:
            raise MalformedPolicy(err.message) from err
        conn.execute(update(kms_keys).where(kms_keys.c.key_id == key.key_id).values(policy=policy))

    def list_keys(self, conn: Connection, account_id: str, region: str) -> list[Key]:
        rows = conn.execute(select(kms_keys).where(kms_keys.c.account_id == account_id, kms_keys.c.region == region)
                            .order_by(kms_keys.c.created_at))
        return [_from_row(r) for r in rows]

    def set_state(self, conn: Connection, key: Key, state: str, deletion_date: dt.datetime | None = None) -> Key:
        if key.key_manager == "AWS":
            raise ValidationError(f"{key.arn} is an AWS managed key and cannot be modified.")
        if key.state == "PendingDeletion" and state != "Disabled":
            raise InvalidState(f"{key.arn} is pending deletion.")
        conn.execute(update(kms_keys).where(kms_keys.c.key_id == key.key_id).values(state=state,
                                                                                  deletion_date=deletion_date))
        return self._by_id(conn, key.account_id, key.region, key.key_id)

    # -- aliases ------------------------------------------------------------------------------------
    def create_alias(self, conn: Connection, key: Key, alias: str, now: dt.datetime) -> None:
        if alias.startswith("alias/aws/"):
            raise ValidationError("Alias must not begin with alias/aws/: it is reserved for AWS managed keys.")
        exists = conn.execute(select(kms_aliases.c.key_id).where(
            kms_aliases.c.account_id == key.account_id, kms_aliases.c.region == key.region,
            kms_aliases.c.alias_name == alias)).first()
        if exists:
            raise AlreadyExists(f"An alias with the name arn:aws:kms:{key.region}:{key.account_id}:{alias} already "
                                "exists")
        conn.execute(insert(kms_aliases).values(account_id=key.account_id, region=key.region, alias_name=alias,
                                                key_id=key.key_id, created_at=now))

    def delete_alias(self, conn: Connection, account_id: str, region: str, alias: str) -> None:
        gone = conn.execute(delete(kms_aliases).where(kms_aliases.c.account_id == account_id,
                                                      kms_aliases.c.region == region,
                                                      kms_aliases.c.alias_name == alias)).rowcount
        if not gone:
            raise NotFound(f"Alias arn:aws:kms:{region}:{account_id}:{alias} is not found.")

    def list_aliases(self, conn: Connection, account_id: str, region: str) -> list[tuple[str, str, dt.datetime]]:
        rows = conn.execute(select(kms_aliases).where(
            kms_aliases.c.account_id == account_id, kms_aliases.c.region == region).order_by(kms_aliases.c.alias_name))
        return [(r.alias_name, r.key_id, r.created_at) for r in rows]

    # -- cryptography -------------------------------------------------------------------------------
    def _material(self, conn: Connection, key: Key) -> bytes:
        if not key.enabled:
            raise Disabled(f"{key.arn} is disabled.")
        sealed = conn.execute(select(kms_keys.c.material_sealed).where(kms_keys.c.key_id == key.key_id)).scalar_one()
        return self._box.open(sealed, key.key_id.encode())

    def encrypt(self, conn: Connection, key: Key, plaintext: bytes, context: Mapping[str, str] | None) -> bytes:
        nonce = os.urandom(12)
        sealed = AESGCM(self._material(conn, key)).encrypt(nonce, plaintext, _context_aad(context))
        return _MAGIC + key.key_id.encode() + nonce + sealed

    def key_of_ciphertext(self, conn: Connection, account_id: str, region: str, blob: bytes) -> Key:
        if len(blob) < 4 + 36 + 12 + 16 or not blob.startswith(_MAGIC):
            raise InvalidCiphertext("")
        try:
            return self._by_id(conn, account_id, region, blob[4:40].decode("ascii"))
        except (NotFound, UnicodeDecodeError) as err:
            raise InvalidCiphertext("") from err

    def decrypt(self, conn: Connection, key: Key, blob: bytes, context: Mapping[str, str] | None) -> bytes:
        try:
            return AESGCM(self._material(conn, key)).decrypt(blob[40:52], blob[52:], _context_aad(context))
        except InvalidTag as err:
            raise InvalidCiphertext("") from err
