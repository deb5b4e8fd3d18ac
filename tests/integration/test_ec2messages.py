"""ec2messages through a real server, called as AWS's agent calls it: a node polls its messages, acknowledges,
replies; an unacknowledged message comes back after the visibility timeout; nobody reads another's."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.integration.test_fleet import activation, node_role
from tests.support.node_client import Node
from tests.support.server import ServerProcess
from tests.support.signing import RawResponse, json_request, send, sign


def ec2messages(node: Node, operation: str, body: dict[str, Any]) -> RawResponse:
    assert node.creds is not None
    return send(sign(json_request(node.server.endpoint, f"EC2WindowsMessageDeliveryService.{operation}",
                                  json.dumps(body)), node.creds, "ec2messages", node.server.region))


def poll(node: Node, visibility: int = 10) -> list[dict[str, Any]]:
    answer = ec2messages(node, "GetMessages", {"Destination": node.instance_id, "MessagesRequestId": str(uuid.uuid4()),
                                               "VisibilityTimeoutInSeconds": visibility})
    assert answer.status == 200, answer.body
    return list(answer.json()["Messages"])


def reply_content(status: str, output: str) -> str:
    return json.dumps({"additionalInfo": {"agent": {"name": "amazon-ssm-agent"}}, "documentStatus": status,
                       "runtimeStatus": {"runShellScript": {"status": status, "code": 0, "name": "aws:runShellScript",
                                                            "standardOutput": output, "standardError": ""}}})


def test_a_node_without_a_control_channel_gets_its_command_by_polling_and_replies(server: ServerProcess) -> None:
    activation_id, code = activation(server, node_role(server, "PollingNodes"), RegistrationLimit=2)
    node, other = Node(server).enrol(activation_id, code), Node(server).enrol(activation_id, code)
    command_id = server.client("ssm").send_command(DocumentName="AWS-RunShellScript", InstanceIds=[node.instance_id],
                                                   Parameters={"commands": ["echo polled"]})["Command"]["CommandId"]
    (message,) = poll(node)
    assert message["MessageId"] == f"aws.ssm.{command_id}.{node.instance_id}"
    payload = json.loads(message["Payload"])
    assert payload["CommandId"] == command_id and payload["Parameters"]["commands"] == ["echo polled"]
    assert poll(node) == []  # hidden while within its visibility timeout
    denied = ec2messages(other, "GetMessages", {"Destination": node.instance_id, "MessagesRequestId": "x"})
    assert denied.status == 400 and "AccessDenied" in denied.json()["__type"]
    assert ec2messages(node, "AcknowledgeMessage", {"MessageId": message["MessageId"]}).status == 200
    sent = ec2messages(node, "SendReply", {"MessageId": message["MessageId"], "ReplyId": str(uuid.uuid4()),
                                          "Payload": reply_content("Success", "polled\n")})
    assert sent.status == 200
    result = server.client("ssm").get_command_invocation(CommandId=command_id, InstanceId=node.instance_id)
    assert (result["Status"], result["StandardOutputContent"]) == ("Success", "polled\n")
    forged = ec2messages(other, "SendReply", {"MessageId": message["MessageId"], "ReplyId": "r", "Payload": "{}"})
    assert forged.status == 400 and "InvalidMessageId" in forged.json()["__type"]


def test_an_unacknowledged_message_comes_back_after_its_visibility_timeout(server: ServerProcess) -> None:
    node = Node(server).enrol(*activation(server, node_role(server, "PollingNodes2")))
    server.client("ssm").send_command(DocumentName="AWS-RunShellScript", InstanceIds=[node.instance_id],
                                      Parameters={"commands": ["true"]})
    (first,) = poll(node, visibility=1)
    time.sleep(1.5)
    (again,) = poll(node, visibility=1)
    assert again["MessageId"] == first["MessageId"]
    ec2messages(node, "AcknowledgeMessage", {"MessageId": again["MessageId"]})
    time.sleep(1.5)
    assert poll(node, visibility=1) == []
    failed = ec2messages(node, "FailMessage", {"MessageId": again["MessageId"], "FailureType": "InternalHandlerException"})
    assert failed.status == 200
    command_id = again["MessageId"].split(".")[2]
    status = server.client("ssm").get_command_invocation(CommandId=command_id, InstanceId=node.instance_id)
    assert (status["Status"], status["StatusDetails"]) == ("Failed", "Undeliverable")


def test_the_agents_fallback_poller_runs_and_answers_a_command(server: ServerProcess, tmp_path: Any) -> None:
    import datetime as dt

    from openssm.agent.client import RoleCredentials, SsmClient
    from openssm.agent.ec2messages import MessagePoller
    from openssm.agent.state import StateDir

    node = Node(server).enrol(*activation(server, node_role(server, "PollingNodes3")))
    assert node.creds is not None and node.instance_id is not None
    creds = RoleCredentials(node.creds.access_key_id, node.creds.secret_access_key, node.creds.session_token or "",
                            dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    poller = MessagePoller(SsmClient(server.endpoint, server.region), node.instance_id, lambda: creds,
                           StateDir(tmp_path / "state"), "3.3.0.0")
    command_id = server.client("ssm").send_command(DocumentName="AWS-RunShellScript", InstanceIds=[node.instance_id],
                                                   Parameters={"commands": ["echo by-poll"]})["Command"]["CommandId"]
    assert poller.poll_once() == 1
    assert poller.poll_once() == 0
    result = server.client("ssm").get_command_invocation(CommandId=command_id, InstanceId=node.instance_id)
    assert (result["Status"], result["StandardOutputContent"]) == ("Success", "by-poll\n")


def step_reply(status: str, steps: dict[str, tuple[str, str]]) -> str:
    """A reply as AWS's agent sends it: only the steps it has finished since its last reply."""
    return json.dumps({"documentStatus": status, "runtimeStatus": {
        name: {"status": step_status, "code": 0 if step_status == "Success" else 1, "name": "aws:runShellScript",
               "standardOutput": output, "standardError": ""} for name, (step_status, output) in steps.items()}
        or None})


