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
