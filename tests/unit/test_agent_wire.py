"""What the agent sends, checked against AWS's agent's captured traffic (tests/golden/captures/
amazon-ssm-agent.json) on a stand-in that answers as AWS does: registration, heartbeats, the control channel
(open, agent_job -> ack -> replies until acknowledged, cancel, a restart) and the ec2messages fallback."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openssm.agent.client import CallFailed, SsmClient
from openssm.agent.control_channel import ControlChannel
from openssm.agent.credentials import CredentialSource
from openssm.agent.ec2messages import MessagePoller
from openssm.agent.heartbeat import Heartbeat
from openssm.agent.identity import register
from openssm.agent.jobs import Jobs
from openssm.agent.keys import local_signer
from openssm.agent.state import StateDir
from openssm.protocol import mgs, rsa_auth
from openssm.protocol import sigv4 as server_sigv4
from openssm.protocol.message_ids import cancel_message_id, run_command_message_id
from tests.support.agent_stub import INSTANCE_ID, TOKEN, Call, StubAws

CAPTURE = Path(__file__).parents[1] / "golden" / "captures" / "amazon-ssm-agent.json"
EVENTS: list[dict[str, Any]] = json.loads(CAPTURE.read_text())["events"]
SECRET = "capture/secret/key/0123456789abcdef"


def golden(target: str = "", *, path: str = "", kind: str = "http") -> dict[str, Any]:
    """The last captured event of that kind (the full heartbeat follows a bare probe)."""
    return [e for e in EVENTS if e["kind"] == kind and (not target or e.get("headers", {}).get("X-Amz-Target") ==
                                                        target) and (not path or e.get("path") == path)][-1]


def signed_headers(authorization: str) -> list[str]:
    return authorization.split("SignedHeaders=")[1].split(",")[0].split(";")


def verify_role_signature(call: Call, service: str) -> None:
    path, _, query = call.path.partition("?")
    info = server_sigv4.parse_signature(call.method, path, query, call.headers)
    assert info is not None and info.access_key_id == "ASIACAPTURECAPTURE01"
    server_sigv4.verify_signature(info, call.method, path, query, call.headers, call.body, SECRET,
                                  dt.datetime.now(dt.UTC), service=service)


@pytest.fixture
def stub() -> Iterator[StubAws]:
    with StubAws() as running:
        yield running


@pytest.fixture
def state(stub: StubAws, tmp_path: Path) -> StateDir:
    directory = StateDir(tmp_path / "state")
    register(directory, stub.endpoint, "us-east-1", "01234567-89ab-cdef-0123-456789abcdef", "code")
    stub.calls.clear()
    return directory


def credentials(state: StateDir, stub: StubAws) -> CredentialSource:
    return CredentialSource(state, SsmClient(stub.endpoint, "us-east-1"), signer_for=local_signer)


def test_registration_is_unsigned_then_the_role_token_rsa_signed_as_awss_agent_sends_them(
        stub: StubAws, tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    registration, creds = register(state, stub.endpoint, "us-east-1", "01234567-89ab-cdef-0123-456789abcdef", "c0de")
    assert registration.instance_id == INSTANCE_ID and creds.access_key_id == "ASIACAPTURECAPTURE01"
    first, second = stub.calls
    want = golden("AmazonSSM.RegisterManagedInstance")
    assert first.target == want["headers"]["X-Amz-Target"] and "authorization" not in first.headers
    assert first.headers["content-type"] == want["headers"]["Content-Type"]
    body = first.json()
    assert sorted(body) == sorted(json.loads(want["body"])) and body["PublicKeyType"] == "Rsa"
    assert (body["ActivationCode"], body["Fingerprint"]) == ("c0de", registration.fingerprint)
    public = rsa_auth.load_public_key(body["PublicKey"])
    assert public.key_size == 2048

    want = golden("AmazonSSM.RequestManagedInstanceRoleToken")
    assert second.json() == {"Fingerprint": registration.fingerprint}
    assert signed_headers(second.headers["authorization"]) == signed_headers(want["headers"]["Authorization"])
    assert second.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={INSTANCE_ID}/")
    info = server_sigv4.parse_signature("POST", "/", "", second.headers)
    assert info is not None and rsa_auth.verify_request(public, info, "POST", "/", "", second.headers, second.body)
    assert state.registration() == registration


def test_a_refused_activation_is_reported_with_awss_error(stub: StubAws, tmp_path: Path) -> None:
    stub.answers["AmazonSSM.RegisterManagedInstance"] = lambda call: (400, {
        "__type": "InvalidActivation", "message": "Activation ID is not valid."})
    with pytest.raises(CallFailed) as caught:
        register(StateDir(tmp_path / "state"), stub.endpoint, "us-east-1", "id", "code")
    assert (caught.value.status, caught.value.code) == (400, "InvalidActivation")
    assert StateDir(tmp_path / "state").registration() is None


def test_heartbeats_carry_the_fields_awss_agent_sends(stub: StubAws, state: StateDir) -> None:
    beat = Heartbeat(SsmClient(stub.endpoint, "us-east-1"), INSTANCE_ID, credentials(state, stub).get)
    beat.beat()
    call = stub.calls[-1]
    want = golden("AmazonSSM.UpdateInstanceInformation")
    assert call.target == want["headers"]["X-Amz-Target"]
    assert sorted(call.json()) == sorted(json.loads(want["body"]))
    assert (call.json()["InstanceId"], call.json()["SSMConnectionChannel"]) == (INSTANCE_ID, "ssmmessages")
    assert signed_headers(call.headers["authorization"]) == signed_headers(want["headers"]["Authorization"])
    verify_role_signature(call, "ssm")


class Running:
    """A ControlChannel served on its own event loop thread, as the agent runs it."""

    def __init__(self, channel: ControlChannel) -> None:
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(channel,), daemon=True)
        self.thread.start()

    def _run(self, channel: ControlChannel) -> None:
        async def hold() -> None:
            await channel.serve()
            await asyncio.sleep(1)  # let replies still being delivered finish on this loop

        try:
            asyncio.run(hold())
        except BaseException as err:  # reported by the test
            self.error = err


def channel(stub: StubAws, state: StateDir, jobs: Jobs | None = None, resend: float = 3.0) -> ControlChannel:
    creds = credentials(state, stub)
    return ControlChannel(SsmClient(stub.endpoint, "us-east-1"), INSTANCE_ID, creds.get, jobs or Jobs(state),
                          resend_seconds=resend)


def job(commands: list[str], command_id: str = "11111111-2222-3333-4444-555555555555") -> mgs.AgentJob:
    captured = json.loads(next(e for e in EVENTS if e.get("what") == "agent_job")["payload"]["Content"])
    captured["CommandId"], captured["Parameters"] = command_id, {"commands": commands}
    # The JobId is the service's message id, aws.ssm.<command id>.<instance id>, as AWS's service sends it.
    return mgs.AgentJob(run_command_message_id(command_id, INSTANCE_ID), json.dumps(captured))


def replies(stub: StubAws) -> list[mgs.JobReply]:
    return [mgs.JobReply.decode(m) for m in stub.of_type(mgs.ControlType.JOB_REPLY)]


def test_the_control_channel_opens_as_awss_agent_opens_it(stub: StubAws, state: StateDir) -> None:
    running = Running(channel(stub, state))
    stub.wait_for(lambda: bool(stub.open_frames))
    create = next(c for c in stub.calls if c.path.startswith("/v1/control-channel/"))
    want = golden(path=f"/v1/control-channel/{INSTANCE_ID}")
    assert create.path == want["path"] and create.headers["content-type"] == "application/json"
    assert sorted(json.loads(create.body)) == sorted(json.loads(want["body"]))
    assert signed_headers(create.headers["authorization"]) == signed_headers(want["headers"]["Authorization"])
    verify_role_signature(create, "ssmmessages")

    upgrade, want_upgrade = stub.upgrades[0], golden(kind="ws-open")
    assert upgrade["query"] == want_upgrade["path"].split("?")[1]
    assert signed_headers(upgrade["authorization"]) == signed_headers(want_upgrade["headers"]["Authorization"])
    verify_role_signature(Call("GET", f"/v1/control-channel/{INSTANCE_ID}?{upgrade['query']}", upgrade, b""),
                          "ssmmessages")
    opened, want_open = stub.open_frames[0], json.loads(golden(kind="ws-text")["text"])
    assert list(opened) == list(want_open)
    assert (opened["TokenValue"], opened["Cookie"], opened["PlatformType"]) == (TOKEN, None, "linux")
    stub.close_channel()
    running.thread.join(10)
    assert running.error is None


def test_a_job_is_acknowledged_then_answered_in_progress_and_final_until_acknowledged(
        stub: StubAws, state: StateDir) -> None:
    stub.withhold_acks = 2  # the InProgress reply and the first copy of the outcome go unacknowledged
    running = Running(channel(stub, state, resend=0.2))
    stub.wait_for(lambda: bool(stub.open_frames))
    sent = stub.send_job(job(["echo hello-from-capture", "uname -s"]))
    stub.wait_for(lambda: len([r for r in replies(stub) if r.document_status == "Success"]) >= 2)
    kinds = [f.message_type for f in stub.frames]
    assert kinds[0] == "agent_job_ack" and "agent_job_reply" in kinds[1:]
    ack = json.loads(stub.frames[0].payload)
    want_ack = json.loads(next(e for e in EVENTS if e.get("decoded", {}).get("MessageType") == "agent_job_ack")[
        "decoded"]["PayloadText"])
    assert list(ack) == list(want_ack)
    assert (ack["jobId"], ack["acknowledgedMessageId"], ack["statusCode"]) == (
        json.loads(sent.payload)["JobId"], str(sent.message_id), "200")
    statuses = [r.document_status for r in replies(stub)]
    assert statuses[0] == "InProgress" and statuses[-1] == "Success"
    finals = [m for m in stub.of_type("agent_job_reply") if mgs.JobReply.decode(m).document_status == "Success"]
    assert len({m.message_id for m in finals}) == 1  # resent as the same message until acknowledged
    final = mgs.JobReply.decode(finals[-1])
    assert final.plugins[0].standard_output == "hello-from-capture\nLinux\n"
    content = json.loads(json.loads(finals[-1].payload)["content"])
    want = json.loads(json.loads(next(e for e in EVENTS if '"documentStatus\\":\\"Success' in
                                      e.get("decoded", {}).get("PayloadText", ""))["decoded"]["PayloadText"])["content"])
    assert sorted(content) == sorted(want)
    assert sorted(content["runtimeStatus"]["runShellScript"]) == sorted(want["runtimeStatus"]["runShellScript"])
    stub.close_channel()
    running.thread.join(10)


def test_a_job_delivered_again_after_a_restart_is_acknowledged_and_its_result_resent_not_run(
        stub: StubAws, state: StateDir, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    first = Running(channel(stub, state))
    stub.wait_for(lambda: bool(stub.open_frames))
    stub.send_job(job([f"echo ran >> {marker}"]))
    stub.wait_for(lambda: any(r.document_status == "Success" for r in replies(stub)))
    stub.close_channel()
    first.thread.join(10)
    stub.frames.clear()

    again = Running(channel(stub, state))  # a new process: only the state directory is shared
    stub.wait_for(lambda: len(stub.open_frames) == 2)
    stub.send_job(job([f"echo ran >> {marker}"]))
    stub.wait_for(lambda: any(r.document_status == "Success" for r in replies(stub)))
    assert [f.message_type for f in stub.frames][0] == "agent_job_ack"
    assert [r.document_status for r in replies(stub)] == ["Success"]  # no InProgress: it is not running
    assert marker.read_text() == "ran\n"
    stub.close_channel()
    again.thread.join(10)


def test_a_cancel_job_kills_the_running_command_and_it_reports_cancelled(
        stub: StubAws, state: StateDir, tmp_path: Path) -> None:
    started = tmp_path / "started"
    running = Running(channel(stub, state))
    stub.wait_for(lambda: bool(stub.open_frames))
    command_id = "22222222-2222-3333-4444-555555555555"
    stub.send_job(job([f"touch {started}", "sleep 60"], command_id))
    stub.wait_for(lambda: started.exists())
    cancel = json.dumps({"CancelMessageId": f"aws.ssm.{command_id}.{INSTANCE_ID}"})
    stub.send_job(mgs.AgentJob(cancel_message_id(command_id, INSTANCE_ID), cancel, mgs.CANCEL_COMMAND_TOPIC))
    stub.wait_for(lambda: any(r.document_status == "Cancelled" for r in replies(stub)))
    # Every reply names the job as it was sent, so the service (and AWS's) can find the command in it.
    assert {r.job_id for r in replies(stub)} == {run_command_message_id(command_id, INSTANCE_ID)}
    assert len(stub.of_type("agent_job_ack")) == 2
    stub.close_channel()
    running.thread.join(10)


def poller(stub: StubAws, state: StateDir) -> MessagePoller:
    return MessagePoller(SsmClient(stub.endpoint, "us-east-1"), INSTANCE_ID, credentials(state, stub).get,
                         Jobs(state))


def test_the_ec2messages_poller_takes_runs_and_answers_a_command(stub: StubAws, state: StateDir) -> None:
    content = job(["echo by-poll"]).content
    message_id = f"aws.ssm.11111111-2222-3333-4444-555555555555.{INSTANCE_ID}"
    stub.messages.append({"MessageId": message_id, "Destination": INSTANCE_ID, "Topic": "aws.ssm.sendCommand.us-east-1",
                          "Payload": content, "CreatedDate": "2026-11-22T10:55:28.080Z"})
    assert poller(stub, state).poll_once() == 1
    stub.calls[:] = [c for c in stub.calls if c.target.startswith("EC2Windows")]
    get = stub.calls[0]
    want = golden("EC2WindowsMessageDeliveryService.GetMessages")
    assert get.target == want["headers"]["X-Amz-Target"]
    assert sorted(get.json()) == sorted(json.loads(want["body"]))
    assert (get.json()["Destination"], get.json()["VisibilityTimeoutInSeconds"]) == (INSTANCE_ID, 10)
    assert signed_headers(get.headers["authorization"]) == signed_headers(want["headers"]["Authorization"])
    verify_role_signature(get, "ec2messages")
    ops = [t.split(".")[1] for t in stub.targets()]
    assert ops == ["GetMessages", "SendReply", "AcknowledgeMessage", "SendReply"]
    sent = [c.json() for c in stub.calls if c.target.endswith("SendReply")]
    assert all(s["MessageId"] == message_id and s["ReplyId"] for s in sent)
    outcome = mgs.JobReply.from_content("x", json.loads(sent[-1]["Payload"]))
    assert [json.loads(s["Payload"])["documentStatus"] for s in sent] == ["InProgress", "Success"]
    assert outcome.plugins[0].standard_output == "by-poll\n"


def test_the_poller_fails_messages_of_an_unknown_topic_and_ignores_invalid_ones(
        stub: StubAws, state: StateDir) -> None:
    stub.messages += [{"MessageId": "aws.ssm.x.y", "Destination": INSTANCE_ID, "Topic": "aws.ssm.somethingElse",
                       "Payload": "{}", "CreatedDate": "2026-11-22T10:55:28.080Z"},
                      {"MessageId": "aws.ssm.z.y", "Destination": INSTANCE_ID, "Payload": "{}"}]
    assert poller(stub, state).poll_once() == 2
    stub.calls[:] = [c for c in stub.calls if c.target.startswith("EC2Windows")]
    failed = [c.json() for c in stub.calls if c.target.endswith("FailMessage")]
    assert failed == [{"MessageId": "aws.ssm.x.y", "FailureType": "InternalHandlerException"}]
    assert [t.split(".")[1] for t in stub.targets()] == ["GetMessages", "FailMessage"]


def test_requests_built_as_botocore_awsrequests_are_signed_and_sent_too(stub: StubAws, state: StateDir) -> None:
    from botocore.awsrequest import AWSRequest  # benchmarks drive the agent's client with these

    creds = credentials(state, stub).get()
    client = SsmClient(stub.endpoint, "us-east-1")
    request = AWSRequest("POST", stub.endpoint + f"/v1/control-channel/{INSTANCE_ID}",
                         data=b'{"MessageSchemaVersion":"1.0"}', headers={"Content-Type": "application/json"})
    answer = client.send(client.signed(request, creds, "ssmmessages"))
    assert f"<TokenValue>{TOKEN}</TokenValue>" in answer["_body"]
    verify_role_signature(stub.calls[-1], "ssmmessages")
