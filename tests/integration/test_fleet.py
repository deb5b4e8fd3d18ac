"""Hybrid activations and managed instances through a real server: enrolment exactly as AWS's agent does it
(unsigned registration, RSA-signed token request), heartbeats, the fleet view, and every way it is refused."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.support.iam import allow, user_with_policy
from tests.support.node_client import Node
from tests.support.server import ServerProcess

SSM_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def node_role(server: ServerProcess, name: str) -> str:
    iam = server.client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SSM_TRUST))
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    return name


def activation(server: ServerProcess, role: str, **extra: object) -> tuple[str, str]:
    created = server.client("ssm").create_activation(IamRole=role, **extra)
    return created["ActivationId"], created["ActivationCode"]


def error_of(response: object) -> str:
    return str(response.json().get("__type", ""))  # type: ignore[attr-defined]


def test_a_node_enrols_heartbeats_and_shows_online_with_what_it_reported(server: ServerProcess) -> None:
    role = node_role(server, "HybridNodes")
    activation_id, code = activation(server, role, DefaultInstanceName="web", RegistrationLimit=2,
                                     Tags=[{"Key": "team", "Value": "ops"}])
    node = Node(server).enrol(activation_id, code)
    assert node.instance_id is not None and node.instance_id.startswith("mi-") and len(node.instance_id) == 20
    assert node.heartbeat().status == 200
    info = server.client("ssm").describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [node.instance_id]}])["InstanceInformationList"]
    assert len(info) == 1
    seen = info[0]
    assert (seen["PingStatus"], seen["PlatformType"], seen["PlatformName"], seen["ComputerName"]) == (
        "Online", "Linux", "Debian GNU/Linux", "node-1")
    assert seen["IamRole"] == role and seen["ActivationId"] == activation_id and seen["Name"] == "web"
    assert seen["ResourceType"] == "ManagedInstance" and seen["AgentVersion"] == "3.3.0.0"
    listed = server.client("ssm").describe_activations(
        Filters=[{"FilterKey": "ActivationIds", "FilterValues": [activation_id]}])["ActivationList"][0]
    assert listed["RegistrationsCount"] == 1 and listed["RegistrationLimit"] == 2 and not listed["Expired"]
    assert listed["Tags"] == [{"Key": "team", "Value": "ops"}]


def test_the_role_token_is_a_session_of_the_activation_role_named_after_the_node(server: ServerProcess) -> None:
    node = Node(server).enrol(*activation(server, node_role(server, "NodeRole2")))
    assert node.creds is not None
    arn = server.client("sts", node.creds).get_caller_identity()["Arn"]
    assert arn.endswith(f":assumed-role/NodeRole2/{node.instance_id}")


def test_node_credentials_can_do_only_what_the_role_allows(server: ServerProcess) -> None:
    node = Node(server).enrol(*activation(server, node_role(server, "NodeRole3")))
    assert node.creds is not None
    with pytest.raises(ClientError) as err:
        server.client("ssm", node.creds).put_parameter(Name="/from/node", Value="x", Type="String")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"assumed-role/NodeRole3/{node.instance_id}" in err.value.response["Error"]["Message"]


def test_registration_is_refused_for_a_used_up_or_unknown_activation_a_wrong_code_or_a_reused_key(
        server: ServerProcess) -> None:
    activation_id, code = activation(server, node_role(server, "NodeRole4"))
    first = Node(server).enrol(activation_id, code)
    exhausted = Node(server).register(activation_id, code)
    assert exhausted.status == 400 and error_of(exhausted) == "InvalidActivation"
    assert "registration limit" in exhausted.json()["message"]
    again_id, again_code = activation(server, "NodeRole4", RegistrationLimit=5)
    wrong = Node(server).register(again_id, "x" * 20)
    assert wrong.status == 400 and error_of(wrong) == "InvalidActivation"
    unknown = Node(server).register("01234567-89ab-cdef-0123-456789abcdef", again_code)
    assert unknown.status == 400 and error_of(unknown) == "InvalidActivation"
    reused = Node(server, key=first.key, fingerprint=first.fingerprint).register(again_id, again_code)
    assert reused.status == 400 and error_of(reused) == "ValidationException"


def test_an_activation_needs_a_role_that_exists_and_trusts_ssm(server: ServerProcess) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="Ec2Trust", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    for role in ("Ec2Trust", "NoSuchRole"):
        with pytest.raises(ClientError) as err:
            server.client("ssm").create_activation(IamRole=role)
        assert err.value.response["Error"]["Code"] == "ValidationException"
        assert "Nonexistent role or missing ssm service principal in trust policy" in err.value.response[
            "Error"]["Message"]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with pytest.raises(ClientError) as err:
        server.client("ssm").create_activation(IamRole=node_role(server, "NodeRole5"), ExpirationDate=past)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_a_node_reports_only_for_itself(server: ServerProcess) -> None:
    activation_id, code = activation(server, node_role(server, "NodeRole6"), RegistrationLimit=2)
    one, two = Node(server).enrol(activation_id, code), Node(server).enrol(activation_id, code)
    refused = one.heartbeat(instance_id=two.instance_id)
    assert refused.status == 400 and error_of(refused) == "AccessDeniedException"
    unsigned_token = Node(server, instance_id=one.instance_id).request_token()
    assert unsigned_token.status in (400, 403)  # another key than the one registered


def test_a_deregistered_node_gets_no_token_and_its_credentials_stop_working(server: ServerProcess) -> None:
    node = Node(server).enrol(*activation(server, node_role(server, "NodeRole7")))
    assert node.creds is not None and node.heartbeat().status == 200
    server.client("ssm").deregister_managed_instance(InstanceId=node.instance_id)
    time.sleep(2.5)  # the credential cache's lifetime
    assert node.request_token().status in (400, 403)
    assert node.heartbeat().status in (400, 403)
    info = server.client("ssm").describe_instance_information()["InstanceInformationList"]
    assert node.instance_id not in {i["InstanceId"] for i in info}


def test_managed_instances_take_tags_and_are_found_by_them(server: ServerProcess) -> None:
    node = Node(server).enrol(*activation(server, node_role(server, "NodeRole8")))
    ssm = server.client("ssm")
    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id,
                             Tags=[{"Key": "env", "Value": "prod"}])
    assert ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id)[
        "TagList"] == [{"Key": "env", "Value": "prod"}]
    by_tag = ssm.describe_instance_information(Filters=[{"Key": "tag:env", "Values": ["prod"]}])
    assert [i["InstanceId"] for i in by_tag["InstanceInformationList"]] == [node.instance_id]
    with pytest.raises(ClientError) as err:
        ssm.describe_instance_information(Filters=[{"Key": "Colour", "Values": ["red"]}])
    assert err.value.response["Error"]["Code"] == "InvalidFilterKey"


def test_the_aws_cli_creates_and_lists_activations_and_a_denied_user_is_refused(server: ServerProcess) -> None:
    role = node_role(server, "CliNodes")
    created = server.aws_json("ssm", "create-activation", "--iam-role", role, "--registration-limit", "3")
    assert set(created) == {"ActivationId", "ActivationCode"}
    listed = server.aws_json("ssm", "describe-activations", "--filters",
                             f"FilterKey=ActivationIds,FilterValues={created['ActivationId']}")["ActivationList"]
    assert listed[0]["IamRole"] == role and listed[0]["RegistrationLimit"] == 3
    server.aws("ssm", "delete-activation", "--activation-id", created["ActivationId"])
    _, reader = user_with_policy(server, allow("ssm:Describe*"))
    with pytest.raises(ClientError) as err:
        server.client("ssm", reader).create_activation(IamRole=role)
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"


def test_instance_properties_and_list_nodes_show_the_fleet_with_aws_filters(server: ServerProcess) -> None:
    activation_id, code = activation(server, node_role(server, "NodeRole9"), RegistrationLimit=2)
    one, two = Node(server).enrol(activation_id, code), Node(server).enrol(activation_id, code)
    assert one.heartbeat().status == 200 and two.heartbeat().status == 200
    ssm = server.client("ssm")
    props = ssm.describe_instance_properties(InstancePropertyFilterList=[
        {"key": "InstanceIds", "valueSet": [one.instance_id]}])["InstanceProperties"]
    assert [(p["InstanceId"], p["PingStatus"], p["PlatformName"]) for p in props] == [
        (one.instance_id, "Online", "Debian GNU/Linux")]
    newer = ssm.describe_instance_properties(FiltersWithOperator=[
        {"Key": "AgentVersion", "Values": ["3.2.0.0"], "Operator": "GreaterThan"},
        {"Key": "InstanceIds", "Values": [one.instance_id, two.instance_id], "Operator": "Equal"}])
    assert {p["InstanceId"] for p in newer["InstanceProperties"]} == {one.instance_id, two.instance_id}
    nodes = ssm.list_nodes(Filters=[{"Key": "InstanceId", "Values": [two.instance_id], "Type": "Equal"}])["Nodes"]
    assert [n["Id"] for n in nodes] == [two.instance_id]
    assert nodes[0]["NodeType"]["Instance"]["ManagedStatus"] == "Managed"
    paged = ssm.describe_instance_properties(MaxResults=5, FiltersWithOperator=[
        {"Key": "InstanceIds", "Values": ["mi-"], "Operator": "BeginWith"}])
    assert len(paged["InstanceProperties"]) >= 2
    with pytest.raises(ClientError) as err:
        ssm.list_nodes(Filters=[{"Key": "Flavour", "Values": ["x"], "Type": "Equal"}])
    assert err.value.response["Error"]["Code"] == "ValidationException"  # not one of NodeFilterKey's values
