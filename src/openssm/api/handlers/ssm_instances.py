"""Managed instances over JSON 1.1: the agent's calls (RegisterManagedInstance, unsigned for hybrid nodes and
signed with the instance identity credentials for Default Host Management; RequestManagedInstanceRoleToken and
UpdateManagedInstancePublicKey, RSA-signed; UpdateInstanceInformation) and the fleet view
(DescribeInstanceInformation, DeregisterManagedInstance, UpdateManagedInstanceRole)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import check_ssm_service_role, node_ref, page_start, page_token, without_nones
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import AccessDenied, ValidationError
from openssm.iam import tags
from openssm.iam.entities import EntityKind
from openssm.iam.principals import PrincipalType
from openssm.iam.service_roles import find_role
from openssm.iam.sessions import SessionGrant, issue, revoke_instance
from openssm.protocol import rsa_auth
from openssm.services import activations, association_executions, compliance, ec2_instances, instances, node_keys
from openssm.services import default_host_management as dhmc
from openssm.services.instance_filters import matching
from openssm.services.instances import InvalidInstanceId, ManagedInstance

TOKEN_LIFETIME = dt.timedelta(hours=1)
PAGE = 50


def _instance_ref(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [node_ref(ctx, p["InstanceId"])]


def register_managed_instance(ctx: RequestContext, p: Params) -> dict[str, Any]:
    if p["PublicKeyType"] != rsa_auth.PUBLIC_KEY_TYPE:
        raise ValidationError(f"PublicKeyType {p['PublicKeyType']} is not supported; use {rsa_auth.PUBLIC_KEY_TYPE}.")
    try:
        rsa_auth.load_public_key(p["PublicKey"])
    except ValueError as err:
        raise ValidationError("PublicKey is not a base64 DER RSA public key.") from err
    ec2_instance = ec2_instances.identity_instance(ctx.caller)
    if ec2_instance is not None:
        return _register_ec2_instance(ctx, p, ec2_instance)
    if not p.get("ActivationId") or not p.get("ActivationCode"):
        raise ValidationError("ActivationId and ActivationCode are required to register a hybrid node.")
    with ctx.container.db.begin() as conn:
        activation = activations.redeem(conn, p["ActivationId"], p["ActivationCode"], ctx.now)
        instance_id = instances.register(conn, activation, p["PublicKey"], p["Fingerprint"], ctx.now)
    return {"InstanceId": instance_id}


def _register_ec2_instance(ctx: RequestContext, p: Params, instance_id: str) -> dict[str, Any]:
    """Default Host Management's registration, signed with the instance's identity credentials."""
    dhmc.check_agent_version(dhmc.agent_version_of(ctx.user_agent), ctx.container.config.min_agent_version)
    with ctx.container.db.begin() as conn:
        if ec2_instances.find(conn, ctx.account_id, ctx.region, instance_id) is None:
            raise AccessDenied(f"Instance {instance_id} is not an instance of account {ctx.account_id} in "
                               f"{ctx.region}.")
        dhmc.register(conn, ctx.account_id, ctx.region, instance_id, p["PublicKey"], p["Fingerprint"], ctx.now)
    return {"InstanceId": instance_id}


def _rsa_signed_node(ctx: RequestContext, action: str) -> str:
    """The node that RSA-signed this request; its role credentials (or anyone else's) do not count."""
    caller = ctx.caller
    if caller.instance_id is None or caller.access_key_id is not None:
        raise AccessDenied(f"{action} must be signed with the node's registered key.")
    return caller.instance_id


def request_managed_instance_role_token(ctx: RequestContext, p: Params) -> dict[str, Any]:
    caller = ctx.caller
    ec2_instance = ec2_instances.identity_instance(caller)
    if ec2_instance is not None:
        return _default_host_management_token(ctx, p, ec2_instance)
    instance_id = _rsa_signed_node(ctx, "RequestManagedInstanceRoleToken")
    with ctx.container.db.begin() as conn:
        key = instances.node_key(conn, instance_id)
        node = instances.get(conn, caller.account_id, ctx.region, instance_id, ctx.now)
        if key is None or node is None or key.fingerprint != p["Fingerprint"]:
            raise AccessDenied(f"The fingerprint does not match managed node {instance_id}.")
        role = find_role(conn, node.account_id, node.iam_role.strip("/"))
        if role is None:
            raise AccessDenied(f"The role {node.iam_role} of managed node {node.instance_id} does not exist.")
        grant = SessionGrant(role.account_id, PrincipalType.ASSUMED_ROLE,
                             f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{node.instance_id}",
                             f"{role.entity_id}:{node.instance_id}", node.instance_id, role.arn, None, (),
                             tags.tags_of(conn, role.account_id, EntityKind.ROLE.value, role.name), (),
                             instance_id=node.instance_id)
        creds = issue(conn, ctx.container.box, grant, ctx.now, TOKEN_LIFETIME)
        rotate = node_keys.rotation_due(key, ctx.now, ctx.container.config.node_key_rotation_age)
    return {"AccessKeyId": creds.access_key_id, "SecretAccessKey": creds.secret_access_key,
            "SessionToken": creds.session_token, "TokenExpirationDate": creds.expiration, "UpdateKeyPair": rotate}


def _default_host_management_token(ctx: RequestContext, p: Params, instance_id: str) -> dict[str, Any]:
    """The default role's credentials for an instance that signed with its identity credentials and its key."""
    if ctx.caller.key_proven_instance != instance_id:
        raise AccessDenied(f"RequestManagedInstanceRoleToken from {instance_id} must also be signed with the key "
                           f"it registered ({rsa_auth.ASYMMETRIC_AUTH_HEADER}).")
    dhmc.check_agent_version(dhmc.agent_version_of(ctx.user_agent), ctx.container.config.min_agent_version)
    with ctx.container.db.begin() as conn:
        key = instances.node_key(conn, instance_id)
        if key is None or key.fingerprint != p["Fingerprint"]:
            raise AccessDenied(f"The fingerprint does not match managed node {instance_id}.")
        role = dhmc.default_role(conn, key.account_id, ctx.region)
        creds = dhmc.issue_token(conn, ctx.container.box, key, role, ctx.now)
    return {"AccessKeyId": creds.access_key_id, "SecretAccessKey": creds.secret_access_key,
            "SessionToken": creds.session_token, "TokenExpirationDate": creds.expiration, "UpdateKeyPair": False}


def update_managed_instance_public_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    """Signed with the node's current key, as AWS's agent rotates; from then on only the new key verifies."""
    instance_id = _rsa_signed_node(ctx, "UpdateManagedInstancePublicKey")
    if p["NewPublicKeyType"] != rsa_auth.PUBLIC_KEY_TYPE:
        raise ValidationError(f"NewPublicKeyType {p['NewPublicKeyType']} is not supported; use "
                              f"{rsa_auth.PUBLIC_KEY_TYPE}.")
    with ctx.container.db.begin() as conn:
        node_keys.replace_key(conn, instance_id, p["NewPublicKey"], ctx.now)
    return {}


def update_instance_information(ctx: RequestContext, p: Params) -> dict[str, Any]:
    if ctx.caller.instance_id != p["InstanceId"]:
        raise AccessDenied(f"User: {ctx.caller.arn} is not authorized to perform: ssm:UpdateInstanceInformation "
                           f"on resource: arn:aws:ssm:{ctx.region}:{ctx.account_id}:managed-instance/"
                           f"{p['InstanceId']} because only the node itself may report for it")
    with ctx.container.db.begin() as conn:
        if _enrols_by_profile(ctx, conn, p["InstanceId"]):
            dhmc.enrol_by_profile(conn, ctx.account_id, ctx.region, p["InstanceId"],
                                  str(ctx.caller.role_arn).split(":role/", 1)[1], ctx.now)
        instances.heartbeat(conn, ctx.account_id, ctx.region, p["InstanceId"], p, ctx.now)
    return {}


def _enrols_by_profile(ctx: RequestContext, conn: Connection, instance_id: str) -> bool:
    """An EC2 instance reporting with its instance profile's credentials for the first time (as on EC2, that is
    all it takes to become a managed node)."""
    return (instance_id.startswith("i-") and ctx.caller.role_arn is not None
            and ec2_instances.find(conn, ctx.account_id, ctx.region, instance_id) is not None
            and instances.get(conn, ctx.account_id, ctx.region, instance_id, ctx.now) is None)


def _info_out(i: ManagedInstance) -> dict[str, Any]:
    return without_nones({
        "InstanceId": i.instance_id, "PingStatus": i.ping_status, "LastPingDateTime": i.last_ping,
        "AgentVersion": i.agent_version, "IsLatestVersion": False, "PlatformType": i.platform_type,
        "PlatformName": i.platform_name, "PlatformVersion": i.platform_version, "ActivationId": i.activation_id,
        "IamRole": i.iam_role, "RegistrationDate": i.registered_at, "ResourceType": i.resource_type,
        "Name": i.name, "IPAddress": i.ip_address, "ComputerName": i.computer_name,
        "SourceId": i.instance_id, "SourceType": "AWS::SSM::ManagedInstance"})


def describe_instance_information(ctx: RequestContext, p: Params) -> dict[str, Any]:
    if p.get("InstanceInformationFilterList") and p.get("Filters"):
        raise ValidationError("InstanceInformationFilterList and Filters cannot be used together.")
    start, size = page_start(p.get("NextToken")), p.get("MaxResults") or PAGE
    with ctx.container.db.read() as conn:
        fleet = instances.describe(conn, ctx.account_id, ctx.region, ctx.now)
        tagged = [(i, ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, "ManagedInstance",
                                                       i.instance_id)) for i in fleet]
    found = matching(tagged, p.get("InstanceInformationFilterList") or (), p.get("Filters") or ())
    page = found[start:start + size]
    return without_nones({"InstanceInformationList": [_info_out(i) for i in page],
                          "NextToken": page_token(start + size) if start + size < len(found) else None})


