"""Session Manager's API with a real server and a real agent: who may start, resume and terminate which
sessions (seed 004's allow and deny policies, ssm:SessionDocumentAccessCheck, `${aws:username}` sessions),
DescribeSessions, and AWS's errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.agents import AgentProcess
from tests.support.iam import user_with_policy
from tests.support.server import ServerProcess


def seed_004_allow(server: ServerProcess, instance_id: str) -> dict[str, Any]:
    """Seed 004's policy, placeholders filled in as its readers would."""
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:StartSession", "Resource": [
        f"arn:aws:ec2:{server.region}:123456789012:instance/{instance_id}",
        f"arn:aws:ssm:{server.region}:123456789012:managed-instance/{instance_id}",
        "arn:aws:ssm:*:*:document/AWS-StartSSHSession"]}]}


SEED_004_DENY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "VisualEditor1", "Effect": "Deny", "Action": "ssm:StartSession",
     "Resource": "arn:aws:ssm:*:*:document/AWS-StartSSHSession"}]}

OWN_SESSIONS = {"Effect": "Allow", "Action": ["ssm:TerminateSession", "ssm:ResumeSession"],
                "Resource": "arn:aws:ssm:*:*:session/${aws:username}-*"}


def error_code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return str(info.value.response["Error"]["Code"])


def test_seed_004_allow_policy_opens_ssh_sessions_and_nothing_else(server: ServerProcess,
                                                                   agent: AgentProcess) -> None:
    _, creds = user_with_policy(server, seed_004_allow(server, agent.instance_id))
    ssm = server.client("ssm", creds)
    started = ssm.start_session(Target=agent.instance_id, DocumentName="AWS-StartSSHSession",
                                Parameters={"portNumber": ["22"]})
    assert started["StreamUrl"].endswith(f"/v1/data-channel/{started['SessionId']}?role=publish_subscribe")
    assert error_code(ssm.start_session, Target=agent.instance_id,
                      DocumentName="AWS-StartPortForwardingSession") == "AccessDeniedException"
    other = "mi-0123456789abcdef0"
    assert error_code(ssm.start_session, Target=other, DocumentName="AWS-StartSSHSession") == "AccessDeniedException"


def test_seed_004_deny_policy_stops_ssh_sessions_even_for_a_user_allowed_everything(
        server: ServerProcess, agent: AgentProcess) -> None:
    everything = {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}
    _, creds = user_with_policy(server, {"Version": "2012-10-17",
                                         "Statement": [everything, *SEED_004_DENY["Statement"]]})
    ssm = server.client("ssm", creds)
    assert error_code(ssm.start_session, Target=agent.instance_id,
                      DocumentName="AWS-StartSSHSession") == "AccessDeniedException"
    shell = ssm.start_session(Target=agent.instance_id)  # the default shell document is not denied
    ssm.terminate_session(SessionId=shell["SessionId"])


def test_the_default_document_is_checked_only_where_a_policy_asks_for_it(server: ServerProcess,
                                                                         agent: AgentProcess) -> None:
    node = f"arn:aws:ssm:{server.region}:123456789012:managed-instance/{agent.instance_id}"
    plain = {"Effect": "Allow", "Action": "ssm:StartSession", "Resource": node}
    _, creds = user_with_policy(server, {"Version": "2012-10-17", "Statement": [plain]})
    server.client("ssm", creds).start_session(Target=agent.instance_id)
    checked = {**plain, "Condition": {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}}
    _, creds = user_with_policy(server, {"Version": "2012-10-17", "Statement": [checked]})
    assert error_code(server.client("ssm", creds).start_session, Target=agent.instance_id) == "AccessDeniedException"
    document = {"Effect": "Allow", "Action": "ssm:StartSession",
                "Resource": f"arn:aws:ssm:{server.region}:123456789012:document/SSM-SessionManagerRunShell"}
    _, creds = user_with_policy(server, {"Version": "2012-10-17", "Statement": [checked, document]})
    server.client("ssm", creds).start_session(Target=agent.instance_id)


