"""Amazon's documents for Patch Manager (AWS-RunPatchBaseline): name -> (content, platform types, when AWS
published it).

The parameters, their descriptions, defaults, allowed values and patterns are AWS's, as copies of the document in
public repositories carry them (schema 2.2, five parameters). AWS's Linux step is an aws:runShellScript that
downloads a Python payload from S3 and runs it; OpenSSM's agent carries the patching code itself, so the Linux
step names OpenSSM's plugin aws:runPatchBaseline with the parameters as its inputs (a recorded departure). AWS's
Windows (PowerShell module) and macOS steps have no OpenSSM counterpart: a Windows or macOS node skips the
document's one step, as an agent skips any step whose precondition it does not meet. Its Hash is not AWS's."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

RUN_PATCH_BASELINE = "AWS-RunPatchBaseline"
PATCH_ACTION = "aws:runPatchBaseline"
_UUID_OR_EMPTY = "(^$)|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_URL_OR_EMPTY = "(^$)|^https://.+$|^s3://([^/]+)/(.*?([^/]+))$"

_PARAMETERS: dict[str, dict[str, Any]] = {
    "Operation": {
        "type": "String",
        "description": "(Required) The update or configuration to perform on the instance. The system checks if "
                       "patches specified in the patch baseline are installed on the instance. The install "
                       "operation installs patches missing from the baseline.",
        "allowedValues": ["Scan", "Install"],
    },
    "SnapshotId": {
        "type": "String",
        "description": "(Optional) The snapshot ID to use to retrieve a patch baseline snapshot.",
        "allowedPattern": _UUID_OR_EMPTY,
        "default": "",
    },
    "InstallOverrideList": {
        "type": "String",
        "description": "(Optional) An https URL or an Amazon S3 path-style URL to the list of patches to be "
                       "installed. This patch installation list overrides the patches specified by the default "
                       "patch baseline.",
        "allowedPattern": _URL_OR_EMPTY,
        "default": "",
    },
    "BaselineOverride": {
        "type": "String",
        "description": "(Optional) An https URL or an Amazon S3 path-style URL to a list of baseline objects. These "
                       "baselines override the default baseline and any baselines used by Patch Groups.",
        "allowedPattern": _URL_OR_EMPTY,
        "default": "",
    },
    "RebootOption": {
        "type": "String",
        "description": "(Optional) Reboot behavior after a patch Install operation. If you choose NoReboot and "
                       "patches are installed, the instance is marked as non-compliant until a subsequent reboot "
                       "and scan.",
        "allowedValues": ["RebootIfNeeded", "NoReboot"],
        "default": "RebootIfNeeded",
    },
}

_CONTENT = json.dumps({
    "schemaVersion": "2.2",
    "description": "Scans for or installs patches from a patch baseline to a Linux, Windows or MacOS operating "
                   "system.",
    "parameters": _PARAMETERS,
    "mainSteps": [{
        "precondition": {"StringEquals": ["platformType", "Linux"]},
        "action": PATCH_ACTION,
        "name": "PatchLinux",
        "inputs": {name: f"{{{{ {name} }}}}" for name in _PARAMETERS},
    }],
}, indent=4) + "\n"

DOCUMENTS: dict[str, tuple[str, tuple[str, ...], dt.datetime]] = {
    # AWS lists the document for the three platforms its steps cover. The date is approximate (AWS does not
    # publish it): the cross-platform document came with SSM Agent 2.0.834.0, in mid-2017.
    RUN_PATCH_BASELINE: (_CONTENT, ("Windows", "Linux", "MacOS"), dt.datetime(2017, 6, 1, tzinfo=dt.UTC)),
}
