"""Patch groups: RegisterPatchBaselineForPatchGroup, DeregisterPatchBaselineForPatchGroup,
GetPatchBaselineForPatchGroup and DescribePatchGroups.

A patch group is a tag value ("Patch Group" or "PatchGroup" on a node); each group has at most one baseline per
operating system, and a baseline serves at most 25 groups. The baselines themselves: patch_baselines.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services.parameter_model import InvalidResourceId
from openssm.services.patch_baseline_model import (
    MAX_GROUPS_PER_BASELINE,
    AlreadyExists,
    BaselineIdentity,
    ResourceLimitExceeded,
)
from openssm.services.patch_baseline_rules import check_os_values
from openssm.services.patch_platforms import OperatingSystem
from openssm.store.tables.patch_baselines import patch_groups


@dataclass(frozen=True)
class GroupMapping:
    patch_group: str
    baseline: BaselineIdentity


def _where(account_id: str, region: str) -> tuple[sa.ColumnElement[bool], ...]:
    c = patch_groups.c
    return c.account_id == account_id, c.region == region


def groups_of(conn: Connection, account_id: str, region: str, baseline_id: str) -> list[str]:
    """The patch groups a baseline is registered for (GetPatchBaseline's PatchGroups)."""
    c = patch_groups.c
    return [str(r[0]) for r in conn.execute(sa.select(c.patch_group).where(
        *_where(account_id, region), c.baseline_id == baseline_id).order_by(c.patch_group).distinct())]


def baseline_id_for(conn: Connection, account_id: str, region: str, patch_group: str,
                    os_name: OperatingSystem) -> str | None:
    c = patch_groups.c
    found = conn.execute(sa.select(c.baseline_id).where(
        *_where(account_id, region), c.patch_group == patch_group, c.operating_system == os_name.value)).first()
    return None if found is None else str(found[0])


def register(conn: Connection, account_id: str, region: str, baseline_id: str, os_name: OperatingSystem,
             patch_group: str, now: dt.datetime) -> None:
    """One baseline per group and operating system: a second is refused, as AWS refuses it."""
    existing = baseline_id_for(conn, account_id, region, patch_group, os_name)
    if existing is not None:
        raise AlreadyExists(f"Patch Group {patch_group} already has a patch baseline ({existing}) registered for "
                            f"OperatingSystem {os_name.value}.")
    if len(groups_of(conn, account_id, region, baseline_id)) >= MAX_GROUPS_PER_BASELINE:
        raise ResourceLimitExceeded(f"Maximum number of patch groups ({MAX_GROUPS_PER_BASELINE}) reached for "
                                    f"patch baseline {baseline_id}.")
    conn.execute(sa.insert(patch_groups).values(
        account_id=account_id, region=region, patch_group=patch_group, operating_system=os_name.value,
        baseline_id=baseline_id, created_at=now))


def deregister(conn: Connection, account_id: str, region: str, baseline_id: str, patch_group: str) -> None:
    c = patch_groups.c
    if not conn.execute(sa.delete(patch_groups).where(
            *_where(account_id, region), c.patch_group == patch_group, c.baseline_id == baseline_id)).rowcount:
        raise InvalidResourceId(f"Patch Baseline {baseline_id} is not registered for Patch Group {patch_group}.")


def mappings(conn: Connection, account_id: str, region: str) -> list[tuple[str, str]]:
    """Every (patch group, baseline id) of the account, by group then operating system."""
    c = patch_groups.c
    return [(str(r.patch_group), str(r.baseline_id)) for r in conn.execute(
        sa.select(c.patch_group, c.baseline_id).where(*_where(account_id, region))
        .order_by(c.patch_group, c.operating_system))]


def select(found: Sequence[GroupMapping], filters: Sequence[tuple[str, Sequence[str]]]) -> list[GroupMapping]:
    """DescribePatchGroups' filters: NAME_PREFIX (on the group) and OPERATING_SYSTEM (of its baseline)."""
    out = list(found)
    for key, values in filters:
        if key not in ("NAME_PREFIX", "OPERATING_SYSTEM"):
            raise ValidationError(f"Invalid filter key {key}. Valid filter keys are NAME_PREFIX and "
                                  "OPERATING_SYSTEM.")
        if len(values) != 1:
            raise ValidationError(f"Filter {key} takes exactly one value.")
        check_os_values(key, values)
        if key == "NAME_PREFIX":
            out = [m for m in out if m.patch_group.startswith(values[0])]
        else:
            out = [m for m in out if m.baseline.operating_system.value == values[0]]
    return out