def test_users_resume_and_terminate_only_their_own_sessions(server: ServerProcess, agent: AgentProcess) -> None:
    start = {"Effect": "Allow", "Action": ["ssm:StartSession", "ssm:DescribeSessions"], "Resource": "*"}
    policy = {"Version": "2012-10-17", "Statement": [start, OWN_SESSIONS]}
    alice, alice_creds = user_with_policy(server, policy)
    _, bob_creds = user_with_policy(server, policy)
    alice_ssm, bob_ssm = server.client("ssm", alice_creds), server.client("ssm", bob_creds)
    session_id = alice_ssm.start_session(Target=agent.instance_id, Reason="maintenance")["SessionId"]
    assert session_id.startswith(f"{alice}-")
    assert error_code(bob_ssm.terminate_session, SessionId=session_id) == "AccessDeniedException"
    assert error_code(bob_ssm.resume_session, SessionId=session_id) == "AccessDeniedException"
    resumed = alice_ssm.resume_session(SessionId=session_id)
    assert resumed["SessionId"] == session_id and resumed["TokenValue"]
    active = alice_ssm.describe_sessions(State="Active", Filters=[{"key": "Owner", "value": f"arn:aws:iam::123456789012:user/{alice}"}])
    assert [(s["SessionId"], s["Reason"]) for s in active["Sessions"]] == [(session_id, "maintenance")]
    assert alice_ssm.terminate_session(SessionId=session_id)["SessionId"] == session_id
    history = alice_ssm.describe_sessions(State="History", Filters=[{"key": "SessionId", "value": session_id}])
    assert history["Sessions"][0]["Status"] == "Terminated" and "EndDate" in history["Sessions"][0]
    assert error_code(alice_ssm.resume_session, SessionId=session_id) == "DoesNotExistException"


def test_bad_session_requests_get_awss_errors(server: ServerProcess, agent: AgentProcess) -> None:
    ssm = server.client("ssm")
    assert error_code(ssm.start_session, Target="mi-0123456789abcdef0") == "TargetNotConnected"
    assert error_code(ssm.start_session, Target=agent.instance_id, DocumentName="AWS-RunShellScript") == \
        "InvalidDocument"
    assert error_code(ssm.start_session, Target=agent.instance_id, DocumentName="No-Such-Document") == \
        "InvalidDocument"
    assert error_code(ssm.start_session, Target=agent.instance_id, DocumentName="AWS-StartSSHSession",
                      Parameters={"portNumber": ["not-a-port"]}) == "InvalidParameters"
    assert error_code(ssm.start_session, Target=agent.instance_id, DocumentName="AWS-StartSSHSession",
                      Parameters={"nonsense": ["1"]}) == "InvalidParameters"
    assert error_code(ssm.describe_sessions, State="Active", Filters=[{"key": "Colour", "value": "x"}]) in \
        ("InvalidFilterKey", "ValidationException")
    assert error_code(ssm.describe_sessions, State="Active", NextToken="garbage") == "InvalidNextToken"
    assert error_code(ssm.terminate_session, SessionId="nobody-0123456789abcdef0") == "DoesNotExistException"


def test_describe_sessions_pages_through_the_active_sessions(server: ServerProcess, agent: AgentProcess) -> None:
    ssm = server.client("ssm")
    started = [ssm.start_session(Target=agent.instance_id)["SessionId"] for _ in range(3)]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"State": "Active", "MaxResults": 2,
                              "Filters": [{"key": "Target", "value": agent.instance_id}]}
    while True:
        page = ssm.describe_sessions(**kwargs)
        seen += [s["SessionId"] for s in page["Sessions"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert set(started) <= set(seen) and len(seen) == len(set(seen))
    for session_id in started:
        ssm.terminate_session(SessionId=session_id)
