"""Run Command message ids as AWS's agent reads them (runcommand/contracts GetCommandID: the second-to-last
dot-separated part of aws.ssm.<command id>.<instance id>)."""

from __future__ import annotations

from openssm.protocol import message_ids
from openssm.services import command_delivery

COMMAND = "2b196342-d7d4-436e-8f09-3883a1116ac3"
NODE = "mi-0123456789abcdef0"


def test_a_jobs_id_is_awss_message_id_and_gives_its_command_back() -> None:
    job_id = message_ids.run_command_message_id(COMMAND, NODE)
    assert job_id == f"aws.ssm.{COMMAND}.{NODE}"
    assert message_ids.command_id_of(job_id) == COMMAND
    assert message_ids.parse(job_id) == (COMMAND, NODE)
    assert message_ids.command_id_of(f"aws.ssm.{COMMAND}.i-57c0a7be") == COMMAND  # AWS's own example's shape


def test_a_bare_or_malformed_id_is_not_taken_apart() -> None:
    assert message_ids.command_id_of(COMMAND) == COMMAND
    assert message_ids.parse(COMMAND) is None
    assert message_ids.parse(f"aws.ssm.{COMMAND}.not-a-node") is None
    assert message_ids.parse(f"aws.ssm.x.{NODE}") is None


def test_a_cancel_has_an_id_of_the_same_shape_stable_per_command_and_node() -> None:
    cancel = message_ids.cancel_message_id(COMMAND, NODE)
    parsed = message_ids.parse(cancel)
    assert parsed is not None and parsed[1] == NODE and parsed[0] != COMMAND
    assert cancel == message_ids.cancel_message_id(COMMAND, NODE)
    assert cancel != message_ids.cancel_message_id(COMMAND, "mi-0123456789abcdef1")


def test_the_service_sends_each_node_its_own_job_id_and_the_same_content() -> None:
    one, two = (command_delivery.agent_job(COMMAND, node, "{}") for node in (NODE, "mi-0123456789abcdef1"))
    assert (one.job_id, two.job_id) == (f"aws.ssm.{COMMAND}.{NODE}", f"aws.ssm.{COMMAND}.mi-0123456789abcdef1")
    assert one.content == two.content
