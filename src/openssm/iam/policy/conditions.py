"""Condition operators with AWS's semantics: IfExists, ForAllValues/ForAnyValue, Null and missing keys.

Several values for one key are ORed; keys and operators within a statement are ANDed (evaluate.py).
A negated operator (StringNotEquals, NotIpAddress, ArnNotLike…) is true when the key is missing.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import ipaddress
from collections.abc import Callable

from openssm.iam.policy.matching import resource_matches, wildcard_regex
from openssm.iam.policy.variables import as_plain


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> float | None:
    number = _number(text)
    if number is not None:
        return number
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


def _compare(parse: Callable[[str], float | None], test: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def compare(request: str, policy: str) -> bool:
        a, b = parse(request), parse(as_plain(policy))
        return a is not None and b is not None and test(a, b)
    return compare


def _ip(request: str, policy: str) -> bool:
    address, network = _address(request), _network(as_plain(policy))
    return address is not None and network is not None and address in network


# Parsing an address or a network costs more than the rest of a policy check; the same few recur.
@functools.lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _binary(request: str, policy: str) -> bool:
    try:
        return base64.b64decode(request) == base64.b64decode(policy)
    except ValueError:
        return False


_POSITIVE: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda r, p: r == as_plain(p),
    "StringEqualsIgnoreCase": lambda r, p: r.lower() == as_plain(p).lower(),
    "StringLike": lambda r, p: wildcard_regex(p, False).fullmatch(r) is not None,
    "NumericEquals": _compare(_number, lambda a, b: a == b),
    "NumericLessThan": _compare(_number, lambda a, b: a < b),
    "NumericLessThanEquals": _compare(_number, lambda a, b: a <= b),
    "NumericGreaterThan": _compare(_number, lambda a, b: a > b),
    "NumericGreaterThanEquals": _compare(_number, lambda a, b: a >= b),
    "DateEquals": _compare(_date, lambda a, b: a == b),
    "DateLessThan": _compare(_date, lambda a, b: a < b),
    "DateLessThanEquals": _compare(_date, lambda a, b: a <= b),
    "DateGreaterThan": _compare(_date, lambda a, b: a > b),
    "DateGreaterThanEquals": _compare(_date, lambda a, b: a >= b),
    "Bool": lambda r, p: r.lower() == as_plain(p).lower(),
    "BinaryEquals": _binary,
    "IpAddress": _ip,
    "ArnEquals": lambda r, p: resource_matches(p, r),
    "ArnLike": lambda r, p: resource_matches(p, r),
}

# Negated operator -> the positive operator it negates.
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}

BASE_OPERATORS = frozenset(_POSITIVE) | frozenset(_NEGATED) | {"Null"}


def split_operator(operator: str) -> tuple[str | None, str, bool]:
    """'ForAnyValue:StringLikeIfExists' -> ('ForAnyValue', 'StringLike', True)."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    return (qualifier or None), base, if_exists


def _value_matches(base: str, request: str, policy_values: tuple[str, ...]) -> bool:
    """Whether one request value satisfies the (possibly negated) operator against the policy's values."""
    if base in _NEGATED:
        positive = _POSITIVE[_NEGATED[base]]
        return not any(positive(request, p) for p in policy_values)
    test = _POSITIVE[base]
    return any(test(request, p) for p in policy_values)


def condition_holds(operator: str, request_values: tuple[str, ...] | None, policy_values: tuple[str, ...]) -> bool:
    """Evaluate one condition key: `request_values` None means the key is absent from the request."""
    qualifier, base, if_exists = split_operator(operator)
    if base == "Null":
        absent = not request_values
        return any((p.lower() == "true") == absent for p in policy_values)
    if not request_values:
        if qualifier == "ForAllValues" or if_exists:
            return True
        if qualifier == "ForAnyValue":
            return False
        return base in _NEGATED
    if qualifier == "ForAllValues":
        return all(_value_matches(base, r, policy_values) for r in request_values)
    if base in _NEGATED and qualifier is None:
        return all(_value_matches(base, r, policy_values) for r in request_values)
    return any(_value_matches(base, r, policy_values) for r in request_values)
