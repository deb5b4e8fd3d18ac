"""Session Manager test helpers: the environment under which the real `aws` CLI finds our
session-manager-plugin, and a real OpenSSH sshd on a spare port with a key pair of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.server import Credentials, ServerProcess, free_port

SSHD = "/usr/sbin/sshd"


def aws_env(server: ServerProcess, creds: Credentials | None = None) -> dict[str, str]:
    """The `aws` CLI's environment: the server's credentials and region, and this venv first on PATH so
    that `aws ssm start-session` runs our session-manager-plugin."""
    creds = creds or server.admin
    env = {**os.environ, "AWS_ACCESS_KEY_ID": creds.access_key_id, "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
           "AWS_DEFAULT_REGION": server.region, "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_MAX_ATTEMPTS": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def aws_command(server: ServerProcess) -> list[str]:
    return [str(Path(sys.executable).with_name("aws")), "--endpoint-url", server.endpoint]


@dataclass
class Sshd:
    """Debian's sshd on 127.0.0.1:<port>, accepting only the test's key for root."""

    directory: Path
    port: int
    key: Path
    proc: subprocess.Popen[bytes]

    @classmethod
    def start(cls, directory: Path) -> Sshd:
        directory.mkdir(parents=True, exist_ok=True)
        key, host_key = directory / "id_ed25519", directory / "host_ed25519"
        for path in (key, host_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
        (directory / "authorized_keys").write_text((directory / "id_ed25519.pub").read_text())
        port = free_port()
        config = directory / "sshd_config"
        config.write_text("\n".join([
            f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}",
            f"AuthorizedKeysFile {directory / 'authorized_keys'}", f"PidFile {directory / 'sshd.pid'}",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "UsePAM no", "StrictModes no", "Subsystem sftp internal-sftp", ""]))
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                                stderr=open(directory / "sshd.log", "ab"))  # noqa: SIM115
        sshd = cls(directory, port, key, proc)
        sshd._wait_listening()
        return sshd

    def _wait_listening(self, timeout: float = 20) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.directory / 'sshd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("sshd did not listen")

    def client_config(self, server: ServerProcess) -> Path:
        """Seed 004's ~/.ssh/config line, as written there, plus the endpoint URL."""
        path = self.directory / "ssh_config"
        path.write_text(
            "# SSH over Session Manager\n"
            "host i-* mi-*\n"
            f"    ProxyCommand sh -c \"aws ssm start-session --target %h --document-name AWS-StartSSHSession "
            f"--parameters 'portNumber=%p' --endpoint-url {server.endpoint}\"\n"
            f"    IdentityFile {self.key}\n"
            "    StrictHostKeyChecking no\n"
            "    UserKnownHostsFile /dev/null\n"
            "    LogLevel ERROR\n"
            "    User root\n")
        return path

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
