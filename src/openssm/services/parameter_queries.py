"""Finding parameters: DescribeParameters and GetParametersByPath, their filters (validated as AWS validates
them) and NextToken pages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services import parameter_rows as rows
from openssm.services.parameter_model import (
    InvalidFilterKey,
    InvalidFilterOption,
    InvalidFilterValue,
    InvalidNextToken,
    ParameterType,
    ParameterVersion,
    Scope,
    Tier,
)
from openssm.services.parameter_names import under_path, validate_path
from openssm.services.resource_tags import ResourceTagStore

_NEEDS_VALUES = ("Name", "Type", "Path", "Tier", "KeyId")
_NOT_BY_PATH = ("Name", "Path", "Tier", "DataType")
_RESERVED_PATHS = ("/aws", "/ssm")
_TOKEN_PREFIX = "after:"


@dataclass(frozen=True)
class Filter:
    key: str
    option: str | None
    values: tuple[str, ...]

    @property
    def effective_option(self) -> str:
        return self.option or ("OneLevel" if self.key == "Path" else "Equals")


@dataclass(frozen=True)
class Page:
    items: list[ParameterVersion]
    next_token: str | None


def legacy_filters(filters: Sequence[Filter], parameter_filters: Sequence[Filter]) -> list[Filter]:
    """DescribeParameters' older `Filters` (Name begins with, Type and KeyId equal) as ParameterFilters."""
    if filters and parameter_filters:
        raise ValidationError("You can use either Filters or ParameterFilters in a single request.")
    return [Filter(f.key, "BeginsWith" if f.key == "Name" else "Equals", f.values) for f in filters]


def _check_path_filter(f: Filter) -> None:
    if f.effective_option not in ("Recursive", "OneLevel"):
        raise InvalidFilterOption(f"The following filter option is not valid: {f.effective_option}. Valid options "
                                  "include: [Recursive, OneLevel].")
    for value in f.values:
        if value.lower().startswith(_RESERVED_PATHS):
            raise ValidationError('Filters for common parameters can\'t be prefixed with "aws" or "ssm" '
                                  "(case-insensitive). When using global parameters, please specify within a global "
                                  "namespace.")
        validate_path(value)


def _check_enum_values(f: Filter, allowed: Sequence[str]) -> None:
    for value in f.values:
        if value not in allowed:
            raise InvalidFilterOption(f"The following filter value is not valid: {value}. Valid values include: "
                                      f"[{', '.join(allowed)}].")


def _check_one(f: Filter, by_path: bool) -> None:
    if not by_path and f.key == "Label":
        raise InvalidFilterKey("The following filter key is not valid: Label. Valid filter keys include: [Path, "
                               "Name, Type, KeyId, Tier].")
    if by_path and (f.key in _NOT_BY_PATH or f.key.startswith("tag:")):
        raise InvalidFilterKey(f"The following filter key is not valid: {f.key}. Valid filter keys include: "
                               "[Type, KeyId].")
    if f.key in _NEEDS_VALUES and not f.values:
        raise InvalidFilterValue(f"The following filter values are missing : null for filter key {f.key}.")
    if f.key == "Path":
        _check_path_filter(f)
        return
    if f.key == "Tier":
        _check_enum_values(f, [t.value for t in Tier])
    if f.key == "Type":
        _check_enum_values(f, [t.value for t in ParameterType])
    allowed = ("Equals", "BeginsWith", "Contains") if f.key == "Name" else ("Equals", "BeginsWith")
    if f.effective_option not in allowed:
        raise InvalidFilterOption(f"The following filter option is not valid: {f.effective_option}. Valid options "
                                  "include: [BeginsWith, Equals].")


def validate_filters(filters: Sequence[Filter], by_path: bool) -> None:
    seen: set[str] = set()
    for f in filters:
        _check_one(f, by_path)
        if f.key in seen:
            raise InvalidFilterKey(f"The following filter is duplicated in the request: {f.key}. A request can "
                                   "contain only one occurrence of a specific filter.")
        seen.add(f.key)


def _rooted(name: str) -> str:
    return "/" + name.lstrip("/")


def _path_matches(name: str, option: str, values: Sequence[str]) -> bool:
    full = _rooted(name)
    for value in ("/" + v.strip("/") if v.strip("/") else "/" for v in values):
        if value == "/":
            if option == "Recursive" or full.count("/") == 1:
                return True
        elif full.startswith(value + "/") and (option == "Recursive" or full.count("/") == value.count("/") + 1):
            return True
    return False


