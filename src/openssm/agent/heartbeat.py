"""Heartbeats: UpdateInstanceInformation with the fields AWS's agent sends (golden capture), every five
minutes by default, naming the channel the agent is taking commands on."""

from __future__ import annotations

import asyncio
import logging
import platform
import socket
from collections.abc import Callable
from typing import Any

from openssm.agent.client import CallFailed, RoleCredentials, SsmClient
from openssm.agent.credentials import CredentialsUnavailable
from openssm.agent.version import AGENT_NAME, AGENT_VERSION

MGS, MDS = "ssmmessages", "ec2messages"  # SSMConnectionChannel values (AWS: agent/contracts/model.go)
log = logging.getLogger(__name__)
__all__ = ["AGENT_NAME", "AGENT_VERSION", "MDS", "MGS", "Heartbeat", "instance_information"]


def _os_release(path: str = "/etc/os-release") -> dict[str, str]:
    fields = {"NAME": platform.system(), "VERSION_ID": platform.release()}
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key:
                    fields[key] = value.strip('"')
    except OSError:
        pass
    return fields


def _address() -> str:
    """The address this host reaches the network from (no packet is sent: a UDP socket only routes)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"


def instance_information(instance_id: str, channel: str, os_release: str = "/etc/os-release") -> dict[str, Any]:
    """`os_release`: the package root's, when the agent patches another root (the service picks its baseline)."""
    release = _os_release(os_release)
    return {"AgentName": AGENT_NAME, "AgentStatus": "Active", "AgentVersion": AGENT_VERSION,
            "AvailabilityZone": "", "AvailabilityZoneId": "", "ComputerName": socket.gethostname(),
            "IPAddress": _address(), "InstanceId": instance_id, "PlatformName": release["NAME"],
            "PlatformType": "Linux", "PlatformVersion": release["VERSION_ID"], "SSMConnectionChannel": channel}


class Heartbeat:
    def __init__(self, client: SsmClient, instance_id: str, credentials: Callable[[], RoleCredentials],
                 interval: float = 300.0, os_release: str = "/etc/os-release") -> None:
        self._client = client
        self._os_release = os_release
        self._instance_id = instance_id
        self._credentials = credentials
        self.interval = interval
        self.channel = MGS

    def beat(self) -> None:
        self._client.call("UpdateInstanceInformation", instance_information(self._instance_id, self.channel,
                                                                         self._os_release),
                          self._credentials())

    async def run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.beat)
            except CredentialsUnavailable as err:  # the credential source has warned already
                log.debug("no heartbeat: %s", err)
            except (CallFailed, OSError) as err:
                log.warning("heartbeat failed: %s", err)
            await asyncio.sleep(self.interval)
