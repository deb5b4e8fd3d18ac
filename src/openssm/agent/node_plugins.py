"""The document plugins that act for the node, bound to its identity: aws:softwareInventory (which only an
association may run), aws:refreshAssociation (which runs the node's associations, with the shell plugins
and aws:softwareInventory, when Run Command sends AWS-RefreshAssociation) and aws:runPatchBaseline."""

from __future__ import annotations

import os

from openssm.agent.associations import Associations
from openssm.agent.client import Request, node_call
from openssm.agent.inventory.upload import MAX_JITTER_SECONDS, ContentHashes, InventoryUploader
from openssm.agent.node_identity import NodeIdentity
from openssm.agent.plugins import patch_baseline, refresh_association, software_inventory
from openssm.agent.plugins.patch_baseline import PatchBaseline, PatchSettings
from openssm.agent.plugins.refresh_association import RefreshAssociation
from openssm.agent.plugins.software_inventory import SoftwareInventory
from openssm.agent.plugins.steps import StepPlugin
from openssm.agent.state import StateDir

IDENTITY_DOCUMENT = "dynamic/instance-identity/document"
# The most an inventory upload waits first, so a fleet's nodes do not call at once (AWS: 30 s); a lab of a
# few nodes, or a test, may set it lower.
JITTER_VARIABLE = "OPENSSM_INVENTORY_JITTER_SECONDS"


def _jitter_seconds() -> float:
    raw = os.environ.get(JITTER_VARIABLE)
    return MAX_JITTER_SECONDS if raw is None else max(0.0, float(raw))


def node_plugins(identity: NodeIdentity, state: StateDir,
                 patching: PatchSettings) -> dict[str, StepPlugin]:
    """`patching`: where aws:runPatchBaseline patches and how the node reboots."""
    call = node_call(identity.client, identity.credentials.get)
    client = identity.client
    imds = identity.imds
    inventory = SoftwareInventory(
        InventoryUploader(call, identity.instance_id, ContentHashes(state), jitter_seconds=_jitter_seconds()),
        state.custom_inventory_dir(),
        identity_document=(lambda: imds.get(IDENTITY_DOCUMENT)) if imds is not None else None)
    # The snapshot's download URL carries its own signed token: a plain GET, trusting the agent's CA bundle.
    patches = PatchBaseline(call, identity.instance_id, lambda url: client.send(Request("GET", url)), state,
                            patching, ca_bundle=client.ca_bundle)
    # An association may run either (AWS's patch policies scan by association).
    associations = Associations(call, identity.instance_id, state,
                                {software_inventory.NAME: inventory, patch_baseline.NAME: patches})
    return {software_inventory.NAME: inventory, refresh_association.NAME: RefreshAssociation(associations),
            patch_baseline.NAME: patches}
