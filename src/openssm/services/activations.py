"""Hybrid activations (CreateActivation, DescribeActivations, DeleteActivation) and redeeming one when a node
registers. The activation code is a secret shown once: only its SHA-256 is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import AwsError, ValidationError
from openssm.store.tables.instances import activations

DEFAULT_LIFETIME = dt.timedelta(hours=24)
MAX_LIFETIME = dt.timedelta(days=30)
MAX_REGISTRATIONS = 1000


class InvalidActivation(AwsError):
    code = "InvalidActivation"


class InvalidActivationId(AwsError):
    code = "InvalidActivationId"


@dataclass(frozen=True)
class Activation:
    activation_id: str
    account_id: str
    region: str
    iam_role: str
    registration_limit: int
    registrations_count: int
    default_instance_name: str | None
    description: str | None
    created_at: dt.datetime
    expires_at: dt.datetime

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class NewActivation:
    iam_role: str
    registration_limit: int | None = None
    expires_at: dt.datetime | None = None
    default_instance_name: str | None = None
    description: str | None = None


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create(conn: Connection, account_id: str, region: str, spec: NewActivation, now: dt.datetime
           ) -> tuple[Activation, str]:
    """A new activation and its code (returned once, never stored)."""
    limit = 1 if spec.registration_limit is None else spec.registration_limit
    if not 1 <= limit <= MAX_REGISTRATIONS:
        raise ValidationError(f"RegistrationLimit must be between 1 and {MAX_REGISTRATIONS}.")
    expires = spec.expires_at or now + DEFAULT_LIFETIME
    if expires <= now or expires - now > MAX_LIFETIME:
        raise ValidationError("ExpirationDate must be in the future and no more than 30 days from now.")
    code = secrets.token_urlsafe(15)
    activation = Activation(str(uuid.uuid4()), account_id, region, spec.iam_role, limit, 0,
                            spec.default_instance_name, spec.description, now, expires)
    conn.execute(sa.insert(activations).values(
        activation_id=activation.activation_id, account_id=account_id, region=region, code_digest=_digest(code),
        iam_role=spec.iam_role, registration_limit=limit, registrations_count=0,
        default_instance_name=spec.default_instance_name, description=spec.description, created_at=now,
        expires_at=expires))
    return activation, code


def describe(conn: Connection, account_id: str, region: str, filters: Mapping[str, Sequence[str]]
             ) -> list[Activation]:
    """Filter keys: ActivationIds, DefaultInstanceName, IamRole (AWS's DescribeActivationsFilterKeys)."""
    query = sa.select(activations).where(activations.c.account_id == account_id, activations.c.region == region)
    columns = {"ActivationIds": activations.c.activation_id, "DefaultInstanceName": activations.c.default_instance_name,
               "IamRole": activations.c.iam_role}
    for key, values in filters.items():
        query = query.where(columns[key].in_(list(values)))
    return [_activation(r) for r in conn.execute(query.order_by(activations.c.created_at, activations.c.activation_id))]


def delete(conn: Connection, account_id: str, region: str, activation_id: str) -> None:
    deleted = conn.execute(sa.delete(activations).where(
        activations.c.activation_id == activation_id, activations.c.account_id == account_id,
        activations.c.region == region)).rowcount
    if not deleted:
        raise InvalidActivationId(f"Activation ID {activation_id} is not valid. Verify the ID and try again.")


def redeem(conn: Connection, activation_id: str, code: str, now: dt.datetime) -> Activation:
    """Count one registration against the activation, which must exist, match the code, be unexpired and
    have room left; the count is raised in the same statement that checks it, so no race can overshoot."""
    row = conn.execute(sa.select(activations).where(activations.c.activation_id == activation_id)).first()
    if row is None or not hmac.compare_digest(row.code_digest, _digest(code)):
        raise InvalidActivation("Activation ID or code is not valid. Verify them and try again.")
    activation = _activation(row)
    if activation.expired(now):
        raise InvalidActivation(f"Activation {activation_id} has expired.")
    taken = conn.execute(sa.update(activations).where(
        activations.c.activation_id == activation_id,
        activations.c.registrations_count < activations.c.registration_limit,
    ).values(registrations_count=activations.c.registrations_count + 1)).rowcount
    if not taken:
        raise InvalidActivation(f"Activation {activation_id} has reached its registration limit of "
                                f"{activation.registration_limit}.")
    return activation


def _activation(r: sa.Row[tuple[object, ...]]) -> Activation:
    return Activation(r.activation_id, r.account_id, r.region, r.iam_role, r.registration_limit,
                      r.registrations_count, r.default_instance_name, r.description, r.created_at, r.expires_at)
