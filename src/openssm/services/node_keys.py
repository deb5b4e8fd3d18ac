"""A hybrid node's RSA key after registration: replacing it (UpdateManagedInstancePublicKey) and deciding when
to ask the node for a new one (RequestManagedInstanceRoleToken's UpdateKeyPair), as AWS's agent expects
(amazon-ssm-agent, common/identity/credentialproviders/onpremprovider)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.protocol import rsa_auth
from openssm.services.instances import InvalidInstanceId, NodeKey
from openssm.store.tables.instances import managed_instances


def replace_key(conn: Connection, instance_id: str, public_key: str, now: dt.datetime) -> None:
    """Make `public_key` (base64 DER SubjectPublicKeyInfo, RSA-2048 or larger) the only key that verifies the
    node's signatures from now on. The fingerprint stays: it names the node, not the key."""
    try:
        rsa_auth.load_public_key(public_key)
    except ValueError as err:
        raise ValidationError(f"NewPublicKey is not a base64 DER RSA public key of at least {rsa_auth.KEY_BITS} "
                              "bits.") from err
    c = managed_instances.c
    replaced = conn.execute(sa.update(managed_instances)
                            .where(c.instance_id == instance_id, c.deregistered.is_(False))
                            .values(public_key=public_key, key_set_at=now)).rowcount
    if not replaced:
        raise InvalidInstanceId(f"Instance Id {instance_id} is not a registered managed node.")


def rotation_due(key: NodeKey, now: dt.datetime, rotation_age: dt.timedelta) -> bool:
    """Whether the node's key has been in use for `rotation_age` or longer (a zero age: always)."""
    return now - key.key_set_at >= rotation_age
