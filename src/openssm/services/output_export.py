"""OutputS3BucketName: a finished invocation's output written to the command's bucket in the store the server
is configured with, under AWS's key layout (`<prefix>/<commandId>/<instanceId>/<plugin>/<step>/stdout`). AWS's
agent uploads to S3 itself; here the server does it for either agent, from the full output our agent
uploaded or, for AWS's agent, the output its replies carried. An invocation owes its export until it is
claimed; a claim that fails is marked failed and logged, never retried forever."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.services import command_output
from openssm.services.command_documents import Plugin, plugins_of
from openssm.services.command_output import Stream
from openssm.services.commands import FINAL, invocations_of
from openssm.store.db import Database
from openssm.store.object_store import ObjectStore
from openssm.store.tables.commands import commands, invocations

log = logging.getLogger(__name__)
_BATCH = 50


@dataclass(frozen=True)
class OwedExport:
    command_id: str
    instance_id: str
    account_id: str
    bucket: str
    prefix: str
    plugins: tuple[Plugin, ...]
    schema_1_2: bool


def output_key(prefix: str, command_id: str, instance_id: str, plugin: Plugin, schema_1_2: bool,
               stream: Stream) -> str:
    """AWS's layout: the plugin without its colon, then the step: `0.<plugin>` in schema 1.2, else its name."""
    action = plugin.action.replace(":", "")
    step = f"0.{action}" if schema_1_2 else plugin.name
    return "/".join(p for p in (prefix.strip("/"), command_id, instance_id, action, step, stream.value) if p)


def claim(conn: Connection) -> list[OwedExport]:
    """Finished invocations whose output is owed to a bucket, taken so no other process exports them too."""
    rows = conn.execute(sa.select(invocations.c.command_id, invocations.c.instance_id, commands.c.account_id,
                                  commands.c.output_bucket, commands.c.output_prefix, commands.c.document_content)
                        .join(commands, commands.c.command_id == invocations.c.command_id)
                        .where(invocations.c.export_state == "pending", invocations.c.status.in_(list(FINAL)))
                        .limit(_BATCH)).all()
    claimed = []
    for r in rows:
        taken = conn.execute(sa.update(invocations).where(
            invocations.c.command_id == r.command_id, invocations.c.instance_id == r.instance_id,
            invocations.c.export_state == "pending").values(export_state="done")).rowcount
        if taken:
            content = json.loads(r.document_content)
            claimed.append(OwedExport(r.command_id, r.instance_id, r.account_id, r.output_bucket, r.output_prefix,
                                      plugins_of(content), "mainSteps" not in content))
    return claimed


def _objects(conn: Connection, owed: OwedExport) -> list[tuple[str, bytes]]:
    """(key, data) for each step's non-empty stdout and stderr: the full output if uploaded, else the reply's."""
    reported = {p.name: p for i in invocations_of(conn, owed.command_id, owed.instance_id) for p in i.plugins}
    objects = []
    for plugin in owed.plugins:
        outcome = reported.get(plugin.name) or reported.get(plugin.action)
        for stream in Stream:
            data = command_output.read(conn, owed.account_id, owed.command_id, owed.instance_id, plugin.name,
                                       stream).data
            if not data and outcome is not None:
                data = (outcome.stdout if stream is Stream.STDOUT else outcome.stderr).encode()
            if data:
                objects.append((output_key(owed.prefix, owed.command_id, owed.instance_id, plugin,
                                           owed.schema_1_2, stream), data))
    return objects


def export_owed(db: Database, store: ObjectStore) -> int:
    """Export what is owed now; answers how many invocations were exported."""
    with db.begin() as conn:
        owed = claim(conn)
    done = 0
    for item in owed:
        with db.read() as conn:
            objects = _objects(conn, item)
        try:
            for key, data in objects:
                store.put(item.bucket, key, data)
            done += 1
        except Exception:
            log.exception("output of %s on %s not written to bucket %s", item.command_id, item.instance_id,
                          item.bucket)
            with db.begin() as conn:
                conn.execute(sa.update(invocations).where(
                    invocations.c.command_id == item.command_id, invocations.c.instance_id == item.instance_id)
                    .values(export_state="failed"))
    return done

