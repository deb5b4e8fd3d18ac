"""What every session plugin (shell, commands, port) is to the runner, and the little they share: how they
end, how they send, and output cut at whole UTF-8 characters as AWS's agent cuts it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import FlagValue

MAX_PAYLOAD = 1024  # AWS's StreamDataPayloadSize
# A port's bytes go in larger messages (protocol/data_channel_endpoint.py says why); AWS's programs read any size.
PORT_READ = 64 * 1024


class FinalStatus(StrEnum):
    """agent_task_complete's FinalTaskStatus."""

    SUCCESS = "Success"
    FAILED = "Failed"
    TIMED_OUT = "TimedOut"
    TERMINATED = "Terminated"


@dataclass(frozen=True)
class PluginResult:
    status: FinalStatus
    output: str = ""


class SessionFailed(Exception):
    """The plugin cannot run the session; the message is the session's output (AWS's wording)."""


class Output(Protocol):
    """Where a plugin's stream data goes: the session's data channel."""

    async def send(self, payload_type: PayloadType, payload: bytes) -> None: ...

    async def send_flag(self, flag: FlagValue) -> None: ...


class SessionPlugin(Protocol):
    async def start(self) -> None:
        """Start the session's processes or connections; SessionFailed when it cannot."""

    async def input(self, payload_type: PayloadType, payload: bytes) -> None:
        """Stream data from the client, in order."""

    async def wait(self) -> PluginResult:
        """The session's end on the node (the shell exited, the port closed, TerminateSession…)."""

    async def stop(self) -> None:
        """End everything the session started; safe to call more than once."""


def _incomplete_tail(data: bytes) -> int:
    """How many bytes at the end of `data` begin a UTF-8 character that is not complete yet."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: the last character starts here
            need = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4 if byte & 0xF8 == 0xF0 else 1
            return back if need > back else 0
    return 0


class WholeCharacters:
    """Holds back a character cut by a read until its remaining bytes arrive (AWS's processStdoutData)."""

    def __init__(self) -> None:
        self._carry = b""

    @property
    def held(self) -> int:
        return len(self._carry)

    def take(self, data: bytes) -> bytes:
        data = self._carry + data
        cut = _incomplete_tail(data)
        self._carry = data[len(data) - cut:] if cut else b""
        return data[:len(data) - cut] if cut else data

    def rest(self) -> bytes:
        rest, self._carry = self._carry, b""
        return rest
