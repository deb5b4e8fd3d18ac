"""Which policies an entity has: attached managed policies and inline policies, with IAM's quotas."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, delete, insert, select, update

from openssm.iam import entities, managed_policies
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.errors import DeleteConflict, LimitExceeded, NoSuchEntity
from openssm.store.tables.iam import iam_attachments, iam_inline_policies

MAX_ATTACHED = 10
INLINE_SIZE = {EntityKind.USER: 2048, EntityKind.ROLE: 10240, EntityKind.GROUP: 5120}


def _key(entity: Entity) -> tuple[ColumnElement[bool], ...]:
    return (iam_attachments.c.account_id == entity.account_id, iam_attachments.c.kind == entity.kind.value,
            iam_attachments.c.name_lower == entity.name.lower())


def _inline_key(entity: Entity) -> tuple[ColumnElement[bool], ...]:
    t = iam_inline_policies.c
    return (t.account_id == entity.account_id, t.kind == entity.kind.value, t.name_lower == entity.name.lower())


def attached(conn: Connection, entity: Entity) -> list[str]:
    rows = conn.execute(select(iam_attachments.c.policy_arn).where(*_key(entity)).order_by(
        iam_attachments.c.policy_arn))
    return [r[0] for r in rows]


def attach(conn: Connection, entity: Entity, policy_arn: str) -> None:
    managed_policies.get_policy(conn, policy_arn)
    current = attached(conn, entity)
    if policy_arn in current:
        return
    if len(current) >= MAX_ATTACHED:
        per = {"user": "PoliciesPerUser", "role": "PoliciesPerRole", "group": "PoliciesPerGroup"}[entity.kind.value]
        raise LimitExceeded(f"Cannot exceed quota for {per}: {MAX_ATTACHED}")
    conn.execute(insert(iam_attachments).values(account_id=entity.account_id, kind=entity.kind.value,
                                                name_lower=entity.name.lower(), policy_arn=policy_arn))


def detach(conn: Connection, entity: Entity, policy_arn: str) -> None:
    if policy_arn not in attached(conn, entity):
        raise NoSuchEntity(f"Policy {policy_arn} was not found.")
    conn.execute(delete(iam_attachments).where(*_key(entity), iam_attachments.c.policy_arn == policy_arn))


def entities_for_policy(conn: Connection, policy_arn: str, account_id: str) -> list[tuple[EntityKind, str]]:
    rows = conn.execute(select(iam_attachments.c.kind, iam_attachments.c.name_lower).where(
        iam_attachments.c.policy_arn == policy_arn, iam_attachments.c.account_id == account_id))
    return [(EntityKind(r.kind), r.name_lower) for r in rows]


def put_inline(conn: Connection, entity: Entity, policy_name: str, document: str) -> None:
    limit = INLINE_SIZE[entity.kind]
    managed_policies.validate_document(document, limit * 10)
    # The quota is on all of an entity's inline policies together, white space not counted.
    others = [d for name, d in inline(conn, entity).items() if name != policy_name]
    if sum(len("".join(d.split())) for d in [*others, document]) > limit:
        raise LimitExceeded(f"Maximum policy size of {limit} bytes exceeded for {entity.kind.value} {entity.name}")
    t = iam_inline_policies.c
    changed = conn.execute(update(iam_inline_policies).where(*_inline_key(entity), t.policy_name == policy_name)
                           .values(document=document)).rowcount
    if not changed:
        conn.execute(insert(iam_inline_policies).values(
            account_id=entity.account_id, kind=entity.kind.value, name_lower=entity.name.lower(),
            policy_name=policy_name, document=document))


def inline(conn: Connection, entity: Entity) -> dict[str, str]:
    rows = conn.execute(select(iam_inline_policies.c.policy_name, iam_inline_policies.c.document)
                        .where(*_inline_key(entity)).order_by(iam_inline_policies.c.policy_name))
    return {r.policy_name: r.document for r in rows}


def get_inline(conn: Connection, entity: Entity, policy_name: str) -> str:
    document = inline(conn, entity).get(policy_name)
    if document is None:
        raise NoSuchEntity(f"The {entity.kind.value} policy with name {policy_name} cannot be found.")
    return document


def delete_inline(conn: Connection, entity: Entity, policy_name: str) -> None:
    get_inline(conn, entity, policy_name)
    conn.execute(delete(iam_inline_policies).where(*_inline_key(entity),
                                                   iam_inline_policies.c.policy_name == policy_name))


def refuse_delete_while_bound(conn: Connection, entity: Entity) -> None:
    """AWS refuses to delete a principal that still has managed or inline policies, in that order."""
    if attached(conn, entity):
        raise DeleteConflict("Cannot delete entity, must detach all policies first.")
    if inline(conn, entity):
        raise DeleteConflict("Cannot delete entity, must delete policies first.")


def has_any(conn: Connection, entity: Entity) -> bool:
    return bool(attached(conn, entity) or inline(conn, entity))


def drop_all(conn: Connection, entity: Entity) -> None:
    conn.execute(delete(iam_attachments).where(*_key(entity)))
    conn.execute(delete(iam_inline_policies).where(*_inline_key(entity)))


def set_boundary(conn: Connection, entity: Entity, policy_arn: str | None) -> Entity:
    """Put (or with None, delete) the managed policy that bounds a user's or role's permissions."""
    if policy_arn is not None:
        managed_policies.get_policy(conn, policy_arn)
    return entities.modify(conn, entity, boundary_arn=policy_arn)
