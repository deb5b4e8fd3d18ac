"""EC2-style instances the operator declares, and the credentials EC2 would hand them (DESIGN §4, issue 5).

On EC2 the instance metadata service gives a node two kinds of credentials: its identity credentials
(`identity-credentials/ec2/security-credentials/ec2-instance`, which Default Host Management uses to
register) and, when a profile is attached, the profile role's (`iam/security-credentials/<role>`). Here an
`openssm imds` serves them, obtaining them from the control plane with a request signed by the instance's
identity key, which the operator declared together with the instance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Connection

from openssm.errors import AwsError
from openssm.iam import entities, instance_profiles, tags
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.principals import Caller, PrincipalType
from openssm.iam.service_roles import trusts_service
from openssm.iam.sessions import IssuedCredentials, SessionGrant, issue
from openssm.protocol.instance_identity import CredentialRequest, IdentityError, InstanceIdentity, verify
from openssm.store.secrets import SecretBox
from openssm.store.tables.ec2_instances import ec2_instances

EC2_PRINCIPAL = "ec2.amazonaws.com"
CREDENTIAL_LIFETIME = dt.timedelta(hours=6)  # as EC2's instance credentials


class NoInstanceProfile(AwsError):
    code = "NoInstanceProfile"
    status = 404


@dataclass(frozen=True)
class DeclaredInstance:
    account_id: str
    region: str
    instance_id: str
    public_key: str
    instance_profile: str | None
    declared_at: dt.datetime


@dataclass(frozen=True)
class InstanceCredentials:
    credentials: IssuedCredentials
    role_name: str | None  # the profile's role, None for identity credentials


def identity_arn(account_id: str, instance_id: str) -> str:
    """The principal of an instance's identity credentials, as EC2 names it."""
    return f"arn:aws:sts::{account_id}:assumed-role/aws:ec2-instance/{instance_id}"


def identity_instance(caller: Caller) -> str | None:
    """The instance whose identity credentials signed a call, or None for any other caller."""
    prefix = f"arn:aws:sts::{caller.account_id}:assumed-role/aws:ec2-instance/"
    if caller.principal_type is not PrincipalType.ASSUMED_ROLE or caller.role_arn is not None:
        return None
    return caller.arn[len(prefix):] if caller.arn.startswith(prefix) else None


def declare(conn: Connection, account_id: str, region: str, instance_id: str, public_key: str,
            instance_profile: str | None, now: dt.datetime) -> DeclaredInstance:
    """Declare (or re-declare) an instance; the profile, when given, must exist in the account."""
    InstanceIdentity(account_id, region, instance_id, f"{region}a")  # validates the ids
    if instance_profile and entities.find(conn, account_id, EntityKind.INSTANCE_PROFILE, instance_profile) is None:
        raise NoInstanceProfile(f"Instance profile {instance_profile} cannot be found.")
    conn.execute(sa.delete(ec2_instances).where(*_key(account_id, region, instance_id)))
    conn.execute(sa.insert(ec2_instances).values(account_id=account_id, region=region, instance_id=instance_id,
                                                 public_key=public_key, instance_profile=instance_profile,
                                                 declared_at=now))
    return DeclaredInstance(account_id, region, instance_id, public_key, instance_profile, now)


def find(conn: Connection, account_id: str, region: str, instance_id: str) -> DeclaredInstance | None:
    row = conn.execute(sa.select(ec2_instances).where(*_key(account_id, region, instance_id))).first()
    return None if row is None else DeclaredInstance(row.account_id, row.region, row.instance_id, row.public_key,
                                                     row.instance_profile, row.declared_at)


def undeclare(conn: Connection, account_id: str, region: str, instance_id: str) -> bool:
    return bool(conn.execute(sa.delete(ec2_instances).where(*_key(account_id, region, instance_id))).rowcount)


def issue_credentials(conn: Connection, box: SecretBox, request: CredentialRequest, signature: str,
                      now: dt.datetime) -> InstanceCredentials:
    """Credentials for the instance the signed request speaks for; IdentityError when it proves nothing."""
    request.check_fresh(now)
    identity = InstanceIdentity.parse(request.document)
    declared = find(conn, identity.account_id, identity.region, identity.instance_id)
    if declared is None or not verify(declared.public_key, request.payload(), signature):
        raise IdentityError(f"no declared instance {identity.instance_id} signed this request")
    if request.kind == "identity":
        grant = SessionGrant(identity.account_id, PrincipalType.ASSUMED_ROLE,
                             identity_arn(identity.account_id, identity.instance_id),
                             f"AROAEC2INSTANCEIDENTITY:{identity.instance_id}", identity.instance_id, None, None,
                             (), {}, ())
        return InstanceCredentials(issue(conn, box, grant, now, CREDENTIAL_LIFETIME), None)
    role = _profile_role(conn, declared)
    grant = SessionGrant(role.account_id, PrincipalType.ASSUMED_ROLE,
                         f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{identity.instance_id}",
                         f"{role.entity_id}:{identity.instance_id}", identity.instance_id, role.arn, None, (),
                         tags.tags_of(conn, role.account_id, EntityKind.ROLE.value, role.name), (),
                         instance_id=identity.instance_id)  # the node may report for itself with them, as on EC2
    return InstanceCredentials(issue(conn, box, grant, now, CREDENTIAL_LIFETIME), role.name)


def _profile_role(conn: Connection, declared: DeclaredInstance) -> Entity:
    if not declared.instance_profile:
        raise NoInstanceProfile(f"No instance profile is attached to {declared.instance_id}.")
    profile = entities.find(conn, declared.account_id, EntityKind.INSTANCE_PROFILE, declared.instance_profile)
    roles = instance_profiles.roles_of(conn, profile) if profile else []
    if not roles:
        raise NoInstanceProfile(f"Instance profile {declared.instance_profile} has no role.")
    if not trusts_service(roles[0], EC2_PRINCIPAL):
        raise NoInstanceProfile(f"The role {roles[0].arn} cannot be assumed by {EC2_PRINCIPAL}.")
    return roles[0]


def _key(account_id: str, region: str, instance_id: str) -> tuple[ColumnElement[bool], ...]:
    return (ec2_instances.c.account_id == account_id, ec2_instances.c.region == region,
            ec2_instances.c.instance_id == instance_id)
