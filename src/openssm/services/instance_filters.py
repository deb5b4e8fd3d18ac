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
