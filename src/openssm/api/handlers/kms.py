"""KMS over JSON 1.1 (TrentService): keys, their life cycle and policies, and encryption.

Every call on a key is authorized on the key's ARN with its key policy, which must allow the call itself
or delegate to the account's IAM policies (as KMS requires).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from openssm.api.context import RequestContext
from openssm.api.operations import Handler, Operation, Params, ResourceRef, any_resource
from openssm.errors import AwsError
from openssm.services import kms_tags
from openssm.services.kms import data_key_size
from openssm.services.kms_model import InvalidMarker, Key, NotFound, Unsupported, alias_arn, key_arn
from openssm.store.lazy import LazyMapping

T = TypeVar("T")
Resources = Callable[[RequestContext, Params], Sequence[ResourceRef]]
_ALGORITHM = "SYMMETRIC_DEFAULT"


def key_metadata(key: Key) -> dict[str, Any]:
    return {
        "AWSAccountId": key.account_id, "KeyId": key.key_id, "Arn": key.arn, "CreationDate": key.created_at,
        "Enabled": key.enabled, "Description": key.description, "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": key.state.value, "DeletionDate": key.deletion_date, "Origin": "AWS_KMS",
        "KeyManager": key.key_manager.value, "CustomerMasterKeySpec": _ALGORITHM, "KeySpec": _ALGORITHM,
        "EncryptionAlgorithms": [_ALGORITHM], "MultiRegion": False,
    }


def existing_key(ctx: RequestContext, conn: Any, ref: str) -> Key:
    return ctx.container.kms.resolve_existing(conn, ctx.account_id, ctx.region, ref, ctx.now)


def key_ref(ctx: RequestContext, key: Key | None, ref: str) -> ResourceRef:
    """The key's ARN with its tags and key policy; for a key that does not exist, what the caller named."""
    if key is None:
        named = ref if ref.startswith("arn:") else (
            alias_arn(ctx.region, ctx.account_id, ref) if ref.startswith("alias/") else
            key_arn(ctx.region, ctx.account_id, ref))
        return ResourceRef(named)

    def load_tags() -> dict[str, str]:
        with ctx.container.db.read() as conn:
            return kms_tags.tags_of(conn, key.key_id)

    return ResourceRef(key.arn, LazyMapping(load_tags), policy=key.policy, policy_required=True)


def key_resource(member: str) -> Resources:
    def resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
        with ctx.container.db.read() as conn:
            key = ctx.container.kms.find(conn, ctx.account_id, ctx.region, p[member], ctx.now)
        return [key_ref(ctx, key, p[member])]
    return resources


