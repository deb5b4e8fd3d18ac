"""Session Manager end to end: a real server, a real `openssm agent`, and real clients — the `aws` CLI's
`ssm start-session` (running our session-manager-plugin) in a pseudo-terminal, OpenSSH's ssh and scp through
seed 004's ProxyCommand to a real sshd, and port forwarding to a local HTTP server."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pexpect
import pytest
import websockets

from openssm.protocol.data_channel import OpenDataChannel
from tests.integration.conftest import NATS_URL
from tests.support.agents import AgentProcess, node_role
from tests.support.iam import unique, user_with_policy
from tests.support.server import Credentials, ServerProcess
from tests.support.sessions import Sshd, aws_command, aws_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the agent runs shells as ssm-user, which needs root")


def start_session(server: ServerProcess, *args: str, timeout: float = 60,
                  creds: Credentials | None = None) -> pexpect.spawn:
    aws = aws_command(server)
    child = pexpect.spawn(aws[0], [*aws[1:], "ssm", "start-session", *args], env=aws_env(server, creds),
                          timeout=timeout, encoding="utf-8", dimensions=(24, 80))
    child.expect(r"Starting session with SessionId: (\S+)")
    return child


def session_id_of(child: pexpect.spawn) -> str:
    return str(child.match.group(1))


def history(server: ServerProcess, session_id: str, timeout: float = 20) -> dict[str, Any]:
    ssm, deadline = server.client("ssm"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ssm.describe_sessions(State="History", Filters=[{"key": "SessionId", "value": session_id}])
        if found["Sessions"]:
            return dict(found["Sessions"][0])
        time.sleep(0.2)
    raise AssertionError(f"session {session_id} did not end")


def test_a_shell_session_echoes_interrupts_resizes_exits_and_is_recorded(server: ServerProcess,
                                                                         agent: AgentProcess) -> None:
    child = start_session(server, "--target", agent.instance_id)
    session_id = session_id_of(child)
    child.sendline("whoami; echo hello-$((6*7))")
    child.expect("hello-42")
    child.sendline("sleep 60")
    time.sleep(0.5)
    child.sendcontrol("c")
    child.sendline("echo after-$((1+1))")
    child.expect("after-2", timeout=10)  # Ctrl-C reached the remote sleep: the shell answers at once
    child.setwinsize(40, 123)
    child.sendline("stty size")
    child.expect("40 123")
    child.sendline("exit")
    child.expect(f"Exiting session with sessionId: {session_id}")
    child.expect(pexpect.EOF)
    ended = history(server, session_id)
    assert ended["Status"] == "Terminated" and ended["Target"] == agent.instance_id
    replay = subprocess.run([sys.executable, "-m", "openssm", "session", "replay", session_id, "--data-dir",
                             str(server.data_dir), "--transcript"], capture_output=True, check=True)
    assert b"hello-42" in replay.stdout and b"ssm-user" in replay.stdout
    timed = subprocess.run([sys.executable, "-m", "openssm", "session", "replay", session_id, "--data-dir",
                            str(server.data_dir), "--speed", "100", "--max-wait", "0.01"],
                           capture_output=True, check=True)
    assert b"hello-42" in timed.stdout and b"40 123" in timed.stdout


def test_ssh_and_scp_go_through_the_seed_004_proxy_command(server: ServerProcess, agent: AgentProcess,
                                                           tmp_path: Path) -> None:
    sshd = Sshd.start(tmp_path / "sshd")
    try:
        config = sshd.client_config(server)
        env = aws_env(server)
        ssh = ["ssh", "-F", str(config), "-p", str(sshd.port), agent.instance_id]
        done = subprocess.run([*ssh, "echo ssh-through-$((40+2))"], env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert b"ssh-through-42" in done.stdout
        payload = tmp_path / "payload.bin"
        payload.write_bytes(os.urandom(50 * 1024 * 1024))
        copied = tmp_path / "copied.bin"
        scp = ["scp", "-F", str(config), "-P", str(sshd.port)]
        done = subprocess.run([*scp, str(payload), f"{agent.instance_id}:{copied}"], env=env, capture_output=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        assert hashlib.sha256(copied.read_bytes()).hexdigest() == hashlib.sha256(payload.read_bytes()).hexdigest()
        remote = subprocess.run([*ssh, f"sha256sum {copied}"], env=env, capture_output=True, timeout=120)
        assert remote.stdout.split()[0].decode() == hashlib.sha256(payload.read_bytes()).hexdigest()
    finally:
        sshd.stop()
    ssm = server.client("ssm")
    ssh_sessions = ssm.describe_sessions(State="History", Filters=[{"key": "Target", "value": agent.instance_id}])
    assert {s["DocumentName"] for s in ssh_sessions["Sessions"]} == {"AWS-StartSSHSession"}
    # Not recorded (seed 004), but audited with the bytes each way.
    session_id = ssh_sessions["Sessions"][-1]["SessionId"]
    assert not (server.data_dir / "session-logs" / f"{session_id}.cast").exists()
    events = _session_events(server, session_id)
    assert events and events[0]["requestParameters"]["portNumber"] == str(sshd.port)


def _session_events(server: ServerProcess, session_id: str, timeout: float = 20) -> list[dict[str, Any]]:
    trail, deadline = server.client("cloudtrail"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "SessionEnded"}])
        events = [json.loads(e["CloudTrailEvent"]) for e in found["Events"]]
        mine = [e for e in events if e["requestParameters"].get("sessionId") == session_id]
        if mine:
            return mine
        time.sleep(0.3)
    return []


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = f"hello {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


def test_port_forwarding_serves_twenty_parallel_requests(server: ServerProcess, agent: AgentProcess,
                                                         web_server: int) -> None:
    child = start_session(server, "--target", agent.instance_id, "--document-name", "AWS-StartPortForwardingSession",
                          "--parameters", json.dumps({"portNumber": [str(web_server)], "localPortNumber": ["0"]}))
    session_id = session_id_of(child)
    child.expect(r"Port (\d+) opened for sessionId")
    local = int(child.match.group(1))
    child.expect("Waiting for connections")

    def fetch(i: int) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{local}/request-{i}", timeout=30) as answer:
            return str(answer.read().decode())
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(fetch, range(20)))
    assert answers == [f"hello /request-{i}" for i in range(20)]
    child.terminate(force=True)
    server.client("ssm").terminate_session(SessionId=session_id)
    assert history(server, session_id)["DocumentName"] == "AWS-StartPortForwardingSession"


def test_an_idle_session_is_ended_by_the_node(server: ServerProcess, agent: AgentProcess) -> None:
    name = unique("IdleShell")
    content = {"schemaVersion": "1.0", "description": "A shell that ends after a minute without input",
               "sessionType": "Standard_Stream", "inputs": {"idleSessionTimeout": "1"}}
    server.client("ssm").create_document(Name=name, DocumentType="Session", Content=json.dumps(content))
    child = start_session(server, "--target", agent.instance_id, "--document-name", name, timeout=120)
    session_id = session_id_of(child)
    child.sendline("echo typed")
    child.expect("typed")
    started = time.monotonic()
    child.expect(pexpect.EOF, timeout=150)
    assert 55 <= time.monotonic() - started
    assert history(server, session_id)["Status"] in ("Terminated", "Failed")


def test_a_tampered_token_or_another_sessions_token_opens_nothing(server: ServerProcess,
                                                                  agent: AgentProcess) -> None:
    ssm = server.client("ssm")
    first, second = (ssm.start_session(Target=agent.instance_id) for _ in range(2))

    async def refused(url: str, token: str) -> bool:
        async with websockets.connect(url) as ws:
            await ws.send(OpenDataChannel(token, "client", "1.2.804.0").encode())
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd is not None and closed.rcvd.code == 1008
            return False
    tampered = first["TokenValue"][:-2] + ("AA" if not first["TokenValue"].endswith("AA") else "BB")
    assert asyncio.run(refused(first["StreamUrl"], tampered))
    assert asyncio.run(refused(first["StreamUrl"], second["TokenValue"]))
    for started in (first, second):
        ssm.terminate_session(SessionId=started["SessionId"])
    assert asyncio.run(refused(first["StreamUrl"], first["TokenValue"]))  # an ended session's own token


def test_openssm_start_session_runs_a_command_without_the_aws_cli(server: ServerProcess,
                                                                  agent: AgentProcess) -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": server.admin.access_key_id,
           "AWS_SECRET_ACCESS_KEY": server.admin.secret_access_key, "AWS_DEFAULT_REGION": server.region,
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    script = "sh -c 'echo out-$((2*21)); echo err-$((3*3)) >&2; exit 3'"
    openssm = [sys.executable, "-m", "openssm", "start-session", "--endpoint-url", server.endpoint, "--target",
               agent.instance_id]
    done = subprocess.run([*openssm, "--document-name", "AWS-StartNonInteractiveCommand",
                           "--parameters", json.dumps({"command": [script]})], env=env, capture_output=True,
                          timeout=120)
    assert b"out-42" in done.stdout and b"err-9" in done.stdout, done
    # A document that asks for separate streams gets stderr apart and the command's exit status (AWS's
    # ShellProperties separateOutputStream).
    name = unique("SeparateStreams")
    server.client("ssm").create_document(Name=name, DocumentType="Session", Content=json.dumps({
        "schemaVersion": "1.0", "description": "A command with its streams apart",
        "sessionType": "NonInteractiveCommands", "parameters": {"command": {"type": "String"}},
        "properties": {"linux": {"commands": "{{ command }}", "separateOutputStream": True,
                                 "stdOutSeparatorPrefix": "STD_OUT:", "stdErrSeparatorPrefix": "STD_ERR:"}}}))
    done = subprocess.run([*openssm, "--document-name", name, "--parameters", json.dumps({"command": [script]})],
                          env=env, capture_output=True, timeout=120)
    assert b"out-42" in done.stdout and b"err-9" not in done.stdout, done
    assert b"err-9" in done.stderr and done.returncode == 3, done


def test_a_shell_recording_also_goes_to_the_bucket_the_preferences_name(
        fresh_server: Callable[..., ServerProcess], s3_store: str, tmp_path: Path) -> None:
    server = fresh_server("--s3-endpoint", s3_store, env={"OPENSSM_S3_ACCESS_KEY_ID": "testing",
                                                          "OPENSSM_S3_SECRET_ACCESS_KEY": "testing"})
    s3 = boto3.client("s3", endpoint_url=s3_store, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket="session-logs")
    # Session Manager's preferences, as AWS's guide has users write them: the account's SSM-SessionManagerRunShell.
    preferences = {"schemaVersion": "1.0", "description": "Document to hold regional settings for Session Manager",
                   "sessionType": "Standard_Stream",
                   "inputs": {"s3BucketName": "session-logs", "s3KeyPrefix": "fleet/", "s3EncryptionEnabled": True,
                              "idleSessionTimeout": "20"}}
    server.client("ssm").create_document(Name="SSM-SessionManagerRunShell", DocumentType="Session",
                                         Content=json.dumps(preferences))
    node = AgentProcess(server, tmp_path / "agent").register().start()
    try:
        node.wait_online()
        child = start_session(server, "--target", node.instance_id)
        session_id = session_id_of(child)
        child.sendline("echo logged-$((5*5))")
        child.expect("logged-25")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        node.stop()
    deadline, keys = time.monotonic() + 30, set()
    while time.monotonic() < deadline and len(keys) < 2:
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="session-logs").get("Contents", [])}
        time.sleep(0.3)
    assert keys == {f"fleet/{session_id}.log", f"fleet/{session_id}.cast"}
    assert b"logged-25" in s3.get_object(Bucket="session-logs", Key=f"fleet/{session_id}.log")["Body"].read()
    described = history(server, session_id)
    assert described["OutputUrl"]["S3OutputUrl"] == f"{s3_store}/session-logs/fleet/{session_id}.log"


def test_a_session_whose_client_and_node_reach_different_replicas_meets_over_nats(
        postgres_url: str, fresh_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    shared = ("--database-url", postgres_url, "--nats-url", NATS_URL)
    first = fresh_server(*shared, name="one")
    second = fresh_server(*shared, "--master-key-file", str(first.data_dir / "master.key"), name="two")
    (second.data_dir / "admin-credentials").write_text((first.data_dir / "admin-credentials").read_text())
    node = AgentProcess(first, tmp_path / "agent").register(node_role(first)).start()  # its channels: replica one
    try:
        node.wait_online()
        child = start_session(second, "--target", node.instance_id)  # the client: replica two
        session_id = session_id_of(child)
        child.sendline("echo across-$((20+1))")
        child.expect("across-21")
        child.setwinsize(30, 90)
        child.sendline("stty size")
        child.expect("30 90")
        child.sendline("exit")
        child.expect(f"Exiting session with sessionId: {session_id}")
        child.expect(pexpect.EOF)
        assert history(second, session_id)["Status"] == "Terminated"
    finally:
        node.stop()
    # Recorded once, by the replica that held the node's end, through which both directions passed.
    transcript = first.data_dir / "session-logs" / f"{session_id}.log"
    deadline = time.monotonic() + 20
    while not transcript.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert b"across-21" in transcript.read_bytes()
    assert not (second.data_dir / "session-logs" / f"{session_id}.log").exists()
    assert len(_session_events(first, session_id)) == 1


def test_a_shell_survives_a_server_restart_without_losing_or_repeating_output(
        fresh_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = fresh_server()
    node = AgentProcess(server, tmp_path / "agent").register().start()
    try:
        node.wait_online()
        child = start_session(server, "--target", node.instance_id)
        child.sendline("stty -echo; for i in $(seq 1 30); do echo line-$i; sleep 0.2; done; echo all-done")
        child.expect("line-3")
        server.stop()  # both ends lose their WebSockets: the agent reconnects, the plugin calls ResumeSession
        server.start()
        child.expect("all-done", timeout=90)
        lines = [int(n) for n in re.findall(r"line-(\d+)", child.before)]
        assert lines == list(range(4, 31))  # the rest of the output, in order, each line once
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        node.stop()


def test_run_as_sessions_run_as_the_principals_tag_or_the_preferences_default_user(
        fresh_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = fresh_server()
    preferences = {"schemaVersion": "1.0", "description": "Document to hold regional settings for Session Manager",
                   "sessionType": "Standard_Stream",
                   "inputs": {"runAsEnabled": True, "runAsDefaultUser": "nobody", "idleSessionTimeout": "20"}}
    server.client("ssm").create_document(Name="SSM-SessionManagerRunShell", DocumentType="Session",
                                         Content=json.dumps(preferences))
    _, tagged = user_with_policy(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ssm:StartSession", "ssm:TerminateSession"], "Resource": "*"}]},
        tags={"SSMSessionRunAs": "daemon"})
    node = AgentProcess(server, tmp_path / "agent").register().start()
    try:
        node.wait_online()
        for creds, user in ((None, "nobody"), (tagged, "daemon")):
            child = start_session(server, "--target", node.instance_id, creds=creds)
            child.sendline("echo I-am-$(id -un)")
            child.expect(r"I-am-(\w+)\r")
            assert child.match.group(1) == user
            child.sendline("exit")
            child.expect(pexpect.EOF)
    finally:
        node.stop()
