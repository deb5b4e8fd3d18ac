"""PutInventory as AWS's agent sends it: each item's ContentHash is the base64 MD5 of its content as Go marshals
it, items unchanged since the service last took them go without their Content, the service's content-mismatch
answer brings everything again, and large AWS:File data goes in a call of its own."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openssm.agent.client import RoleCredentials, SsmCall, SsmClient, node_call
from openssm.agent.inventory import model
from openssm.agent.inventory.model import APPLICATION, FILE, Item, go_json
from openssm.agent.inventory.upload import ContentHashes, InventoryUploader
from openssm.agent.state import StateDir
from tests.support.agent_stub import INSTANCE_ID, StubAws

NOW = dt.datetime(2026, 12, 6, 14, 21, 28, 123000, tzinfo=dt.UTC)
CREDENTIALS = RoleCredentials("ASIAINVENTORYTEST001", "secret", "token", NOW + dt.timedelta(hours=1))


@pytest.fixture
def stub() -> Iterator[StubAws]:
    with StubAws() as running:
        yield running


def call_for(stub: StubAws) -> SsmCall:
    return node_call(SsmClient(stub.endpoint, "us-east-1"), lambda: CREDENTIALS)


def put_bodies(stub: StubAws) -> list[dict[str, Any]]:
    return [c.json() for c in stub.calls if c.target == "AmazonSSM.PutInventory"]


def md5_b64(text: str) -> str:
    return base64.b64encode(hashlib.md5(text.encode()).digest()).decode()


def application(name: str, version: str = "1.0") -> Item:
    return model.item(APPLICATION, (APPLICATION.entry(Name=name, Publisher="P <p@example.com>", Version=version,
                                                      Architecture="x86_64"),), NOW)


def test_the_content_hash_is_the_base64_md5_of_the_content_as_go_marshals_it() -> None:
    row = APPLICATION.entry(Name="a&b", Publisher="<me> \u2028é", Version="1", Architecture="all", Summary="")
    assert list(row) == ["Name", "Publisher", "Version", "Architecture"]  # struct order; empty optional ones left out
    go_text = '[{"Name":"a\\u0026b","Publisher":"\\u003cme\\u003e \\u2028é","Version":"1","Architecture":"all"}]'
    assert go_json([row]) == go_text
    item = model.item(APPLICATION, (row,), NOW)
    assert item.content_hash == md5_b64(go_text)
    assert item.capture_time == "2026-12-06T14:21:28Z"


def test_empty_content_hashes_as_gos_nil_slice_and_custom_rows_hash_with_sorted_keys() -> None:
    assert Item("AWS:Network", "1.0", "t").content_hash == md5_b64("null")
    custom = Item("Custom:Rack", "1.0", "t", ({"Rack": "r1", "Location": "dc1"},), sorted_keys=True)
    assert custom.content_hash == md5_b64('[{"Location":"dc1","Rack":"r1"}]')


def test_put_inventory_carries_every_item_with_its_content_hash_signed_as_the_node(
        stub: StubAws, tmp_path: Path) -> None:
    custom = Item("Custom:Rack", "1.0", "2026-12-06T14:21:28Z", ({"Rack": "r1", "Location": "dc1"},), sorted_keys=True)
    uploader = InventoryUploader(call_for(stub), INSTANCE_ID, ContentHashes(StateDir(tmp_path)), jitter_seconds=0)
    assert uploader.upload([application("hello"), custom]) == []
    (call,) = [c for c in stub.calls if c.target == "AmazonSSM.PutInventory"]
    assert call.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=ASIAINVENTORYTEST001/")
    assert call.headers["content-type"] == "application/x-amz-json-1.1"
    assert call.body == json.dumps({"InstanceId": INSTANCE_ID, "Items": [
        {"CaptureTime": "2026-12-06T14:21:28Z",
         "Content": [{"Architecture": "x86_64", "Name": "hello", "Publisher": "P <p@example.com>", "Version": "1.0"}],
         "ContentHash": application("hello").content_hash, "SchemaVersion": "1.1", "TypeName": "AWS:Application"},
        {"CaptureTime": "2026-12-06T14:21:28Z", "Content": [{"Location": "dc1", "Rack": "r1"}],
         "ContentHash": custom.content_hash, "SchemaVersion": "1.0", "TypeName": "Custom:Rack"},
    ]}, separators=(",", ":")).encode()


def test_unchanged_content_is_sent_as_its_hash_alone_and_changed_content_in_full(stub: StubAws, tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    uploader = InventoryUploader(call_for(stub), INSTANCE_ID, ContentHashes(state), jitter_seconds=0)
    uploader.upload([application("hello"), model.item(FILE, (), NOW)])
    uploader.upload([application("hello"), model.item(FILE, (), NOW)])
    uploader.upload([application("hello", "2.0"), model.item(FILE, (), NOW)])
    first, second, third = put_bodies(stub)
    assert [("Content" in i) for i in first["Items"]] == [True, True]
    assert second["Items"] == [{"CaptureTime": "2026-12-06T14:21:28Z", "ContentHash": application("hello").content_hash,
                                "SchemaVersion": "1.1", "TypeName": "AWS:Application"},
                               {"CaptureTime": "2026-12-06T14:21:28Z", "ContentHash": md5_b64("null"),
                                "SchemaVersion": "1.0", "TypeName": "AWS:File"}]
    assert [("Content" in i) for i in third["Items"]] == [True, False]
    assert json.loads((tmp_path / "inventory" / "contentHash").read_text()) == {
        "AWS:Application": application("hello", "2.0").content_hash, "AWS:File": md5_b64("null")}


def test_a_content_mismatch_answer_sends_everything_again_with_content(stub: StubAws, tmp_path: Path) -> None:
    uploader = InventoryUploader(call_for(stub), INSTANCE_ID, ContentHashes(StateDir(tmp_path)), jitter_seconds=0)
    uploader.upload([application("hello")])
    answers = iter([(400, {"__type": "ItemContentMismatchException", "Message": "hash unknown"}), (200, {})])
    stub.answers["AmazonSSM.PutInventory"] = lambda call: next(answers)
    assert uploader.upload([application("hello")]) == []
    bodies = put_bodies(stub)
    assert ["Content" in body["Items"][0] for body in bodies] == [True, False, True]


def test_a_refused_upload_is_reported_and_its_hashes_are_not_kept(stub: StubAws, tmp_path: Path) -> None:
    stub.answers["AmazonSSM.PutInventory"] = lambda call: (400, {"__type": "InvalidInventoryItemContextException",
                                                                 "message": "no"})
    uploader = InventoryUploader(call_for(stub), INSTANCE_ID, ContentHashes(StateDir(tmp_path)), jitter_seconds=0)
    assert uploader.upload([application("hello")]) == [
        "inventory data could not be uploaded to Systems Manager. Additional troubleshooting information - "
        "InvalidInventoryItemContextException: no"]
    del stub.answers["AmazonSSM.PutInventory"]
    uploader.upload([application("hello")])
    assert "Content" in put_bodies(stub)[-1]["Items"][0]


def test_more_than_a_mebibyte_with_file_data_sends_the_files_first_in_a_call_of_their_own(
        stub: StubAws, tmp_path: Path) -> None:
    rows = tuple(FILE.entry(Name=f"f{i}", Size="1", InstalledDir="/d" * 300) for i in range(2000))
    uploader = InventoryUploader(call_for(stub), INSTANCE_ID, ContentHashes(StateDir(tmp_path)), jitter_seconds=0)
    assert uploader.upload([application("hello"), model.item(FILE, rows, NOW)]) == []
    assert [[i["TypeName"] for i in body["Items"]] for body in put_bodies(stub)] == [["AWS:File"], ["AWS:Application"]]


def test_each_call_waits_a_random_time_under_the_jitter_bound(stub: StubAws, tmp_path: Path) -> None:
    waits: list[float] = []
    uploader = InventoryUploader(call_for(stub), INSTANCE_ID, ContentHashes(StateDir(tmp_path)), sleep=waits.append)
    uploader.upload([application("hello")])
    assert len(waits) == 1 and 0 <= waits[0] <= 30

