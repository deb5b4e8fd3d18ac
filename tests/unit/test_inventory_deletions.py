"""DeleteInventory and DescribeInventoryDeletions: a custom type's data, its schema options, dry runs, client
tokens, and AWS's summary per schema version."""

from __future__ import annotations

import pytest

from openssm.services import inventory_deletions, inventory_schemas
from openssm.services.inventory_deletions import Deletion, Summary, VersionCount
from openssm.services.inventory_model import InvalidDeleteParameters, InvalidDeletionId, InvalidTypeName
from tests.unit.test_inventory_fixtures import ACCOUNT, NOW, REGION, World, apps, item, new_world


@pytest.fixture
def world() -> World:
    w = new_world()
    a, b, c = w.add_nodes("Linux", "Linux", "Linux")
    w.put(a, item("Custom:Rack", [{"Location": "B1"}]), item(content=apps("bash")))
    w.put(b, item("Custom:Rack", [{"Location": "B2"}]))
    w.put(c, item("Custom:Rack", [{"Location": "C1"}, {"Location": "C2"}], version="2.0"))
    return w


def delete(w: World, type_name: str = "Custom:Rack", option: str | None = None, dry_run: bool = False,
           token: str | None = None) -> Deletion:
    with w.db.begin() as conn:
        return inventory_deletions.delete(conn, ACCOUNT, REGION, type_name, option, dry_run, token, NOW)


def custom_types(w: World) -> list[str]:
    with w.db.read() as conn:
        return [t.type_name for t in inventory_schemas.schemas(conn, ACCOUNT, REGION) if t.is_custom]


EVERY_RACK = Summary(3, 3, (VersionCount("1.0", 2, 2), VersionCount("2.0", 1, 1)))


def test_a_dry_run_answers_what_would_go_and_deletes_nothing(world: World) -> None:
    assert delete(world, dry_run=True) == Deletion(None, "Custom:Rack", EVERY_RACK)
    assert len(world.ids(result="Custom:Rack")) == 3


def test_deleting_a_types_data_keeps_its_schema_and_the_record_reads_complete(world: World) -> None:
    done = delete(world)
    # As AWS's answer does: what there was to delete (TotalCount and RemainingCount alike).
    assert done.deletion_id and done.summary == EVERY_RACK
    assert world.ids(result="Custom:Rack") == [] and len(world.ids(result="AWS:Application")) == 1
    assert custom_types(world) == ["Custom:Rack"]
    with world.db.read() as conn:
        (record,) = inventory_deletions.describe(conn, ACCOUNT, REGION, done.deletion_id, 0, 50).items
    assert (record.status, record.status_message, record.started_at) == ("Complete", "Deletion is successful", NOW)
    assert record.summary == Summary(3, 0, (VersionCount("1.0", 2, 0), VersionCount("2.0", 1, 0)))


def test_delete_schema_forgets_the_type_and_disable_schema_keeps_it_turned_off(world: World) -> None:
    delete(world, option="DisableSchema")
    assert custom_types(world) == ["Custom:Rack"]
    delete(world, option="DeleteSchema")
    assert custom_types(world) == []
    with pytest.raises(InvalidTypeName, match="does not exist"):
        delete(world)


def test_only_custom_types_can_be_deleted(world: World) -> None:
    with pytest.raises(InvalidTypeName, match="only Custom: types"):
        delete(world, "AWS:Application")


def test_a_client_token_answers_the_same_deletion_again(world: World) -> None:
    first = delete(world, token="5f2c1d9e-0000-4000-8000-000000000001")
    again = delete(world, token="5f2c1d9e-0000-4000-8000-000000000001")
    assert again.deletion_id == first.deletion_id and again.summary == EVERY_RACK
    with pytest.raises(InvalidDeleteParameters, match="Custom:Rack"):
        delete(world, "Custom:Other", token="5f2c1d9e-0000-4000-8000-000000000001")


def test_deletions_are_described_newest_first_a_page_at_a_time(world: World) -> None:
    first, second = delete(world), delete(world)
    with world.db.read() as conn:
        page = inventory_deletions.describe(conn, ACCOUNT, REGION, None, 0, 1)
        rest = inventory_deletions.describe(conn, ACCOUNT, REGION, None, 1, 1)
        with pytest.raises(InvalidDeletionId):
            inventory_deletions.describe(conn, ACCOUNT, REGION, "00000000-0000-4000-8000-000000000000", 0, 50)
    assert {page.items[0].deletion_id, rest.items[0].deletion_id} == {first.deletion_id, second.deletion_id}
    assert page.next_offset == 1 and rest.next_offset is None
