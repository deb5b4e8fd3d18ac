"""`openssm imds` as a real process beside a real server: IMDSv2 only, the identity document and its
signature, and credentials that botocore's own IMDS provider picks up (the aws CLI with no keys at all)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from openssm.protocol.instance_identity import verify
from tests.support.ec2 import Ec2Instance, http
from tests.support.server import Credentials, ServerProcess

INSTANCE = "i-0a1b2c3d4e5f60718"
EC2_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture
def lab(server: ServerProcess, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Declares the instance (optionally with a profile) and starts its IMDS; yields the IMDS URL factory."""
    instance = Ec2Instance(server, tmp_path, INSTANCE, "eu-west-1")

    def start(profile: str | None = None) -> str:
        instance.stop()
        return instance.declare(profile).serve_imds()

    yield start
    instance.stop()


def token(url: str) -> dict[str, str]:
    status, text = http(url + "/latest/api/token", "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "300"})
    assert status == 200
    return {"X-aws-ec2-metadata-token": text}


def test_imdsv1_is_refused_and_tokens_follow_ec2s_rules(lab: Callable[..., str]) -> None:
    url = lab()
    assert http(url + "/latest/meta-data/instance-id")[0] == 401
    assert http(url + "/latest/api/token", "PUT")[0] == 400
    assert http(url + "/latest/api/token", "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "21601"})[0] == 400
    assert http(url + "/latest/api/token", "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "60",
                                                   "X-Forwarded-For": "10.0.0.1"})[0] == 403
    assert http(url + "/latest/meta-data/instance-id", headers={"X-aws-ec2-metadata-token": "forged"})[0] == 401
    assert http(url + "/latest/meta-data/instance-id", headers=token(url)) == (200, INSTANCE)
    assert http(url + "/latest/meta-data/placement/region", headers=token(url)) == (200, "eu-west-1")
    assert http(url + "/latest/meta-data/no-such-thing", headers=token(url))[0] == 404


def test_the_identity_document_is_signed_by_the_declared_key(lab: Callable[..., str], tmp_path: Path) -> None:
    url = lab()
    _, document = http(url + "/latest/dynamic/instance-identity/document", headers=token(url))
    _, signature = http(url + "/latest/dynamic/instance-identity/signature", headers=token(url))
    assert json.loads(document)["instanceId"] == INSTANCE
    public = serialization.load_pem_public_key((tmp_path / "identity.key.pub").read_bytes())
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert verify(pem, document.encode(), signature)


def test_identity_credentials_name_the_instance_and_no_profile_means_no_role(
        lab: Callable[..., str], server: ServerProcess) -> None:
    url = lab()
    status, body = http(url + "/latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance",
                        headers=token(url))
    creds = json.loads(body)
    assert status == 200 and creds["Code"] == "Success" and creds["AccessKeyId"].startswith("ASIA")
    assert http(url + "/latest/meta-data/iam/security-credentials/", headers=token(url))[0] == 404
    sts = server.client("sts", _creds(creds))
    assert sts.get_caller_identity()["Arn"].endswith(f":assumed-role/aws:ec2-instance/{INSTANCE}")


def test_the_aws_cli_with_no_keys_uses_the_instance_profile_through_imdsv2(
        lab: Callable[..., str], server: ServerProcess, tmp_path: Path) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="WebServer", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.put_role_policy(RoleName="WebServer", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}]}))
    iam.create_instance_profile(InstanceProfileName="web")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="WebServer")
    server.client("ssm", region="eu-west-1").put_parameter(Name="/web/greeting", Value="hello", Type="String")
    url = lab("web")
    assert http(url + "/latest/meta-data/iam/security-credentials/", headers=token(url)) == (200, "WebServer")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT=url + "/", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_DEFAULT_REGION="eu-west-1")
    aws = [sys.executable, "-m", "awscli", "--endpoint-url", server.endpoint, "--output", "json"]
    who = subprocess.run([*aws, "sts", "get-caller-identity"], env=env, capture_output=True, text=True, check=True)
    assert json.loads(who.stdout)["Arn"].endswith(f":assumed-role/WebServer/{INSTANCE}")
    got = subprocess.run([*aws, "ssm", "get-parameter", "--name", "/web/greeting"], env=env, capture_output=True,
                         text=True, check=True)
    assert json.loads(got.stdout)["Parameter"]["Value"] == "hello"
    denied = subprocess.run([*aws, "ssm", "put-parameter", "--name", "/web/x", "--value", "v", "--type", "String"],
                            env=env, capture_output=True, text=True)
    assert denied.returncode != 0 and "AccessDeniedException" in denied.stderr


def _creds(body: dict[str, str]) -> Credentials:
    return Credentials(body["AccessKeyId"], body["SecretAccessKey"], body["Token"])
