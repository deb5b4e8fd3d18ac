"""The agent's process: jittered exponential backoff, the ec2messages fallback while the control channel is
refused, stopping on a node the service no longer knows, the key helper process, and the `openssm agent`
command (lean re-exec, systemd unit)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from openssm.agent import main as agent_main
from openssm.agent.__main__ import main as lean_main
from openssm.agent.identity import register
from openssm.agent.keys import child_new_key_pair, child_signer, public_key_of
from openssm.agent.state import StateDir
from openssm.cli.main import cli
from openssm.protocol import rsa_auth
from openssm.protocol.mgs import JobReply
from tests.support.agent_stub import INSTANCE_ID, StubAws
from tests.support.server import free_port


@pytest.fixture
def stub() -> Iterator[StubAws]:
    with StubAws() as running:
        yield running


@pytest.fixture
def state(stub: StubAws, tmp_path: Path) -> StateDir:
    directory = StateDir(tmp_path / "state")
    register(directory, stub.endpoint, "us-east-1", "activation", "code")
    return directory


def test_backoff_waits_a_random_time_under_a_ceiling_that_doubles_up_to_a_minute() -> None:
    backoff = agent_main.Backoff(1.0, 60.0)
    ceilings = [1, 2, 4, 8, 16, 32, 60, 60]
    waits = [backoff.next_wait() for _ in ceilings]
    assert all(0 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    backoff.reset()
    assert backoff.next_wait() <= 1.0


def test_without_a_control_channel_the_agent_polls_ec2messages_and_heartbeats_say_so(
        stub: StubAws, state: StateDir) -> None:
    stub.refuse_channel = True
    content = json.dumps({"CommandId": "c", "DocumentContent": {"mainSteps": [
        {"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo fallback"]}}]}})
    stub.messages.append({"MessageId": f"aws.ssm.33333333-2222-3333-4444-555555555555.{INSTANCE_ID}",
                          "Destination": INSTANCE_ID, "Topic": "aws.ssm.sendCommand", "Payload": content,
                          "CreatedDate": "2026-11-22T10:55:28.080Z"})
    agent = agent_main.Agent(state, heartbeat_seconds=0.1, backoff=agent_main.Backoff(0.01, 0.05))
    loop = asyncio.new_event_loop()
    task = loop.create_task(agent.run())
    thread = threading.Thread(target=loop.run_until_complete, args=(asyncio.wait([task]),), daemon=True)
    thread.start()
    try:
        def answered() -> bool:
            sent = [json.loads(c.body) for c in stub.calls if c.target.endswith(".SendReply")]
            return any(json.loads(s["Payload"])["documentStatus"] == "Success" for s in sent)

        stub.wait_for(answered)
        stub.wait_for(lambda: any(json.loads(c.body).get("SSMConnectionChannel") == "ec2messages"
                                  for c in stub.calls if c.target.endswith("UpdateInstanceInformation")))
        creates = [c for c in stub.calls if c.path.startswith("/v1/control-channel/")]
        assert len(creates) >= agent_main.FALLBACK_AFTER
        final = [json.loads(c.body) for c in stub.calls if c.target.endswith(".SendReply")][-1]
        assert JobReply.from_content("c", json.loads(final["Payload"])).plugins[0].standard_output == "fallback\n"
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)


def test_a_node_the_service_no_longer_knows_stops_the_agent_with_its_error(stub: StubAws, state: StateDir,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    stub.answers["AmazonSSM.RequestManagedInstanceRoleToken"] = lambda call: (400, {
        "__type": "InvalidInstanceId", "message": "Instance is not registered."})
    assert lean_main(["run", "--state-dir", str(state.path)]) == 1
    assert "InvalidInstanceId" in capsys.readouterr().err


def test_running_without_a_registration_or_instance_metadata_exits_2_with_a_hint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    no_imds = f"http://127.0.0.1:{free_port()}"
    assert lean_main(["run", "--state-dir", str(tmp_path / "empty"), "--imds-url", no_imds]) == 2
    err = capsys.readouterr().err
    assert "openssm agent register" in err and f"no instance metadata at {no_imds}" in err


def test_openssm_agent_run_becomes_the_lean_agent_process_with_its_options(tmp_path: Path) -> None:
    no_imds = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run([sys.executable, "-m", "openssm", "agent", "run", "--state-dir", str(tmp_path),
                           "--imds-url", no_imds, "--endpoint", "http://127.0.0.1:1", "--identity-retry-seconds",
                           "1"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "not registered" in done.stderr and no_imds in done.stderr


def test_the_agent_names_its_version_in_its_user_agent_which_the_environment_may_override() -> None:
    code = "from openssm.agent.version import AGENT_VERSION, USER_AGENT; print(AGENT_VERSION, USER_AGENT)"
    default = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={k: v for k, v in os.environ.items() if k != "OPENSSM_AGENT_VERSION"})
    assert default.stdout.split() == ["3.3.0.0", "openssm-agent/3.3.0.0"]
    older = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "OPENSSM_AGENT_VERSION": "2.3.0.0"})
    assert older.stdout.split() == ["2.3.0.0", "openssm-agent/2.3.0.0"]


def test_the_key_helper_process_signs_and_makes_keys_the_service_accepts() -> None:
    private, public = child_new_key_pair()
    assert public_key_of(private) == public
    signature = child_signer(private)("string to sign")
    assert rsa_auth.verify(rsa_auth.load_public_key(public), "string to sign", signature)


def test_install_service_writes_a_unit_that_runs_this_python(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["agent", "install-service", "--unit-dir", str(tmp_path),
                                      "--state-dir", str(tmp_path / "state")])
    assert result.exit_code == 0, result.output
    unit = (tmp_path / "openssm-agent.service").read_text()
    assert f"ExecStart={sys.executable} -m openssm.agent run --state-dir {tmp_path / 'state'}\n" in unit
    assert "KillMode=process" in unit and "[Install]" in unit


def test_install_service_for_an_ec2_instance_names_its_endpoint(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["agent", "install-service", "--unit-dir", str(tmp_path), "--state-dir",
                                      str(tmp_path / "state"), "--endpoint", "https://ssm.example.com:8443"])
    assert result.exit_code == 0, result.output
    assert (f"ExecStart={sys.executable} -m openssm.agent run --state-dir {tmp_path / 'state'} "
            "--endpoint https://ssm.example.com:8443\n") in (tmp_path / "openssm-agent.service").read_text()


def test_register_refuses_to_overwrite_an_existing_registration(stub: StubAws, state: StateDir) -> None:
    result = CliRunner().invoke(cli, ["agent", "register", "--code", "c", "--id", "i", "--region", "us-east-1",
                                      "--endpoint", stub.endpoint, "--state-dir", str(state.path)])
    assert result.exit_code != 0 and "already holds a registration" in result.output
