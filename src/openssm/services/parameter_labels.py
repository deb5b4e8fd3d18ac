"""Parameter labels: LabelParameterVersion and UnlabelParameterVersion with AWS's label rules.

A label is letters, digits, '.', '-' and '_' (at most 100), never starts with a digit or with "aws"/"ssm"
(any case); a version carries at most 10; attaching a label to a version moves it off any other version.
Labels that break the rules are not attached and come back as InvalidLabels.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Connection

from openssm.services import parameter_rows as rows
from openssm.services.parameter_model import (
    MAX_LABELS,
    ParameterNotFound,
    ParameterVersion,
    ParameterVersionLabelLimitExceeded,
    ParameterVersionNotFound,
    Scope,
)

_LABEL = re.compile(r"^[a-zA-Z0-9_.\-]{1,100}$")
_RESERVED = re.compile(r"^(aws|ssm)", re.IGNORECASE)


def label_is_valid(label: str) -> bool:
    return bool(_LABEL.match(label)) and not label[0].isdigit() and not _RESERVED.match(label)


def version_not_found(name: str, selector: object) -> ParameterVersionNotFound:
    return ParameterVersionNotFound(f"Systems Manager could not find version {selector} of {name}. Verify the "
                                    "version and try again.")


def target_version(conn: Connection, scope: Scope, name: str, number: int | None) -> ParameterVersion:
    """The version a label call names (the newest when none is given)."""
    newest = rows.latest(conn, scope, name)
    if newest is None:
        raise ParameterNotFound()
    if number is None or number == newest.version:
        return newest
    found = rows.version(conn, scope, name, number)
    if found is None:
        raise version_not_found(name, number)
    return found


def label_version(conn: Connection, scope: Scope, name: str, number: int | None,
                  labels: Sequence[str]) -> tuple[int, list[str]]:
    """Attach `labels` to a version; returns (the version labelled, the labels refused)."""
    target = target_version(conn, scope, name, number)
    wanted = list(dict.fromkeys(labels))
    invalid = [label for label in wanted if not label_is_valid(label)]
    current = rows.labels_of(conn, scope, name)
    kept = {label for label, v in current.items() if v == target.version}
    new = [label for label in wanted if label not in invalid and label not in kept]
    if len(kept) + len(new) > MAX_LABELS:
        raise ParameterVersionLabelLimitExceeded("A parameter version can have maximum 10 labels.Move one or more "
                                                 "labels to another version and try again.")
    for label in new:
        rows.set_label(conn, scope, name, label, target.version)
    return target.version, invalid


def unlabel_version(conn: Connection, scope: Scope, name: str, number: int,
                    labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """Detach `labels` from a version; returns (removed, not on that version)."""
    target = target_version(conn, scope, name, number)
    current = rows.labels_of(conn, scope, name)
    wanted = list(dict.fromkeys(labels))
    removed = [label for label in wanted if current.get(label) == target.version]
    rows.remove_labels(conn, scope, name, target.version, removed)
    return removed, [label for label in wanted if label not in removed]
