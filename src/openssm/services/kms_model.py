"""KMS's vocabulary: key states and managers, a key's metadata, its default key policies, and KMS's errors."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from enum import StrEnum

from openssm.errors import AwsError, ValidationError

AWS_SSM_ALIAS = "alias/aws/ssm"
ALIAS_PREFIX = "alias/"
RESERVED_ALIAS_PREFIX = "alias/aws/"


class NotFound(AwsError):
    code = "NotFoundException"


class Disabled(AwsError):
    code = "DisabledException"


class InvalidState(AwsError):
    code = "KMSInvalidStateException"


class InvalidCiphertext(AwsError):
    # KMS says nothing more about a ciphertext it refuses.
    code = "InvalidCiphertextException"


class IncorrectKey(AwsError):
    code = "IncorrectKeyException"

    def __init__(self) -> None:
        super().__init__("The key ID in the request does not identify a CMK that can perform this operation.")


class AlreadyExists(AwsError):
    code = "AlreadyExistsException"


class NotAuthorized(AwsError):
    # What KMS answers, without a message, to a change of an alias/aws/ name.
    code = "NotAuthorizedException"


class MalformedPolicyDocument(AwsError):
    code = "MalformedPolicyDocumentException"


class Unsupported(AwsError):
    code = "UnsupportedOperationException"


class TagError(AwsError):
    code = "TagException"


class InvalidMarker(AwsError):
    code = "InvalidMarkerException"


class KeyState(StrEnum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    PENDING_DELETION = "PendingDeletion"


class KeyManager(StrEnum):
    CUSTOMER = "CUSTOMER"
    AWS = "AWS"


@dataclass(frozen=True)
class Key:
    """A symmetric encryption key's metadata (its material never leaves `KmsService`)."""

    key_id: str
    account_id: str
    region: str
    arn: str
    description: str
    key_manager: KeyManager
    state: KeyState
    created_at: dt.datetime
    policy: str
    deletion_date: dt.datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.state is KeyState.ENABLED

    def require_usable(self) -> None:
        """A key that encrypts or decrypts must be enabled."""
        if self.state is KeyState.DISABLED:
            raise Disabled(f"{self.arn} is disabled.")
        self.require_not_pending_deletion()

    def require_not_pending_deletion(self) -> None:
        if self.state is KeyState.PENDING_DELETION:
            raise InvalidState(f"{self.arn} is pending deletion.")


@dataclass(frozen=True)
class Alias:
    name: str
    arn: str
    target_key_id: str
    created_at: dt.datetime


def key_arn(region: str, account_id: str, key_id: str) -> str:
    return f"arn:aws:kms:{region}:{account_id}:key/{key_id}"


def alias_arn(region: str, account_id: str, alias: str) -> str:
    return f"arn:aws:kms:{region}:{account_id}:{alias}"


def default_key_policy(account_id: str) -> str:
    """The policy KMS gives a key created without one: the account's IAM policies decide."""
    return json.dumps({"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"}]}, indent=2)


def aws_managed_key_policy(account_id: str, region: str, service: str, principal: str = "*") -> str:
    """The policy of an AWS managed key (alias/aws/<service>), as KMS writes it.

    Every principal of the account may use the key through the service (kms:ViaService), and read its
    metadata directly; nobody may change it. `principal` names one caller in place of '*' when the grant
    is evaluated for that caller (the policy engine reads '*' as the account's delegation).
    """
    return json.dumps({"Version": "2012-10-17", "Id": f"auto-{service}-1", "Statement": [
        {"Sid": f"Allow access through {service.upper()} for all principals in the account that are authorized "
                f"to use {service.upper()}",
         "Effect": "Allow", "Principal": {"AWS": principal},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant",
                    "kms:DescribeKey"],
         "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account_id,
                                        "kms:ViaService": f"{service}.{region}.amazonaws.com"}}},
        {"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
         "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"], "Resource": "*"}]}, indent=2)


def check_alias_name(alias: str) -> None:
    """An alias a customer may create or delete: alias/…, never alias/aws/…."""
    if not alias.startswith(ALIAS_PREFIX):
        raise ValidationError('Alias must start with the prefix "alias/". Please see '
                              "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")
    if alias.startswith(RESERVED_ALIAS_PREFIX):
        raise NotAuthorized()
