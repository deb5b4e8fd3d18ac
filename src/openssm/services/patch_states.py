"""Patch states (DescribeInstancePatchStates, DescribeInstancePatchStatesForPatchGroup, DescribePatchGroupState):
each node's high-level patch state, read from the AWS:PatchSummary inventory item its agent reports after every
Scan or Install (the patching contract; all values strings), with its patch group and baseline as reported.

A node that never reported one has no state. Counts that are not numbers read as 0, times that are not ISO 8601
as absent: the item is the agent's, checked by PutInventory only against its schema's attribute names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from openssm.services import inventory
from openssm.services.inventory_filters import live_holders
from openssm.services.inventory_model import InvalidFilter

PATCH_SUMMARY = "AWS:PatchSummary"
# The counts InstancePatchState carries, as AWS:PatchSummary names them; the first eight are the keys
# DescribeInstancePatchStatesForPatchGroup's filters take (the API reference's list).
STATE_COUNTS = ("InstalledCount", "InstalledOtherCount", "InstalledPendingRebootCount", "InstalledRejectedCount",
                "MissingCount", "FailedCount", "UnreportedNotApplicableCount", "NotApplicableCount")
NON_COMPLIANT_COUNTS = ("CriticalNonCompliantCount", "SecurityNonCompliantCount", "OtherNonCompliantCount")
FILTER_TYPES = ("Equal", "NotEqual", "LessThan", "GreaterThan")
_REBOOT_OPTIONS = ("RebootIfNeeded", "NoReboot")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # AWS's time for what never happened (e.g. not installed)


@dataclass(frozen=True)
class PatchState:
    instance_id: str
    patch_group: str
    baseline_id: str
    snapshot_id: str | None
    install_override_list: str | None
    owner_information: str | None
    counts: Mapping[str, int]  # STATE_COUNTS and NON_COMPLIANT_COUNTS
    operation: str
    operation_start: dt.datetime
    operation_end: dt.datetime
    last_no_reboot_install: dt.datetime | None
    reboot_option: str | None


@dataclass(frozen=True)
class StateFilter:
    key: str
    values: tuple[str, ...]
    type: str


@dataclass(frozen=True)
class GroupState:
    """DescribePatchGroupState: how many of the group's nodes have patches in each state."""

    instances: int
    with_counts: Mapping[str, int]  # count name -> nodes whose count is above zero


def states(conn: Connection, account_id: str, region: str, instance_ids: Sequence[str],
           now: dt.datetime) -> list[PatchState]:
    """The patch states of the nodes that reported one, in the order asked."""
    items = inventory.items_of(conn, account_id, region, PATCH_SUMMARY, list(dict.fromkeys(instance_ids)), now)
    found = [_state(i, items[i].content[0]) for i in dict.fromkeys(instance_ids) if i in items and items[i].content]
    return found


def group_states(conn: Connection, account_id: str, region: str, patch_group: str, filters: Sequence[StateFilter],
                 now: dt.datetime) -> list[PatchState]:
    """The patch states of the nodes that reported `patch_group` as theirs and satisfy every filter, by node."""
    checked = [_checked(f) for f in filters]
    holders = sorted(live_holders(conn, account_id, region, [PATCH_SUMMARY], now))
    return [s for s in states(conn, account_id, region, holders, now)
            if s.patch_group == patch_group and all(_matches(s, f, n) for f, n in checked)]


def group_state(conn: Connection, account_id: str, region: str, patch_group: str, now: dt.datetime) -> GroupState:
    found = group_states(conn, account_id, region, patch_group, (), now)
    return GroupState(len(found), {name: sum(1 for s in found if s.counts.get(name, 0) > 0)
                                   for name in (*STATE_COUNTS, *NON_COMPLIANT_COUNTS)})


def _checked(f: StateFilter) -> tuple[StateFilter, int]:
    if f.key not in STATE_COUNTS:
        raise InvalidFilter(f"The filter key {f.key} is not valid. Valid filter keys: {', '.join(STATE_COUNTS)}.")
    if f.type not in FILTER_TYPES:
        raise InvalidFilter(f"The filter type {f.type} is not valid. Valid types: {', '.join(FILTER_TYPES)}.")
    if len(f.values) != 1:
        raise InvalidFilter(f"The filter {f.key} takes exactly one value.")
    try:
        return f, int(f.values[0])
    except ValueError:
        raise InvalidFilter(f"The value {f.values[0]} of filter {f.key} is not an integer.") from None


def _matches(state: PatchState, f: StateFilter, number: int) -> bool:
    count = state.counts.get(f.key, 0)
    return {"Equal": count == number, "NotEqual": count != number, "LessThan": count < number,
            "GreaterThan": count > number}[f.type]


def _state(instance_id: str, entry: Mapping[str, str]) -> PatchState:
    return PatchState(
        instance_id=instance_id, patch_group=entry.get("PatchGroup", ""), baseline_id=entry.get("BaselineId", ""),
        snapshot_id=entry.get("SnapshotId") or None, install_override_list=entry.get("InstallOverrideList") or None,
        owner_information=entry.get("OwnerInformation") or None,
        counts={name: _count(entry.get(name)) for name in (*STATE_COUNTS, *NON_COMPLIANT_COUNTS)},
        operation=entry["OperationType"] if entry.get("OperationType") in ("Scan", "Install") else "Scan",
        operation_start=parse_time(entry.get("OperationStartTime")) or EPOCH,
        operation_end=parse_time(entry.get("OperationEndTime")) or EPOCH,
        last_no_reboot_install=parse_time(entry.get("LastNoRebootInstallOperationTime")),
        reboot_option=entry.get("RebootOption") if entry.get("RebootOption") in _REBOOT_OPTIONS else None)


def _count(value: str | None) -> int:
    try:
        return max(int(value or "0"), 0)
    except ValueError:
        return 0


def parse_time(value: str | None) -> dt.datetime | None:
    """An ISO 8601 time as the agent reports it ("Z" or an offset; naive read as UTC); None when absent or bad."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
