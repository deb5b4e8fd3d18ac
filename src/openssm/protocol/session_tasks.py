"""Session Manager's messages on the MGS control channel (DESIGN §4), with the field names AWS's agent reads and
writes (agent/session/contracts/model.go): the service starts a session on a node with `interactive_shell`,
whose `Content` is the AgentTaskPayload as JSON text inside the JSON (AWS's own "workaround to unmarshal the
real payload"); the agent answers `agent_task_acknowledge`, and when the session ends `agent_task_complete`.
The service ends a session early with `channel_closed` on the control channel (data_channel.ChannelClosed).

Pure: builds and reads AgentMessages, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openssm.protocol.agent_message import AgentMessage, AgentMessageError, json_payload
from openssm.protocol.mgs import control_message

INTERACTIVE_SHELL = "interactive_shell"
TASK_ACKNOWLEDGE = "agent_task_acknowledge"
TASK_COMPLETE = "agent_task_complete"
# AWS's agent does not route on a session task's topic; it echoes it in its acknowledgement and completion.
START_SESSION_TOPIC = "aws.ssm.startSession"


@dataclass(frozen=True)
class SessionTask:
    """interactive_shell: start `session_id` on the node with this Session document and parameters."""

    session_id: str
    document_name: str
    document_content: Mapping[str, Any]  # the Session document's body (schemaVersion, sessionType, inputs…)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    run_as_user: str = ""
    session_owner: str = ""  # the ARN of who started it
    topic: str = START_SESSION_TOPIC

    @property
    def task_id(self) -> str:
        return self.session_id  # AWS's agent keys a session's documents and state by the session id

    @property
    def job_id(self) -> str:
        return self.session_id  # what a control channel sends once per connection

    def message(self, now_ms: int) -> AgentMessage:
        content = {"DocumentName": self.document_name, "DocumentContent": dict(self.document_content),
                   "SessionId": self.session_id, "Parameters": dict(self.parameters),
                   "RunAsUser": self.run_as_user, "SessionOwner": self.session_owner}
        return control_message(INTERACTIVE_SHELL, {"Content": json.dumps(content, separators=(",", ":")),
                                            "TaskId": self.task_id, "Topic": self.topic, "SchemaVersion": 1},
                        now_ms)

    @classmethod
    def decode(cls, message: AgentMessage) -> SessionTask:
        if message.message_type != INTERACTIVE_SHELL:
            raise AgentMessageError(f"expected {INTERACTIVE_SHELL}, got {message.message_type}")
        outer = json_payload(message.payload, INTERACTIVE_SHELL)
        content = json_payload(str(outer.get("Content") or "").encode(), "interactive_shell content")
        session_id = content.get("SessionId")
        document = content.get("DocumentContent")
        if not isinstance(session_id, str) or not session_id or not isinstance(document, dict):
            raise AgentMessageError("interactive_shell without a SessionId and a DocumentContent")
        parameters = content.get("Parameters") or {}
        return cls(session_id, str(content.get("DocumentName") or ""), document,
                   parameters if isinstance(parameters, dict) else {}, str(content.get("RunAsUser") or ""),
                   str(content.get("SessionOwner") or ""), str(outer.get("Topic") or START_SESSION_TOPIC))


@dataclass(frozen=True)
class TaskAcknowledge:
    """agent_task_acknowledge: the agent took the task sent as message `message_id`."""

    task_id: str
    message_id: str
    topic: str = START_SESSION_TOPIC

    def message(self, now_ms: int) -> AgentMessage:
        return control_message(TASK_ACKNOWLEDGE, {"SchemaVersion": 1, "MessageId": self.message_id,
                                                  "TaskId": self.task_id, "Topic": self.topic}, now_ms)

    @classmethod
    def decode(cls, message: AgentMessage) -> TaskAcknowledge:
        value = json_payload(message.payload, TASK_ACKNOWLEDGE)
        return cls(str(value.get("TaskId") or ""), str(value.get("MessageId") or ""),
                   str(value.get("Topic") or START_SESSION_TOPIC))


@dataclass(frozen=True)
class TaskComplete:
    """agent_task_complete: the session ended on the node, with its final status (Success, Failed,
    TimedOut, Terminated…) and the agent's closing output."""

    task_id: str
    final_status: str
    instance_id: str = ""
    account_id: str = ""
    output: str = ""
    topic: str = START_SESSION_TOPIC
    routing_failure: bool = False

    def message(self, now_ms: int) -> AgentMessage:
        return control_message(TASK_COMPLETE, {
            "SchemaVersion": 1, "TaskId": self.task_id, "Topic": self.topic, "FinalTaskStatus": self.final_status,
            "IsRoutingFailure": self.routing_failure, "AwsAccountId": self.account_id,
            "InstanceId": self.instance_id, "Output": self.output, "S3Bucket": "", "S3UrlSuffix": "",
            "CwlGroup": "", "CwlStream": "", "RetryNumber": 0}, now_ms)

    @classmethod
    def decode(cls, message: AgentMessage) -> TaskComplete:
        value = json_payload(message.payload, TASK_COMPLETE)
        task_id = value.get("TaskId")
        if not isinstance(task_id, str) or not task_id:
            raise AgentMessageError("agent_task_complete without a TaskId")
        return cls(task_id, str(value.get("FinalTaskStatus") or ""), str(value.get("InstanceId") or ""),
                   str(value.get("AwsAccountId") or ""), str(value.get("Output") or ""),
                   str(value.get("Topic") or START_SESSION_TOPIC), bool(value.get("IsRoutingFailure")))
