"""Amazon's documents for State Manager (AWS-RefreshAssociation):
name -> (content, platform types, when AWS published it).

AWS-RefreshAssociation is how State Manager asks a node to apply associations now: its one step,
aws:refreshAssociation, makes the agent call ListInstanceAssociations and run what it is answered. The content
follows AWS's published plugin reference (schema 2.0, one StringList parameter); its Hash is not checked
against AWS's."""

from __future__ import annotations

import datetime as dt
import json

REFRESH_ASSOCIATION = "AWS-RefreshAssociation"

_REFRESH_CONTENT = json.dumps({
    "schemaVersion": "2.0",
    "description": "State Manager Refresh Association",
    "parameters": {
        "associationIds": {
            "type": "StringList",
            "description": "(Optional) List of association IDs. If empty, all associations bound to the specified "
                           "target are applied.",
            "displayType": "textarea",
            "default": [],
        },
    },
    "mainSteps": [{
        "action": "aws:refreshAssociation",
        "name": "refreshAssociation",
        "inputs": {"associationIds": "{{ associationIds }}"},
    }],
}, indent=4, separators=(",", ":")) + "\n"

DOCUMENTS: dict[str, tuple[str, tuple[str, ...], dt.datetime]] = {
    REFRESH_ASSOCIATION: (_REFRESH_CONTENT, ("Windows", "Linux", "MacOS"), dt.datetime(2017, 6, 15, tzinfo=dt.UTC)),
}
