"""One session from its task to its end, as AWS's agent runs it (agent/session/plugins/sessionplugin): open the
data channel, say Connected, shake hands (HandshakeRequest → HandshakeResponse → HandshakeComplete), run the
plugin for the session type, and end on the first of: the session ending on the node, the service closing the
channel (channel_closed), a terminate from the control channel, no input for the idle timeout, or the maximum
duration. Its outcome is what agent_task_complete reports."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from openssm.agent.sessions.commands import CommandsPlugin
from openssm.agent.sessions.data_channel import AgentDataChannel, ChannelLost, Connect
from openssm.agent.sessions.document import InvalidSession, SessionConfig, session_config
from openssm.agent.sessions.plugin import FinalStatus, PluginResult, SessionFailed, SessionPlugin
from openssm.agent.sessions.port import LOCAL_PORT_FORWARDING, PortPlugin
from openssm.agent.sessions.port_forwarding import MuxPortPlugin
from openssm.agent.sessions.shell import ShellPlugin
from openssm.agent.sessions.users import SessionUsers
from openssm.protocol.agent_data_channel import SessionState
from openssm.protocol.data_channel import HandshakeComplete, HandshakeRequest, SessionType
from openssm.protocol.data_channel_endpoint import Closed, HandshakeResponded, StreamData
from openssm.protocol.session_tasks import SessionTask

log = logging.getLogger(__name__)
T = TypeVar("T")
IDLE_MESSAGE = "Your session timed out due to inactivity and has been terminated."
# Not verified against AWS's service, which words this end itself.
MAX_DURATION_MESSAGE = "Your session has reached its maximum session duration and has been terminated."
HANDSHAKE_TIMEOUT_MESSAGE = ("Handshake timed out. Please ensure that you have the latest version of the session "
                             "manager plugin.")
# Client versions from AWS's agent: smux from 1.1.70, keepalive disabled after 1.2.331.0, separate output
# streams fully supported from 1.2.312.0.
MUX_CLIENT_VERSION = "1.1.70"
MUX_KEEPALIVE_UNTIL = "1.2.331.0"
WITHOUT_OUTPUT_SEPARATION = "1.2.295"


@dataclass(frozen=True)
class SessionSettings:
    handshake_timeout: dt.timedelta = dt.timedelta(seconds=15)  # AWS's handshakeTimeout
    drain_timeout: dt.timedelta = dt.timedelta(seconds=3)  # for the last output to be acknowledged


@dataclass(frozen=True)
class SessionOutcome:
    status: FinalStatus
    output: str = ""


class _Ended(Exception):
    def __init__(self, outcome: SessionOutcome) -> None:
        super().__init__(outcome.output)
        self.outcome = outcome


def version_at_least(version: str, minimum: str) -> bool:
    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(p) if p.isdigit() else 0 for p in text.split("."))
    return parts(version) >= parts(minimum)


class SessionRunner:
    def __init__(self, task: SessionTask, connect: Connect, *, agent_version: str, users: SessionUsers,
                 settings: SessionSettings | None = None, config: SessionConfig | None = None) -> None:
        self.task = task
        self._connect = connect
        self._agent_version = agent_version
        self._users = users
        self._settings = settings or SessionSettings()
        self._config = config
        self._terminated = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def terminate(self) -> None:
        """End the session now (the service closed it on the control channel)."""
        self._terminated.set()

    async def run(self) -> SessionOutcome:
        session_id = self.task.session_id
        try:
            config = self._config or session_config(self.task)
        except InvalidSession as err:
            return SessionOutcome(FinalStatus.FAILED, str(err))
        channel = AgentDataChannel(session_id, self._connect)
        try:
            await self._until_ended(channel.open(), None)
        except Exception as err:
            await channel.close()
            if isinstance(err, _Ended):
                return err.outcome
            log.warning("session %s: no data channel: %s", session_id, err)
            return SessionOutcome(FinalStatus.FAILED, f"Setting up data channel with id {session_id} failed: {err}")
        plugin: SessionPlugin | None = None
        try:
            await channel.send_state(SessionState.CONNECTED)
            client_version = await self._until_ended(self._handshake(channel, config), channel)
            plugin = self._plugin(config, channel, client_version)
            await self._until_ended(plugin.start(), channel)
            outcome = await self._serve(channel, plugin, config)
        except _Ended as ended:
            outcome = ended.outcome
        except SessionFailed as err:
            outcome = SessionOutcome(FinalStatus.FAILED, str(err))
        except Exception as err:
            log.exception("session %s failed", session_id)
            outcome = SessionOutcome(FinalStatus.FAILED, f"The session failed on the node: {err}")
        finally:
            if plugin is not None:
                await plugin.stop()
        if outcome.status is not FinalStatus.TERMINATED and not channel.ended.done():
            await channel.drain(self._settings.drain_timeout.total_seconds())
            await channel.send_state(SessionState.TERMINATING)
        await channel.close()
        log.info("session %s ended: %s %s", session_id, outcome.status.value, outcome.output)
        return outcome

    async def _until_ended(self, work: Awaitable[T], channel: AgentDataChannel | None) -> T:
        """`work`'s result, unless the session is terminated (or its channel closed) first."""
        job = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self._terminated.wait())
        watch: set[asyncio.Future[Any]] = {job, stop}
        if channel is not None:
            watch.add(channel.ended)
        try:
            await asyncio.wait(watch, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            stop.cancel()
            job.cancel()
            raise
        stop.cancel()
        if job.done():
            return job.result()
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await job
        raise _Ended(self._ending(channel))

    def _ending(self, channel: AgentDataChannel | None) -> SessionOutcome:
        if channel is not None and channel.ended.done():
            how = channel.ended.result()
            if isinstance(how, ChannelLost):
                return SessionOutcome(FinalStatus.FAILED, how.reason)
        return SessionOutcome(FinalStatus.TERMINATED)

    async def _handshake(self, channel: AgentDataChannel, config: SessionConfig) -> str:
        """Shake hands with the client; its version."""
        started = self._loop.time()
        await channel.send_handshake(HandshakeRequest(self._agent_version, config.session_type,
                                                      config.handshake_properties()))
        try:
            async with asyncio.timeout(self._settings.handshake_timeout.total_seconds()):
                while True:
                    event = await channel.next_event()
                    if isinstance(event, HandshakeResponded):
                        break
                    if isinstance(event, Closed | ChannelLost):
                        raise _Ended(self._ending(channel))
                    # Anything else before the handshake is dropped, as AWS's agent drops it.
        except TimeoutError:
            raise SessionFailed(f"Encountered error while initiating handshake. {HANDSHAKE_TIMEOUT_MESSAGE}") \
                from None
        response = event.response
        if response.action_status != 1:
            raise SessionFailed(f"Encountered error while initiating handshake. SessionType failed on client with "
                                f"status {response.action_status} error: {'; '.join(response.errors)}")
        message = ""
        if config.session_type is SessionType.NON_INTERACTIVE_COMMANDS and _separate(config) and \
                not version_at_least(response.client_version, WITHOUT_OUTPUT_SEPARATION + ".1"):
            message = ("Please update session manager plugin version (minimum required version 1.2.312.0) for "
                       "fully support of separate StdOut/StdErr output.\r\n")
        elapsed = dt.timedelta(seconds=self._loop.time() - started)
        await channel.send_handshake(HandshakeComplete(elapsed, message))
        return response.client_version

    def _plugin(self, config: SessionConfig, channel: AgentDataChannel, client_version: str) -> SessionPlugin:
        kind = config.session_type
        if kind is SessionType.NON_INTERACTIVE_COMMANDS:
            return CommandsPlugin(config, channel, self._users)
        if kind is not SessionType.PORT:
            return ShellPlugin(config, channel, self._users)
        if config.properties.get("type") == LOCAL_PORT_FORWARDING and \
                version_at_least(client_version, MUX_CLIENT_VERSION):
            return MuxPortPlugin(config, channel, keepalive=not version_at_least(client_version, MUX_KEEPALIVE_UNTIL
                                                                                 + ".1"))
        return PortPlugin(config, channel)

    async def _serve(self, channel: AgentDataChannel, plugin: SessionPlugin, config: SessionConfig) -> SessionOutcome:
        last_input = started = self._loop.time()

        async def feed() -> None:
            nonlocal last_input
            while True:
                event = await channel.next_event()
                if isinstance(event, StreamData):
                    last_input = self._loop.time()
                    await plugin.input(event.payload_type, event.payload)
                elif isinstance(event, Closed | ChannelLost):
                    return

        natural = asyncio.ensure_future(plugin.wait())
        feeding = asyncio.ensure_future(feed())
        terminated = asyncio.ensure_future(self._terminated.wait())
        idle = config.idle_timeout.total_seconds()
        longest = config.max_duration.total_seconds() if config.max_duration else None
        try:
            while True:
                now = self._loop.time()
                if longest is not None and now - started >= longest:
                    return SessionOutcome(FinalStatus.TIMED_OUT, MAX_DURATION_MESSAGE)
                if now - last_input >= idle:
                    return SessionOutcome(FinalStatus.TIMED_OUT, IDLE_MESSAGE)
                wake = min(last_input + idle, started + longest if longest is not None else float("inf")) - now
                watch: set[asyncio.Future[Any]] = {natural, feeding, terminated, channel.ended}
                await asyncio.wait(watch, timeout=wake, return_when=asyncio.FIRST_COMPLETED)
                if natural.done():
                    result: PluginResult = natural.result()
                    return SessionOutcome(result.status, result.output)
                if terminated.done() or channel.ended.done():
                    return self._ending(channel)
                if feeding.done():
                    error = feeding.exception()
                    log.warning("session %s: input failed: %s", config.session_id, error)
                    return SessionOutcome(FinalStatus.FAILED, f"Unable to process the session's input: {error}")
        finally:
            for task in (natural, feeding, terminated):
                task.cancel()
            for task in (natural, feeding, terminated):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


def _separate(config: SessionConfig) -> bool:
    try:
        return config.shell.separate_output
    except InvalidSession:
        return False
