"""Parameter names as Parameter Store reads them: ARNs, `name:version` and `name:label` selectors,
hierarchy paths, and the naming rules PutParameter enforces, with AWS's messages."""

from __future__ import annotations

import re

from openssm.errors import AccessDenied, ValidationError
from openssm.services.parameter_model import MAX_LEVELS, HierarchyLevelLimitExceeded

# AWS counts the whole ARN against this limit (arn:aws:ssm:<region>:<account>:parameter/<name>).
MAX_ARN_LENGTH = 1011
_CHARACTERS = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
_RESERVED = ("aws", "ssm")
FLAT_RULES = ('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it '
              "can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, "
              "numbers and the following 3 symbols .-_")
PATH_RULES = ('Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist '
              "of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the "
              "following 3 symbols .-_")
PATH_FILTER_RULES = (
    'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward '
    'slash "/". It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or '
    "the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All "
    'sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.')


def parameter_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}"


def canonical(name: str) -> str:
    """The stored form of a name: '/x' and 'x' are one parameter (a root-level leading slash is optional)."""
    bare = name.removeprefix("/")
    return name if "/" in bare else bare


def strip_arn(name: str) -> str:
    """Accept a full parameter ARN wherever a name is expected."""
    if name.startswith("arn:"):
        parts = name.split(":", 5)
        if len(parts) == 6 and parts[5].startswith("parameter/"):
            return "/" + parts[5].removeprefix("parameter/")
    return name


def split_selector(raw: str) -> tuple[str, str | None]:
    """'name', 'name:3' or 'name:label' (or the same as an ARN) -> (name as given, selector or None)."""
    name = strip_arn(raw)
    head, sep, tail = name.rpartition(":")
    if sep and head and tail and "/" not in tail:
        return head, tail
    return name, None


def is_hierarchical(name: str) -> bool:
    return "/" in name.removeprefix("/")


def validate_new_name(name: str, region: str, account_id: str) -> None:
    """PutParameter's naming rules, checked in the order AWS reports them."""
    bare = name.removeprefix("/")
    if bare.lower().startswith(_RESERVED):
        if bare.lower().startswith("aws") and name.startswith("/") and is_hierarchical(name):
            raise AccessDenied(f"No access to reserved parameter name: {bare}.")
        raise ValidationError(PATH_RULES if is_hierarchical(name) else
                              'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).')
    if is_hierarchical(name) and not name.startswith("/"):
        raise ValidationError("Parameter name must be a fully qualified name")
    if not _CHARACTERS.match(name) or "//" in name or name.endswith("/"):
        raise ValidationError(PATH_RULES if is_hierarchical(name) else FLAT_RULES)
    if name.count("/") > MAX_LEVELS:
        raise HierarchyLevelLimitExceeded(
            "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for "
            "parameter names in the Amazon Web Services Systems Manager User Guide.")
    if len(parameter_arn(region, account_id, name)) > MAX_ARN_LENGTH:
        raise ValidationError(f"Parameter name: the fully qualified name, including the ARN, must be at most "
                              f"{MAX_ARN_LENGTH} characters.")


def validate_read_name(name: str) -> None:
    """A name that can never exist is refused, not just reported missing (as AWS does for 'a/b' or '/a//b')."""
    if is_hierarchical(name) and (not name.startswith("/") or "//" in name):
        raise ValidationError(PATH_RULES)


def validate_path(path: str) -> None:
    """GetParametersByPath's and the Path filter's requirements for a path."""
    if not path.startswith("/") or "//" in path or not re.match(r"^[a-zA-Z0-9_.\-/]*$", path):
        raise ValidationError(PATH_FILTER_RULES)


def under_path(name: str, path: str, recursive: bool) -> bool:
    """Whether `name` (canonical) lies under `path`: one level down, or anywhere below when recursive."""
    full = "/" + name.removeprefix("/")
    prefix = path.rstrip("/") + "/"
    if not full.startswith(prefix):
        return False
    return recursive or "/" not in full[len(prefix):]
