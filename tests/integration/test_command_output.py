"""Run Command beyond AWS's API, end to end with real agents: the full output kept server-side past AWS's cuts,
`openssm command output --follow` streaming it while the command runs, `openssm send-command --wait`, and
what a node or a reader may not do with output, and OutputS3BucketName written to an S3-compatible store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import boto3
from botocore.awsrequest import AWSRequest

from tests.support.agents import AgentProcess, wait_invocation
from tests.support.iam import allow, user_with_policy
from tests.support.node_client import Node
from tests.support.server import Credentials, ServerProcess
from tests.support.signing import send, sign


def openssm(server: ServerProcess, *args: str, creds: Credentials | None = None,
            **popen: object) -> subprocess.Popen[str]:
    c = creds or server.admin
    env = {**os.environ, "AWS_ACCESS_KEY_ID": c.access_key_id, "AWS_SECRET_ACCESS_KEY": c.secret_access_key,
           "AWS_DEFAULT_REGION": server.region, "AWS_ENDPOINT_URL": server.endpoint}
    env.pop("AWS_SESSION_TOKEN", None)
    if c.session_token:
        env["AWS_SESSION_TOKEN"] = c.session_token
    return subprocess.Popen([sys.executable, "-m", "openssm", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)  # type: ignore[call-overload]


def run_openssm(server: ServerProcess, *args: str, creds: Credentials | None = None) -> tuple[int, str, str]:
    proc = openssm(server, *args, creds=creds)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def send_script(server: ServerProcess, instance_id: str, *commands: str) -> str:
    sent = server.client("ssm").send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance_id],
                                             Parameters={"commands": list(commands)})
    return str(sent["Command"]["CommandId"])


def test_the_full_output_is_kept_past_awss_cuts(server: ServerProcess, agent: AgentProcess) -> None:
    command_id = send_script(server, agent.instance_id, "python3 -c \"print('o' * 30000)\"",
                             "python3 -c \"import sys; sys.stderr.write('e' * 10000)\"")
    result = wait_invocation(server, command_id, agent.instance_id)
    assert result["StandardOutputContent"] == "o" * 24_000 + "--output truncated--"
    assert result["StandardErrorContent"] == "e" * 8_000 + "--output truncated--"
    code, out, err = run_openssm(server, "command", "output", command_id, agent.instance_id)
    assert (code, out) == (0, "o" * 30_000 + "\n"), err
    code, out, err = run_openssm(server, "command", "output", command_id, agent.instance_id, "--stream", "stderr")
    assert (code, out) == (0, "e" * 10_000), err


def test_follow_streams_output_while_the_command_runs(server: ServerProcess, agent: AgentProcess) -> None:
    command_id = send_script(server, agent.instance_id, "echo first", "sleep 4", "echo second")
    follower = openssm(server, "command", "output", command_id, agent.instance_id, "--follow")
    assert follower.stdout is not None
    assert follower.stdout.readline() == "first\n"
    # The first line arrived while the command was still running.
    ssm = server.client("ssm")
    assert ssm.get_command_invocation(CommandId=command_id, InstanceId=agent.instance_id)["Status"] == "InProgress"
    rest, err = follower.communicate(timeout=60)
    assert (follower.returncode, rest) == (0, "second\n"), err
    assert ssm.get_command_invocation(CommandId=command_id, InstanceId=agent.instance_id)["Status"] == "Success"


def test_send_command_wait_shows_each_node_and_exits_with_their_outcome(
        server: ServerProcess, agent: AgentProcess, tmp_path: Path) -> None:
    other = AgentProcess(server, tmp_path / "agent-2").register().start()
    try:
        other.wait_online()
        code, out, err = run_openssm(server, "send-command", "--instance-ids",
                                     f"{agent.instance_id},{other.instance_id}", "--command", "echo ok", "--wait")
        assert code == 0, err
        assert agent.instance_id in err and other.instance_id in err and err.count("Success") >= 2
        code, _, err = run_openssm(server, "send-command", "--instance-ids", agent.instance_id, "--command",
                                   "exit 3", "--wait")
        assert code == 1 and "Failed" in err
    finally:
        other.stop()


def test_a_reader_needs_get_command_invocation_and_a_node_writes_only_its_own_output(
        server: ServerProcess, agent: AgentProcess) -> None:
    command_id = send_script(server, agent.instance_id, "echo private")
    wait_invocation(server, command_id, agent.instance_id)
    _, outsider = user_with_policy(server, allow("ssm:ListCommands"))
    code, _, err = run_openssm(server, "command", "output", command_id, agent.instance_id, "--plugin",
                               "aws:runShellScript", creds=outsider)
    assert code != 0 and "AccessDeniedException" in err
    activation = server.client("ssm").create_activation(IamRole="AgentNodes")
    intruder = Node(server).enrol(activation["ActivationId"], activation["ActivationCode"])
    assert intruder.creds is not None
    url = (f"{server.endpoint}/openssm/v1/output/{command_id}/{agent.instance_id}"
           f"?offset=0&plugin={quote('aws:runShellScript', safe='')}&stream=stdout")
    forged = send(sign(AWSRequest("PUT", url, data=b"forged"), intruder.creds, "ssm", server.region))
    assert forged.status == 400 and forged.json()["__type"] == "AccessDeniedException"
    time.sleep(0.1)
    code, out, _ = run_openssm(server, "command", "output", command_id, agent.instance_id)
    assert (code, out) == (0, "private\n")


def test_output_goes_to_the_commands_bucket_in_the_configured_store_under_awss_keys(
        fresh_server: Callable[..., ServerProcess], s3_store: str, tmp_path: Path) -> None:
    server = fresh_server("--s3-endpoint", s3_store, env={"OPENSSM_S3_ACCESS_KEY_ID": "testing",
                                                          "OPENSSM_S3_SECRET_ACCESS_KEY": "testing"})
    s3 = boto3.client("s3", endpoint_url=s3_store, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket="run-output")
    node = AgentProcess(server, tmp_path / "agent").register().start()
    try:
        node.wait_online()
        sent = server.client("ssm").send_command(
            DocumentName="AWS-RunShellScript", InstanceIds=[node.instance_id], OutputS3BucketName="run-output",
            OutputS3KeyPrefix="fleet/logs", Parameters={"commands": ["python3 -c \"print('x' * 30000)\"",
                                                                     "echo oops >&2"]})["Command"]
        result = wait_invocation(server, sent["CommandId"], node.instance_id)
    finally:
        node.stop()
    key = f"fleet/logs/{sent['CommandId']}/{node.instance_id}/awsrunShellScript/0.awsrunShellScript"
    assert result["StandardOutputUrl"] == f"{s3_store}/run-output/{key}/stdout"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = s3.list_objects_v2(Bucket="run-output", Prefix=key).get("Contents", [])
        if len(listed) == 2:
            break
        time.sleep(0.3)
    assert s3.get_object(Bucket="run-output", Key=f"{key}/stdout")["Body"].read() == b"x" * 30_000 + b"\n"
    assert s3.get_object(Bucket="run-output", Key=f"{key}/stderr")["Body"].read() == b"oops\n"
