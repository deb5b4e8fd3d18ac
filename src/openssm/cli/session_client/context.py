"""What a session kind (shell, port forwarding…) gets from the plugin: the data channel to send on, the
console, the agent's version and the session's properties, a way to end the session, and the agent-version
rules by which AWS's plugin picks behaviour (src/config/config.go, src/version/versionvalidator.go)."""

from __future__ import annotations

import asyncio
import signal
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from openssm.cli.session_client.channel import DataChannelClient
from openssm.cli.session_client.console import Console
from openssm.protocol.agent_message import PayloadType
from openssm.protocol.data_channel import FlagValue
from openssm.protocol.data_channel_endpoint import StreamData

TERMINATE_SESSION_FLAG_AFTER = "2.3.722.0"
TCP_MULTIPLEXING_AFTER = "3.0.196.0"
CONTROL_SIGNALS = (signal.SIGINT, signal.SIGTSTP, signal.SIGQUIT)


def agent_version_after(agent_version: str, threshold: str) -> bool:
    """AWS's isAgentVersionGreaterThanSupportedVersion: strictly newer; False when either does not parse."""
    try:
        have = [int(p) for p in agent_version.split(".")]
        need = [int(p) for p in threshold.split(".")]
    except ValueError:
        return False
    if len(have) != len(need):
        return False
    return have > need


@dataclass
class SessionContext:
    session_id: str
    channel: DataChannelClient
    console: Console
    done: asyncio.Future[int]
    agent_version: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)  # the StartSession request's Parameters
    handle_signals: bool = True

    async def send(self, payload_type: PayloadType, payload: bytes) -> None:
        await self.channel.send(payload_type, payload)

    async def send_flag(self, flag: FlagValue) -> None:
        await self.channel.send(PayloadType.FLAG, struct.pack(">I", flag))

    def finish(self, code: int) -> None:
        if not self.done.done():
            self.done.set_result(code)

    def on_signals(self, signals: tuple[signal.Signals, ...], callback: Callable[[signal.Signals], None]) \
            -> Callable[[], None]:
        """Run `callback` on these signals while the session runs; returns what removes the handlers. A no-op
        off the main thread or when the plugin runs embedded (tests)."""
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return lambda: None
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.add_signal_handler(sig, callback, sig)

        def remove() -> None:
            for sig in signals:
                loop.remove_signal_handler(sig)
        return remove


class SessionHandler(Protocol):
    """One kind of session on the client side, started once the handshake completes."""

    exit_code: int

    async def start(self) -> None: ...

    async def receive(self, data: StreamData) -> None: ...

    async def stop(self) -> None: ...
