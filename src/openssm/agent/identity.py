"""Registering a node with a hybrid activation (DESIGN §4): a new RSA-2048 key and fingerprint, an unsigned
RegisterManagedInstance, then a first RSA-signed RequestManagedInstanceRoleToken to prove the key works."""

from __future__ import annotations

import uuid

from openssm.agent.client import RoleCredentials, SsmClient
from openssm.agent.keys import local_signer, new_key_pair
from openssm.agent.state import Registration, StateDir


def register(state: StateDir, endpoint: str, region: str, activation_id: str, code: str,
             ca_bundle: str | None = None) -> tuple[Registration, RoleCredentials]:
    """Register, keep the identity in the state directory, and answer the first role credentials."""
    private_key, public_key = new_key_pair()
    # AWS's agent makes its fingerprint once (a random UUID) and keeps it; it is not derived from the key.
    fingerprint = str(uuid.uuid4())
    client = SsmClient(endpoint, region, ca_bundle)
    instance_id = client.register(activation_id, code, public_key, fingerprint)
    registration = Registration(instance_id, region, endpoint, fingerprint, private_key, ca_bundle)
    state.save_registration(registration)
    creds = client.role_token(instance_id, local_signer(private_key), fingerprint)
    return registration, creds