def test_a_cancel_reaches_a_polling_node_and_steps_reported_one_by_one_add_up(server: ServerProcess) -> None:
    ssm = server.client("ssm")
    node = Node(server).enrol(*activation(server, node_role(server, "PollingNodes4")))
    content = {"schemaVersion": "2.2", "description": "two steps", "mainSteps": [
        {"action": "aws:runShellScript", "name": name, "inputs": {"runCommand": [f"echo {name}"]}}
        for name in ("first", "second")]}
    ssm.create_document(Name="TwoStepsPolled", DocumentType="Command", DocumentFormat="JSON",
                        Content=json.dumps(content))
    two = ssm.send_command(DocumentName="TwoStepsPolled", InstanceIds=[node.instance_id])["Command"]["CommandId"]
    (job,) = poll(node)
    ec2messages(node, "AcknowledgeMessage", {"MessageId": job["MessageId"]})
    for reply in (step_reply("InProgress", {"first": ("Success", "one\n")}),
                  step_reply("InProgress", {"second": ("Success", "two\n")}), step_reply("Success", {})):
        assert ec2messages(node, "SendReply", {"MessageId": job["MessageId"], "ReplyId": str(uuid.uuid4()),
                                               "Payload": reply}).status == 200
    steps = {name: ssm.get_command_invocation(CommandId=two, InstanceId=node.instance_id, PluginName=name)
             for name in ("first", "second")}
    assert [(s["Status"], s["StandardOutputContent"]) for s in steps.values()] == [("Success", "one\n"),
                                                                                   ("Success", "two\n")]
    (listed,) = ssm.list_command_invocations(CommandId=two, Details=True)["CommandInvocations"]
    assert listed["Status"] == "Success" and [p["Name"] for p in listed["CommandPlugins"]] == ["first", "second"]

    long = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[node.instance_id],
                            Parameters={"commands": ["sleep 60"]})["Command"]["CommandId"]
    (job,) = poll(node, visibility=1)
    ec2messages(node, "AcknowledgeMessage", {"MessageId": job["MessageId"]})
    ssm.cancel_command(CommandId=long)
    (cancel,) = poll(node, visibility=1)
    assert cancel["Topic"] == "aws.ssm.cancelCommand"
    assert json.loads(cancel["Payload"]) == {"CancelMessageId": job["MessageId"]}
    assert cancel["MessageId"].startswith("aws.ssm.") and cancel["MessageId"].endswith(f".{node.instance_id}")
    assert ec2messages(node, "AcknowledgeMessage", {"MessageId": cancel["MessageId"]}).status == 200
    assert poll(node, visibility=1) == []  # not again within the visibility timeout
    time.sleep(1.5)
    (again,) = poll(node, visibility=1)  # still Cancelling: the same cancel message once more
    assert again["MessageId"] == cancel["MessageId"]
    assert ec2messages(node, "SendReply", {"MessageId": job["MessageId"], "ReplyId": str(uuid.uuid4()),
                                           "Payload": step_reply("Cancelled", {})}).status == 200
    invocation = ssm.get_command_invocation(CommandId=long, InstanceId=node.instance_id)
    assert (invocation["Status"], invocation["StatusDetails"]) == ("Cancelled", "Cancelled")
    time.sleep(1.5)
    assert poll(node, visibility=1) == []
