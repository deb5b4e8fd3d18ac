"""Agents' replies recorded on their invocations, a batch at a time.

Steps are merged by name: AWS's agent reports each step of a document in a reply of its own and closes with
one naming no step, and over the control channel the last step's reply may arrive after that final one; so a
finished invocation still takes in steps, never a new status. A batch is one read of the invocations it
touches and one executemany of their new state: a fan-out to ten thousand nodes answers ten thousand
replies in a few seconds, and building a statement per reply was most of that time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.protocol.message_ids import command_id_of
from openssm.protocol.mgs import JobReply
from openssm.services.commands import FINAL, REPLY_STATUS, parse_stamp
from openssm.store.tables.commands import invocations

_STEP_FINAL = frozenset({"Success", "Failed", "TimedOut", "Cancelled", "Skipped"})
_STATE = ("status", "status_details", "stdout", "stderr", "response_code", "started_at", "ended_at", "plugins")
_KEY = (invocations.c.command_id, invocations.c.instance_id)
_CHUNK = 400  # invocations per read: two bound parameters each
_UPDATE = sa.update(invocations).where(
    invocations.c.command_id == sa.bindparam("key_command"),
    invocations.c.instance_id == sa.bindparam("key_instance"),
).values({name: sa.bindparam(f"new_{name}", type_=invocations.c[name].type) for name in _STATE})


def apply_reply(conn: Connection, instance_id: str, reply: JobReply, now: dt.datetime) -> None:
    apply_replies(conn, [(instance_id, reply)], now)


def apply_replies(conn: Connection, replies: Sequence[tuple[str, JobReply]], now: dt.datetime) -> None:
    """Record what the agents reported, in order (a node's later reply in the same batch wins)."""
    keys = sorted({(command_id_of(reply.job_id), node) for node, reply in replies})
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(keys), _CHUNK):
        query = sa.select(*_KEY, *(invocations.c[name] for name in _STATE)).where(
            sa.tuple_(*_KEY).in_(keys[start:start + _CHUNK])).with_for_update()
        rows.update({(r.command_id, r.instance_id): dict(r._mapping) for r in conn.execute(query)})
    changed: set[tuple[str, str]] = set()
    for node, reply in replies:
        key = (command_id_of(reply.job_id), node)
        if key in rows and _merge(rows[key], reply, now):
            changed.add(key)
    if changed:
        conn.execute(_UPDATE, [{"key_command": command_id, "key_instance": node,
                                **{f"new_{name}": rows[command_id, node][name] for name in _STATE}}
                               for command_id, node in sorted(changed)])


def _merge(row: dict[str, Any], reply: JobReply, now: dt.datetime) -> bool:
    """Fold one reply into an invocation's state; whether anything changed."""
    status, details = REPLY_STATUS.get(reply.document_status, ("Failed", "Failed"))
    # A progress report never undoes a cancellation in flight; nothing undoes a final status.
    settled = FINAL | {"Cancelling"} if status == "InProgress" else FINAL
    finishing = row["status"] not in settled and status in FINAL
    changed = row["status"] not in settled
    if changed:
        row.update(status=status, status_details=details)
    steps = {p["name"]: p for p in json.loads(row["plugins"] or "[]")}
    for p in reply.plugins:
        if p.name in steps and steps[p.name]["status"] in _STEP_FINAL and p.status not in _STEP_FINAL:
            continue  # a resent progress report of a step already finished
        steps[p.name] = {"name": p.name, "action": p.action, "status": p.status, "code": p.code, "start": p.start,
                         "end": p.end, "stdout": p.standard_output, "stderr": p.standard_error}
    merged = sorted(steps.values(), key=lambda p: (not p["start"], p["start"]))  # in the order they ran
    if reply.plugins:
        row.update(stdout="".join(p["stdout"] for p in merged), stderr="".join(p["stderr"] for p in merged),
                   response_code=merged[-1]["code"], started_at=parse_stamp(merged[0]["start"]) or now,
                   plugins=json.dumps(merged))
        changed = True
    if finishing:
        row["ended_at"] = parse_stamp(merged[-1]["end"] if merged else "") or now
    return changed
