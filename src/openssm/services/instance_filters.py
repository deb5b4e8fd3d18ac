"""DescribeInstanceInformation's two filter forms (InstanceInformationFilterList and Filters, with tag:<key>
and tag-key), applied to managed instances and their tags: every filter must match (AND), any of a
filter's values may (OR)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from openssm.errors import AwsError
from openssm.services.instances import ManagedInstance

Tagged = tuple[ManagedInstance, Mapping[str, str]]


class InvalidFilterKey(AwsError):
    code = "InvalidFilterKey"


class InvalidInstanceInformationFilterValue(AwsError):
    code = "InvalidInstanceInformationFilterValue"


_FIELDS: dict[str, Callable[[ManagedInstance], str | None]] = {
    "InstanceIds": lambda i: i.instance_id,
    "AgentVersion": lambda i: i.agent_version,
    "PingStatus": lambda i: i.ping_status,
    "PlatformTypes": lambda i: i.platform_type,
    "ActivationIds": lambda i: i.activation_id,
    "IamRole": lambda i: i.iam_role,
    "ResourceType": lambda i: i.resource_type,
    "AssociationStatus": lambda i: None,
}


def _predicate(key: str, values: Sequence[str]) -> Callable[[Tagged], bool]:
    if not values:
        raise InvalidInstanceInformationFilterValue(f"The filter {key} needs at least one value.")
    wanted = set(values)
    if key == "tag-key":
        return lambda t: bool(wanted & set(t[1]))
    if key.startswith("tag:"):
        tag = key[4:]
        return lambda t: t[1].get(tag) in wanted
    field = _FIELDS.get(key)
    if field is None:
        raise InvalidFilterKey(f"The filter key {key} is not valid.")
    return lambda t: field(t[0]) in wanted


def matching(tagged: Sequence[Tagged], filter_list: Sequence[Mapping[str, Any]],
             filters: Sequence[Mapping[str, Any]]) -> list[ManagedInstance]:
    predicates = [_predicate(f["key"], f.get("valueSet") or ()) for f in filter_list]
    for f in filters:
        if f["Key"] not in _FIELDS and not f["Key"].startswith("tag:") and f["Key"] != "tag-key":
            raise InvalidFilterKey(f"The filter key {f['Key']} is not valid.")
        predicates.append(_predicate(f["Key"], f.get("Values") or ()))
    return [t[0] for t in tagged if all(p(t) for p in predicates)]


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "Equal": lambda have, want: have == want,
    "NotEqual": lambda have, want: have != want,
    "BeginWith": lambda have, want: have.startswith(want),
    "LessThan": lambda have, want: _version(have) < _version(want),
    "GreaterThan": lambda have, want: _version(have) > _version(want),
}


def _version(text: str) -> tuple[int | str, ...]:
    """Versions compare part by part, numerically where they are numbers (3.10 after 3.9)."""
    return tuple(int(p) if p.isdigit() else p for p in text.split("."))


def _getter(name: str, fields: Mapping[str, Callable[[ManagedInstance], str | None]]
            ) -> Callable[[Tagged], str | None]:
    if name.startswith("tag:"):
        tag = name[4:]
        return lambda t: t[1].get(tag)
    field = fields.get(name)
    if field is None:
        raise InvalidFilterKey(f"The filter key {name} is not valid.")
    return lambda t: field(t[0])


def _check(get: Callable[[Tagged], str | None], values: Sequence[str],
           test: Callable[[str, str], bool]) -> Callable[[Tagged], bool]:
    def check(t: Tagged) -> bool:
        have = get(t)
        return have is not None and any(test(have, v) for v in values)
    return check


def with_operators(tagged: Sequence[Tagged], filters: Sequence[Mapping[str, Any]],
                   fields: Mapping[str, Callable[[ManagedInstance], str | None]], *, key: str = "Key",
                   operator: str = "Operator") -> list[ManagedInstance]:
    """Filters of DescribeInstanceProperties' FiltersWithOperator and ListNodes' Filters (Type): a node
    matches a filter when any value matches under the operator (Equal by default); all filters must match."""
    checks = []
    for f in filters:
        name, op = f[key], f.get(operator) or "Equal"
        if op not in _OPERATORS:
            raise InvalidFilterKey(f"The operator {op} is not valid for the filter {name}.")
        checks.append(_check(_getter(name, fields), list(f.get("Values") or ()), _OPERATORS[op]))
    return [t[0] for t in tagged if all(check(t) for check in checks)]


PROPERTY_FIELDS = {**_FIELDS, "DocumentName": lambda i: None, "Name": lambda i: i.name,
                   "ComputerName": lambda i: i.computer_name, "IPAddress": lambda i: i.ip_address}
NODE_FIELDS: dict[str, Callable[[ManagedInstance], str | None]] = {
    "AgentType": lambda i: i.agent_name, "AgentVersion": lambda i: i.agent_version,
    "ComputerName": lambda i: i.computer_name, "InstanceId": lambda i: i.instance_id,
    "InstanceStatus": lambda i: "Active", "IpAddress": lambda i: i.ip_address,
    "ManagedStatus": lambda i: "Managed", "PlatformName": lambda i: i.platform_name,
    "PlatformType": lambda i: i.platform_type, "PlatformVersion": lambda i: i.platform_version,
    "ResourceType": lambda i: i.resource_type, "Region": lambda i: i.region, "AccountId": lambda i: i.account_id,
}
