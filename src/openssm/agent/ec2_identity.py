"""An EC2 instance's registration with Systems Manager for Default Host Management (DHMC), made the first time
it is needed: a new RSA key, RegisterManagedInstance signed with the instance identity credentials and the
instance id as Fingerprint, then kept in the state directory (AWS's agent: common/identity/availableidentities/
ec2/ec2_identity.go Register)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from openssm.agent.client import CallFailed, RoleCredentials, SsmClient
from openssm.agent.credentials import CredentialsRefused
from openssm.agent.imds import Imds
from openssm.agent.keys import child_new_key_pair, public_key_of
from openssm.agent.state import IdentityType, Registration, StateDir

log = logging.getLogger(__name__)
ALREADY_REGISTERED = "InstanceAlreadyRegistered"


class RegistrationLost(CredentialsRefused):
    """The service holds a registration of this instance under a key the agent no longer has."""


@dataclass(frozen=True)
class Ec2Instance:
    instance_id: str
    region: str

    @classmethod
    def from_metadata(cls, imds: Imds) -> Ec2Instance:
        return cls(imds.instance_id(), imds.region())


def saved_registration(state: StateDir, instance_id: str, *, confirmed: bool = True) -> Registration | None:
    """The state directory's EC2 registration of this instance (not one of the image it was made from)."""
    registration = state.registration()
    if (registration is None or not registration.is_ec2 or registration.instance_id != instance_id
            or registration.confirmed != confirmed):
        return None
    return registration


class Ec2Registrar:
    """Registers the instance with the service `client` speaks to, once; not thread-safe (its caller locks)."""

    def __init__(self, state: StateDir, client: SsmClient, instance: Ec2Instance, *,
                 new_key_pair: Callable[[], tuple[str, str]] = child_new_key_pair) -> None:
        self._state = state
        self._client = client
        self._instance = instance
        self._new_key_pair = new_key_pair

    def ensure(self, identity: RoleCredentials) -> Registration:
        """The saved registration, or a new one; RegistrationLost when the service already holds another."""
        saved = saved_registration(self._state, self._instance.instance_id)
        if saved is not None:
            return saved
        instance_id = self._instance.instance_id
        pending = saved_registration(self._state, instance_id, confirmed=False)
        if pending is None:
            private_key, public_key = self._new_key_pair()
            pending = Registration(instance_id, self._instance.region, self._client.endpoint, instance_id,
                                   private_key, self._client.ca_bundle, identity_type=IdentityType.EC2,
                                   confirmed=False)
            self._state.save_registration(pending)
        else:  # a crash cut the last attempt short: the service may hold this key already
            public_key = public_key_of(pending.private_key)
        log.info("registering %s with Systems Manager for Default Host Management", instance_id)
        try:
            self._client.register_ec2(instance_id, public_key, identity)
        except CallFailed as err:
            if err.code != ALREADY_REGISTERED:
                raise
            message = (f"this instance is registered with Systems Manager under a key this agent no longer has "
                       f"(was {self._state.path} deleted?); the operator must release its registration "
                       f"(`openssm imds release --instance-id {instance_id}`, beside the server) to enrol it again")
            log.error("%s", message)
            raise RegistrationLost(err.status, err.code, message) from err
        registration = replace(pending, confirmed=True)
        self._state.save_registration(registration)
        return registration
