"""Patch groups seen with their baselines: registering a baseline for a group (under the baseline's operating
system), deregistering it, the baseline a group uses (its own, else the default) and DescribePatchGroups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection

from openssm.services import patch_baselines, patch_groups
from openssm.services.parameter_model import InvalidResourceId
from openssm.services.patch_groups import GroupMapping


def register(conn: Connection, account_id: str, region: str, raw_id: str, patch_group: str,
             now: dt.datetime) -> str:
    """RegisterPatchBaselineForPatchGroup; answers the baseline's id."""
    if not patch_group.strip():
        raise InvalidResourceId("The patch group name can't be empty or only white space.")
    baseline = patch_baselines.find(conn, account_id, region, raw_id)
    patch_groups.register(conn, account_id, region, baseline.baseline_id, baseline.spec.operating_system,
                          patch_group, now)
    return baseline.baseline_id


def deregister(conn: Connection, account_id: str, region: str, raw_id: str, patch_group: str) -> str:
    """DeregisterPatchBaselineForPatchGroup; answers the baseline's id."""
    baseline_id = patch_baselines.canonical_id(account_id, region, raw_id)
    patch_groups.deregister(conn, account_id, region, baseline_id, patch_group)
    return baseline_id


def describe(conn: Connection, account_id: str, region: str,
             filters: Sequence[tuple[str, Sequence[str]]]) -> list[GroupMapping]:
    """DescribePatchGroups: each group with each baseline registered for it."""
    identities = {i.baseline_id: i for i in patch_baselines.describe(conn, account_id, region, [])}
    found = []
    for group, baseline_id in patch_groups.mappings(conn, account_id, region):
        identity = identities.get(baseline_id)
        if identity is not None:
            found.append(GroupMapping(group, identity))
    return patch_groups.select(found, filters)


__all__ = ["GroupMapping", "deregister", "describe", "register"]
