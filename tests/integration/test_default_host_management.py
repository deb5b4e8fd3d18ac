"""Default Host Management Configuration end to end (seed 000): a real server, a real `openssm imds` per
instance and a real `openssm agent` that enrols itself with no activation and no instance profile; the aws CLI
for the seed's procedure, boto3 for the checks."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openssm.agent.client import CallFailed, RoleCredentials, SsmClient
from openssm.agent.keys import local_signer, new_key_pair, public_key_of
from openssm.pki import init_pki
from tests.integration.test_service_settings import ROLE, create_dhmc_role, setting_arn
from tests.support.agents import wait_invocation
from tests.support.ec2 import Ec2Instance, http, openssm
from tests.support.server import ServerProcess

EC2_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
NOT_ENABLED = "Default Host Management Configuration is not enabled"
Lab = Callable[..., Ec2Instance]


@pytest.fixture
def server_for_dhmc(fresh_server: Callable[..., ServerProcess], tmp_path: Path) -> ServerProcess:
    """A server of the test's own, with seed 000's role created by its command-line procedure (steps 1-3)."""
    server = fresh_server()
    create_dhmc_role(server, tmp_path)
    return server


@pytest.fixture
def lab(server_for_dhmc: ServerProcess, tmp_path: Path) -> Iterator[Lab]:
    """Instances declared with the lab identity key of `openssm pki init`, each with its `openssm imds`."""
    lab_key = init_pki(tmp_path / "pki", []).identity_key
    made: list[Ec2Instance] = []

    def instance(instance_id: str, region: str | None = None, profile: str | None = None) -> Ec2Instance:
        node = Ec2Instance(server_for_dhmc, tmp_path / instance_id, instance_id, region or server_for_dhmc.region,
                           lab_key)
        made.append(node)
        node.declare(profile).serve_imds()
        return node

    yield instance
    for node in made:
        node.stop()


def enrolled(lab: Lab, instance_id: str) -> Ec2Instance:
    """An instance whose agent, started with no registration, is Online."""
    node = lab(instance_id)
    node.start_agent()
    node.agent.wait_online(60)
    return node


def enable(server: ServerProcess, region: str | None = None) -> None:
    server.aws("ssm", "update-service-setting", "--setting-id", setting_arn(server, region), "--setting-value",
               f"service-role/{ROLE}", region=region)


def info_of(server: ServerProcess, instance_id: str, region: str | None = None) -> list[dict[str, object]]:
    return list(server.client("ssm", region=region).describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])["InstanceInformationList"])


def test_seed_000_procedure_enrols_a_node_by_itself_and_reset_drops_it(
        server_for_dhmc: ServerProcess, lab: Lab) -> None:
    server = server_for_dhmc
    enable(server)  # step 4, as the seed writes it
    shown = server.aws_json("ssm", "get-service-setting", "--setting-id", setting_arn(server))["ServiceSetting"]
    assert shown["SettingValue"] == f"service-role/{ROLE}" and shown["Status"] == "Customized"
    node = enrolled(lab, "i-0123456789abcdef0")
    [info] = info_of(server, node.instance_id)
    assert info["ResourceType"] == "EC2Instance" and info["IamRole"] == f"service-role/{ROLE}"
    assert json.loads((node.state_dir / "registration.json").read_text())["identity_type"] == "EC2"

    sent = server.aws_json("ssm", "send-command", "--instance-ids", node.instance_id, "--document-name",
                           "AWS-RunShellScript", "--parameters", 'commands=["echo managed by default"]')
    result = wait_invocation(server, sent["Command"]["CommandId"], node.instance_id)
    assert result["Status"] == "Success" and result["StandardOutputContent"] == "managed by default\n"

    server.aws("ssm", "reset-service-setting", "--setting-id", setting_arn(server))
    node.agent.wait_ping_status("ConnectionLost")
    node.agent.wait_log(NOT_ENABLED)

    enable(server)  # the running agent comes back on its own, without a restart
    node.agent.wait_online(60)
    assert node.agent.proc is not None and node.agent.proc.poll() is None


def test_an_instance_profile_that_may_report_keeps_dhmc_from_being_used(
        server_for_dhmc: ServerProcess, lab: Lab) -> None:
    server, iam = server_for_dhmc, server_for_dhmc.client("iam")
    enable(server)
    for role, policy in (("ManagedByProfile", "AmazonSSMManagedInstanceCore"), ("NoSsmRights", "ReadOnlyAccess")):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
        iam.create_instance_profile(InstanceProfileName=role)
        iam.add_role_to_instance_profile(InstanceProfileName=role, RoleName=role)

    by_profile = lab("i-00000000000000001", profile="ManagedByProfile")
    by_profile.start_agent()
    by_profile.agent.wait_online(60)
    assert info_of(server, by_profile.instance_id)[0]["IamRole"] == "ManagedByProfile"
    assert not (by_profile.state_dir / "registration.json").exists()  # it never needed Default Host Management

    # A profile that cannot call UpdateInstanceInformation is passed over for the default role, as the seed says.
    weak_profile = lab("i-00000000000000002", profile="NoSsmRights")
    weak_profile.start_agent()
    weak_profile.agent.wait_online(60)
    assert info_of(server, weak_profile.instance_id)[0]["IamRole"] == f"service-role/{ROLE}"


def test_enabling_dhmc_in_one_region_enrols_no_node_of_another(
        server_for_dhmc: ServerProcess, lab: Lab) -> None:
    server = server_for_dhmc
    enable(server)
    elsewhere = lab("i-0aaaaaaaaaaaaaaa1", region="eu-west-1")
    elsewhere.start_agent()
    log = elsewhere.agent.wait_log(f"{NOT_ENABLED} in account")
    assert "in eu-west-1" in log
    assert info_of(server, elsewhere.instance_id, "eu-west-1") == []


def test_a_default_role_without_permissions_leaves_the_node_unmanaged(
        server_for_dhmc: ServerProcess, lab: Lab) -> None:
    server, iam = server_for_dhmc, server_for_dhmc.client("iam")
    iam.detach_role_policy(RoleName=ROLE, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy")
    enable(server)
    node = lab("i-0bbbbbbbbbbbbbbb1")
    node.start_agent()
    node.agent.wait_log("ssm:UpdateInstanceInformation")  # its heartbeat is refused
    assert info_of(server, node.instance_id) == []


def test_a_lost_registration_stops_the_agent_with_a_clear_error(
        server_for_dhmc: ServerProcess, lab: Lab) -> None:
    server = server_for_dhmc
    enable(server)
    node = enrolled(lab, "i-0ccccccccccccccc1")
    node.agent.stop()
    shutil.rmtree(node.state_dir)

    node.start_agent()
    assert node.agent.wait_exit() == 3
    assert f"openssm imds release --instance-id {node.instance_id}" in node.agent.log.read_text()

    openssm("imds", "release", "--data-dir", str(server.data_dir), "--instance-id", node.instance_id)
    node.start_agent()  # released, the instance may enrol again with a new key
    node.agent.wait_online(60)


def test_agents_older_than_the_minimum_version_are_refused(
        server_for_dhmc: ServerProcess, lab: Lab) -> None:
    server = server_for_dhmc
    enable(server)
    node = lab("i-0ddddddddddddddd1")
    node.start_agent(env={"OPENSSM_AGENT_VERSION": "3.1.1446.0"})
    node.agent.wait_log("SSM Agent 3.1.1446.0 is older than 3.2.582.0")
    assert info_of(server, node.instance_id) == []


def test_the_role_token_needs_the_instance_identity_and_the_registered_key_together(
        server_for_dhmc: ServerProcess, lab: Lab) -> None:
    server = server_for_dhmc
    enable(server)
    node = enrolled(lab, "i-0eeeeeeeeeeeeeee1")
    registration = json.loads((node.state_dir / "registration.json").read_text())
    token = {"X-aws-ec2-metadata-token": http(node.imds_url + "/latest/api/token", "PUT",
                                              {"X-aws-ec2-metadata-token-ttl-seconds": "60"})[1]}
    body = json.loads(http(node.imds_url + "/latest/meta-data/identity-credentials/ec2/security-credentials/"
                           "ec2-instance", headers=token)[1])
    identity = RoleCredentials(body["AccessKeyId"], body["SecretAccessKey"], body["Token"], dt.datetime.now(dt.UTC))
    client = SsmClient(server.endpoint, server.region)
    own_key, other_key = local_signer(registration["private_key"]), local_signer(new_key_pair()[0])

    assert client.ec2_role_token(node.instance_id, identity, own_key).access_key_id.startswith("ASIA")
    with pytest.raises(CallFailed) as wrong_key:
        client.ec2_role_token(node.instance_id, identity, other_key)
    assert wrong_key.value.code == "InvalidSignatureException"
    with pytest.raises(CallFailed) as identity_alone:
        client.call("RequestManagedInstanceRoleToken", {"Fingerprint": node.instance_id}, identity)
    assert identity_alone.value.code == "AccessDeniedException" and "SSM-AsymmetricKeyAuthorization" in (
        identity_alone.value.message)
    with pytest.raises(CallFailed) as another_key:  # nor may the identity register a second key
        client.register_ec2(node.instance_id, public_key_of(new_key_pair()[0]), identity)
    assert another_key.value.code == "InstanceAlreadyRegistered"
