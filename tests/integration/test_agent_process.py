"""The `openssm agent` process against a real server: over HTTPS with a lab CA given by --ca-bundle (refused
without it), an executionTimeout that ends the command's whole process tree, and its registration state
kept private."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from openssm.pki import init_pki
from tests.support.agents import AgentProcess, node_role, wait_invocation
from tests.support.server import ServerProcess


def agent_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openssm", "agent", *args], capture_output=True, text=True,
                          timeout=120)


def ended(pid: int, timeout: float = 10.0) -> bool:
    """Whether the process is gone (or a zombie its new parent has yet to reap)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_an_agent_enrols_and_runs_commands_over_https_trusting_the_lab_ca(
        fresh_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    files = init_pki(tmp_path / "pki", [])
    server = fresh_server("--tls-cert", str(files.server_cert), "--tls-key", str(files.server_key))
    ssm = server.client("ssm", verify=str(files.ca_cert))
    iam = server.client("iam", verify=str(files.ca_cert))
    iam.create_role(RoleName="TlsNodes", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    iam.attach_role_policy(RoleName="TlsNodes", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    created = ssm.create_activation(IamRole="TlsNodes")
    register = ["register", "--code", created["ActivationCode"], "--id", created["ActivationId"],
                "--region", server.region, "--endpoint", server.endpoint]
    refused = agent_cli(*register, "--state-dir", str(tmp_path / "untrusting"))
    assert refused.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in refused.stderr
    state_dir = tmp_path / "agent"
    enrolled = agent_cli(*register, "--state-dir", str(state_dir), "--ca-bundle", str(files.ca_cert))
    assert enrolled.returncode == 0, enrolled.stderr
    instance_id = enrolled.stdout.split()[-1]
    proc = subprocess.Popen([sys.executable, "-m", "openssm", "agent", "run", "--state-dir", str(state_dir),
                             "--heartbeat-seconds", "5"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        command_id = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance_id],
                                      Parameters={"commands": ["echo over-tls"]})["Command"]["CommandId"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = ssm.list_command_invocations(CommandId=command_id, Details=True)["CommandInvocations"]
            if found and found[0]["Status"] == "Success":
                break
            time.sleep(0.2)
        assert ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)[
            "StandardOutputContent"] == "over-tls\n"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_execution_timeout_ends_the_whole_process_tree_and_reports_execution_timed_out(
        server: ServerProcess, agent: AgentProcess, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    command_id = server.client("ssm").send_command(
        DocumentName="AWS-RunShellScript", InstanceIds=[agent.instance_id],
        Parameters={"commands": [f"sleep 120 & echo $! > {pid_file}", "wait"], "executionTimeout": ["5"]},
    )["Command"]["CommandId"]
    result = wait_invocation(server, command_id, agent.instance_id, timeout=60)
    assert (result["Status"], result["StatusDetails"]) == ("TimedOut", "ExecutionTimedOut")
    assert ended(int(pid_file.read_text()))
    (command,) = server.client("ssm").list_commands(CommandId=command_id)["Commands"]
    assert (command["Status"], command["StatusDetails"], command["ErrorCount"]) == ("TimedOut", "ExecutionTimedOut", 1)
    # ExpiresAfter: the delivery timeout (TimeoutSeconds, 3600 by default) plus the execution timeout.
    assert (command["ExpiresAfter"] - command["RequestedDateTime"]).total_seconds() == 3600 + 5


def test_the_registration_is_kept_private_and_a_second_register_is_refused(
        server: ServerProcess, tmp_path: Path) -> None:
    node = AgentProcess(server, tmp_path / "agent").register(node_role(server))
    state = tmp_path / "agent"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    registration = state / "registration.json"
    assert stat.S_IMODE(registration.stat().st_mode) == 0o600
    saved = json.loads(registration.read_text())
    assert saved["instance_id"] == node.instance_id and saved["private_key"] and saved["fingerprint"]
    created = server.client("ssm").create_activation(IamRole=node_role(server))
    again = agent_cli("register", "--code", created["ActivationCode"], "--id", created["ActivationId"],
                      "--region", server.region, "--endpoint", server.endpoint, "--state-dir", str(state))
    assert again.returncode != 0 and "already holds a registration" in again.stderr
    assert json.loads(registration.read_text()) == saved
    assert os.listdir(state) == ["registration.json"]
