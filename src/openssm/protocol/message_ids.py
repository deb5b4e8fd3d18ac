"""Run Command's message ids, `aws.ssm.<command id>.<instance id>`: the JobId of an MGS agent_job and the
MessageId of an ec2messages message are the same string. AWS's agent keys its job pool by it (a cancel names
the job to stop by it) and reads the command id back from it (runcommand/contracts GetCommandID: the
second-to-last dot-separated part), so a bare command id breaks cancellation and SSM_COMMAND_ID.

A cancellation is a message of its own, with an id of the same shape; AWS gives it a fresh UUID. Ours is
derived from the command and the node, so sending it again (reconnects, polls) names the same message.
"""

from __future__ import annotations

import re
import uuid

_PREFIX = "aws.ssm."
_MESSAGE_ID = re.compile(r"^aws\.ssm\.([0-9a-f-]{36})\.(mi-[0-9a-f]{17}|i-[0-9a-f]{8,17})$")
_CANCEL_NAMESPACE = uuid.UUID("6f1c4c1e-3c55-4d0e-9a4e-2f0b8f6b1d51")


def run_command_message_id(command_id: str, instance_id: str) -> str:
    return f"{_PREFIX}{command_id}.{instance_id}"


def cancel_message_id(command_id: str, instance_id: str) -> str:
    """The id of the message that cancels `command_id` on the node (the same each time it is sent)."""
    return run_command_message_id(str(uuid.uuid5(_CANCEL_NAMESPACE, f"{command_id}/{instance_id}")), instance_id)


def command_id_of(message_id: str) -> str:
    """The command id a message id carries; anything not of AWS's shape is taken as a command id itself."""
    parts = message_id.split(".")
    return parts[-2] if len(parts) >= 4 and message_id.startswith(_PREFIX) else message_id


def parse(message_id: str) -> tuple[str, str] | None:
    """(command id, instance id) of a well-formed message id, else None."""
    match = _MESSAGE_ID.match(message_id)
    return (match.group(1), match.group(2)) if match else None
