"""Amazon's documents for Inventory (AWS-GatherSoftwareInventory):
name -> (content, platform types, when AWS published it).

AWS-GatherSoftwareInventory is what an inventory association runs: its one step, aws:softwareInventory, makes the
agent gather the types its parameters enable and call PutInventory. Schema 2.0, as AWS publishes it; the
parameters and their descriptions are AWS's as copies of the document in public repositories carry them (e.g. a
CDK stack's verbatim copy: `collectSoftwareInventoryItems` with applications … billingInfo, and aws-samples'
copy of the `files` description), the step's inputs as the plugin reference lists them (user guide,
"aws:softwareInventory"). Its Hash is not checked against AWS's."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

GATHER_SOFTWARE_INVENTORY = "AWS-GatherSoftwareInventory"
_SWITCH = ("Enabled", "Disabled")
_LEARN_MORE = ("http://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-inventory-about.html"
               "#sysman-inventory-file-and-registry")


def _switch(description: str) -> dict[str, Any]:
    return {"type": "String", "default": "Enabled", "description": description, "allowedValues": list(_SWITCH)}


def _text(description: str) -> dict[str, Any]:
    return {"type": "String", "default": "", "description": description, "displayType": "textarea"}


_FILES = ("<p>(Optional, requires SSMAgent version 2.2.64.0 and above)<br/><br/>Linux example:<br/><em>"
          '[{"Path":"/usr/bin", "Pattern":["aws*", "*ssm*"],"Recursive":false},{"Path":"/var/log", '
          '"Pattern":["amazon*.*"], "Recursive":true, "DirScanLimit":1000}]<br/></em><br/>Windows example:<br/><em>'
          '[{"Path":"%PROGRAMFILES%", "Pattern":["*.exe"],"Recursive":true}]</em><br/><br/>'
          f"Learn More: {_LEARN_MORE}  </p>")
_NEEDS_2_2_64 = "(Optional, Windows OS only, requires SSMAgent version 2.2.64.0 and above)"
_PARAMETERS: dict[str, dict[str, Any]] = {
    "applications": _switch("(Optional) Collect data for installed applications."),
    "awsComponents": _switch("(Optional) Collect data for AWS Components like amazon-ssm-agent."),
    "files": _text(_FILES),
    "networkConfig": _switch("(Optional) Collect data for Network configurations."),
    "windowsUpdates": _switch("(Optional, Windows OS only) Collect data for all Windows Updates."),
    "instanceDetailedInformation": _switch("(Optional) Collect additional information about the instance, including "
                                           "the CPU model, speed, and the number of cores, to name a few."),
    "services": _switch(f"{_NEEDS_2_2_64} Collect data for service configurations."),
    "windowsRegistry": _text(f"{_NEEDS_2_2_64} Windows registry configuration."),
    "windowsRoles": _switch(f"{_NEEDS_2_2_64} Collect data for Microsoft Windows role configurations."),
    "customInventory": _switch("(Optional) Collect data for custom inventory."),
    "billingInfo": _switch("(Optional) Collect billing info for license included applications."),
}

_GATHER_CONTENT = json.dumps({
    "schemaVersion": "2.0",
    "description": "Software Inventory Policy Document.",
    "parameters": _PARAMETERS,
    "mainSteps": [{
        "action": "aws:softwareInventory",
        "name": "collectSoftwareInventoryItems",
        "inputs": {name: f"{{{{ {name} }}}}" for name in _PARAMETERS},
    }],
}, indent=4, separators=(",", ":")) + "\n"

DOCUMENTS: dict[str, tuple[str, tuple[str, ...], dt.datetime]] = {
    # Inventory's files, services, roles and registry types (and these parameters) arrived on 2017-11-06.
    GATHER_SOFTWARE_INVENTORY: (_GATHER_CONTENT, ("Windows", "Linux", "MacOS"),
                                dt.datetime(2017, 11, 6, tzinfo=dt.UTC)),
}
