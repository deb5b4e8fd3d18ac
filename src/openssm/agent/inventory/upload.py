"""PutInventory as AWS's agent sends it (datauploader/uploader.go, optimizer.go; inventory.go uploadItemsToSSM).

Request (JSON 1.1 `AmazonSSM.PutInventory`, signed with the node's role credentials):
`{"InstanceId": "mi-…", "Items": [{"CaptureTime": "2006-01-02T15:04:05Z", "Content": [{attribute: value}],
"ContentHash": "<base64 MD5>", "SchemaVersion": "1.0", "TypeName": "AWS:Application"}]}`, each Content row's
attributes sorted (the SDK writes maps so).

Unchanged data is not sent again: an item whose ContentHash equals the one last accepted for its type (kept in
<state dir>/inventory/contentHash, a JSON map of type name to hash, as AWS's agent keeps it) goes without its
Content. If the service answers ItemContentMismatchException or InvalidItemContentException (it no longer has
that content) the same items are sent again, all with their Content. The hashes of the items of a call the
service took are kept. When the items come to more than 1 MiB and hold AWS:File, AWS:File goes in a call of its
own first. Each call waits a random 0-30 s first, so that a fleet's nodes do not all call at once."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from openssm.agent.client import CallFailed, SsmCall
from openssm.agent.inventory.model import FILE, Item, go_json
from openssm.agent.state import StateDir

log = logging.getLogger(__name__)
HASH_RECORD = "inventory/contentHash"
SPLIT_BYTES = 1024 * 1024
MAX_JITTER_SECONDS = 30.0
RESEND_WITH_CONTENT = frozenset({"ItemContentMismatchException", "InvalidItemContentException"})
UPLOAD_FAILED = "inventory data could not be uploaded to Systems Manager. Additional troubleshooting information - {}"
FILE_UPLOAD_FAILED = ("File inventory data could not be uploaded to Systems Manager. Additional troubleshooting "
                      "information - {}")


def wire_item(item: Item, with_content: bool) -> dict[str, Any]:
    """An InventoryItem of the request, its members in the SDK's order."""
    body: dict[str, Any] = {"CaptureTime": item.capture_time}
    if with_content:
        body["Content"] = [dict(sorted(row.items())) for row in item.content]
    body.update(ContentHash=item.content_hash, SchemaVersion=item.schema_version, TypeName=item.type_name)
    return body


class ContentHashes:
    """The content hash of each type as the service last accepted it."""

    def __init__(self, state: StateDir) -> None:
        self._state = state

    def known(self) -> dict[str, str]:
        """type name -> the hash the service last accepted for it (one read of the record)."""
        return {str(k): str(v) for k, v in (self._state.load(HASH_RECORD) or {}).items()}

    def accepted(self, items: Sequence[Item]) -> None:
        hashes = self._state.load(HASH_RECORD) or {}
        hashes.update({i.type_name: i.content_hash for i in items})
        self._state.save(HASH_RECORD, hashes)


class InventoryUploader:
    def __init__(self, call: SsmCall, instance_id: str, hashes: ContentHashes, *,
                 jitter_seconds: float = MAX_JITTER_SECONDS, sleep: Callable[[float], None] = time.sleep) -> None:
        self._call = call
        self._instance_id = instance_id
        self._hashes = hashes
        self._jitter = jitter_seconds
        self._sleep = sleep

    def upload(self, items: Sequence[Item]) -> list[str]:
        """Send the items; the reason for each call the service refused (none when all were taken)."""
        errors = []
        for group, template in self._groups(items):
            try:
                self._send(group)
            except CallFailed as err:
                log.warning("PutInventory failed: %s", err)
                errors.append(template.format(err))
        return errors

    def _groups(self, items: Sequence[Item]) -> list[tuple[list[Item], str]]:
        files = [i for i in items if i.type_name == FILE.name]
        others = [i for i in items if i.type_name != FILE.name]
        if files and others and len(go_json([wire_item(i, True) for i in items]).encode()) > SPLIT_BYTES:
            return [(files, FILE_UPLOAD_FAILED), (others, UPLOAD_FAILED)]
        return [(list(items), UPLOAD_FAILED)]

    def _send(self, items: list[Item]) -> None:
        try:
            known = self._hashes.known()
            self._put([wire_item(i, i.content_hash != known.get(i.type_name, "")) for i in items])
        except CallFailed as err:
            if err.code not in RESEND_WITH_CONTENT:
                raise
            log.info("the service lacks some unchanged inventory (%s): sending it all", err.code)
            self._put([wire_item(i, True) for i in items])
        self._hashes.accepted(items)

    def _put(self, wire_items: list[dict[str, Any]]) -> None:
        self._sleep(random.uniform(0, self._jitter))
        self._call("PutInventory", {"InstanceId": self._instance_id, "Items": wire_items})
