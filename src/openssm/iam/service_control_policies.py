"""Service control policies: their documents, their attachments to the root, OUs and accounts, enabling
the policy type, and the SCPs in force at each level above an account."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from openssm.iam import org_units
from openssm.iam import organization_errors as errors
from openssm.iam.org_model import SCP, FeatureSet, Organization, set_scp_enabled
from openssm.iam.policy import MalformedPolicyDocument, PolicyKind, parse_policy
from openssm.store.tables.organizations import org_attachments, org_policies

MAX_ATTACHED = 5
MAX_CONTENT = 5120


@dataclass(frozen=True)
class OrgPolicy:
    policy_id: str
    name: str
    description: str
    content: str
    aws_managed: bool = False

    def arn(self, org: Organization) -> str:
        if self.aws_managed:
            return f"arn:aws:organizations::aws:policy/service_control_policy/{self.policy_id}"
        return org.policy_arn(self.policy_id)


# AWS's own SCP: the same in every organization, never stored, attached wherever SCPs are enabled.
FULL_ACCESS = OrgPolicy("p-FullAWSAccess", "FullAWSAccess", "Allows access to every operation", json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, indent=4), True)


def _key(org: Organization, policy_id: str) -> str:
    """Attachments are keyed by organization too, since FullAWSAccess has the same id in all of them."""
    return f"{org.org_id}/{policy_id}"


def validate_content(content: str) -> None:
    if len(content) > MAX_CONTENT:
        raise errors.ConstraintViolation("You attempted to create a policy that is larger than the maximum size.")
    try:
        parse_policy(content, PolicyKind.SCP)
    except MalformedPolicyDocument as err:
        raise errors.MalformedPolicy() from err


def _from_row(row: object) -> OrgPolicy:
    m = row._mapping  # type: ignore[attr-defined]
    return OrgPolicy(m["policy_id"], m["name"], m["description"], m["content"], m["aws_managed"])


def get_policy(conn: Connection, org: Organization, policy_id: str) -> OrgPolicy:
    if policy_id == FULL_ACCESS.policy_id:
        return FULL_ACCESS
    row = conn.execute(select(org_policies).where(org_policies.c.org_id == org.org_id,
                                                  org_policies.c.policy_id == policy_id)).first()
    if row is None:
        raise errors.PolicyNotFound()
    return _from_row(row)


def list_policies(conn: Connection, org: Organization) -> list[OrgPolicy]:
    # Stored rows are customer policies (databases from before FullAWSAccess became a constant also hold it).
    rows = conn.execute(select(org_policies).where(org_policies.c.org_id == org.org_id,
                                                   org_policies.c.aws_managed.is_(False)).order_by(org_policies.c.name))
    return [FULL_ACCESS, *(_from_row(r) for r in rows)]


def _ensure_unique_name(conn: Connection, org: Organization, name: str) -> None:
    taken = conn.execute(select(org_policies.c.policy_id).where(org_policies.c.org_id == org.org_id,
                                                                org_policies.c.name == name)).first()
    if taken is not None or name == FULL_ACCESS.name:
        raise errors.DuplicatePolicy()


def create_policy(conn: Connection, org: Organization, policy_id: str, name: str, description: str,
                  content: str) -> OrgPolicy:
    validate_content(content)
    _ensure_unique_name(conn, org, name)
    conn.execute(insert(org_policies).values(policy_id=policy_id, org_id=org.org_id, name=name, description=description,
                                             type=SCP, content=content, aws_managed=False))
    return get_policy(conn, org, policy_id)


def _customer_policy(conn: Connection, org: Organization, policy_id: str) -> OrgPolicy:
    policy = get_policy(conn, org, policy_id)
    if policy.aws_managed:
        raise errors.InvalidInput("You specified a policy that is managed by AWS and can't be modified.")
    return policy


def update_policy(conn: Connection, org: Organization, policy_id: str, name: str | None, description: str | None,
                  content: str | None) -> OrgPolicy:
    policy = _customer_policy(conn, org, policy_id)
    if content is not None:
        validate_content(content)
    if name is not None and name != policy.name:
        _ensure_unique_name(conn, org, name)
    changes = {k: v for k, v in (("name", name), ("description", description), ("content", content)) if v is not None}
    if changes:
        conn.execute(update(org_policies).where(org_policies.c.org_id == org.org_id,
                                                org_policies.c.policy_id == policy_id).values(**changes))
    return get_policy(conn, org, policy_id)


def delete_policy(conn: Connection, org: Organization, policy_id: str) -> None:
    _customer_policy(conn, org, policy_id)
    if targets_of(conn, org, policy_id):
        raise errors.PolicyInUse()
    conn.execute(delete(org_policies).where(org_policies.c.org_id == org.org_id, org_policies.c.policy_id == policy_id))


def _attached_ids(conn: Connection, org: Organization, target_id: str) -> list[str]:
    prefix = f"{org.org_id}/"
    rows = conn.execute(select(org_attachments.c.policy_id).where(
        org_attachments.c.target_id == target_id, org_attachments.c.policy_id.startswith(prefix))
        .order_by(org_attachments.c.policy_id))
    return [r[0].removeprefix(prefix) for r in rows]


def policies_for(conn: Connection, org: Organization, target_id: str) -> list[OrgPolicy]:
    if not org_units.target_exists(conn, org, target_id):
        raise errors.TargetNotFound()
    return [get_policy(conn, org, p) for p in _attached_ids(conn, org, target_id)]


def targets_of(conn: Connection, org: Organization, policy_id: str) -> list[str]:
    get_policy(conn, org, policy_id)
    rows = conn.execute(select(org_attachments.c.target_id).where(org_attachments.c.policy_id == _key(org, policy_id))
                        .order_by(org_attachments.c.target_id))
    return [r[0] for r in rows]


def attach(conn: Connection, org: Organization, policy_id: str, target_id: str) -> None:
    get_policy(conn, org, policy_id)
    if not org_units.target_exists(conn, org, target_id):
        raise errors.TargetNotFound()
    if not org.scp_enabled:
        raise errors.TypeNotEnabled()
    attached = _attached_ids(conn, org, target_id)
    if policy_id in attached:
        raise errors.DuplicateAttachment()
    if len(attached) >= MAX_ATTACHED:
        raise errors.ConstraintViolation("You attempted to exceed the number of policies of a certain type that can "
                                         "be attached to an entity at one time.")
    conn.execute(insert(org_attachments).values(policy_id=_key(org, policy_id), target_id=target_id))


def detach(conn: Connection, org: Organization, policy_id: str, target_id: str) -> None:
    get_policy(conn, org, policy_id)
    if not org_units.target_exists(conn, org, target_id):
        raise errors.TargetNotFound()
    attached = _attached_ids(conn, org, target_id)
    if policy_id not in attached:
        raise errors.NotAttached()
    if len(attached) == 1:
        raise errors.ConstraintViolation("You attempted to detach a policy from an entity that would cause the "
                                         "entity to have fewer than the minimum number of policies of a certain "
                                         "type required.")
    conn.execute(delete(org_attachments).where(org_attachments.c.policy_id == _key(org, policy_id),
                                               org_attachments.c.target_id == target_id))


def attach_default(conn: Connection, org: Organization, target_id: str) -> None:
    """A new OU or account starts with FullAWSAccess when SCPs are enabled, as at AWS."""
    if org.scp_enabled:
        conn.execute(insert(org_attachments).values(policy_id=_key(org, FULL_ACCESS.policy_id), target_id=target_id))


def drop_target(conn: Connection, org: Organization, target_id: str) -> None:
    conn.execute(delete(org_attachments).where(org_attachments.c.target_id == target_id,
                                               org_attachments.c.policy_id.startswith(f"{org.org_id}/")))


def require_scp_type(policy_type: str) -> None:
    """Service control policies are the one policy type this server implements."""
    if policy_type != SCP:
        raise errors.TypeNotAvailable()


def _check_root(org: Organization, root_id: str) -> None:
    if root_id != org.root_id:
        raise errors.RootNotFound()


def enable(conn: Connection, org: Organization, root_id: str) -> Organization:
    """EnablePolicyType for SCPs: FullAWSAccess goes onto the root, every OU and every account."""
    _check_root(org, root_id)
    if org.feature_set is not FeatureSet.ALL:
        raise errors.TypeNotAvailable()
    if org.scp_enabled:
        raise errors.TypeAlreadyEnabled()
    enabled = set_scp_enabled(conn, org, True)
    for target in org_units.node_ids(conn, org) + [m.account_id for m in org_units.members(conn, org)]:
        attach_default(conn, enabled, target)
    return enabled


def disable(conn: Connection, org: Organization, root_id: str) -> Organization:
    """DisablePolicyType for SCPs: every attachment goes; the policies themselves stay."""
    _check_root(org, root_id)
    if not org.scp_enabled:
        raise errors.TypeNotEnabled()
    conn.execute(delete(org_attachments).where(org_attachments.c.policy_id.startswith(f"{org.org_id}/")))
    return set_scp_enabled(conn, org, False)


def levels(conn: Connection, org: Organization, account_id: str) -> list[list[OrgPolicy]]:
    """The SCPs attached at each level from the root down to the account; none for the management account
    (SCPs never restrict it) or when SCPs are not enabled."""
    if not org.scp_enabled or org.is_management(account_id):
        return []
    return [[get_policy(conn, org, p) for p in _attached_ids(conn, org, node)]
            for node in org_units.path_from_root(conn, org, account_id)]