def _ciphertext_resource(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    try:
        with ctx.container.db.read() as conn:
            key = ctx.container.kms.key_of_ciphertext(conn, ctx.account_id, ctx.region, p["CiphertextBlob"],
                                                      ctx.now)
    except AwsError:
        return [ResourceRef("*")]
    return [key_ref(ctx, key, key.arn)]


def condition_keys(ctx: RequestContext, p: Params) -> dict[str, Any]:
    """kms:CallerAccount, the encryption context, the alias a request names, and request tags."""
    context: dict[str, str] = p.get("EncryptionContext") or {}
    keys: dict[str, Any] = {"kms:CallerAccount": ctx.account_id,
                            **{f"kms:EncryptionContext:{k}": v for k, v in context.items()}}
    if context:
        keys["kms:EncryptionContextKeys"] = list(context)
    named = str(p.get("KeyId") or p.get("TargetKeyId") or "")
    if named.startswith("alias/") or ":alias/" in named:
        keys["kms:RequestAlias"] = "alias/" + named.split("alias/", 1)[1]
    tags = {t["TagKey"]: t["TagValue"] for t in p.get("Tags") or ()}
    keys.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
    if tags or p.get("TagKeys"):
        keys["aws:TagKeys"] = list(tags) or list(p["TagKeys"])
    return keys


def page(items: Sequence[T], marker_of: Callable[[T], str], p: Params, default_limit: int = 100
         ) -> tuple[list[T], dict[str, Any]]:
    """KMS's Limit/Marker paging of an ordered list: (this page, Truncated and NextMarker)."""
    after = None
    if p.get("Marker"):
        try:
            after = base64.urlsafe_b64decode(p["Marker"].encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError) as err:
            raise InvalidMarker("The marker that specifies where pagination should next begin is not valid.") \
                from err
    rest = [item for item in items if after is None or marker_of(item) > after]
    chunk = rest[:p.get("Limit") or default_limit]
    if len(rest) > len(chunk):
        return chunk, {"Truncated": True, "NextMarker": base64.urlsafe_b64encode(
            marker_of(chunk[-1]).encode()).decode()}
    return chunk, {"Truncated": False}


def create_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    spec = p.get("KeySpec") or p.get("CustomerMasterKeySpec") or _ALGORITHM
    for member, value, supported in (("KeySpec", spec, _ALGORITHM), ("KeyUsage", p.get("KeyUsage"), "ENCRYPT_DECRYPT"),
                                     ("Origin", p.get("Origin"), "AWS_KMS")):
        if value not in (None, supported):
            raise Unsupported(f"{member} {value} is not supported: OpenSSM's KMS makes {supported} keys only.")
    if p.get("MultiRegion"):
        raise Unsupported("Multi-Region keys are not supported by OpenSSM's KMS.")
    tags = kms_tags.tag_map([(t["TagKey"], t["TagValue"]) for t in p.get("Tags") or ()])
    with ctx.container.db.begin() as conn:
        key = ctx.container.kms.create_key(conn, ctx.account_id, ctx.region, ctx.now, p.get("Description") or "",
                                           p.get("Policy"), tags)
    return {"KeyMetadata": key_metadata(key)}


def describe_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        key = ctx.container.kms.find(conn, ctx.account_id, ctx.region, p["KeyId"], ctx.now)
    if key is None:
        # Describing alias/aws/ssm creates the AWS managed key, as at AWS.
        with ctx.container.db.begin() as conn:
            key = ctx.container.kms.resolve(conn, ctx.account_id, ctx.region, p["KeyId"], ctx.now)
    return {"KeyMetadata": key_metadata(key)}


def list_keys(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        keys = ctx.container.kms.list_keys(conn, ctx.account_id, ctx.region, ctx.now)
    chunk, more = page(keys, lambda k: k.key_id, p)
    return {"Keys": [{"KeyId": k.key_id, "KeyArn": k.arn} for k in chunk], **more}


def _on_key(change: Callable[[RequestContext, Any, Key, Params], Key | None],
            result: Callable[[Key, Params], dict[str, Any]] = lambda k, p: {}) -> Handler:
    """A handler that changes one key in a write transaction."""
    def handler(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.db.begin() as conn:
            key = existing_key(ctx, conn, p["KeyId"])
            changed = change(ctx, conn, key, p) or key
        return result(changed, p)
    return handler


def _policy_name(p: Params) -> None:
    if p.get("PolicyName", "default") != "default":
        raise NotFound("No such policy exists")


def get_key_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    _policy_name(p)
    with ctx.container.db.read() as conn:
        key = existing_key(ctx, conn, p["KeyId"])
    return {"Policy": key.policy, "PolicyName": "default"}


def _put_key_policy(ctx: RequestContext, conn: Any, key: Key, p: Params) -> Key:
    _policy_name(p)
    return ctx.container.kms.put_policy(conn, key, p["Policy"])


def encrypt(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        key = existing_key(ctx, conn, p["KeyId"])
        blob = ctx.container.kms.encrypt(conn, key, p["Plaintext"], p.get("EncryptionContext"))
    return {"CiphertextBlob": blob, "KeyId": key.arn, "EncryptionAlgorithm": _ALGORITHM}


def decrypt(ctx: RequestContext, p: Params) -> dict[str, Any]:
    kms = ctx.container.kms
    with ctx.container.db.read() as conn:
        key = kms.key_of_ciphertext(conn, ctx.account_id, ctx.region, p["CiphertextBlob"], ctx.now)
        named = existing_key(ctx, conn, p["KeyId"]) if p.get("KeyId") else None
        plaintext = kms.decrypt(conn, key, p["CiphertextBlob"], p.get("EncryptionContext"), named)
    return {"Plaintext": plaintext, "KeyId": key.arn, "EncryptionAlgorithm": _ALGORITHM}


def _data_key(with_plaintext: bool) -> Handler:
    def handler(ctx: RequestContext, p: Params) -> dict[str, Any]:
        size = data_key_size(p.get("NumberOfBytes"), p.get("KeySpec"))
        with ctx.container.db.read() as conn:
            key = existing_key(ctx, conn, p["KeyId"])
            plaintext, blob = ctx.container.kms.generate_data_key(conn, key, size, p.get("EncryptionContext"))
        out: dict[str, Any] = {"CiphertextBlob": blob, "KeyId": key.arn}
        return {**out, "Plaintext": plaintext} if with_plaintext else out
    return handler


def op(name: str, handler: Handler, resources: Resources | None = None, **kw: Any) -> Operation:
    """A KMS operation on the key named by KeyId, unless `resources` says otherwise."""
    return Operation("kms", name, handler, resources=resources or key_resource("KeyId"),
                     condition_keys=condition_keys, **kw)


OPERATIONS = [
    op("CreateKey", create_key, any_resource),
    op("DescribeKey", describe_key, read_only=True),
    op("ListKeys", list_keys, any_resource, read_only=True),
    op("EnableKey", _on_key(lambda ctx, conn, key, p: ctx.container.kms.set_enabled(conn, key, True))),
    op("DisableKey", _on_key(lambda ctx, conn, key, p: ctx.container.kms.set_enabled(conn, key, False))),
    op("ScheduleKeyDeletion", _on_key(
        lambda ctx, conn, key, p: ctx.container.kms.schedule_deletion(conn, key, p.get("PendingWindowInDays") or 30,
                                                                      ctx.now),
        lambda key, p: {"KeyId": key.arn, "DeletionDate": key.deletion_date, "KeyState": key.state.value,
                        "PendingWindowInDays": p.get("PendingWindowInDays") or 30})),
    op("CancelKeyDeletion", _on_key(lambda ctx, conn, key, p: ctx.container.kms.cancel_deletion(conn, key),
                                    lambda key, p: {"KeyId": key.arn})),
    op("UpdateKeyDescription", _on_key(
        lambda ctx, conn, key, p: ctx.container.kms.update_description(conn, key, p["Description"]))),
    op("GetKeyPolicy", get_key_policy, read_only=True),
    op("PutKeyPolicy", _on_key(_put_key_policy)),
    op("Encrypt", encrypt, secret_params=frozenset({"Plaintext"})),
    op("Decrypt", decrypt, _ciphertext_resource),
    op("GenerateDataKey", _data_key(True)),
    op("GenerateDataKeyWithoutPlaintext", _data_key(False)),
]
