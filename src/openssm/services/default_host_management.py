"""Default Host Management Configuration (seed 000): an EC2 instance that can prove its identity becomes a
managed node with the account's default role, with no instance profile and no activation.

The agent registers its RSA key with its instance identity credentials (RegisterManagedInstance), then asks
for role credentials with requests signed by both (RequestManagedInstanceRoleToken). An instance whose profile
lets it call UpdateInstanceInformation is managed by its profile instead, enrolled by its first heartbeat.
Changing or resetting the setting cuts the nodes that used the old role off at once: their credentials are
revoked and their channels closed, and they read as ConnectionLost until they are issued credentials again.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import AccessDenied, AwsError, ValidationError
from openssm.iam import tags
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.principals import PrincipalType
from openssm.iam.service_roles import find_role, trusts_service
from openssm.iam.sessions import IssuedCredentials, SessionGrant, issue
from openssm.services import service_settings
from openssm.services.instances import NodeKey
from openssm.services.service_settings import SettingScope
from openssm.store.secrets import SecretBox
from openssm.store.tables.instances import managed_instances
from openssm.store.tables.sts import sts_sessions

SSM_PRINCIPAL = "ssm.amazonaws.com"
TOKEN_LIFETIME = dt.timedelta(hours=1)
# AWS's agent appends `amazon-ssm-agent/<version>` to its SDK's User-Agent; OpenSSM's agent says its own name.
_AGENT_IN_USER_AGENT = re.compile(r"\b(?:amazon-ssm-agent|openssm-agent)/(\d+(?:\.\d+){0,3})\b")


class InstanceAlreadyRegistered(AwsError):
    code = "InstanceAlreadyRegistered"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def agent_version_of(user_agent: str) -> str | None:
    found = _AGENT_IN_USER_AGENT.search(user_agent)
    return found.group(1) if found else None


def check_agent_version(version: str | None, minimum: str) -> None:
    """Refuse agents older than `minimum` (and requests that do not say which agent sent them)."""
    if version is None:
        raise AccessDenied(f"Default Host Management Configuration requires SSM Agent {minimum} or later; this "
                           "request does not name its agent and version in its User-Agent.")
    if _version(version) < _version(minimum):
        raise AccessDenied(f"SSM Agent {version} is older than {minimum}, the minimum version Default Host "
                           "Management Configuration supports. Update the agent on this instance.")


def register(conn: Connection, account_id: str, region: str, instance_id: str, public_key: str, fingerprint: str,
             now: dt.datetime) -> None:
    """Keep the instance's key. Registering again with the same key changes nothing; with another key it is
    refused, so a node that lost its registration cannot be impersonated by whoever holds its identity."""
    c = managed_instances.c
    row = conn.execute(sa.select(managed_instances).where(c.instance_id == instance_id)).first()
    taken = conn.execute(sa.select(c.instance_id).where(c.fingerprint == fingerprint,
                                                        c.instance_id != instance_id)).first()
    if taken is not None:
        raise ValidationError(f"The fingerprint {fingerprint} is already registered to {taken.instance_id}.")
    key = {"public_key": public_key, "key_set_at": now, "fingerprint": fingerprint}
    if row is None:
        conn.execute(sa.insert(managed_instances).values(
            instance_id=instance_id, account_id=account_id, region=region, activation_id=None, iam_role="",
            name=None, registered_at=now, deregistered=False, **key))
    elif row.deregistered or row.account_id != account_id or row.region != region:
        conn.execute(sa.update(managed_instances).where(c.instance_id == instance_id).values(
            account_id=account_id, region=region, iam_role="", registered_at=now, deregistered=False,
            last_ping=None, cut_off_at=None, **key))
    elif row.public_key and row.public_key != public_key:
        raise InstanceAlreadyRegistered(
            f"Instance {instance_id} is already registered with Systems Manager with another key. Deregister it "
            "(DeregisterManagedInstance) to register it again.")
    elif not row.public_key:  # enrolled by its instance profile until now
        conn.execute(sa.update(managed_instances).where(c.instance_id == instance_id).values(**key))


def release(conn: Connection, instance_id: str) -> bool:
    """Forget an EC2 instance's registration, so that it may register anew with another key (its agent lost
    its state directory); its credentials end with it. DeregisterManagedInstance cannot do this: its model
    takes managed-instance (mi-) ids only, and the aws CLI refuses an i- id before sending it."""
    c = managed_instances.c
    found = conn.execute(sa.update(managed_instances).where(
        c.instance_id == instance_id, c.instance_id.like("i-%"), c.deregistered.is_(False)).values(
        deregistered=True)).rowcount
    conn.execute(sa.delete(sts_sessions).where(sts_sessions.c.instance_id == instance_id))
    return bool(found)


def enrol_by_profile(conn: Connection, account_id: str, region: str, instance_id: str, role_name: str,
                     now: dt.datetime) -> None:
    """An instance whose profile may report for it becomes a managed node with its first heartbeat, as on
    EC2; it has no key of its own until it registers for Default Host Management."""
    values = {"account_id": account_id, "region": region, "activation_id": None, "iam_role": role_name,
              "fingerprint": instance_id, "public_key": "", "key_set_at": now, "name": None, "registered_at": now,
              "deregistered": False, "last_ping": None, "cut_off_at": None}
    c = managed_instances.c
    if not conn.execute(sa.update(managed_instances).where(c.instance_id == instance_id, c.deregistered.is_(True))
                        .values(values)).rowcount:
        conn.execute(sa.insert(managed_instances).values(instance_id=instance_id, **values))


def default_role(conn: Connection, account_id: str, region: str) -> Entity:
    """The role Default Host Management gives nodes here; AccessDenied while it is not (usably) enabled."""
    value = service_settings.default_instance_role(conn, SettingScope(account_id, region))
    if value is None:
        raise AccessDenied(f"Default Host Management Configuration is not enabled in account {account_id} in "
                           f"{region}: the service setting {service_settings.DHMC_SETTING} names no role.")
    role = find_role(conn, account_id, value.strip("/"))
    if role is None or not trusts_service(role, SSM_PRINCIPAL):
        raise AccessDenied(f"The Default Host Management role {value} does not exist in account {account_id} or "
                           f"cannot be assumed by {SSM_PRINCIPAL}.")
    return role


def issue_token(conn: Connection, box: SecretBox, node: NodeKey, role: Entity, now: dt.datetime
                ) -> IssuedCredentials:
    """The node's credentials as the default role (session name: the instance id); it is no longer cut off."""
    grant = SessionGrant(role.account_id, PrincipalType.ASSUMED_ROLE,
                         f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{node.instance_id}",
                         f"{role.entity_id}:{node.instance_id}", node.instance_id, role.arn, None, (),
                         tags.tags_of(conn, role.account_id, EntityKind.ROLE.value, role.name), (),
                         instance_id=node.instance_id)
    creds = issue(conn, box, grant, now, TOKEN_LIFETIME)
    role_value = role.arn.split(":role/", 1)[1]
    conn.execute(sa.update(managed_instances).where(managed_instances.c.instance_id == node.instance_id)
                 .values(iam_role=role_value, cut_off_at=None))
    return creds


def cut_off(conn: Connection, account_id: str, region: str, old_role: str, now: dt.datetime) -> list[str]:
    """The default role changed from `old_role` (`Name` or `path/Name`): revoke what the nodes using it were
    issued under it, and mark them cut off. Answers their ids."""
    c = managed_instances.c
    using_it = (c.account_id == account_id, c.region == region, c.deregistered.is_(False), c.instance_id.like("i-%"),
                c.iam_role == old_role, c.public_key != "")
    nodes = [r.instance_id for r in conn.execute(sa.select(c.instance_id).where(*using_it))]
    if nodes:
        role_arn = f"arn:aws:iam::{account_id}:role/{old_role.strip('/')}"
        conn.execute(sa.delete(sts_sessions).where(
            sts_sessions.c.instance_id.in_(sa.select(c.instance_id).where(*using_it)),
            sts_sessions.c.role_arn == role_arn))
        conn.execute(sa.update(managed_instances).where(*using_it).values(cut_off_at=now))
    return nodes
