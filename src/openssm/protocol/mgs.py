"""The MGS control channel's payloads (DESIGN §4), as AWS's agent sends and reads them (golden:
tests/golden/captures/amazon-ssm-agent.json): the channel's creation answer, the agent's first text frame,
and the Run Command exchange agent_job → agent_job_ack → agent_job_reply → agent_job_reply_ack.

Every control message is an AgentMessage with sequence number 0, no flags and payload type 0, carrying JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from openssm.protocol.agent_message import AgentMessage, AgentMessageError, json_payload

SEND_COMMAND_TOPIC = "aws.ssm.sendCommand"
CANCEL_COMMAND_TOPIC = "aws.ssm.cancelCommand"
MAX_REPLY_BYTES = 120_000


class ControlType:
    JOB = "agent_job"
    JOB_ACK = "agent_job_ack"
    JOB_REPLY = "agent_job_reply"
    JOB_REPLY_ACK = "agent_job_reply_ack"


def control_message(kind: str, body: Mapping[str, Any], now_ms: int) -> AgentMessage:
    return AgentMessage(kind, 0, 0, uuid.uuid4(), 0, json.dumps(body, separators=(",", ":")).encode(), now_ms)


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def create_channel_response(token: str) -> str:
    """The body of `POST /v1/control-channel/<id>` (HTTP 201)."""
    return (f"<CreateChannelResponse><MessageSchemaVersion>1.0</MessageSchemaVersion>"
            f"<TokenValue>{escape(token)}</TokenValue></CreateChannelResponse>")


@dataclass(frozen=True)
class OpenControlChannel:
    """The agent's first text frame on the control channel."""

    token: str
    agent_version: str = ""
    platform_type: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def encode(self) -> str:
        return json.dumps({"Cookie": None, "MessageSchemaVersion": "1.0", "RequestId": self.request_id,
                           "TokenValue": self.token, "AgentVersion": self.agent_version,
                           "PlatformType": self.platform_type}, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> OpenControlChannel:
        value = json_payload(text.encode(), "open control channel")
        token = value.get("TokenValue")
        if not isinstance(token, str) or not token:
            raise AgentMessageError("open control channel frame without a TokenValue")
        return cls(token, str(value.get("AgentVersion") or ""), str(value.get("PlatformType") or ""),
                   str(value.get("RequestId") or ""))


@dataclass(frozen=True)
class AgentJob:
    job_id: str
    content: str  # the SendCommandPayload (or cancel payload) as JSON text
    topic: str = SEND_COMMAND_TOPIC

    def message(self, now_ms: int) -> AgentMessage:
        return control_message(ControlType.JOB, {"Content": self.content, "JobId": self.job_id, "Topic": self.topic,
                                          "SchemaVersion": 1}, now_ms)

    @classmethod
    def decode(cls, message: AgentMessage) -> AgentJob:
        value = json_payload(message.payload, ControlType.JOB)
        try:
            return cls(str(value["JobId"]), str(value["Content"]), str(value.get("Topic") or SEND_COMMAND_TOPIC))
        except KeyError as err:
            raise AgentMessageError(f"agent_job without {err}") from err


def send_command_payload(command_id: str, document_name: str, document_content: Mapping[str, Any],
                         parameters: Mapping[str, Any], *, output_bucket: str = "", output_prefix: str = "") -> str:
    """The `Content` of a Run Command job: what AWS's agent reads to run the document (field order as sent)."""
    return json.dumps({"CommandId": command_id, "DocumentName": document_name, "Parameters": dict(parameters),
                       "DocumentContent": dict(document_content), "OutputS3BucketName": output_bucket,
                       "OutputS3KeyPrefix": output_prefix, "CloudWatchLogGroupName": "",
                       "CloudWatchOutputEnabled": "false"})


@dataclass(frozen=True)
class JobAck:
    job_id: str
    acknowledged_message_id: str
    status_code: str = "200"

    def message(self, now: dt.datetime) -> AgentMessage:
        return control_message(ControlType.JOB_ACK, {"jobId": self.job_id, "acknowledgedMessageId":
                                              self.acknowledged_message_id, "createdDate": _stamp(now),
                                              "statusCode": self.status_code, "errorMessage": "Successful"},
                        int(now.timestamp() * 1000))

    @classmethod
    def decode(cls, message: AgentMessage) -> JobAck:
        value = json_payload(message.payload, ControlType.JOB_ACK)
        return cls(str(value.get("jobId") or ""), str(value.get("acknowledgedMessageId") or ""),
                   str(value.get("statusCode") or ""))


@dataclass(frozen=True)
class PluginResult:
    name: str
    status: str
    code: int
    standard_output: str
    standard_error: str
    start: str = ""
    end: str = ""
    action: str = ""  # the plugin ("aws:runShellScript"); `name` is the step's id, which schema 1.2 makes the same


@dataclass(frozen=True)
class JobReply:
    """An agent_job_reply: the document's status so far and each plugin's result (AWS's SendReply payload)."""

    job_id: str
    document_status: str
    plugins: tuple[PluginResult, ...] = ()
    topic: str = SEND_COMMAND_TOPIC

    def content(self, now: dt.datetime, agent_version: str = "") -> dict[str, Any]:
        """AWS's SendReply payload: agent_job_reply's content, and ec2messages' SendReply Payload."""
        counts: dict[str, int] = {}
        for plugin in self.plugins:
            counts[plugin.status] = counts.get(plugin.status, 0) + 1
        runtime = {p.name: {
            "status": p.status, "code": p.code, "name": p.action or p.name,
            "output": p.standard_output + p.standard_error,
            "startDateTime": p.start, "endDateTime": p.end, "outputS3BucketName": "", "outputS3KeyPrefix": "",
            "stepName": "", "standardOutput": p.standard_output, "standardError": p.standard_error,
        } for p in self.plugins}
        return {"additionalInfo": {"agent": {"lang": "en-US", "name": "openssm-agent", "os": "linux", "osver": "1",
                                             "ver": agent_version}, "dateTime": _stamp(now), "runId": "",
                                   "runtimeStatusCounts": counts or None},
                "documentStatus": self.document_status, "documentTraceOutput": "", "runtimeStatus": runtime or None}

    def message(self, now: dt.datetime, agent_version: str = "") -> AgentMessage:
        content = json.dumps(self.content(now, agent_version), separators=(",", ":"))
        return control_message(ControlType.JOB_REPLY, {"schemaVersion": 1, "jobId": self.job_id, "content": content,
                                                "topic": self.topic}, int(now.timestamp() * 1000))

    @classmethod
    def decode(cls, message: AgentMessage) -> JobReply:
        value = json_payload(message.payload, ControlType.JOB_REPLY)
        content = json_payload(str(value.get("content") or "{}").encode(), "agent_job_reply content")
        return cls.from_content(str(value.get("jobId") or ""), content, str(value.get("topic") or SEND_COMMAND_TOPIC))

    @classmethod
    def from_content(cls, job_id: str, content: Mapping[str, Any], topic: str = SEND_COMMAND_TOPIC) -> JobReply:
        """From AWS's SendReply payload (agent_job_reply's content, or ec2messages' SendReply Payload)."""
        plugins = tuple(
            PluginResult(str(key), str(r.get("status") or ""), int(r.get("code") or 0),
                         str(r.get("standardOutput") or ""), str(r.get("standardError") or ""),
                         str(r.get("startDateTime") or ""), str(r.get("endDateTime") or ""), str(r.get("name") or ""))
            for key, r in (content.get("runtimeStatus") or {}).items() if isinstance(r, dict))
        return cls(job_id, str(content.get("documentStatus") or ""), plugins, topic)


def reply_ack(job_id: str, acknowledged: AgentMessage, now_ms: int) -> AgentMessage:
    return control_message(ControlType.JOB_REPLY_ACK, {"jobId": job_id, "acknowledgedMessageId":
                                                str(acknowledged.message_id), "createdDate": "",
                                                "statusCode": "200"}, now_ms)
