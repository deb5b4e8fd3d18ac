"""DescribeMaintenanceWindowSchedule: a window's coming runs, or those of every window whose targets name
the given nodes, soonest first (with ScheduleTimezone, ScheduleOffset, StartDate and EndDate applied)."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from openssm.services import maintenance_windows as windows_service
from openssm.services import maintenance_windows_rules as rules
from openssm.services import maintenance_windows_targets as targets_service
from openssm.services.maintenance_windows_model import Target, Window

MAX_LISTED = 1000  # runs computed for one listing, however far it pages


@dataclass(frozen=True)
class ScheduledRun:
    window: Window
    at: dt.datetime


def _runs(window: Window, now: dt.datetime) -> Iterator[ScheduledRun]:
    """Lazily: the merge below takes only as many runs of each window as the listing needs."""
    if window.spec.enabled:
        for at in rules.occurrences(window.spec, now, window.created_at):
            yield ScheduledRun(window, at)


def schedule(conn: Connection, account_id: str, region: str, window_id: str | None,
             targets: Sequence[Target], now: dt.datetime, limit: int) -> list[ScheduledRun]:
    """The next `limit` runs (at most MAX_LISTED) of the window, or of the windows targeting `targets`."""
    if window_id is not None:
        chosen = [windows_service.get(conn, account_id, region, window_id)]
    else:
        chosen = targets_service.windows_for(conn, account_id, region, targets, now)
    merged = heapq.merge(*(_runs(w, now) for w in chosen), key=lambda r: (r.at, r.window.window_id))
    return list(itertools.islice(merged, min(limit, MAX_LISTED)))
