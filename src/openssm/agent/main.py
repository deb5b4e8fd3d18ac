"""`openssm agent run`: heartbeats, and the control channel held open with jittered exponential backoff, falling
back to polling ec2messages while the channel cannot be opened. An EC2 instance without credentials yet waits
for them, trying on the identity schedule. The agent opens every connection itself and never listens on a port."""

from __future__ import annotations

import asyncio
import logging
import random

from openssm.agent.client import CallFailed
from openssm.agent.control_channel import ControlChannel
from openssm.agent.credentials import CredentialsRefused, CredentialsUnavailable
from openssm.agent.ec2messages import MessagePoller
from openssm.agent.heartbeat import MDS, MGS, Heartbeat
from openssm.agent.jobs import Jobs
from openssm.agent.node_identity import NodeIdentity, hybrid_identity
from openssm.agent.node_plugins import node_plugins
from openssm.agent.output_upload import OutputUploader
from openssm.agent.plugins.patch_baseline import PatchSettings
from openssm.agent.sessions import MgsDataChannels, Sessions
from openssm.agent.state import StateDir
from openssm.agent.version import AGENT_VERSION

FALLBACK_AFTER = 3  # control channel failures in a row before polling ec2messages
FALLBACK_SECONDS = 60.0
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 60.0
log = logging.getLogger(__name__)


class Backoff:
    """Full-jitter exponential backoff: a random wait up to a ceiling that doubles on each failure."""

    def __init__(self, first: float = BACKOFF_FIRST, ceiling: float = BACKOFF_MAX) -> None:
        self._first, self._ceiling, self._current = first, ceiling, first

    def reset(self) -> None:
        self._current = self._first

    def next_wait(self) -> float:
        wait = random.uniform(0, self._current)
        self._current = min(self._current * 2, self._ceiling)
        return wait


class Agent:
    def __init__(self, state: StateDir, heartbeat_seconds: float = 300.0, backoff: Backoff | None = None,
                 identity: NodeIdentity | None = None, patching: PatchSettings | None = None) -> None:
        """`identity` defaults to the state directory's hybrid registration; `patching` says where
        aws:runPatchBaseline patches."""
        identity = identity or hybrid_identity(state)
        if identity is None:
            raise ValueError(f"no registration in {state.path}")
        self.state = state
        self.backoff = backoff or Backoff()
        self.client = identity.client
        self.credentials = identity.credentials
        instance_id = identity.instance_id
        patching = patching or PatchSettings.from_environment()
        self.jobs = Jobs(state, OutputUploader(self.client, instance_id, self.credentials.get),
                         node_plugins(identity, state, patching))
        self.heartbeat = Heartbeat(self.client, instance_id, self.credentials.get, heartbeat_seconds,
                                   str(patching.os_release))
        data_channels = MgsDataChannels(self.client, self.credentials.get, instance_id)
        self.sessions = Sessions(data_channels.connector, agent_version=AGENT_VERSION)
        self.channel = ControlChannel(self.client, instance_id, self.credentials.get, self.jobs, AGENT_VERSION,
                                      sessions=self.sessions)
        self.poller = MessagePoller(self.client, instance_id, self.credentials.get, self.jobs, AGENT_VERSION)

    async def run(self) -> None:
        await self._credentials_ready()
        beats = asyncio.create_task(self.heartbeat.run())
        backoff, failures = self.backoff, 0

        def opened() -> None:
            nonlocal failures
            backoff.reset()
            failures = 0
            self.heartbeat.channel = MGS

        try:
            while True:
                if failures >= FALLBACK_AFTER:
                    await self._poll_messages()
                    failures = 0
                try:
                    await self.channel.serve(opened)
                    log.info("control channel closed")
                except CredentialsRefused:
                    raise  # the node is no longer known: no channel will take it
                except CredentialsUnavailable:
                    await self._credentials_ready()
                    continue
                except CallFailed as err:  # e.g. a role without ssmmessages: ec2messages may still serve
                    log.warning("control channel refused: %s", err)
                    if err.status in (401, 403):  # perhaps revoked (Default Host Management turned off): ask anew
                        self.credentials.invalidate()
                    failures += 1
                except Exception as err:  # network, TLS, a server restart: retried with backoff
                    log.warning("control channel lost: %s", err)
                    failures += 1
                await asyncio.sleep(backoff.next_wait())
        finally:
            beats.cancel()
            await self.sessions.close()  # a stopping agent ends its sessions' processes

    async def _credentials_ready(self) -> None:
        """A hybrid node fails fast when the service does not (or no longer) know it; an EC2 instance waits, trying
        on the identity schedule, until the service takes its instance profile or Default Host Management."""
        while True:
            try:
                await asyncio.to_thread(self.credentials.get)
                return
            except CredentialsUnavailable as err:  # the credential source has logged why
                await asyncio.sleep(err.retry_in)

    async def _poll_messages(self) -> None:
        log.warning("control channel unavailable; polling ec2messages for %.0f s", FALLBACK_SECONDS)
        self.heartbeat.channel = MDS
        try:
            await self.poller.poll_for(FALLBACK_SECONDS)
        except Exception as err:  # the endpoint itself is away: back to retrying the channel
            log.warning("ec2messages unavailable: %s", err)
