"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, and the escapes `${*}` `${?}` `${$}`.

Substituted text must match literally, so literal `*` and `?` become private-use sentinels that the
wildcard matcher treats as plain characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

LITERAL_STAR = "\ue000"
LITERAL_QUESTION = "\ue001"

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")
_ESCAPES = {"*": LITERAL_STAR, "?": LITERAL_QUESTION, "$": "$"}


def _literal(value: str) -> str:
    return value.replace("*", LITERAL_STAR).replace("?", LITERAL_QUESTION)


def substitute(text: str, context: Mapping[str, tuple[str, ...]]) -> str | None:
    """Replace every variable; None when one has no value and no default (the element then matches nothing)."""
    if "${" not in text:
        return text
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        body = match.group(1)
        if body in _ESCAPES:
            return _ESCAPES[body]
        default = _DEFAULT.match(body)
        key, fallback = (default.group(1), default.group(2)) if default else (body.strip(), None)
        values = context.get(key.lower())
        if values and len(values) == 1:
            return _literal(values[0])
        if fallback is not None:
            return _literal(fallback)
        missing = True
        return ""

    result = _VARIABLE.sub(replace, text)
    return None if missing else result


def as_plain(text: str) -> str:
    """A substituted value used for equality (not wildcard) comparison."""
    return text.replace(LITERAL_STAR, "*").replace(LITERAL_QUESTION, "?")
