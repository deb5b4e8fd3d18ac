"""Which identity the agent runs as, chosen at start as AWS's agent chooses: a hybrid registration in the state
directory first, else the EC2 instance found through IMDSv2 (its instance profile role, or Default Host
Management)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from openssm.agent.client import SsmClient
from openssm.agent.credentials import CredentialProvider, CredentialSource
from openssm.agent.ec2_credentials import DEFAULT_RETRY_SECONDS, Ec2CredentialSource
from openssm.agent.ec2_identity import Ec2Instance, Ec2Registrar, saved_registration
from openssm.agent.imds import DEFAULT_IMDS_URL, Imds, ImdsError
from openssm.agent.state import StateDir

log = logging.getLogger(__name__)


class NoIdentity(Exception):
    """Neither a hybrid registration nor an EC2 identity: the agent cannot run."""


@dataclass(frozen=True)
class Ec2Settings:
    """The EC2 path's settings; a saved EC2 registration supplies the endpoint and CA bundle once it exists."""

    imds_url: str = DEFAULT_IMDS_URL
    endpoint: str | None = None
    ca_bundle: str | None = None
    retry_seconds: float = DEFAULT_RETRY_SECONDS


@dataclass(frozen=True)
class NodeIdentity:
    instance_id: str
    client: SsmClient  # for the agent's calls: an answer refusing the credentials invalidates them
    credentials: CredentialProvider
    imds: Imds | None = None  # an EC2 instance's metadata service (inventory reads its identity document)


def _identity(instance_id: str, endpoint: str, region: str, ca_bundle: str | None,
              credentials_for: Callable[[SsmClient], CredentialProvider], imds: Imds | None = None) -> NodeIdentity:
    # The credential source fetches with a client of its own: one that invalidated it would re-enter its lock.
    credentials = credentials_for(SsmClient(endpoint, region, ca_bundle))
    client = SsmClient(endpoint, region, ca_bundle, on_credentials_rejected=credentials.invalidate)
    return NodeIdentity(instance_id, client, credentials, imds)


def hybrid_identity(state: StateDir) -> NodeIdentity | None:
    """The hybrid node's identity, if the state directory holds an activation's registration."""
    registration = state.registration()
    if registration is None or registration.is_ec2:
        return None
    return _identity(registration.instance_id, registration.endpoint, registration.region, registration.ca_bundle,
                     lambda client: CredentialSource(state, client))


def ec2_identity(state: StateDir, settings: Ec2Settings) -> NodeIdentity:
    """The EC2 instance's identity; its credentials are fetched (and the instance registered) when first asked."""
    try:
        imds = Imds(settings.imds_url)
        instance = Ec2Instance.from_metadata(imds)
    except (ImdsError, ValueError) as err:
        raise NoIdentity(f"not registered: no registration in {state.path} and no instance metadata at "
                         f"{settings.imds_url} ({err}); "
                         "run `openssm agent register` first (a deleted state directory loses the node's "
                         "identity)") from err
    saved = saved_registration(state, instance.instance_id)
    if saved is not None:
        if settings.endpoint and settings.endpoint.rstrip("/") != saved.endpoint:
            log.warning("ignoring endpoint %s: %s is registered with %s", settings.endpoint, instance.instance_id,
                        saved.endpoint)
        endpoint, ca_bundle = saved.endpoint, saved.ca_bundle
    elif settings.endpoint:
        endpoint, ca_bundle = settings.endpoint, settings.ca_bundle
    else:
        raise NoIdentity(f"{instance.instance_id} is not registered yet: give the service's URL with --endpoint "
                         "(or OPENSSM_ENDPOINT)")

    def credentials_for(client: SsmClient) -> CredentialProvider:
        registrar = Ec2Registrar(state, client, instance)
        return Ec2CredentialSource(imds, client, registrar, instance.instance_id,
                                   retry_seconds=settings.retry_seconds)

    return _identity(instance.instance_id, endpoint, instance.region, ca_bundle, credentials_for, imds)


def node_identity(state: StateDir, settings: Ec2Settings) -> NodeIdentity:
    """The hybrid identity if registered so, else the EC2 one; NoIdentity when there is neither."""
    return hybrid_identity(state) or ec2_identity(state, settings)