def _compare(option: str, actual: Sequence[str], values: Sequence[str]) -> bool:
    if option == "BeginsWith":
        return any(a.startswith(v) for a in actual for v in values)
    if option == "Contains":
        return any(v in a for a in actual for v in values)
    return any(a == v for a in actual for v in values)


def matches(f: Filter, p: ParameterVersion, tags: Mapping[str, str], labels: Sequence[str]) -> bool:
    """Whether one parameter (its newest version, its tags, its labels) passes one filter."""
    option = f.effective_option
    if f.key == "Path":
        return _path_matches(p.name, option, f.values)
    if f.key == "Name":
        values = f.values if option == "Contains" else tuple(_rooted(v) for v in f.values)
        return _compare(option, [_rooted(p.name)], values)
    if f.key.startswith("tag:"):
        key = f.key[4:]
        # A tag filter without values asks only whether the tag is there.
        return key in tags and (not f.values or _compare(option, [tags[key]], f.values))
    actual: dict[str, Sequence[str]] = {
        "Type": [p.type.value], "KeyId": [p.key_id] if p.key_id else [], "Tier": [p.tier.value],
        "DataType": [p.data_type.value], "Label": labels,
    }
    return _compare(option, actual[f.key], f.values)


def token_after(token: str | None) -> str | None:
    """The sort key a NextToken continues after (tokens are opaque to callers)."""
    if not token:
        return None
    try:
        text = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as err:
        raise InvalidNextToken("The specified token isn't valid.") from err
    if not text.startswith(_TOKEN_PREFIX):
        raise InvalidNextToken("The specified token isn't valid.")
    return text.removeprefix(_TOKEN_PREFIX)


def make_token(last: str) -> str:
    return base64.urlsafe_b64encode((_TOKEN_PREFIX + last).encode()).decode()


def page_of(items: Sequence[ParameterVersion], max_results: int, sort_key: Callable[[ParameterVersion], str],
            after: str | None = None) -> Page:
    """One page of `items` (already ordered by `sort_key`), continuing after `after`."""
    rest = [p for p in items if after is None or sort_key(p) > after]
    chunk = rest[:max_results]
    more = len(rest) > max_results
    return Page(chunk, make_token(sort_key(chunk[-1])) if more and chunk else None)


def _by_name(p: ParameterVersion) -> str:
    return p.name


def parameters_by_path(conn: Connection, scope: Scope, path: str, recursive: bool, filters: Sequence[Filter],
                       token: str | None, max_results: int) -> Page:
    """GetParametersByPath: the newest version of each parameter under `path` (with a Label filter, the version
    that carries the label), by name."""
    validate_path(path)
    validate_filters(filters, by_path=True)
    after = token_after(token)
    root = path.strip("/")
    candidates = [p for p in rows.newest_versions(conn, scope, f"/{root}/" if root else None, after)
                  if under_path(p.name, path, recursive)]
    label_filter = next((f for f in filters if f.key == "Label"), None)
    labels = rows.labels_by_name(conn, scope, [p.name for p in candidates]) if label_filter else {}
    found: list[ParameterVersion] = []
    for p in candidates:
        named = labels.get(p.name, {})
        if not all(matches(f, p, {}, list(named)) for f in filters):
            continue
        if label_filter is not None:
            chosen = max(v for label, v in named.items() if label in label_filter.values)
            p = p if chosen == p.version else rows.version(conn, scope, p.name, chosen) or p
        found.append(p)
        if len(found) > max_results:
            break
    return page_of(found, max_results, _by_name)


def describe_parameters(conn: Connection, scope: Scope, filters: Sequence[Filter], token: str | None,
                        max_results: int, tags: ResourceTagStore) -> Page:
    """DescribeParameters: the newest version of each parameter the filters let through, by name."""
    validate_filters(filters, by_path=False)
    after = token_after(token)
    with_tags = any(f.key.startswith("tag:") for f in filters)
    found: list[ParameterVersion] = []
    for p in rows.newest_versions(conn, scope, None, after):
        own = tags.of(conn, scope.account_id, scope.region, "Parameter", p.name) if with_tags else {}
        if all(matches(f, p, own, ()) for f in filters):
            found.append(p)
            if len(found) > max_results:
                break
    return page_of(found, max_results, _by_name)
