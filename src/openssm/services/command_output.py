"""The full output of a Run Command step, beyond AWS's cuts: our agent uploads each step's stdout and stderr in
pieces while it runs and before its final reply, and readers follow it live (`openssm command output
--follow`). Pieces are stored at their byte offset and must arrive in order, so a resent piece is harmless and
a lost one is asked for again; the output is bytes, decoded by whoever shows it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import AwsError
from openssm.services.commands import FINAL, InvocationDoesNotExist
from openssm.store.tables.commands import invocation_output, invocations

MAX_PIECE = 1024 * 1024
# What a node may still upload to: a running invocation, or one whose final reply just landed (its agent
# uploads the last piece before replying, but a resent piece may trail the reply).
_WRITABLE = ("InProgress", "Delayed", "Cancelling", *FINAL)


class Stream(StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"


class OutOfOrder(AwsError):
    """A piece that does not start where the stored output ends; `expected` says where it must."""

    code = "OutOfOrder"
    status = 409

    def __init__(self, expected: int) -> None:
        super().__init__(f"The next piece must start at byte {expected}.")
        self.expected = expected


@dataclass(frozen=True)
class OutputPiece:
    data: bytes
    next_offset: int
    status: str  # the invocation's, so a follower knows when to stop


def _where(command_id: str, instance_id: str, plugin: str, stream: Stream) -> tuple[sa.ColumnElement[bool], ...]:
    c = invocation_output.c
    return c.command_id == command_id, c.instance_id == instance_id, c.plugin == plugin, c.stream == stream.value


def _status(conn: Connection, account_id: str, command_id: str, instance_id: str) -> str:
    status = conn.execute(sa.select(invocations.c.status).where(
        invocations.c.command_id == command_id, invocations.c.instance_id == instance_id,
        invocations.c.account_id == account_id)).scalar()
    if status is None:
        raise InvocationDoesNotExist("The invocation does not exist.")
    return str(status)


def stored_length(conn: Connection, command_id: str, instance_id: str, plugin: str, stream: Stream) -> int:
    c = invocation_output.c
    end = conn.execute(sa.select(sa.func.max(c.offset + sa.func.length(c.data))).where(
        *_where(command_id, instance_id, plugin, stream))).scalar()
    return int(end or 0)


def append(conn: Connection, account_id: str, command_id: str, instance_id: str, plugin: str, stream: Stream,
           offset: int, data: bytes) -> int:
    """Store a piece the node uploaded; answers where the next one starts."""
    if _status(conn, account_id, command_id, instance_id) not in _WRITABLE:
        raise InvocationDoesNotExist("The invocation has not been sent to this node.")
    end = stored_length(conn, command_id, instance_id, plugin, stream)
    if offset + len(data) <= end:
        return end  # a piece sent again after its answer was lost
    if offset != end:
        raise OutOfOrder(end)
    conn.execute(sa.insert(invocation_output).values(command_id=command_id, instance_id=instance_id, plugin=plugin,
                                                     stream=stream.value, offset=offset, data=data))
    return end + len(data)


def read(conn: Connection, account_id: str, command_id: str, instance_id: str, plugin: str, stream: Stream,
         offset: int = 0) -> OutputPiece:
    """The output from `offset` on, as far as it has been uploaded (the caller's account's invocations only)."""
    status = _status(conn, account_id, command_id, instance_id)
    c = invocation_output.c
    rows = conn.execute(sa.select(c.offset, c.data).where(
        *_where(command_id, instance_id, plugin, stream), c.offset + sa.func.length(c.data) > offset)
        .order_by(c.offset)).all()
    data = b"".join(bytes(r.data) for r in rows)
    start = rows[0].offset if rows else offset
    return OutputPiece(data[offset - start:], max(offset, start + len(data)), status)

