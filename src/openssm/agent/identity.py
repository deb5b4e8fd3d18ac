"""The node's identity and credentials: registration with an activation (RSA key, DESIGN §4), then role
credentials from RequestManagedInstanceRoleToken, refreshed at half-life."""

from __future__ import annotations

import datetime as dt
import threading

from openssm.agent.client import RoleCredentials, SsmClient
from openssm.agent.state import Registration, StateDir
from openssm.protocol import rsa_auth


def register(state: StateDir, endpoint: str, region: str, activation_id: str, code: str,
             ca_bundle: str | None = None) -> Registration:
    key, fingerprint = rsa_auth.new_key(), rsa_auth.new_fingerprint()
    instance_id = SsmClient(endpoint, region, ca_bundle).register(activation_id, code, key, fingerprint)
    registration = Registration(instance_id, region, endpoint, fingerprint, rsa_auth.private_key_b64(key), ca_bundle)
    state.save_registration(registration)
    return registration


class CredentialSource:
    def __init__(self, registration: Registration, client: SsmClient) -> None:
        self._registration = registration
        self._client = client
        self._key = rsa_auth.load_private_key(registration.private_key)
        self._creds: RoleCredentials | None = None
        self._refresh_at = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def get(self) -> RoleCredentials:
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            if self._creds is None or now >= self._refresh_at:
                creds = self._client.role_token(self._registration.instance_id, self._key,
                                                self._registration.fingerprint)
                self._creds, self._refresh_at = creds, now + (creds.expires - now) / 2
            return self._creds
