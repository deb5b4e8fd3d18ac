"""`openssm agent run`: heartbeats and the control channel, reconnecting with jittered exponential backoff.
The agent opens every connection itself and never listens on a port."""

from __future__ import annotations

import asyncio
import logging
import platform
import random
import socket

from openssm.agent.client import CallFailed, SsmClient
from openssm.agent.control_channel import ControlChannelClient
from openssm.agent.ec2messages import MessagePoller
from openssm.agent.identity import CredentialSource
from openssm.agent.state import Registration, StateDir

AGENT_NAME = "openssm-agent"
AGENT_VERSION = "3.3.0.0"
FALLBACK_AFTER = 3  # control channel failures in a row before polling ec2messages
FALLBACK_SECONDS = 60.0
log = logging.getLogger(__name__)


def _platform() -> dict[str, str]:
    fields = {"NAME": platform.system(), "VERSION_ID": platform.release()}
    try:
        with open("/etc/os-release") as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                fields[key] = value.strip('"')
    except OSError:
        pass
    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        address = "127.0.0.1"
    return {"PlatformType": "Linux", "PlatformName": fields["NAME"], "PlatformVersion": fields["VERSION_ID"],
            "ComputerName": socket.gethostname(), "IPAddress": address}


class Agent:
    def __init__(self, registration: Registration, state: StateDir, heartbeat_seconds: float = 300) -> None:
        self.registration = registration
        self.state = state
        self.heartbeat_seconds = heartbeat_seconds
        self.client = SsmClient(registration.endpoint, registration.region, registration.ca_bundle)
        self.credentials = CredentialSource(registration, self.client)

    def heartbeat(self) -> None:
        self.client.call("UpdateInstanceInformation", {
            "AgentName": AGENT_NAME, "AgentStatus": "Active", "AgentVersion": AGENT_VERSION,
            "InstanceId": self.registration.instance_id, **_platform()}, self.credentials.get())

    async def run(self) -> None:
        await asyncio.to_thread(self.heartbeat)
        beats = asyncio.create_task(self._heartbeats())
        channel = ControlChannelClient(self.client, self.registration.instance_id, self.credentials.get,
                                       self.state, AGENT_VERSION, self.registration.ca_bundle)
        poller = MessagePoller(self.client, self.registration.instance_id, self.credentials.get, self.state,
                               AGENT_VERSION)
        backoff, failures = 1.0, 0
        try:
            while True:
                if failures >= FALLBACK_AFTER:
                    log.warning("control channel unavailable; polling ec2messages for %.0f s", FALLBACK_SECONDS)
                    try:
                        await poller.poll_for(FALLBACK_SECONDS)
                    except Exception as err:  # the endpoint itself is away: back to retrying the channel
                        log.warning("ec2messages unavailable: %s", err)
                    failures = 0
                try:
                    await channel.serve()
                    backoff, failures = 1.0, 0
                except CallFailed as err:
                    log.error("control channel refused: %s", err)
                    if err.status in (400, 403) and err.code in ("UnrecognizedClientException", "AccessDenied"):
                        raise
                except Exception as err:  # anything else (network, server restart) is retried with backoff
                    log.warning("control channel lost: %s", err)
                    failures += 1
                await asyncio.sleep(random.uniform(0, backoff))
                backoff = min(backoff * 2, 60.0)
        finally:
            beats.cancel()

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await asyncio.to_thread(self.heartbeat)
            except (CallFailed, OSError) as err:
                log.warning("heartbeat failed: %s", err)
