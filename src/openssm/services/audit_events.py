"""Turning an API call into a CloudTrail-shaped event, with secrets redacted."""

from __future__ import annotations

import json
import uuid
from typing import Any

from openssm.iam.principals import Caller, PrincipalType
from openssm.services.audit_record import ApiCallRecord

REDACTED = "HIDDEN_DUE_TO_SECURITY_REASONS"
# Members that are secret wherever they appear, whatever the operation declares.
ALWAYS_SECRET = frozenset({"SecretAccessKey", "Password", "NewPassword", "OldPassword", "Plaintext", "SessionToken",
                           "PrivateKey", "SecretString", "SecretBinary", "CiphertextBlob", "TokenValue"})

# Request members naming the resource an event is about, per resource type, for LookupEvents.
RESOURCE_MEMBERS = (("Name", "AWS::SSM::Parameter"), ("Names", "AWS::SSM::Parameter"),
                    ("UserName", "AWS::IAM::User"), ("RoleName", "AWS::IAM::Role"), ("GroupName", "AWS::IAM::Group"),
                    ("PolicyArn", "AWS::IAM::Policy"), ("RoleArn", "AWS::IAM::Role"), ("KeyId", "AWS::KMS::Key"))


def redact(params: Any, secret: frozenset[str]) -> Any:
    if isinstance(params, dict):
        return {k: REDACTED if k in secret or k in ALWAYS_SECRET else redact(v, secret) for k, v in params.items()}
    if isinstance(params, list):
        return [redact(v, secret) for v in params]
    if isinstance(params, bytes):
        return REDACTED
    return params


def user_identity(caller: Caller | None, access_key_id: str) -> dict[str, Any]:
    if caller is None:
        return {"type": "Unknown", "accessKeyId": access_key_id} if access_key_id else {"type": "Unknown"}
    identity: dict[str, Any] = {"principalId": caller.user_id, "arn": caller.arn, "accountId": caller.account_id,
                                "accessKeyId": access_key_id}
    if caller.principal_type is PrincipalType.ROOT:
        identity["type"] = "Root"
    elif caller.principal_type is PrincipalType.USER:
        identity.update(type="IAMUser", userName=caller.name)
    elif caller.principal_type is PrincipalType.ASSUMED_ROLE:
        role_name = (caller.role_arn or "").rsplit("/", 1)[-1]
        identity.update(type="AssumedRole", sessionContext={"sessionIssuer": {
            "type": "Role", "principalId": caller.user_id.split(":")[0], "arn": caller.role_arn,
            "accountId": caller.account_id, "userName": role_name}})
    else:
        identity["type"] = caller.principal_type.value
    return identity


def username(caller: Caller | None) -> str | None:
    if caller is None:
        return None
    if caller.principal_type is PrincipalType.ASSUMED_ROLE:
        return caller.name
    return "root" if caller.principal_type is PrincipalType.ROOT else caller.name


def resources(params: dict[str, Any] | None) -> tuple[str | None, list[str]]:
    if not params:
        return None, []
    for member, kind in RESOURCE_MEMBERS:
        value = params.get(member)
        if isinstance(value, str):
            return kind, [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return kind, list(value)
    return None, []


def cloudtrail_event(call: ApiCallRecord, account_id: str) -> tuple[str, str]:
    """(event id, event JSON) in CloudTrail's record format."""
    event_id = str(uuid.uuid4())
    params = redact(call.request_parameters, call.secret_parameters) if call.request_parameters else None
    event = {
        "eventVersion": "1.08",
        "userIdentity": user_identity(call.caller, call.access_key_id),
        "eventTime": call.event_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{call.service or 'unknown'}.amazonaws.com",
        "eventName": call.event_name or "Unknown",
        "awsRegion": call.region,
        "sourceIPAddress": call.source_ip,
        "userAgent": call.user_agent,
        "requestParameters": params,
        "responseElements": None,
        "requestID": call.request_id,
        "eventID": event_id,
        "readOnly": call.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if call.error_code:
        event["errorCode"] = call.error_code
        event["errorMessage"] = call.error_message
    return event_id, json.dumps(event, default=str, separators=(",", ":"))
