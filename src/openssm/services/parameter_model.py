"""Parameter Store's vocabulary: types, tiers, data types, one stored version, and the errors with AWS's codes.

Messages are AWS's where a reply of the real service is known; otherwise the exception's own documentation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from openssm.errors import AwsError

MAX_VERSIONS = 100
MAX_LEVELS = 15
MAX_LABELS = 10
STANDARD_MAX_VALUE = 4096
ADVANCED_MAX_VALUE = 8192
DEFAULT_KEY = "alias/aws/ssm"


class ParameterNotFound(AwsError):
    # AWS answers ParameterNotFound with no message at all.
    code = "ParameterNotFound"


class ParameterVersionNotFound(AwsError):
    code = "ParameterVersionNotFound"


class ParameterAlreadyExists(AwsError):
    code = "ParameterAlreadyExists"

    def __init__(self) -> None:
        super().__init__("The parameter already exists. To overwrite this value, set the overwrite option in the "
                         "request to true.")


class ParameterMaxVersionLimitExceeded(AwsError):
    code = "ParameterMaxVersionLimitExceeded"


class ParameterPatternMismatch(AwsError):
    code = "ParameterPatternMismatchException"


class InvalidAllowedPattern(AwsError):
    code = "InvalidAllowedPatternException"


class HierarchyLevelLimitExceeded(AwsError):
    code = "HierarchyLevelLimitExceededException"


class InvalidKeyId(AwsError):
    code = "InvalidKeyId"


class UnsupportedParameterType(AwsError):
    code = "UnsupportedParameterType"


class InvalidPolicyType(AwsError):
    code = "InvalidPolicyTypeException"


class InvalidPolicyAttribute(AwsError):
    code = "InvalidPolicyAttributeException"


class IncompatiblePolicy(AwsError):
    code = "IncompatiblePolicyException"


class PoliciesLimitExceeded(AwsError):
    code = "PoliciesLimitExceededException"


class ParameterVersionLabelLimitExceeded(AwsError):
    code = "ParameterVersionLabelLimitExceeded"


class InvalidResourceId(AwsError):
    code = "InvalidResourceId"


class InvalidResourceType(AwsError):
    code = "InvalidResourceType"


class TooManyTags(AwsError):
    code = "TooManyTagsError"


class InvalidFilterKey(AwsError):
    code = "InvalidFilterKey"


class InvalidFilterOption(AwsError):
    code = "InvalidFilterOption"


class InvalidFilterValue(AwsError):
    code = "InvalidFilterValue"


class InvalidNextToken(AwsError):
    code = "InvalidNextToken"


class ParameterType(StrEnum):
    STRING = "String"
    STRING_LIST = "StringList"
    SECURE_STRING = "SecureString"


class Tier(StrEnum):
    STANDARD = "Standard"
    ADVANCED = "Advanced"
    # Requested only: a stored parameter is Standard or Advanced.
    INTELLIGENT = "Intelligent-Tiering"


class DataType(StrEnum):
    TEXT = "text"
    EC2_IMAGE = "aws:ec2:image"


@dataclass(frozen=True)
class Scope:
    """Whose parameters (an account in a region), who acts (for LastModifiedUser), and when."""

    account_id: str
    region: str
    user_arn: str
    now: dt.datetime


@dataclass(frozen=True)
class ParameterVersion:
    """One stored version; `value` is the KMS ciphertext, base64-encoded, for a SecureString."""

    name: str
    version: int
    type: ParameterType
    value: str
    key_id: str | None
    description: str | None
    allowed_pattern: str | None
    tier: Tier
    data_type: DataType
    policies: str | None
    last_modified: dt.datetime
    last_modified_user: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parameter:
    """A version as a reader asked for it: `selector` is the ':version' or ':label' suffix that chose it."""

    version: ParameterVersion
    value: str
    arn: str
    selector: str | None = None
