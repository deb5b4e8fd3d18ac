"""Session tasks on the control channel, byte for byte as AWS's agent marshals and reads them: Go's
encoding/json writes a struct's fields in declaration order (agent/session/contracts/model.go:
MGSPayload, AgentTaskPayload, AcknowledgeTaskContent, AgentTaskCompletePayload)."""

from __future__ import annotations

import json
import uuid

import pytest

from openssm.protocol.agent_message import AgentMessage, AgentMessageError
from openssm.protocol.session_tasks import SessionTask, TaskAcknowledge, TaskComplete

SESSION = "alice-0a1b2c3d4e5f67890"
DOCUMENT = {"schemaVersion": "1.0", "description": "Document to start SSH session", "sessionType": "Port",
            "parameters": {"portNumber": {"type": "String", "default": "22"}},
            "properties": {"portNumber": "{{ portNumber }}"}}


def test_the_start_task_nests_the_task_payload_as_json_text_in_awss_field_order() -> None:
    task = SessionTask(SESSION, "AWS-StartSSHSession", DOCUMENT, {"portNumber": ["2222"]}, "",
                       "arn:aws:iam::111122223333:user/alice")
    encoded = task.message(1_700_000_000_000)
    assert encoded.message_type == "interactive_shell"
    outer = encoded.payload.decode()
    inner = ('{"DocumentName":"AWS-StartSSHSession","DocumentContent":' + json.dumps(DOCUMENT, separators=(",", ":"))
             + ',"SessionId":"' + SESSION + '","Parameters":{"portNumber":["2222"]},"RunAsUser":"",'
             '"SessionOwner":"arn:aws:iam::111122223333:user/alice"}')
    assert outer == json.dumps({"Content": inner, "TaskId": SESSION, "Topic": "aws.ssm.startSession",
                                "SchemaVersion": 1}, separators=(",", ":"))
    again = SessionTask.decode(AgentMessage.decode(encoded.encode()))
    assert again == task


def test_a_start_task_without_a_session_or_document_is_refused() -> None:
    bare = AgentMessage("interactive_shell", 0, 0, uuid.uuid4(), 0,
                        json.dumps({"Content": json.dumps({"DocumentName": "x"})}).encode(), 0)
    with pytest.raises(AgentMessageError):
        SessionTask.decode(bare)


def test_the_agents_acknowledgement_and_completion_read_back() -> None:
    ack = TaskAcknowledge(SESSION, "5b1f1d4e-0000-4000-8000-000000000000").message(0)
    assert ack.payload.decode() == ('{"SchemaVersion":1,"MessageId":"5b1f1d4e-0000-4000-8000-000000000000",'
                                    f'"TaskId":"{SESSION}","Topic":"aws.ssm.startSession"}}')
    assert TaskAcknowledge.decode(ack).task_id == SESSION
    done = TaskComplete(SESSION, "Success", "mi-0123456789abcdef0", "111122223333", "bye")
    payload = json.loads(done.message(0).payload)
    assert list(payload) == ["SchemaVersion", "TaskId", "Topic", "FinalTaskStatus", "IsRoutingFailure",
                             "AwsAccountId", "InstanceId", "Output", "S3Bucket", "S3UrlSuffix", "CwlGroup",
                             "CwlStream", "RetryNumber"]
    assert TaskComplete.decode(AgentMessage.decode(done.message(0).encode())) == done
    with pytest.raises(AgentMessageError):
        TaskComplete.decode(AgentMessage("agent_task_complete", 0, 0, uuid.uuid4(), 0, b"{}", 0))
