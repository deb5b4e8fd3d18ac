"""`openssm server --local-agent`: the machine running the control plane enrols itself as a managed node, so
a fresh install has a node to run commands on. The server creates (once) a role for it and an activation,
then runs `openssm agent` as a child process against itself, registering it on the first start only."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from openssm.container import Container
from openssm.iam import bindings, entities
from openssm.iam.entities import EntityKind
from openssm.iam.roles import NewRole, create_role
from openssm.services import activations
from openssm.services.activations import NewActivation

ROLE = "OpenSSMLocalAgent"
CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
log = logging.getLogger(__name__)


def local_activation(container: Container) -> tuple[str, str]:
    """A one-use activation for the local node, its role created if missing."""
    config, now = container.config, container.clock.now()
    with container.iam.write() as conn:
        if entities.find(conn, config.default_account, EntityKind.ROLE, ROLE) is None:
            role = create_role(conn, config.default_account, NewRole(ROLE, TRUST, description="The local node"), now)
            bindings.attach(conn, role, CORE_POLICY)
        activation, code = activations.create(conn, config.default_account, config.default_region,
                                              NewActivation(ROLE, default_instance_name=socket.gethostname()), now)
    return activation.activation_id, code


def _wait_for_port(host: str, port: int, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _die_with_parent() -> None:
    """In the child: end when the server ends, even if it is killed outright (Linux's PR_SET_PDEATHSIG)."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class LocalAgent:
    """The supervisor of the local agent process."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start(container: Container) -> LocalAgent:
    """Register (first start only) and run the local agent once the server answers."""
    config = container.config
    state_dir: Path = config.data_dir / "agent"
    cli = [sys.executable, "-m", "openssm", "agent"]

    def supervise() -> None:
        host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
        if not _wait_for_port(host, config.port):
            log.error("local agent: the server did not come up; not starting the agent")
            return
        endpoint = f"{config.scheme}://{host}:{config.port}"
        if not (state_dir / "registration.json").exists():
            activation_id, code = local_activation(container)
            subprocess.run([*cli, "register", "--code", code, "--id", activation_id, "--region",
                            config.default_region, "--endpoint", endpoint, "--state-dir", str(state_dir)], check=True)
        supervisor.process = subprocess.Popen([*cli, "run", "--state-dir", str(state_dir)],
                                              preexec_fn=_die_with_parent)
        log.info("local agent running (pid %d, state in %s)", supervisor.process.pid, state_dir)
        # The parent-death signal follows the thread that started the child: this thread must outlive it.
        supervisor.process.wait()

    supervisor = LocalAgent()
    threading.Thread(target=supervise, name="local-agent", daemon=True).start()
    return supervisor
