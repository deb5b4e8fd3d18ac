"""Default Host Management's rules: registering an instance's key, the default role's credentials, cutting
nodes off when the setting changes, and the minimum agent version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from openssm.errors import AccessDenied, ValidationError
from openssm.iam.accounts import create_account
from openssm.iam.roles import NewRole, create_role
from openssm.iam.sessions import resolve_session_credential
from openssm.services import default_host_management as dhmc
from openssm.services import instances, service_settings
from openssm.services.default_host_management import InstanceAlreadyRegistered
from openssm.services.service_settings import DHMC_SETTING, SettingScope
from openssm.store.db import open_database
from openssm.types import AccountId
from tests.unit.test_ec2_instances import BOX, trust

ACCOUNT, REGION, NODE = "111122223333", "eu-west-1", "i-0123456789abcdef0"
NOW = dt.datetime(2026, 12, 6, 15, 0, tzinfo=dt.UTC)
ROLE = "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"


@pytest.fixture
def conn() -> Iterator[Connection]:
    db = open_database("sqlite://")
    with db.begin() as connection:
        create_account(connection, "lab", "lab@example.com", NOW, AccountId(ACCOUNT))
        create_role(connection, ACCOUNT, NewRole("AWSSystemsManagerDefaultEC2InstanceManagementRole",
                                                 trust("ssm.amazonaws.com"), path="/service-role/"), NOW)
        create_role(connection, ACCOUNT, NewRole("Other", trust("ssm.amazonaws.com")), NOW)
        yield connection


def enable(conn: Connection, role: str = ROLE, region: str = REGION) -> None:
    service_settings.update(conn, SettingScope(ACCOUNT, region), DHMC_SETTING, role, "admin", NOW, lambda _: None)


def registered(conn: Connection, key: str = "KEY-A") -> instances.NodeKey:
    dhmc.register(conn, ACCOUNT, REGION, NODE, key, NODE, NOW)
    found = instances.node_key(conn, NODE)
    assert found is not None
    return found


def test_registering_again_with_the_same_key_changes_nothing_and_another_key_is_refused(conn: Connection) -> None:
    first = registered(conn)
    assert registered(conn) == first
    with pytest.raises(InstanceAlreadyRegistered, match="Deregister it"):
        dhmc.register(conn, ACCOUNT, REGION, NODE, "KEY-B", NODE, NOW)
    instances.deregister(conn, ACCOUNT, REGION, NODE)
    assert registered(conn, "KEY-B").public_key == "KEY-B"  # deregistered, it may enrol anew


def test_a_fingerprint_belongs_to_one_instance(conn: Connection) -> None:
    registered(conn)
    with pytest.raises(ValidationError, match="already registered"):
        dhmc.register(conn, ACCOUNT, REGION, "i-0000000000000000f", "KEY-C", NODE, NOW)


def test_the_default_role_must_be_enabled_here_and_assumable_by_ssm(conn: Connection) -> None:
    with pytest.raises(AccessDenied, match=f"not enabled in account {ACCOUNT} in {REGION}"):
        dhmc.default_role(conn, ACCOUNT, REGION)
    enable(conn, region="us-east-1")
    with pytest.raises(AccessDenied, match="not enabled"):
        dhmc.default_role(conn, ACCOUNT, REGION)
    enable(conn)
    assert dhmc.default_role(conn, ACCOUNT, REGION).name == "AWSSystemsManagerDefaultEC2InstanceManagementRole"


def test_a_token_names_the_instance_and_changing_the_default_role_revokes_it(conn: Connection) -> None:
    enable(conn)
    node = registered(conn)
    creds = dhmc.issue_token(conn, BOX, node, dhmc.default_role(conn, ACCOUNT, REGION), NOW)
    resolved = resolve_session_credential(conn, BOX, creds.access_key_id)
    assert resolved is not None and resolved.caller.instance_id == NODE
    assert resolved.caller.arn.endswith(f":assumed-role/AWSSystemsManagerDefaultEC2InstanceManagementRole/{NODE}")
    instances.heartbeat(conn, ACCOUNT, REGION, NODE, {}, NOW)
    assert instances.get(conn, ACCOUNT, REGION, NODE, NOW).iam_role == ROLE  # type: ignore[union-attr]

    assert dhmc.cut_off(conn, ACCOUNT, REGION, "Other", NOW) == []  # not the role it was given
    assert dhmc.cut_off(conn, ACCOUNT, REGION, ROLE, NOW) == [NODE]
    assert resolve_session_credential(conn, BOX, creds.access_key_id) is None
    assert instances.get(conn, ACCOUNT, REGION, NODE, NOW).ping_status == "ConnectionLost"  # type: ignore[union-attr]
    assert instances.cut_off_among(conn, [NODE, "mi-00000000000000000"]) == [NODE]

    dhmc.issue_token(conn, BOX, node, dhmc.default_role(conn, ACCOUNT, REGION), NOW)  # enabled again
    assert instances.get(conn, ACCOUNT, REGION, NODE, NOW).ping_status == "Online"  # type: ignore[union-attr]
    assert instances.cut_off_among(conn, [NODE]) == []


def test_an_instance_is_listed_once_it_has_reported(conn: Connection) -> None:
    registered(conn)
    assert instances.describe(conn, ACCOUNT, REGION, NOW) == []
    instances.heartbeat(conn, ACCOUNT, REGION, NODE, {"AgentVersion": "3.3.0.0"}, NOW)
    [node] = instances.describe(conn, ACCOUNT, REGION, NOW)
    assert node.resource_type == "EC2Instance" and node.ping_status == "Online"


def test_enrolment_by_profile_takes_back_a_deregistered_instance(conn: Connection) -> None:
    dhmc.enrol_by_profile(conn, ACCOUNT, REGION, NODE, "WebServer", NOW)
    instances.deregister(conn, ACCOUNT, REGION, NODE)
    dhmc.enrol_by_profile(conn, ACCOUNT, REGION, NODE, "WebServer", NOW)
    assert instances.get(conn, ACCOUNT, REGION, NODE, NOW).iam_role == "WebServer"  # type: ignore[union-attr]
    assert registered(conn).public_key == "KEY-A"  # and it may still register a key for Default Host Management


@pytest.mark.parametrize(("user_agent", "version"), [
    ("aws-sdk-go/1.51.21 (go1.22.4; linux; amd64) amazon-ssm-agent/3.3.1142.0", "3.3.1142.0"),
    ("openssm-agent/3.3.0.0", "3.3.0.0"),
    ("aws-cli/1.36.0 Python/3.11.2", None),
])
def test_the_agent_version_is_read_from_the_user_agent(user_agent: str, version: str | None) -> None:
    assert dhmc.agent_version_of(user_agent) == version


def test_agents_older_than_the_minimum_or_unnamed_are_refused() -> None:
    dhmc.check_agent_version("3.2.582.0", "3.2.582.0")
    dhmc.check_agent_version("3.10.0.0", "3.2.582.0")  # compared as numbers, not text
    with pytest.raises(AccessDenied, match="3.2.581.9 is older than 3.2.582.0"):
        dhmc.check_agent_version("3.2.581.9", "3.2.582.0")
    with pytest.raises(AccessDenied, match="does not name its agent"):
        dhmc.check_agent_version(None, "3.2.582.0")


def test_a_released_instance_may_register_another_key_and_its_credentials_end(conn: Connection) -> None:
    enable(conn)
    node = registered(conn)
    creds = dhmc.issue_token(conn, BOX, node, dhmc.default_role(conn, ACCOUNT, REGION), NOW)
    assert dhmc.release(conn, NODE) and not dhmc.release(conn, NODE)
    assert resolve_session_credential(conn, BOX, creds.access_key_id) is None
    assert registered(conn, "KEY-B").public_key == "KEY-B"
    assert not dhmc.release(conn, "mi-0123456789abcdef0")  # hybrid nodes are deregistered through the API
