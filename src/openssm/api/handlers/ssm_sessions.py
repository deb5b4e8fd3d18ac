"""Session Manager over JSON 1.1: StartSession, ResumeSession, TerminateSession, DescribeSessions.

StartSession is authorized on the node and on the Session document (AWS-owned documents have an empty account
in their ARN: `arn:aws:ssm:<region>::document/AWS-StartSSHSession`). Without a DocumentName the default
document is checked only where a policy asks for it with ssm:SessionDocumentAccessCheck, as at AWS.
Resume and Terminate are authorized on the session's ARN, whose id starts with its owner's name, so that
`session/${aws:username}-*` keeps users to their own sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import facts, page_start, page_token, scope, without_nones
from openssm.api.mgs import session_task
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import AccessDenied, AwsError
from openssm.iam.ports import AuthorizationTarget
from openssm.services import instances, session_documents, sessions
from openssm.services.instances import ManagedInstance
from openssm.services.session_recording import recording_key

DOCUMENT_ACCESS_CHECK = "ssm:SessionDocumentAccessCheck"
_PAGE = 20


class TargetNotConnected(AwsError):
    code = "TargetNotConnected"


def _session_arn(ctx: RequestContext, session_id: str) -> str:
    return f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:session/{session_id}"


def _target(ctx: RequestContext, target: str) -> tuple[ManagedInstance | None, AuthorizationTarget]:
    """The node and what it is authorized as (an unknown one too, so that its absence is told only to
    callers allowed to reach it)."""
    with ctx.container.db.read() as conn:
        found = instances.describe(conn, ctx.account_id, ctx.region, ctx.now, [target])
        tags = ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, "ManagedInstance", target) \
            if found else {}
    if found:
        return found[0], AuthorizationTarget(found[0].arn, tags)
    arn = f"arn:aws:ec2:{ctx.region}:{ctx.account_id}:instance/{target}" if target.startswith("i-") else \
        f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:managed-instance/{target}"
    return None, AuthorizationTarget(arn, {})


def _authorize_start(ctx: RequestContext, node: AuthorizationTarget, document_arn: str, named: bool) -> None:
    """ssm:StartSession on the node and the document; an unnamed (default) document is checked only for the
    callers whose policies require it (a statement conditioned on ssm:SessionDocumentAccessCheck)."""
    authorizer, call = ctx.container.authorizer, facts(ctx)
    document = AuthorizationTarget(document_arn, {})
    checked = {DOCUMENT_ACCESS_CHECK: "true"}
    if named:
        authorizer.authorize(call, "ssm:StartSession", [node, document], checked)
        return
    try:
        authorizer.authorize(call, "ssm:StartSession", [node, document], checked)
    except AccessDenied:
        # Without the check, the node alone decides: a statement that demands the check no longer applies.
        authorizer.authorize(call, "ssm:StartSession", [node], {DOCUMENT_ACCESS_CHECK: "false"})


def start_session(ctx: RequestContext, p: Params) -> dict[str, Any]:
    node, node_ref = _target(ctx, p["Target"])
    with ctx.container.db.read() as conn:
        prepared = session_documents.prepare(conn, scope(ctx), p.get("DocumentName"), p.get("Parameters") or {})
    _authorize_start(ctx, node_ref, prepared.document.arn, bool(p.get("DocumentName")))
    if node is None or node.ping_status != "Online":
        raise TargetNotConnected(f"{p['Target']} is not connected.")
    preferences = prepared.preferences
    run_as = ""
    if preferences.run_as_enabled and prepared.document.session_type == "Standard_Stream":
        # AWS: the principal's SSMSessionRunAs tag, else the preferences' default user.
        run_as = ctx.caller.tags.get("SSMSessionRunAs") or preferences.run_as_default_user
    plan = sessions.SessionPlan(prepared.document.name, prepared.content, prepared.document.session_type,
                                prepared.parameters, run_as, preferences.max_session_duration_minutes)
    with ctx.container.db.begin() as conn:
        session, token = sessions.start(conn, ctx.account_id, ctx.region, ctx.caller.arn, node.instance_id, plan,
                                        p.get("Reason") or "", ctx.now)
    ctx.container.command_hub.offer(node.instance_id, session_task(session))
    return {"SessionId": session.session_id, "TokenValue": token, "StreamUrl": _stream_url(ctx, session.session_id)}


def _stream_url(ctx: RequestContext, session_id: str) -> str:
    scheme = "wss" if ctx.secure_transport else "ws"
    return f"{scheme}://{ctx.host}/v1/data-channel/{session_id}?role=publish_subscribe"


def _own_session(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [ResourceRef(_session_arn(ctx, p["SessionId"]))]


def resume_session(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        session, token = sessions.resume(conn, ctx.account_id, ctx.region, p["SessionId"])
    return {"SessionId": session.session_id, "TokenValue": token, "StreamUrl": _stream_url(ctx, session.session_id)}


def terminate_session(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        session = sessions.terminate(conn, ctx.account_id, ctx.region, p["SessionId"], ctx.now)
    ctx.container.session_relays.end(session.session_id, "", int(ctx.now.timestamp() * 1000))
    return {"SessionId": session.session_id}


def describe_sessions(ctx: RequestContext, p: Params) -> dict[str, Any]:
    filters = [sessions.SessionFilter(f["key"], f["value"]) for f in p.get("Filters") or ()]
    with ctx.container.db.read() as conn:
        found = sessions.describe(conn, ctx.account_id, ctx.region, p["State"], filters, ctx.now)
    start, size = page_start(p.get("NextToken")), p.get("MaxResults") or _PAGE
    more = start + size < len(found)
    return without_nones({"Sessions": [_session_out(ctx, s) for s in found[start:start + size]],
                          "NextToken": page_token(start + size) if more else None})


def _output_url(ctx: RequestContext, s: sessions.Session) -> dict[str, str] | None:
    """Where a recorded session's log is in the bucket its preferences named (AWS's OutputUrl.S3OutputUrl)."""
    store, key = ctx.container.output_store, recording_key(s.session_id, s.document_content, s.session_type)
    if store is None or key is None:
        return None
    return {"S3OutputUrl": store.url(*key), "CloudWatchOutputUrl": ""}


def _session_out(ctx: RequestContext, s: sessions.Session) -> dict[str, Any]:
    return without_nones({"OutputUrl": _output_url(ctx, s),
        "SessionId": s.session_id, "Target": s.target, "Status": s.status, "StartDate": s.started_at,
        "EndDate": s.ended_at, "DocumentName": s.document_name, "Owner": s.owner, "Reason": s.reason or None,
        "Details": s.details or None, "MaxSessionDuration": str(s.max_duration_minutes)
        if s.max_duration_minutes else None})


OPERATIONS = [
    # Authorized by the handler: the document check depends on whether a DocumentName was given.
    Operation("ssm", "StartSession", start_session, authorized=False),
    Operation("ssm", "ResumeSession", resume_session, resources=_own_session),
    Operation("ssm", "TerminateSession", terminate_session, resources=_own_session),
    Operation("ssm", "DescribeSessions", describe_sessions, read_only=True),
]
