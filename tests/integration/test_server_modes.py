"""The server's modes: HTTPS with a lab CA, PostgreSQL instead of SQLite, dev mode, first-start output."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from botocore.exceptions import ClientError

from openssm.pki import init_pki
from tests.support.agents import AgentProcess, node_role, wait_invocation
from tests.support.server import Credentials, ServerProcess


def test_https_server_is_reached_by_boto3_trusting_the_lab_ca(
    fresh_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    files = init_pki(tmp_path / "pki", [])
    server = fresh_server("--tls-cert", str(files.server_cert), "--tls-key", str(files.server_key))
    assert server.endpoint.startswith("https://")
    sts = server.client("sts", verify=str(files.ca_cert))
    assert sts.get_caller_identity()["Arn"].endswith(":user/admin")


def test_https_server_is_refused_by_a_client_that_does_not_trust_the_ca(
    fresh_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    files = init_pki(tmp_path / "pki", [])
    server = fresh_server("--tls-cert", str(files.server_cert), "--tls-key", str(files.server_key))
    result = server.aws("sts", "get-caller-identity", check=False)
    assert result.returncode != 0
    assert "SSL" in result.stderr or "certificate" in result.stderr


def test_server_runs_on_postgresql_and_keeps_state_across_restarts(
    fresh_server: Callable[..., ServerProcess], postgres_url: str
) -> None:
    server = fresh_server("--database-url", postgres_url)
    server.client("ssm").put_parameter(Name="/pg/greeting", Value="hello", Type="String")
    server.stop()
    again = fresh_server("--database-url", postgres_url, name="data")
    value = again.client("ssm").get_parameter(Name="/pg/greeting")["Parameter"]["Value"]
    assert value == "hello"
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() is not None


def test_first_start_writes_admin_credentials_once_with_mode_0600(
    fresh_server: Callable[..., ServerProcess]
) -> None:
    server = fresh_server()
    path = server.data_dir / "admin-credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "endpoint_url" in text and "[profile openssm-admin]" in text
    assert server.admin.secret_access_key in server.log()
    server.stop()
    before = server.log()
    server.start()
    assert path.read_text() == text
    assert server.admin.secret_access_key not in server.log()[len(before):]


def test_dev_mode_accepts_any_access_key_as_root_of_the_dev_account(
    fresh_server: Callable[..., ServerProcess]
) -> None:
    server = fresh_server("--dev")
    anyone = Credentials("AKIAANYTHINGATALL000", "whatever")
    identity = server.client("sts", anyone).get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::123456789012:root"
    assert identity["Account"] == "123456789012"


def test_without_dev_mode_an_unknown_access_key_is_refused(server: ServerProcess) -> None:
    stranger = Credentials("AKIAANYTHINGATALL000", "whatever")
    with pytest.raises(ClientError) as err:
        server.client("ssm", stranger).describe_parameters()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_openssm_help_lists_the_commands() -> None:
    out = subprocess.run([sys.executable, "-m", "openssm", "--help"], capture_output=True, text=True, check=True)
    for command in ("server", "pki", "audit"):
        assert command in out.stdout


def test_secure_transport_conditions_see_http_and_https(
    fresh_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    files = init_pki(tmp_path / "pki", [])
    server = fresh_server("--tls-cert", str(files.server_cert), "--tls-key", str(files.server_key))
    iam = server.client("iam", verify=str(files.ca_cert))
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ssm:DescribeParameters", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "true"}, "IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}]}
    iam.create_user(UserName="tls-only")
    iam.put_user_policy(UserName="tls-only", PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="tls-only")["AccessKey"]
    creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    server.client("ssm", creds, verify=str(files.ca_cert)).describe_parameters()
    denied = {**policy, "Statement": [{**policy["Statement"][0], "Condition": {
        "Bool": {"aws:SecureTransport": "false"}}}]}
    iam.put_user_policy(UserName="tls-only", PolicyName="p", PolicyDocument=json.dumps(denied))
    with pytest.raises(ClientError) as err:
        server.client("ssm", creds, verify=str(files.ca_cert)).describe_parameters()
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"


def test_two_replicas_on_one_postgresql_share_state_and_keep_one_audit_chain(
    fresh_server: Callable[..., ServerProcess], postgres_url: str
) -> None:
    first = fresh_server("--database-url", postgres_url, name="one")
    key_file = str(first.data_dir / "master.key")
    second = fresh_server("--database-url", postgres_url, "--master-key-file", key_file, name="two")
    admin = first.admin
    first.client("ssm", admin).put_parameter(Name="/replicas/shared", Value="v", Type="SecureString")
    assert second.client("ssm", admin).get_parameter(Name="/replicas/shared", WithDecryption=True)[
        "Parameter"]["Value"] == "v"
    clients = [first.client("sts", admin), second.client("sts", admin)]
    with ThreadPoolExecutor(max_workers=8) as pool:  # both replicas append to the chain at the same time
        list(pool.map(lambda i: clients[i % 2].get_caller_identity(), range(40)))
    first.stop()
    second.stop()
    result = subprocess.run([sys.executable, "-m", "openssm", "audit", "verify", "--data-dir", str(first.data_dir),
                             "--database-url", postgres_url], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    count = int(result.stdout.split("ok: ")[1].split(" records")[0])
    assert count >= 42


def test_a_command_sent_through_one_replica_reaches_a_node_connected_to_the_other(
    fresh_server: Callable[..., ServerProcess], postgres_url: str, tmp_path: Path
) -> None:
    first = fresh_server("--database-url", postgres_url, name="one")
    key_file = str(first.data_dir / "master.key")
    second = fresh_server("--database-url", postgres_url, "--master-key-file", key_file, name="two")
    # One account behind both: the second replica's clients use the admin the first one wrote at bootstrap.
    (second.data_dir / "admin-credentials").write_text((first.data_dir / "admin-credentials").read_text())
    agent = AgentProcess(first, tmp_path / "agent").register(node_role(first)).start()
    try:
        agent.wait_online()
        ssm = second.client("ssm")  # the node's channel is held by the first replica only
        command_id = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[agent.instance_id],
                                      Parameters={"commands": ["echo across"]})["Command"]["CommandId"]
        result = wait_invocation(second, command_id, agent.instance_id)
        assert (result["Status"], result["StandardOutputContent"]) == ("Success", "across\n")
        long = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[agent.instance_id],
                                Parameters={"commands": ["sleep 60"]})["Command"]["CommandId"]
        wait_invocation(second, long, agent.instance_id, final=False)
        ssm.cancel_command(CommandId=long)
        assert wait_invocation(second, long, agent.instance_id)["Status"] == "Cancelled"
    finally:
        agent.stop()
