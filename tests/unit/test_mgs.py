"""Control-channel payloads against what AWS's agent sent (tests/golden/captures/amazon-ssm-agent.json)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from openssm.protocol import mgs
from openssm.protocol.agent_message import AgentMessage, AgentMessageError

CAPTURE = json.loads((Path(__file__).resolve().parents[1] / "golden" / "captures" / "amazon-ssm-agent.json")
                     .read_text())["events"]


def agent_frames(kind: str) -> list[AgentMessage]:
    return [AgentMessage.decode(bytes.fromhex(e["hex"])) for e in CAPTURE
            if e["kind"] == "ws-binary" and e["decoded"]["MessageType"] == kind]


def sent(what: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in CAPTURE if e["kind"] == "sent" and e["what"] == what]


def test_the_agents_open_frame_decodes_and_ours_has_its_fields_in_its_order() -> None:
    text = next(e["text"] for e in CAPTURE if e["kind"] == "ws-text")
    opened = mgs.OpenControlChannel.decode(text)
    assert (opened.token, opened.agent_version, opened.platform_type) == ("capture-channel-token", "3.3.0.0", "linux")
    ours = mgs.OpenControlChannel(opened.token, opened.agent_version, opened.platform_type, opened.request_id)
    assert ours.encode() == text


def test_the_agents_job_ack_and_replies_decode() -> None:
    (ack,) = [mgs.JobAck.decode(m) for m in agent_frames("agent_job_ack")]
    assert ack.job_id == "11111111-2222-3333-4444-555555555555" and ack.status_code == "200"
    replies = [mgs.JobReply.decode(m) for m in agent_frames("agent_job_reply")]
    assert [r.document_status for r in replies] == ["InProgress", "Success", "InProgress"]
    final = replies[1].plugins[0]
    # A schema 2.x step is keyed by its name; the plugin it ran is its "name" field.
    assert (final.name, final.action, final.status, final.code) == ("runShellScript", "aws:runShellScript",
                                                                    "Success", 0)
    assert final.standard_output == "hello-from-capture\nLinux\n"


def test_the_job_the_agent_ran_is_what_agent_job_builds() -> None:
    (job,) = sent("agent_job")
    content = json.loads(job["Content"])
    ours = mgs.AgentJob(job["JobId"], mgs.send_command_payload(
        content["CommandId"], content["DocumentName"], content["DocumentContent"], content["Parameters"]))
    decoded = json.loads(ours.message(0).payload)
    assert decoded["JobId"] == job["JobId"] and decoded["Topic"] == "aws.ssm.sendCommand"
    assert json.loads(decoded["Content"]) == content


def test_our_replies_read_back_as_the_agents_do() -> None:
    reply = mgs.JobReply("j", "Failed", (mgs.PluginResult("step1", "Failed", 3, "out", "err", action="aws:runShellScript"),
                                         mgs.PluginResult("aws:runShellScript", "Success", 0, "", "",
                                                          action="aws:runShellScript")))
    message = AgentMessage.decode(reply.message(dt.datetime(2026, 11, 22, tzinfo=dt.UTC), "3.3.0.0").encode())
    assert mgs.JobReply.decode(message) == reply
    ack = AgentMessage.decode(mgs.reply_ack("j", message, 0).encode())
    assert json.loads(ack.payload) == {"jobId": "j", "acknowledgedMessageId": str(message.message_id),
                                       "createdDate": "", "statusCode": "200"}


def test_malformed_control_payloads_are_refused() -> None:
    with pytest.raises(AgentMessageError):
        mgs.OpenControlChannel.decode('{"MessageSchemaVersion":"1.0"}')
    with pytest.raises(AgentMessageError):
        mgs.AgentJob.decode(AgentMessage("agent_job", 0, 0, __import__("uuid").uuid4(), 0, b"{}", 0))
