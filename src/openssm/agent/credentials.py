"""The node's role credentials: RequestManagedInstanceRoleToken signed with its RSA key, refreshed at half
their lifetime (as AWS's agent does, after DHCP's renewal rule), and the key rotated when the service answers
UpdateKeyPair (AWS's agent: common/identity/credentialproviders/onpremprovider/role_provider.go)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from openssm.agent.client import CallFailed, RoleCredentials, SsmClient
from openssm.agent.keys import Signer, child_new_key_pair, child_signer
from openssm.agent.state import Registration, StateDir

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]


class CredentialsRefused(CallFailed):
    """The service will not issue this node credentials (deregistered, or its key unknown): retrying is useless."""


class CredentialsUnavailable(CallFailed):
    """No credentials for now (an EC2 instance whose role, or Default Host Management, the service does not
    take yet): the source tries again in `retry_in` seconds."""

    def __init__(self, message: str, retry_in: float = 0.0) -> None:
        super().__init__(0, "", message)
        self.retry_in = retry_in


class CredentialProvider(Protocol):
    """Where the agent's calls get their credentials; thread-safe."""

    def get(self) -> RoleCredentials:
        """Current credentials, fetched anew when half their lifetime has passed."""

    def invalidate(self) -> None:
        """Forget the current credentials (the service stopped taking them): the next get() fetches anew."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CredentialSource:
    """Thread-safe: heartbeats, the control channel and job replies all ask for credentials."""

    def __init__(self, state: StateDir, client: SsmClient, *, signer_for: Callable[[str], Signer] = child_signer,
                 new_key_pair: Callable[[], tuple[str, str]] = child_new_key_pair, clock: Clock = _utc_now) -> None:
        registration = state.registration()
        if registration is None:
            raise ValueError(f"no registration in {state.path}")
        self._state = state
        self._client = client
        self._registration = registration
        self._signer_for = signer_for
        self._new_key_pair = new_key_pair
        self._clock = clock
        self._creds: RoleCredentials | None = None
        self._refresh_at = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._lock = threading.Lock()

    @property
    def registration(self) -> Registration:
        return self._registration

    def get(self) -> RoleCredentials:
        with self._lock:
            now = self._clock()
            if self._creds is None or now >= self._refresh_at:
                try:
                    creds = self._token()
                except CallFailed as err:
                    if err.status in (400, 403):
                        raise CredentialsRefused(err.status, err.code, err.message) from err
                    raise
                self._creds, self._refresh_at = creds, now + (creds.expires - now) / 2
                if creds.update_key_pair:
                    self._rotate()
            return self._creds

    def invalidate(self) -> None:
        with self._lock:
            self._creds = None

    def _token(self) -> RoleCredentials:
        reg = self._registration
        try:
            return self._client.role_token(reg.instance_id, self._signer_for(reg.private_key), reg.fingerprint)
        except CallFailed as err:
            if reg.next_private_key is None or err.status not in (400, 403):
                raise
        # A rotation was cut short after the service took the new key: the new key is the one to keep.
        creds = self._client.role_token(reg.instance_id, self._signer_for(reg.next_private_key), reg.fingerprint)
        self._save(replace(reg, private_key=reg.next_private_key, next_private_key=None))
        return creds

    def _rotate(self) -> None:
        """Give the service a new public key (signed with the old key), then keep the new private key.

        A failure keeps the old key, which still works; the service asks again with the next token.
        """
        reg = self._registration
        try:
            private, public = self._new_key_pair()
            self._save(replace(reg, next_private_key=private))
            self._client.update_public_key(reg.instance_id, self._signer_for(reg.private_key), public)
        except Exception as err:  # any failure leaves the old key in place, still valid
            log.warning("key rotation failed, keeping the current key: %s", err)
            self._save(replace(reg, next_private_key=None))
            return
        self._save(replace(reg, private_key=private, next_private_key=None))
        log.info("rotated the node's key pair")

    def _save(self, registration: Registration) -> None:
        self._state.save_registration(registration)
        self._registration = registration
