"""KMS over JSON 1.1 (TrentService)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import ValidationError
from openssm.services.kms import IncorrectKey, Key


def _key_metadata(key: Key) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AWSAccountId": key.account_id, "KeyId": key.key_id, "Arn": key.arn, "CreationDate": key.created_at,
        "Enabled": key.enabled, "Description": key.description, "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": key.state, "Origin": "AWS_KMS", "KeyManager": key.key_manager,
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": False,
    }
    if key.deletion_date:
        out["DeletionDate"] = key.deletion_date
    return out


def _key(ctx: RequestContext, conn: Any, ref: str) -> Key:
    return ctx.container.kms.resolve(conn, ctx.account_id, ctx.region, ref, ctx.now)


def _key_resource(member: str) -> Any:
    """The key's ARN with its key policy, which KMS requires to allow every call on the key."""
    def resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
        key: Key | None
        with ctx.container.db.read() as conn:
            if member == "CiphertextBlob":
                key = ctx.container.kms.key_of_ciphertext(conn, ctx.account_id, ctx.region, p["CiphertextBlob"])
            else:
                key = ctx.container.kms.find(conn, ctx.account_id, ctx.region, str(p[member]))
        if key is None:
            ref = str(p[member]).rsplit("/", 1)[-1]
            return (ResourceRef(f"arn:aws:kms:{ctx.region}:{ctx.account_id}:key/{ref}"),)
        return (ResourceRef(key.arn, policy=key.policy, policy_required=True),)
    return resources


def create_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    if p.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT" or p.get("KeyUsage", "ENCRYPT_DECRYPT") != \
            "ENCRYPT_DECRYPT":
        raise ValidationError("OpenSSM's KMS supports only SYMMETRIC_DEFAULT keys for ENCRYPT_DECRYPT")
    with ctx.container.db.begin() as conn:
        key = ctx.container.kms.create_key(conn, ctx.account_id, ctx.region, p.get("Description") or "", ctx.now,
                                           p.get("Policy"))
    return {"KeyMetadata": _key_metadata(key)}


def describe_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        return {"KeyMetadata": _key_metadata(_key(ctx, conn, p["KeyId"]))}


def list_keys(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        keys = ctx.container.kms.list_keys(conn, ctx.account_id, ctx.region)
    return {"Keys": [{"KeyId": k.key_id, "KeyArn": k.arn} for k in keys], "Truncated": False}


def _state_change(state: str) -> Any:
    def handler(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.db.begin() as conn:
            ctx.container.kms.set_state(conn, _key(ctx, conn, p["KeyId"]), state)
        return {}
    return handler


def schedule_key_deletion(ctx: RequestContext, p: Params) -> dict[str, Any]:
    days = p.get("PendingWindowInDays") or 30
    deletion = ctx.now + dt.timedelta(days=days)
    with ctx.container.db.begin() as conn:
        key = ctx.container.kms.set_state(conn, _key(ctx, conn, p["KeyId"]), "PendingDeletion", deletion)
    return {"KeyId": key.arn, "DeletionDate": deletion, "KeyState": key.state, "PendingWindowInDays": days}


def get_key_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        key = ctx.container.kms.resolve_existing(conn, ctx.account_id, ctx.region, p["KeyId"])
    return {"Policy": key.policy, "PolicyName": "default"}


def put_key_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        key = ctx.container.kms.resolve_existing(conn, ctx.account_id, ctx.region, p["KeyId"])
        ctx.container.kms.set_policy(conn, key, p["Policy"])
    return {}


def cancel_key_deletion(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        key = ctx.container.kms.set_state(conn, _key(ctx, conn, p["KeyId"]), "Disabled")
    return {"KeyId": key.arn}


def create_alias(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        ctx.container.kms.create_alias(conn, _key(ctx, conn, p["TargetKeyId"]), p["AliasName"], ctx.now)
    return {}


def delete_alias(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        ctx.container.kms.delete_alias(conn, ctx.account_id, ctx.region, p["AliasName"])
    return {}


def list_aliases(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        aliases = ctx.container.kms.list_aliases(conn, ctx.account_id, ctx.region)
    wanted = p.get("KeyId")
    items = [{"AliasName": name, "AliasArn": f"arn:aws:kms:{ctx.region}:{ctx.account_id}:{name}",
              "TargetKeyId": key_id, "CreationDate": created} for name, key_id, created in aliases
             if wanted is None or wanted in (key_id,)]
    return {"Aliases": items, "Truncated": False}


def encrypt(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        key = _key(ctx, conn, p["KeyId"])
        blob = ctx.container.kms.encrypt(conn, key, p["Plaintext"], p.get("EncryptionContext"))
    return {"CiphertextBlob": blob, "KeyId": key.arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}


def decrypt(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        key = ctx.container.kms.key_of_ciphertext(conn, ctx.account_id, ctx.region, p["CiphertextBlob"])
        if p.get("KeyId") and _key(ctx, conn, p["KeyId"]).key_id != key.key_id:
            raise IncorrectKey("The key ID in the request does not identify a CMK that can perform this operation.")
        plaintext = ctx.container.kms.decrypt(conn, key, p["CiphertextBlob"], p.get("EncryptionContext"))
    return {"Plaintext": plaintext, "KeyId": key.arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}


def generate_data_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    size = p.get("NumberOfBytes") or {"AES_256": 32, "AES_128": 16}.get(p.get("KeySpec") or "", 0)
    if not size:
        raise ValidationError("Please specify either number of bytes or key spec.")
    plaintext = os.urandom(size)
    with ctx.container.db.begin() as conn:
        key = _key(ctx, conn, p["KeyId"])
        blob = ctx.container.kms.encrypt(conn, key, plaintext, p.get("EncryptionContext"))
    return {"CiphertextBlob": blob, "Plaintext": plaintext, "KeyId": key.arn}


def _op(name: str, handler: Any, member: str | None = "KeyId", **kw: Any) -> Operation:
    resources = _key_resource(member) if member else (lambda ctx, p: ())
    return Operation("kms", name, handler, resources=resources, **kw)


OPERATIONS = [
    _op("CreateKey", create_key, None),
    _op("DescribeKey", describe_key, read_only=True),
    _op("ListKeys", list_keys, None, read_only=True),
    _op("EnableKey", _state_change("Enabled")),
    _op("DisableKey", _state_change("Disabled")),
    _op("ScheduleKeyDeletion", schedule_key_deletion),
    _op("CancelKeyDeletion", cancel_key_deletion),
    _op("GetKeyPolicy", get_key_policy, read_only=True),
    _op("PutKeyPolicy", put_key_policy),
    _op("CreateAlias", create_alias, "TargetKeyId"),
    _op("DeleteAlias", delete_alias, "AliasName"),
    _op("ListAliases", list_aliases, None, read_only=True),
    _op("Encrypt", encrypt, secret_params=frozenset({"Plaintext"})),
    _op("Decrypt", decrypt, "CiphertextBlob"),
    _op("GenerateDataKey", generate_data_key),
]
