"""Starting a real `openssm server` process for integration tests, and clients pointed at it."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_admin_credentials(data_dir: Path) -> Credentials:
    text = (data_dir / "admin-credentials").read_text()
    key = re.search(r"aws_access_key_id\s*=\s*(\S+)", text)
    secret = re.search(r"aws_secret_access_key\s*=\s*(\S+)", text)
    assert key and secret, text
    return Credentials(key.group(1), secret.group(1))


class ServerProcess:
    """One `openssm server` child process on a free port with its own data directory."""

    def __init__(self, data_dir: Path, *extra_args: str, port: int | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.extra_args = extra_args
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"
        self.region = "us-east-1"

    @property
    def endpoint(self) -> str:
        scheme = "https" if "--tls-cert" in self.extra_args else "http"
        return f"{scheme}://localhost:{self.port}"

    def start(self, timeout: float = 60) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        cmd = [sys.executable, "-m", "openssm", "server", "--data-dir", str(self.data_dir),
               "--port", str(self.port), *self.extra_args]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(self.env or {})})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                insecure = ssl._create_unverified_context()  # only to see the port answer; tests verify TLS
                with urllib.request.urlopen(f"{self.endpoint}/healthz", timeout=1, context=insecure) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def admin(self) -> Credentials:
        return read_admin_credentials(self.data_dir)

    def client(self, service: str, creds: Credentials | None = None, region: str | None = None,
               verify: str | bool | None = None, **config: Any) -> Any:
        creds = creds or self.admin
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=region or self.region,
            aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
            aws_session_token=creds.session_token, verify=verify,
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def aws(self, *args: str, creds: Credentials | None = None, check: bool = True,
            cwd: Path | None = None, region: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the real `aws` CLI (awscli from PyPI) against this server."""
        creds = creds or self.admin
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": creds.access_key_id,
            "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
            "AWS_DEFAULT_REGION": region or self.region,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_MAX_ATTEMPTS": "1",
        }
        env.pop("AWS_SESSION_TOKEN", None)
        if creds.session_token:
            env["AWS_SESSION_TOKEN"] = creds.session_token
        aws = str(Path(sys.executable).with_name("aws"))
        result = subprocess.run([aws, "--endpoint-url", self.endpoint, *args], env=env, cwd=cwd,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def aws_json(self, *args: str, **kw: Any) -> Any:
        out = self.aws(*args, "--output", "json", **kw).stdout
        return json.loads(out) if out.strip() else None
