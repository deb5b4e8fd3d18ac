"""Turning an API call into a stored audit event: CloudTrail's JSON record plus its lookup columns.

The event's request parameters are what a `ParameterRenderer` returns (CloudTrail's member names, secrets
hidden); the raw request is read here only for resource names, never from a secret member. Lookup columns
are clamped to their column sizes and stripped of NULs: an unauthenticated caller chooses the operation
name and access key id, and a record the database refuses must not block the trail.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from openssm.iam.principals import Caller, PrincipalType
from openssm.services.audit_chain import EventRecord
from openssm.services.audit_record import ApiCallRecord

_COMPACT = json.JSONEncoder(separators=(",", ":"))

# (service, operation, validated request, the operation's secret members) -> CloudTrail's requestParameters.
ParameterRenderer = Callable[[str, str, Mapping[str, Any] | None, frozenset[str]], dict[str, Any] | None]

# Per service, the request members naming the resource an event is about, in order of preference.
RESOURCE_MEMBERS: dict[str, tuple[tuple[str, str], ...]] = {
    "ssm": (("Name", "AWS::SSM::Parameter"), ("Names", "AWS::SSM::Parameter")),
    "iam": (("UserName", "AWS::IAM::User"), ("RoleName", "AWS::IAM::Role"), ("GroupName", "AWS::IAM::Group"),
            ("PolicyArn", "AWS::IAM::Policy"), ("InstanceProfileName", "AWS::IAM::InstanceProfile")),
    "sts": (("RoleArn", "AWS::IAM::Role"),),
    "kms": (("KeyId", "AWS::KMS::Key"),),
    "organizations": (("AccountId", "AWS::Organizations::Account"), ("PolicyId", "AWS::Organizations::Policy"),
                      ("OrganizationalUnitId", "AWS::Organizations::OrganizationalUnit")),
}

_IDENTITY_TYPES = {PrincipalType.ROOT: "Root", PrincipalType.USER: "IAMUser", PrincipalType.ASSUMED_ROLE: "AssumedRole",
                   PrincipalType.FEDERATED_USER: "FederatedUser"}


def user_identity(caller: Caller | None, access_key_id: str) -> dict[str, Any]:
    """CloudTrail's userIdentity element; an unauthenticated call is "Unknown" with the key it claimed."""
    if caller is None:
        return {"type": "Unknown", "accessKeyId": access_key_id} if access_key_id else {"type": "Unknown"}
    identity: dict[str, Any] = {"type": _IDENTITY_TYPES.get(caller.principal_type, caller.principal_type.value),
                                "principalId": caller.user_id, "arn": caller.arn, "accountId": caller.account_id}
    if access_key_id:
        identity["accessKeyId"] = access_key_id
    if caller.principal_type is PrincipalType.USER:
        identity["userName"] = caller.name
    elif caller.principal_type is PrincipalType.ASSUMED_ROLE:
        identity["sessionContext"] = _session_context(caller)
    return identity


def _session_context(caller: Caller) -> dict[str, Any]:
    role_arn = caller.role_arn or ""
    context: dict[str, Any] = {
        "sessionIssuer": {"type": "Role", "principalId": caller.user_id.split(":")[0], "arn": role_arn,
                          "accountId": caller.account_id, "userName": role_arn.rsplit("/", 1)[-1]},
        "attributes": {"mfaAuthenticated": "true" if caller.mfa_authenticated else "false"},
    }
    if caller.source_identity:
        context["sourceIdentity"] = caller.source_identity
    return context


def username(caller: Caller | None) -> str | None:
    """LookupEvents' Username: the user name, the role session name, or "root"."""
    if caller is None:
        return None
    return "root" if caller.principal_type is PrincipalType.ROOT else caller.name


def resources(service: str, params: Mapping[str, Any] | None,
              secret: frozenset[str] = frozenset()) -> tuple[str | None, tuple[str, ...]]:
    """The (resource type, names) a request is about, from its first member naming one; never a secret one."""
    if not params:
        return None, ()
    for member, kind in RESOURCE_MEMBERS.get(service, ()):
        value = params.get(member)
        if member in secret or value is None:
            continue
        names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        # Names are stored newline-separated, and a lookup matches one whole name: keep only clean ones.
        clean = tuple(n for n in names if isinstance(n, str) and n and "\n" not in n and "\x00" not in n)
        if clean:
            return kind, clean
    return None, ()


def cloudtrail_json(call: ApiCallRecord, event_id: str, account_id: str, region: str,
                    request_parameters: dict[str, Any] | None) -> str:
    """The event in CloudTrail's record format (eventVersion 1.08), as LookupEvents' CloudTrailEvent."""
    event: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": user_identity(call.caller, call.access_key_id),
        "eventTime": _utc(call.event_time).isoformat()[:19] + "Z",
        "eventSource": _event_source(call.service),
        "eventName": call.event_name or "Unknown",
        "awsRegion": region,
        "sourceIPAddress": call.source_ip,
        "userAgent": call.user_agent,
    }
    if call.error_code:
        event["errorCode"] = call.error_code
        event["errorMessage"] = call.error_message or ""
    event.update({
        "requestParameters": request_parameters,
        "responseElements": None,
        "requestID": call.request_id,
        "eventID": event_id,
        "readOnly": call.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    })
    return _COMPACT.encode(event)


def build_event(call: ApiCallRecord, *, default_account: str, default_region: str,
                render: ParameterRenderer) -> EventRecord:
    """The stored event of `call`: the caller's account, else (unauthenticated) the default account."""
    event_id = str(uuid.uuid4())
    account = call.caller.account_id if call.caller else default_account
    params = render(call.service, call.event_name, call.request_parameters, call.secret_parameters)
    kind, names = resources(call.service, call.request_parameters, call.secret_parameters)
    return EventRecord(
        event_id=event_id, account_id=account, event_time=_utc(call.event_time),
        event_source=_event_source(call.service), event_name=_column(call.event_name or "Unknown", 128),
        username=_optional_column(username(call.caller), 256),
        access_key_id=call.access_key_id if _fits(call.access_key_id, 32) else None,
        read_only=call.read_only, resource_type=kind, resource_names=names,
        error_code=_optional_column(call.error_code, 128),
        event_json=cloudtrail_json(call, event_id, account, call.region or default_region, params),
    )


def _event_source(service: str) -> str:
    return _column(f"{service or 'unknown'}.amazonaws.com", 64)


def _utc(when: dt.datetime) -> dt.datetime:
    """`when` in UTC, to the second (CloudTrail's precision, and what LookupEvents' time range compares)."""
    when = when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return when.replace(microsecond=0) if when.microsecond else when


def _fits(value: str, limit: int) -> bool:
    return bool(value) and len(value) <= limit and "\x00" not in value


def _column(value: str, limit: int) -> str:
    return value.replace("\x00", "")[:limit]


def _optional_column(value: str | None, limit: int) -> str | None:
    return None if value is None else _column(value, limit)
