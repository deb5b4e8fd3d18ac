"""Real `openssm agent` processes for integration tests: registered with a fresh activation, each with its
own state directory, run in the foreground and stopped (or killed) by the test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.server import ServerProcess

SSM_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def node_role(server: ServerProcess, name: str = "AgentNodes") -> str:
    iam = server.client("iam")
    if name not in {r["RoleName"] for r in iam.list_roles()["Roles"]}:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SSM_TRUST))
        iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    return name


class AgentProcess:
    def __init__(self, server: ServerProcess, state_dir: Path) -> None:
        self.server = server
        self.state_dir = state_dir
        self.instance_id = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = state_dir.parent / f"{state_dir.name}-agent.log"

    def register(self, role: str | None = None) -> AgentProcess:
        created = self.server.client("ssm").create_activation(IamRole=role or node_role(self.server))
        out = subprocess.run([sys.executable, "-m", "openssm", "agent", "register", "--code",
                              created["ActivationCode"], "--id", created["ActivationId"], "--region",
                              self.server.region, "--endpoint", self.server.endpoint, "--state-dir",
                              str(self.state_dir)], capture_output=True, text=True, check=True)
        self.instance_id = out.stdout.split()[-1]
        return self

    def start(self, *extra_args: str, env: dict[str, str] | None = None) -> AgentProcess:
        log = open(self.log, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        self.proc = subprocess.Popen([sys.executable, "-m", "openssm", "agent", "run", "--state-dir",
                                      str(self.state_dir), "--heartbeat-seconds", "5", *extra_args],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **env} if env else None)
        return self

    def wait_log(self, text: str, timeout: float = 30) -> str:
        """The agent's log once it holds `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log.read_text() if self.log.exists() else ""
            if text in log:
                return log
            time.sleep(0.2)
        raise AssertionError(f"agent log never said {text!r}:\n{self.log.read_text()}")

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def wait_ping_status(self, status: str, timeout: float = 30) -> dict[str, Any]:
        """The node's DescribeInstanceInformation entry once its PingStatus is `status`."""
        ssm = self.server.client("ssm")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = ssm.describe_instance_information(
                Filters=[{"Key": "InstanceIds", "Values": [self.instance_id]}])["InstanceInformationList"]
            if info and info[0]["PingStatus"] == status:
                return dict(info[0])
            time.sleep(0.2)
        raise AssertionError(f"agent {self.instance_id} never {status}; log:\n{self.log.read_text()}")

    def wait_online(self, timeout: float = 30) -> None:
        self.wait_ping_status("Online", timeout)

    def stop(self, kill: bool = False) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None


def wait_invocation(server: ServerProcess, command_id: str, instance_id: str, timeout: float = 60,
                    final: bool = True, plugin: str | None = None) -> dict[str, Any]:
    """The invocation once it is final (or, with final=False, once it has left Pending); for a document of
    several steps, name the `plugin` whose result to answer."""
    ssm = server.client("ssm")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ssm.list_command_invocations(CommandId=command_id, InstanceId=instance_id)["CommandInvocations"]
        status = found[0]["Status"] if found else "Pending"
        if (final and status not in ("Pending", "InProgress", "Delayed", "Cancelling")) or (
                not final and status != "Pending"):
            return dict(ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id,
                                                   **({"PluginName": plugin} if plugin else {})))
        time.sleep(0.2)
    raise AssertionError(f"command {command_id} on {instance_id} still {status}")


@contextmanager
def patching_agent(server: ServerProcess, package_root: Path, state_dir: Path) -> Iterator[AgentProcess]:
    """A registered, running agent whose patching acts on `package_root` (a throwaway root, never this
    machine's packages) and whose reboots do nothing."""
    agent = AgentProcess(server, state_dir).register()
    agent.start("--package-root", str(package_root), "--reboot-command", "false")
    try:
        agent.wait_online()
        yield agent
    finally:
        agent.stop()
