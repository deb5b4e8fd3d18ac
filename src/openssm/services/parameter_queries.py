"""Finding parameters: DescribeParameters' and GetParametersByPath's filters, with AWS's validation."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from openssm.services.parameter_model import (
    InvalidFilterKey,
    InvalidFilterOption,
    InvalidFilterValue,
    InvalidNextToken,
    ParameterVersion,
)


@dataclass(frozen=True)
class Filter:
    key: str
    option: str | None
    values: tuple[str, ...]


_OPTIONS = {"Name": ("Equals", "BeginsWith", "Contains"), "Path": ("OneLevel", "Recursive"),
            "Type": ("Equals",), "KeyId": ("Equals",), "Tier": ("Equals",), "Label": ("Equals",),
            "DataType": ("Equals",)}
BY_PATH_KEYS = ("Type", "KeyId", "Label")


def validate_filters(filters: Sequence[Filter], allowed_keys: Sequence[str] | None = None) -> None:
    for f in filters:
        base = "tag" if f.key.startswith("tag:") else f.key
        if allowed_keys is not None and f.key not in allowed_keys:
            raise InvalidFilterKey(f"The following filter key is not valid: {f.key}. Valid filter keys include: "
                                   f"[{', '.join(allowed_keys)}].")
        if base not in _OPTIONS and base != "tag":
            raise InvalidFilterKey(f"The following filter key is not valid: {f.key}. Valid filter keys include: "
                                   "[Path, Name, Type, KeyId, Tier, Label, DataType, tag:<key>].")
        options = _OPTIONS.get(base, ("Equals",))
        if f.option is not None and f.option not in options:
            raise InvalidFilterOption(f"The following filter option is not valid: {f.option}. Valid options "
                                      f"include: [{', '.join(options)}].")
        if base == "Path" and any(not v.startswith("/") for v in f.values):
            raise InvalidFilterValue("The parameter doesn't meet the parameter name requirements. The parameter "
                                     "name must begin with a forward slash \"/\".")
        if base != "tag" and not f.values:
            raise InvalidFilterValue(f"The following filter values are missing : null for filter key {f.key}.")


def under_path(name: str, path: str, recursive: bool) -> bool:
    prefix = path.rstrip("/") + "/"
    if not name.startswith(prefix):
        return False
    return recursive or "/" not in name[len(prefix):]


def _matches(f: Filter, p: ParameterVersion, tags: Mapping[str, str]) -> bool:
    tests: dict[str, Callable[[str], bool]] = {
        "Type": lambda v: p.type.value == v,
        "KeyId": lambda v: (p.key_id or "") == v,
        "Tier": lambda v: p.tier.value == v,
        "Label": lambda v: v in p.labels,
        "DataType": lambda v: p.data_type == v,
    }
    if f.key == "Name":
        option = f.option or "Equals"
        name = p.name
        return any((option == "Equals" and (name == v or name == "/" + v.lstrip("/"))) or
                   (option == "BeginsWith" and name.startswith(v)) or (option == "Contains" and v in name)
                   for v in f.values)
    if f.key == "Path":
        return any(under_path(p.name, v, f.option == "Recursive") for v in f.values)
    if f.key.startswith("tag:"):
        key = f.key[4:]
        return key in tags and (not f.values or tags[key] in f.values)
    return any(tests[f.key](v) for v in f.values)


def apply(filters: Sequence[Filter], items: Sequence[tuple[ParameterVersion, Mapping[str, str]]]
          ) -> list[ParameterVersion]:
    return [p for p, tags in items if all(_matches(f, p, tags) for f in filters)]


def paginate(items: Sequence[object], token: str | None, max_results: int) -> tuple[list[object], str | None]:
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, UnicodeDecodeError) as err:
            raise InvalidNextToken("The specified token isn't valid.") from err
    chunk = list(items[start:start + max_results])
    end = start + max_results
    return chunk, base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
