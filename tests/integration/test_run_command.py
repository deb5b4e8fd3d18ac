"""Run Command end to end: a real server, real `openssm agent` processes enrolled by activation and holding
their own control channels, driven by boto3 and the aws CLI."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.agents import AgentProcess, node_role, wait_invocation
from tests.support.iam import allow, user_with_policy
from tests.support.server import ServerProcess


def send(server: ServerProcess, commands: list[str], **extra: object) -> str:
    target = extra.pop("instance_ids", None)
    sent = server.client("ssm").send_command(DocumentName="AWS-RunShellScript", Parameters={"commands": commands},
                                             **({"InstanceIds": target} if target else {}), **extra)
    return str(sent["Command"]["CommandId"])


def test_a_command_runs_on_the_node_and_its_output_comes_back(server: ServerProcess, agent: AgentProcess) -> None:
    command_id = send(server, ["echo hello-from-node", "uname -s"], instance_ids=[agent.instance_id],
                      Comment="smoke")
    result = wait_invocation(server, command_id, agent.instance_id)
    assert (result["Status"], result["StatusDetails"], result["ResponseCode"]) == ("Success", "Success", 0)
    assert result["StandardOutputContent"] == "hello-from-node\nLinux\n"
    assert result["PluginName"] == "aws:runShellScript" and result["Comment"] == "smoke"
    listed = server.client("ssm").list_commands(CommandId=command_id)["Commands"][0]
    assert (listed["Status"], listed["TargetCount"], listed["CompletedCount"], listed["ErrorCount"]) == (
        "Success", 1, 1, 0)
    assert listed["Parameters"]["commands"] == ["echo hello-from-node", "uname -s"]


def test_scripts_see_the_variables_awss_agent_sets(server: ServerProcess, agent: AgentProcess) -> None:
    command_id = send(server, ["echo $SSM_COMMAND_ID $AWS_SSM_INSTANCE_ID $AWS_SSM_REGION_NAME"],
                      instance_ids=[agent.instance_id])
    result = wait_invocation(server, command_id, agent.instance_id)
    assert result["StandardOutputContent"] == f"{command_id} {agent.instance_id} {server.region}\n"


def test_powershell_on_a_linux_node_runs_only_where_powershell_core_is(server: ServerProcess,
                                                                         agent: AgentProcess) -> None:
    sent = server.client("ssm").send_command(DocumentName="AWS-RunPowerShellScript", InstanceIds=[agent.instance_id],
                                             Parameters={"commands": ["Write-Output 7"]})
    result = wait_invocation(server, sent["Command"]["CommandId"], agent.instance_id)
    assert result["PluginName"] == "aws:runPowerShellScript"
    if shutil.which("pwsh"):  # AWS's agent runs it with PowerShell Core; so does ours
        assert (result["Status"], result["StandardOutputContent"]) == ("Success", "7\n")
    else:
        assert result["Status"] == "Failed"
        assert result["StandardErrorContent"].startswith(
            "Plugin with name aws:runPowerShellScript is not supported in current platform.")


def test_a_failing_command_reports_its_exit_code_and_stderr(server: ServerProcess, agent: AgentProcess) -> None:
    command_id = send(server, ["echo oops >&2", "exit 3"], instance_ids=[agent.instance_id])
    result = wait_invocation(server, command_id, agent.instance_id)
    assert (result["Status"], result["ResponseCode"], result["StandardErrorContent"]) == ("Failed", 3, "oops\n")
    listed = server.client("ssm").list_commands(CommandId=command_id)["Commands"][0]
    assert (listed["Status"], listed["ErrorCount"]) == ("Failed", 1)


def test_commands_reach_nodes_by_tag_and_long_output_is_cut_as_aws_cuts_it(
        server: ServerProcess, agent: AgentProcess) -> None:
    ssm = server.client("ssm")
    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=agent.instance_id,
                             Tags=[{"Key": "role", "Value": "web"}])
    sent = ssm.send_command(DocumentName="AWS-RunShellScript", Targets=[{"Key": "tag:role", "Values": ["web"]}],
                            Parameters={"commands": ["head -c 30000 /dev/zero | tr '\\0' x"]})["Command"]
    assert sent["InstanceIds"] == [agent.instance_id] and sent["TargetCount"] == 1
    result = wait_invocation(server, sent["CommandId"], agent.instance_id)
    assert result["StandardOutputContent"] == "x" * 24000 + "--output truncated--"
    details = ssm.list_command_invocations(CommandId=sent["CommandId"], Details=True)["CommandInvocations"][0]
    assert details["CommandPlugins"][0]["Output"] == "x" * 2500 + "--output truncated--"


def test_a_command_sent_while_the_node_is_away_is_delivered_when_it_returns(
        server: ServerProcess, agent: AgentProcess) -> None:
    agent.stop()
    command_id = send(server, ["echo late"], instance_ids=[agent.instance_id])
    time.sleep(1)
    assert server.client("ssm").get_command_invocation(CommandId=command_id, InstanceId=agent.instance_id)[
        "Status"] == "Pending"
    agent.start()
    assert wait_invocation(server, command_id, agent.instance_id)["StandardOutputContent"] == "late\n"


def test_a_command_not_delivered_within_its_timeout_seconds_times_out(
        server: ServerProcess, agent: AgentProcess) -> None:
    agent.stop()
    ssm = server.client("ssm")
    command_id = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[agent.instance_id],
                                  TimeoutSeconds=30, Parameters={"commands": ["echo never"]})["Command"]["CommandId"]
    deadline = time.monotonic() + 60
    while ssm.get_command_invocation(CommandId=command_id, InstanceId=agent.instance_id)["Status"] == "Pending":
        assert time.monotonic() < deadline, "still Pending a minute after its 30 s delivery timeout"
        time.sleep(1)
    result = ssm.get_command_invocation(CommandId=command_id, InstanceId=agent.instance_id)
    assert (result["Status"], result["StatusDetails"]) == ("TimedOut", "DeliveryTimedOut")
    (command,) = ssm.list_commands(CommandId=command_id)["Commands"]
    assert (command["Status"], command["StatusDetails"]) == ("TimedOut", "DeliveryTimedOut")
    assert (command["DeliveryTimedOutCount"], command["ErrorCount"], command["CompletedCount"]) == (1, 0, 1)
    agent.start()  # it is not sent the command when it returns
    marker = send(server, ["echo back"], instance_ids=[agent.instance_id])
    assert wait_invocation(server, marker, agent.instance_id)["StandardOutputContent"] == "back\n"
    assert ssm.get_command_invocation(CommandId=command_id, InstanceId=agent.instance_id)["StatusDetails"] == \
        "DeliveryTimedOut"


def test_an_agent_killed_mid_command_never_runs_it_twice(
        server: ServerProcess, agent: AgentProcess, tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    command_id = send(server, ["sleep 3", f"echo ran >> {marker}"], instance_ids=[agent.instance_id])
    wait_invocation(server, command_id, agent.instance_id, final=False)
    time.sleep(1)
    agent.stop(kill=True)
    agent.start()
    result = wait_invocation(server, command_id, agent.instance_id)
    time.sleep(3)  # the first run's shell, in its own process group, outlives the killed agent and finishes
    assert marker.read_text() == "ran\n"
    assert result["Status"] == "Failed"


def test_the_aws_cli_sends_and_reads_a_command(server: ServerProcess, agent: AgentProcess) -> None:
    sent = server.aws_json("ssm", "send-command", "--document-name", "AWS-RunShellScript", "--instance-ids",
                           agent.instance_id, "--parameters", 'commands=["echo via-cli"]')["Command"]
    wait_invocation(server, sent["CommandId"], agent.instance_id)
    got = server.aws_json("ssm", "get-command-invocation", "--command-id", sent["CommandId"], "--instance-id",
                          agent.instance_id)
    assert got["StandardOutputContent"] == "via-cli\n" and got["Status"] == "Success"


def test_bad_documents_parameters_targets_and_a_denied_user_get_aws_errors(
        server: ServerProcess, agent: AgentProcess) -> None:
    ssm = server.client("ssm")
    cases = [
        (dict(DocumentName="No-Such-Doc", InstanceIds=[agent.instance_id]), "InvalidDocument"),
        (dict(DocumentName="AWS-RunShellScript", InstanceIds=[agent.instance_id], Parameters={"commandz": ["x"]}),
         "InvalidParameters"),
        (dict(DocumentName="AWS-RunShellScript", InstanceIds=[agent.instance_id],
              Parameters={"commands": ["x"], "executionTimeout": ["0"]}), "InvalidParameters"),
        (dict(DocumentName="AWS-RunShellScript", InstanceIds=["mi-00000000000000000"],
              Parameters={"commands": ["x"]}), "InvalidInstanceId"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ClientError) as err:
            ssm.send_command(**kwargs)
        assert err.value.response["Error"]["Code"] == code, kwargs
    with pytest.raises(ClientError) as err:
        ssm.get_command_invocation(CommandId="11111111-2222-3333-4444-555555555555", InstanceId=agent.instance_id)
    assert err.value.response["Error"]["Code"] == "InvalidCommandId"
    _, reader = user_with_policy(server, allow("ssm:List*"))
    with pytest.raises(ClientError) as err:
        server.client("ssm", reader).send_command(DocumentName="AWS-RunShellScript", InstanceIds=[agent.instance_id],
                                                  Parameters={"commands": ["id"]})
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"


def test_max_concurrency_1_runs_on_two_real_nodes_one_after_the_other(
        server: ServerProcess, agent: AgentProcess, tmp_path: Path) -> None:
    other = AgentProcess(server, tmp_path / "agent-2").register().start()
    try:
        other.wait_online()
        log = tmp_path / "timeline"
        sent = server.client("ssm").send_command(
            DocumentName="AWS-RunShellScript", InstanceIds=[agent.instance_id, other.instance_id],
            MaxConcurrency="1", Parameters={"commands": [f"echo start $(date +%s.%N) >> {log}", "sleep 1",
                                                         f"echo end $(date +%s.%N) >> {log}"]})["Command"]
        for node in (agent, other):
            assert wait_invocation(server, sent["CommandId"], node.instance_id)["Status"] == "Success"
        events = [line.split() for line in log.read_text().splitlines()]
        assert [kind for kind, _ in events] == ["start", "end", "start", "end"]
        assert float(events[1][1]) <= float(events[2][1])
        listed = server.client("ssm").list_commands(CommandId=sent["CommandId"])["Commands"][0]
        assert (listed["Status"], listed["CompletedCount"], listed["MaxConcurrency"]) == ("Success", 2, "1")
    finally:
        other.stop()


def test_cancel_stops_a_running_command_on_the_node(server: ServerProcess, agent: AgentProcess,
                                                   tmp_path: Path) -> None:
    marker = tmp_path / "finished"
    command_id = send(server, ["sleep 20", f"touch {marker}"], instance_ids=[agent.instance_id])
    wait_invocation(server, command_id, agent.instance_id, final=False)
    time.sleep(1)
    server.client("ssm").cancel_command(CommandId=command_id)
    result = wait_invocation(server, command_id, agent.instance_id)
    assert (result["Status"], result["StatusDetails"]) == ("Cancelled", "Cancelled")
    assert server.client("ssm").list_commands(CommandId=command_id)["Commands"][0]["Status"] == "Cancelled"
    assert not marker.exists()


def test_a_server_restarted_mid_command_loses_nothing(server: ServerProcess, agent: AgentProcess) -> None:
    command_id = send(server, ["sleep 2", "echo survived"], instance_ids=[agent.instance_id])
    wait_invocation(server, command_id, agent.instance_id, final=False)
    server.stop()
    server.start()
    result = wait_invocation(server, command_id, agent.instance_id, timeout=90)
    assert (result["Status"], result["StandardOutputContent"]) == ("Success", "survived\n")


def test_service_role_and_notification_config_are_checked_and_kept(server: ServerProcess,
                                                                     agent: AgentProcess) -> None:
    ssm = server.client("ssm")
    account = server.client("sts").get_caller_identity()["Account"]
    role = f"arn:aws:iam::{account}:role/{node_role(server)}"
    topic = f"arn:aws:sns:{server.region}:{account}:run-command-events"
    config = {"NotificationArn": topic, "NotificationEvents": ["Success", "Failed"], "NotificationType": "Command"}
    sent = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[agent.instance_id],
                            Parameters={"commands": ["true"]}, ServiceRoleArn=role, NotificationConfig=config)
    listed = ssm.list_commands(CommandId=sent["Command"]["CommandId"])["Commands"][0]
    assert listed["ServiceRole"] == role and listed["NotificationConfig"] == config
    cases = [
        (dict(ServiceRoleArn="arn:aws:iam::999999999999:role/Elsewhere"), "InvalidRole"),
        (dict(ServiceRoleArn=f"arn:aws:iam::{account}:role/NoSuchRole"), "InvalidRole"),
        (dict(NotificationConfig=config), "InvalidNotificationConfig"),
        (dict(ServiceRoleArn=role, NotificationConfig={**config, "NotificationArn": "arn:aws:sqs:x"}),
         "InvalidNotificationConfig"),
    ]
    for extra, code in cases:
        with pytest.raises(ClientError) as err:
            ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[agent.instance_id],
                             Parameters={"commands": ["true"]}, **extra)
        assert err.value.response["Error"]["Code"] == code, extra
