"""Tags on an organization's root, OUs, member accounts and policies (50 per resource; the aws: prefix is
reserved for AWS)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, delete, insert, select

from openssm.iam import org_units, service_control_policies
from openssm.iam import organization_errors as errors
from openssm.iam.org_model import Organization
from openssm.store.tables.organizations import org_tags

MAX_TAGS = 50


def _require_resource(conn: Connection, org: Organization, resource_id: str) -> None:
    if resource_id.startswith("p-"):
        try:
            service_control_policies.get_policy(conn, org, resource_id)
        except errors.PolicyNotFound:
            raise errors.TargetNotFound() from None
    elif not org_units.target_exists(conn, org, resource_id):
        raise errors.TargetNotFound()


def tags_of(conn: Connection, org: Organization, resource_id: str) -> dict[str, str]:
    _require_resource(conn, org, resource_id)
    rows = conn.execute(select(org_tags.c.key, org_tags.c.value).where(
        org_tags.c.org_id == org.org_id, org_tags.c.resource_id == resource_id).order_by(org_tags.c.key))
    return {r.key: r.value for r in rows}


def tag(conn: Connection, org: Organization, resource_id: str, new: Mapping[str, str]) -> None:
    """Add or overwrite tags; keys are case-sensitive here, unlike IAM's."""
    if any(key.lower().startswith("aws:") for key in new):
        raise errors.InvalidInput("You specified a tag key that is a system tag. You can't add, edit, or delete "
                                  "system tag keys because they're reserved for AWS use.")
    merged = {**tags_of(conn, org, resource_id), **new}
    if len(merged) > MAX_TAGS:
        raise errors.ConstraintViolation("You have exceeded the number of tags allowed on this resource.")
    drop(conn, org, resource_id)
    if merged:
        conn.execute(insert(org_tags), [dict(org_id=org.org_id, resource_id=resource_id, key=k, value=v)
                                        for k, v in merged.items()])


def untag(conn: Connection, org: Organization, resource_id: str, keys: Iterable[str]) -> None:
    _require_resource(conn, org, resource_id)
    conn.execute(delete(org_tags).where(org_tags.c.org_id == org.org_id, org_tags.c.resource_id == resource_id,
                                        org_tags.c.key.in_(list(keys))))


def drop(conn: Connection, org: Organization, resource_id: str | None = None) -> None:
    """Remove a resource's tags, or (without `resource_id`) every tag of the organization."""
    query = delete(org_tags).where(org_tags.c.org_id == org.org_id)
    if resource_id is not None:
        query = query.where(org_tags.c.resource_id == resource_id)
    conn.execute(query)
