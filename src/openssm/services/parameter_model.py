"""Parameter Store's values and rules that need no storage: names, selectors, tiers, policies, errors."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from enum import StrEnum

from openssm.errors import AwsError, ValidationError

MAX_VERSIONS = 100
MAX_LEVELS = 15
STANDARD_MAX_VALUE = 4096
ADVANCED_MAX_VALUE = 8192


class ParameterNotFound(AwsError):
    code = "ParameterNotFound"


class ParameterVersionNotFound(AwsError):
    code = "ParameterVersionNotFound"


class ParameterAlreadyExists(AwsError):
    code = "ParameterAlreadyExists"


class ParameterLimitExceeded(AwsError):
    code = "ParameterMaxVersionLimitExceeded"


class PatternMismatch(AwsError):
    code = "ParameterPatternMismatchException"


class HierarchyLevelLimitExceeded(AwsError):
    code = "HierarchyLevelLimitExceededException"


class InvalidKeyId(AwsError):
    code = "InvalidKeyId"


class InvalidAllowedPattern(AwsError):
    code = "InvalidAllowedPatternException"


class InvalidPolicyType(AwsError):
    code = "InvalidPolicyTypeException"


class InvalidPolicyAttribute(AwsError):
    code = "InvalidPolicyAttributeException"


class LabelLimitExceeded(AwsError):
    code = "ParameterVersionLabelLimitExceeded"


class InvalidResourceId(AwsError):
    code = "InvalidResourceId"


class InvalidFilterKey(AwsError):
    code = "InvalidFilterKey"


class InvalidFilterOption(AwsError):
    code = "InvalidFilterOption"


class InvalidFilterValue(AwsError):
    code = "InvalidFilterValue"


class InvalidNextToken(AwsError):
    code = "InvalidNextToken"


class TooManyTags(AwsError):
    code = "TooManyTagsError"


class ParameterType(StrEnum):
    STRING = "String"
    STRING_LIST = "StringList"
    SECURE_STRING = "SecureString"


class Tier(StrEnum):
    STANDARD = "Standard"
    ADVANCED = "Advanced"
    INTELLIGENT = "Intelligent-Tiering"


@dataclass(frozen=True)
class ParameterVersion:
    """One stored version; `value` is ciphertext (base64) for SecureString."""

    name: str
    version: int
    type: ParameterType
    value: str
    key_id: str | None
    description: str | None
    allowed_pattern: str | None
    tier: Tier
    data_type: str
    policies: str | None
    labels: tuple[str, ...]
    last_modified: dt.datetime
    last_modified_user: str


_BAD_PREFIX = re.compile(r"^/?(aws|ssm)", re.IGNORECASE)
_SEGMENT = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
NAME_RULES = ('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it '
              "can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, "
              "numbers and the following 3 symbols .-_")


def parameter_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}"


def strip_arn(name: str) -> str:
    """Accept a full parameter ARN wherever a name is expected."""
    if name.startswith("arn:"):
        parts = name.split(":", 5)
        if len(parts) == 6 and parts[5].startswith("parameter/"):
            rest = parts[5].removeprefix("parameter")
            return rest if "/" in rest[1:] else rest[1:]
    return name


def validate_name(name: str) -> None:
    if _BAD_PREFIX.match(name) or not _SEGMENT.match(name):
        raise ValidationError(NAME_RULES)
    if "/" in name and not name.startswith("/"):
        raise ValidationError("Parameter name must be a fully qualified name.")
    if "//" in name or (name.startswith("/") and name.endswith("/")):
        raise ValidationError(NAME_RULES)
    if name.count("/") > MAX_LEVELS:
        raise HierarchyLevelLimitExceeded("Parameter name hierarchy level exceeded maximum limit: 15")


def split_selector(raw: str) -> tuple[str, str | None]:
    """'name:3' or 'name:label' -> (name, selector); ARNs are accepted."""
    name = strip_arn(raw)
    head, sep, tail = name.rpartition(":")
    if sep and head and "/" not in tail:
        return head, tail
    return name, None


def validate_value(value: str, tier: Tier, data_type: str) -> None:
    limit = ADVANCED_MAX_VALUE if tier is Tier.ADVANCED else STANDARD_MAX_VALUE
    if len(value) > limit:
        raise ValidationError(
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger "
            "parameter value, upgrade the parameter to use the advanced-parameter tier." if tier is not Tier.ADVANCED
            else "Advanced tier parameters support a maximum parameter value of 8192 characters.")
    if data_type == "aws:ec2:image" and not re.fullmatch(r"ami-[0-9a-f]{8}([0-9a-f]{9})?", value):
        raise ValidationError(f"The parameter value {value} is not a valid Amazon Machine Image (AMI) ID.")


def check_pattern(pattern: str | None, value: str) -> None:
    if not pattern:
        return
    try:
        compiled = re.compile(pattern)
    except re.error as err:
        raise InvalidAllowedPattern("The request includes an invalid regular expression for AllowedPattern.") from err
    if compiled.fullmatch(value) is None:
        raise PatternMismatch(f"Parameter value, cannot be validated against allowedPattern: {pattern}")


def parse_policies(text: str | None) -> list[dict[str, object]]:
    """Validate parameter policies (Expiration, ExpirationNotification, NoChangeNotification)."""
    if not text:
        return []
    try:
        policies = json.loads(text)
    except ValueError as err:
        raise InvalidPolicyAttribute("Invalid policy: the policies must be a JSON array.") from err
    if not isinstance(policies, list):
        raise InvalidPolicyAttribute("Invalid policy: the policies must be a JSON array.")
    for policy in policies:
        kind = policy.get("Type") if isinstance(policy, dict) else None
        if kind not in ("Expiration", "ExpirationNotification", "NoChangeNotification"):
            raise InvalidPolicyType(f"The policy type {kind} is not supported. Valid types are Expiration, "
                                    "ExpirationNotification, NoChangeNotification.")
        attributes = policy.get("Attributes") or {}
        if kind == "Expiration":
            try:
                expiration_of(policy)
            except (KeyError, ValueError) as err:
                raise InvalidPolicyAttribute("Expiration policy requires a valid Timestamp attribute.") from err
        elif not any(k in attributes for k in ("Before", "After")):
            raise InvalidPolicyAttribute(f"{kind} policy requires the attributes Before/After and Unit.")
    return policies


def expiration_of(policy: dict[str, object]) -> dt.datetime:
    attributes = policy["Attributes"]
    assert isinstance(attributes, dict)
    stamp = str(attributes["Timestamp"])
    parsed = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def expires_at(policies: str | None) -> dt.datetime | None:
    for policy in parse_policies(policies):
        if policy.get("Type") == "Expiration":
            return expiration_of(policy)
    return None


LABEL = re.compile(r"^[a-zA-Z0-9_.\-]{1,100}$")


def label_is_valid(label: str) -> bool:
    return bool(LABEL.match(label)) and not label[0].isdigit() and not re.match(r"^(aws|ssm)", label, re.I)
