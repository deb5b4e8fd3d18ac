"""Wildcard matching of actions (case-insensitive) and resource ARNs (case-sensitive, segment by segment)."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=8192)
def wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """`*` matches any run (including `/` and `:` within a segment), `?` one character."""
    # The private-use sentinels stand for a literal `*` / `?` produced by policy variables (`${*}`).
    special = {"*": ".*", "?": ".", "\ue000": re.escape("*"), "\ue001": re.escape("?")}
    parts = (special.get(ch) or re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    return wildcard_regex(pattern, True).fullmatch(action) is not None


def _split_arn(arn: str) -> list[str] | None:
    parts = arn.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else None


def resource_matches(pattern: str, resource: str) -> bool:
    """ARNs match segment by segment; the resource segment may contain `:` and `/`, crossed by `*`."""
    if pattern == "*":
        return True
    if resource == "*":
        return pattern == "*"
    p_parts, r_parts = _split_arn(pattern), _split_arn(resource)
    if p_parts is None or r_parts is None:
        return wildcard_regex(pattern, False).fullmatch(resource) is not None
    return all(wildcard_regex(p, False).fullmatch(r) is not None for p, r in zip(p_parts, r_parts, strict=True))
