"""An EC2 instance's role credentials, chosen on each fetch as AWS's agent chooses them (common/identity/
credentialproviders/ec2roleprovider/ec2_role_provider.go RemoteRetrieve): the instance profile role's when
Systems Manager takes them, else Default Host Management's (RequestManagedInstanceRoleToken). A failed fetch is
tried again on the identity schedule, so enabling either on the service takes effect without a restart."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from openssm.agent.client import CallFailed, RoleCredentials, SsmClient
from openssm.agent.credentials import CredentialsRefused, CredentialsUnavailable
from openssm.agent.ec2_identity import Ec2Registrar
from openssm.agent.imds import Imds, ImdsError
from openssm.agent.keys import KeyHelperFailed, Signer, child_signer
from openssm.agent.version import AGENT_NAME, AGENT_VERSION

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
# The instance profile's answers after which AWS's agent turns to Default Host Management; any other error is
# retried as it is (AWS: ec2roleprovider exceptionsForDefaultHostMgmt).
DHMC_FALLBACK_CODES = frozenset({"AccessDeniedException", "EC2RoleRequestError", "AssumeRoleUnauthorizedAccess"})
# AWS's agent trusts instance profile credentials for an hour at most before asking again.
PROFILE_TRUST = dt.timedelta(hours=1)
DEFAULT_RETRY_SECONDS = 300.0


class _NoProfile(Exception):
    """The instance profile cannot serve the agent; Default Host Management may."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Ec2CredentialSource:
    """Thread-safe, with the same interface as credentials.CredentialSource."""

    def __init__(self, imds: Imds, client: SsmClient, registrar: Ec2Registrar, instance_id: str, *,
                 retry_seconds: float = DEFAULT_RETRY_SECONDS, signer_for: Callable[[str], Signer] = child_signer,
                 clock: Clock = _utc_now) -> None:
        self._imds = imds
        self._client = client  # one that does not call invalidate(): the chain runs under the lock
        self._registrar = registrar
        self._instance_id = instance_id
        self._retry = dt.timedelta(seconds=retry_seconds)
        self._signer_for = signer_for
        self._clock = clock
        self._creds: RoleCredentials | None = None
        self._source = ""  # which role the credentials are from, to log a change once
        self._refresh_at = self._retry_at = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._failure = ""
        self._lock = threading.Lock()

    def get(self) -> RoleCredentials:
        with self._lock:
            now = self._clock()
            if self._creds is not None and now < self._refresh_at:
                return self._creds
            if now < self._retry_at:
                raise self._unavailable(now)
            try:
                creds, source, refresh_at = self._fetch(now)
            except CredentialsUnavailable as err:
                self._failure, self._retry_at = err.message, now + self._retry
                if self._creds is not None and now < self._creds.expires:
                    log.warning("could not renew credentials (%s); using the current ones until %s, next try in "
                                "%.0f s", err.message, self._creds.expires, self._retry.total_seconds())
                    self._refresh_at = min(self._retry_at, self._creds.expires)
                    return self._creds
                self._creds, self._source = None, ""
                log.warning("no credentials for %s: %s; next try in %.0f s", self._instance_id, err.message,
                            self._retry.total_seconds())
                raise self._unavailable(now) from err
            if source != self._source:
                log.info("credentials for %s from %s", self._instance_id, source)
            self._creds, self._source, self._refresh_at = creds, source, refresh_at
            return creds

    def invalidate(self) -> None:
        with self._lock:
            self._creds = None

    def _unavailable(self, now: dt.datetime) -> CredentialsUnavailable:
        return CredentialsUnavailable(self._failure, (self._retry_at - now).total_seconds())

    def _fetch(self, now: dt.datetime) -> tuple[RoleCredentials, str, dt.datetime]:
        """The credentials, where they are from, and when to run the chain again."""
        try:
            role, creds = self._profile()
            return creds, f"instance profile role {role}", now + min((creds.expires - now) / 2, PROFILE_TRUST)
        except _NoProfile as err:
            profile_failure = str(err)
        try:
            creds = self._default_host_management()
        except CredentialsRefused:
            raise  # the registration is lost: no retry brings it back
        except (CallFailed, ImdsError, KeyHelperFailed) as err:
            raise CredentialsUnavailable(f"{profile_failure}; Default Host Management: {err}") from err
        return creds, "Default Host Management", now + (creds.expires - now) / 2

    def _profile(self) -> tuple[str, RoleCredentials]:
        """The instance profile role's credentials, once Systems Manager has taken them."""
        try:
            role = self._imds.profile_role()
            if role is None:
                raise _NoProfile("no instance profile role")
            creds = self._imds.profile_credentials(role)
        except ImdsError as err:  # what AWS's SDK answers as EC2RoleRequestError
            raise _NoProfile(f"no instance profile credentials: {err}") from err
        probe = {"AgentName": AGENT_NAME, "AgentVersion": AGENT_VERSION, "InstanceId": self._instance_id,
                 "PlatformType": "Linux"}
        try:
            self._client.call("UpdateInstanceInformation", probe, creds)
        except CallFailed as err:
            if err.code in DHMC_FALLBACK_CODES:
                raise _NoProfile(f"instance profile role {role} refused: {err}") from err
            raise CredentialsUnavailable(f"instance profile role {role}: {err}") from err
        return role, creds

    def _default_host_management(self) -> RoleCredentials:
        identity = self._imds.identity_credentials()
        registration = self._registrar.ensure(identity)
        return self._client.ec2_role_token(registration.fingerprint, identity,
                                           self._signer_for(registration.private_key))
