"""Parameter policies: Expiration (enforced: an expired parameter is gone), ExpirationNotification and
NoChangeNotification (accepted and validated; OpenSSM has no EventBridge to notify)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openssm.services.parameter_model import (
    IncompatiblePolicy,
    InvalidPolicyAttribute,
    InvalidPolicyType,
    PoliciesLimitExceeded,
)

MAX_POLICIES = 10
_UNITS = ("Days", "Hours")


class PolicyType(StrEnum):
    EXPIRATION = "Expiration"
    EXPIRATION_NOTIFICATION = "ExpirationNotification"
    NO_CHANGE_NOTIFICATION = "NoChangeNotification"


@dataclass(frozen=True)
class ParameterPolicy:
    type: PolicyType
    text: str
    expires_at: dt.datetime | None = None


def _attribute_error(detail: str) -> InvalidPolicyAttribute:
    return InvalidPolicyAttribute(f"A policy attribute or its value is invalid. {detail}")


def _timestamp(text: Any) -> dt.datetime:
    """ISO_INSTANT ('2030-01-01T00:00:00.000Z') or ISO_OFFSET_DATE_TIME ('…+10:30'), as AWS accepts."""
    if not isinstance(text, str):
        raise _attribute_error("Expiration requires the attribute Timestamp.")
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise _attribute_error(f"The Timestamp {text} is not an ISO 8601 date and time.") from err
    if parsed.tzinfo is None:
        raise _attribute_error(f"The Timestamp {text} has no time zone (use Z or an offset).")
    return parsed.astimezone(dt.UTC)


def _check_interval(kind: PolicyType, attributes: dict[str, Any], name: str) -> None:
    amount, unit = attributes.get(name), attributes.get("Unit")
    if not isinstance(amount, str | int) or not str(amount).isdigit() or int(amount) < 1:
        raise _attribute_error(f"{kind.value} requires the attribute {name} as a positive whole number.")
    if unit not in _UNITS:
        raise _attribute_error(f"{kind.value} requires the attribute Unit: Days or Hours.")


def _parse_one(raw: Any) -> ParameterPolicy:
    kind_text = raw.get("Type") if isinstance(raw, dict) else None
    try:
        kind = PolicyType(str(kind_text))
    except ValueError as err:
        raise InvalidPolicyType("The policy type isn't supported. Parameter Store supports the following policy "
                                "types: Expiration, ExpirationNotification, and NoChangeNotification.") from err
    assert isinstance(raw, dict)
    attributes = raw.get("Attributes")
    if not isinstance(attributes, dict):
        raise _attribute_error(f"{kind.value} requires Attributes.")
    text = json.dumps(raw, separators=(",", ":"))
    if kind is PolicyType.EXPIRATION:
        return ParameterPolicy(kind, text, _timestamp(attributes.get("Timestamp")))
    _check_interval(kind, attributes, "Before" if kind is PolicyType.EXPIRATION_NOTIFICATION else "After")
    return ParameterPolicy(kind, text)


def parse_policies(text: str | None) -> list[ParameterPolicy]:
    """Validate a Policies document (a JSON array); an empty array removes a parameter's policies."""
    if text is None:
        return []
    try:
        raw = json.loads(text)
    except ValueError as err:
        raise _attribute_error("The policies must be a JSON array.") from err
    if not isinstance(raw, list):
        raise _attribute_error("The policies must be a JSON array.")
    if len(raw) > MAX_POLICIES:
        raise PoliciesLimitExceeded("You specified more than the maximum number of allowed policies for the "
                                    "parameter. The maximum is 10.")
    policies = [_parse_one(item) for item in raw]
    kinds = [p.type for p in policies]
    if len(set(kinds)) < len(kinds):
        raise IncompatiblePolicy("There is a conflict in the policies specified for this parameter. You can't, for "
                                 "example, specify two Expiration policies for a parameter. Review your policies, "
                                 "and try again.")
    return policies


def expiry_of(policies: list[ParameterPolicy]) -> dt.datetime | None:
    return next((p.expires_at for p in policies if p.expires_at is not None), None)


def stored_form(policies: list[ParameterPolicy]) -> str | None:
    """What is kept: the policies as one compact JSON array, or nothing."""
    return "[" + ",".join(p.text for p in policies) + "]" if policies else None
