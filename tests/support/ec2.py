"""EC2-style instances for integration tests: an identity key declared to a real server (`openssm imds
declare`), a real `openssm imds serve` for the instance, and a real `openssm agent` that finds its identity
there (Default Host Management, or the instance profile)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.agents import AgentProcess
from tests.support.server import ServerProcess, free_port


def openssm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openssm", *args], capture_output=True, text=True, check=True)


def http(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


class Ec2Instance:
    def __init__(self, server: ServerProcess, work: Path, instance_id: str, region: str,
                 key: Path | None = None) -> None:
        """`key`: an identity key to share (the lab key of `openssm pki init`); else one of its own."""
        self.server, self.instance_id, self.region = server, instance_id, region
        work.mkdir(parents=True, exist_ok=True)
        self.key = key or work / "identity.key"
        self.state_dir = work / "agent-state"
        self.agent = AgentProcess(server, self.state_dir)
        self.agent.instance_id = instance_id
        self.imds_url = ""
        self._imds: subprocess.Popen[bytes] | None = None
        if key is None:
            openssm("imds", "keygen", "--out", str(self.key))

    @property
    def account(self) -> str:
        return str(self.server.client("sts").get_caller_identity()["Account"])

    def declare(self, profile: str | None = None) -> Ec2Instance:
        openssm("imds", "declare", "--data-dir", str(self.server.data_dir), "--instance-id", self.instance_id,
                "--account", self.account, "--region", self.region, "--public-key", f"{self.key}.pub",
                *(["--instance-profile", profile] if profile else []))
        return self

    def serve_imds(self) -> str:
        port = free_port()
        self._imds = subprocess.Popen(
            [sys.executable, "-m", "openssm", "imds", "serve", "--instance-id", self.instance_id, "--account",
             self.account, "--region", self.region, "--key", str(self.key), "--endpoint", self.server.endpoint,
             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.imds_url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                http(self.imds_url + "/latest/api/token", "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})
                return self.imds_url
            except OSError:
                time.sleep(0.1)
        raise AssertionError("openssm imds did not start")

    def start_agent(self, env: dict[str, str] | None = None) -> AgentProcess:
        """The agent with no registration: it finds its identity in this instance's metadata."""
        return self.agent.start("--imds-url", self.imds_url, "--endpoint", self.server.endpoint,
                                "--identity-retry-seconds", "1", env=env)

    def stop(self) -> None:
        self.agent.stop()
        if self._imds is not None:
            self._imds.terminate()
            self._imds.wait()
            self._imds = None