def deregister_managed_instance(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        instances.deregister(conn, ctx.account_id, ctx.region, p["InstanceId"])
        revoke_instance(conn, p["InstanceId"])
        compliance.delete_resource(conn, ctx.account_id, ctx.region, p["InstanceId"])
        association_executions.end_for_departed_node(conn, p["InstanceId"], ctx.now)
    ctx.container.credentials.invalidate()
    return {}


def update_managed_instance_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        if instances.get(conn, ctx.account_id, ctx.region, p["InstanceId"], ctx.now) is None:
            raise InvalidInstanceId(f"Instance Id {p['InstanceId']} is not a registered managed node.")
        check_ssm_service_role(ctx, conn, p["IamRole"])
        instances.update_role(conn, ctx.account_id, ctx.region, p["InstanceId"], p["IamRole"])
    return {}


OPERATIONS = [
    Operation("ssm", "RegisterManagedInstance", register_managed_instance, authenticated=False, authorized=False,
              secret_params=frozenset({"ActivationCode"})),
    Operation("ssm", "RequestManagedInstanceRoleToken", request_managed_instance_role_token, authorized=False),
    # Like the token request, authorized by the node's own RSA signature, not by an IAM policy.
    Operation("ssm", "UpdateManagedInstancePublicKey", update_managed_instance_public_key, authorized=False),
    Operation("ssm", "UpdateInstanceInformation", update_instance_information, resources=_instance_ref),
    Operation("ssm", "DescribeInstanceInformation", describe_instance_information, read_only=True),
    Operation("ssm", "DeregisterManagedInstance", deregister_managed_instance, resources=_instance_ref),
    Operation("ssm", "UpdateManagedInstanceRole", update_managed_instance_role, resources=_instance_ref),
]
