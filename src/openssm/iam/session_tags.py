"""Session tags of AssumeRole: AWS's rules for passing them, making them transitive, and layering them
over the role's own tags (keys compare case-insensitively; the later layer wins, keeping its case)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from openssm.errors import AwsError
from openssm.iam.principals import Caller


class InvalidParameterValue(AwsError):
    code = "InvalidParameterValue"


def check_session_tags(caller: Caller, tags: Sequence[tuple[str, str]], transitive_keys: Sequence[str]) -> None:
    """Raise as STS does for duplicate keys, transitive keys that are not passed, and overriding a
    transitive tag inherited from the calling session."""
    keys = {key.lower() for key, _ in tags}
    if len(keys) != len(tags):
        raise InvalidParameterValue("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    inherited = {key.lower() for key in caller.transitive_tag_keys}
    if keys & inherited:
        raise InvalidParameterValue("One of the specified transitive tag keys can't be set because it conflicts "
                                    "with a transitive tag key from the calling session.")
    if not {key.lower() for key in transitive_keys} <= keys:
        raise InvalidParameterValue("The specified transitive tag key must be included in the requested tags.")


def inherited_tags(caller: Caller) -> dict[str, str]:
    """The calling session's transitive tags, which pass down a role chain."""
    wanted = {key.lower() for key in caller.transitive_tag_keys}
    return {key: value for key, value in caller.tags.items() if key.lower() in wanted}


def layered(*layers: Mapping[str, str]) -> dict[str, str]:
    """Merge tag maps; a key in a later map replaces the same key, in any case, from an earlier one."""
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for key, value in layer.items():
            merged[key.lower()] = (key, value)
    return dict(merged.values())


def transitive_keys_for(caller: Caller, requested: Sequence[str]) -> tuple[str, ...]:
    """The new session's transitive keys: the inherited ones plus those requested, once each."""
    seen: dict[str, str] = {}
    for key in (*caller.transitive_tag_keys, *requested):
        seen.setdefault(key.lower(), key)
    return tuple(seen.values())
