"""Amazon's AWS-GatherSoftwareInventory: schema 2.0, one aws:softwareInventory step, AWS's parameters."""

from __future__ import annotations

import json

from openssm.services import documents
from openssm.services.documents_builtin_inventory import DOCUMENTS


def test_gather_software_inventory_has_awss_parameters_and_one_software_inventory_step() -> None:
    text, platforms, _published = DOCUMENTS["AWS-GatherSoftwareInventory"]
    content = json.loads(text)
    parameters = ["applications", "awsComponents", "files", "networkConfig", "windowsUpdates",
                  "instanceDetailedInformation", "services", "windowsRegistry", "windowsRoles", "customInventory",
                  "billingInfo"]
    assert content["schemaVersion"] == "2.0" and list(content["parameters"]) == parameters
    (step,) = content["mainSteps"]
    assert (step["action"], step["name"]) == ("aws:softwareInventory", "collectSoftwareInventoryItems")
    assert step["inputs"] == {p: f"{{{{ {p} }}}}" for p in parameters}
    assert content["parameters"]["files"]["default"] == "" and content["parameters"]["files"]["displayType"] == \
        "textarea"
    assert content["parameters"]["billingInfo"] == {
        "type": "String", "default": "Enabled", "allowedValues": ["Enabled", "Disabled"],
        "description": "(Optional) Collect billing info for license included applications."}
    assert platforms == ("Windows", "Linux", "MacOS")


def test_gather_software_inventory_reads_as_a_command_document_for_every_platform() -> None:
    document = documents.built_in("AWS-GatherSoftwareInventory", "eu-west-1")
    assert document.owner == "Amazon" and document.parsed.platform_types == ("Windows", "Linux", "MacOS")
