"""Maintenance Windows through a real server, boto3 and the aws CLI: a window scheduled with at() a few
seconds ahead runs two RUN_COMMAND tasks of different priority on a real agent, in order, visible through
every describe/get call; a server restarted across an occurrence neither skips nor doubles it, and starts
nothing for one whose cutoff passed while it was down; bad schedules, durations, targets and task types get
AWS's errors; IAM decides on the window's ARN."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from openssm.store.db import open_database
from openssm.store.tables.maintenance_windows import windows
from tests.support.agents import AgentProcess
from tests.support.iam import allow, user_with_policy
from tests.support.server import ServerProcess

FINAL = ("SUCCESS", "FAILED", "TIMED_OUT", "CANCELLED", "SKIPPED_OVERLAPPING")


def name() -> str:
    return f"mw-{uuid.uuid4().hex[:10]}"


def at_in(seconds: int) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})"


def error(call: Any, **kw: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kw)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def wait_execution(ssm: Any, window_id: str, timeout: float = 90) -> dict[str, Any]:
    """The window's one execution, once it has ended."""
    deadline = time.monotonic() + timeout
    while True:
        found = ssm.describe_maintenance_window_executions(WindowId=window_id)["WindowExecutions"]
        if found and found[0]["Status"] in FINAL:
            return dict(found[0])
        assert time.monotonic() < deadline, f"the window's execution is not over: {found}"
        time.sleep(0.5)


def script_task(ssm: Any, window_id: str, target_id: str, priority: int, script: str) -> str:
    return str(ssm.register_task_with_maintenance_window(
        WindowId=window_id, TaskArn="AWS-RunShellScript", TaskType="RUN_COMMAND", Priority=priority,
        Targets=[{"Key": "WindowTargetIds", "Values": [target_id]}], MaxConcurrency="1", MaxErrors="0",
        TaskInvocationParameters={"RunCommand": {"Parameters": {"commands": [script]}, "TimeoutSeconds": 60,
                                                 "Comment": f"priority {priority}"}})["WindowTaskId"])


def test_a_window_runs_its_tasks_by_priority_on_a_real_agent(server: ServerProcess, agent: AgentProcess,
                                                             tmp_path: Path) -> None:
    ssm, mark = server.client("ssm"), uuid.uuid4().hex[:12]
    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=agent.instance_id,
                             Tags=[{"Key": "mw", "Value": mark}])
    log = tmp_path / "order.log"
    window_id = ssm.create_maintenance_window(Name=name(), Schedule=at_in(6), Duration=1, Cutoff=0,
                                              AllowUnassociatedTargets=False)["WindowId"]
    target_id = ssm.register_target_with_maintenance_window(
        WindowId=window_id, ResourceType="INSTANCE", Targets=[{"Key": "tag:mw", "Values": [mark]}],
        OwnerInformation="team-a")["WindowTargetId"]
    second = script_task(ssm, window_id, target_id, 2, f"echo second >> {log}")
    first = script_task(ssm, window_id, target_id, 1, f"echo first >> {log}; sleep 2; echo first-done >> {log}")
    assert ssm.get_maintenance_window(WindowId=window_id)["NextExecutionTime"].endswith("Z")
    (scheduled,) = ssm.describe_maintenance_window_schedule(WindowId=window_id)["ScheduledWindowExecutions"]
    assert scheduled["WindowId"] == window_id
    (for_node,) = ssm.describe_maintenance_windows_for_target(
        Targets=[{"Key": "InstanceIds", "Values": [agent.instance_id]}], ResourceType="INSTANCE")["WindowIdentities"]
    assert for_node["WindowId"] == window_id

    execution = wait_execution(ssm, window_id)
    assert execution["Status"] == "SUCCESS", execution
    assert log.read_text() == "first\nfirst-done\nsecond\n"  # priority 2 started once priority 1 had ended
    got = ssm.get_maintenance_window_execution(WindowExecutionId=execution["WindowExecutionId"])
    tasks = ssm.describe_maintenance_window_execution_tasks(
        WindowExecutionId=execution["WindowExecutionId"])["WindowExecutionTaskIdentities"]
    assert [t["Status"] for t in tasks] == ["SUCCESS", "SUCCESS"] and set(got["TaskIds"]) == {
        t["TaskExecutionId"] for t in tasks}
    (p1,) = [t for t in tasks if t["StartTime"] == min(x["StartTime"] for x in tasks)]
    task = ssm.get_maintenance_window_execution_task(WindowExecutionId=execution["WindowExecutionId"],
                                                     TaskId=p1["TaskExecutionId"])
    assert (task["Priority"], task["Type"], task["TaskArn"]) == (1, "RUN_COMMAND", "AWS-RunShellScript")
    (invocation,) = ssm.describe_maintenance_window_execution_task_invocations(
        WindowExecutionId=execution["WindowExecutionId"], TaskId=p1["TaskExecutionId"])[
        "WindowExecutionTaskInvocationIdentities"]
    assert (invocation["Status"], invocation["WindowTargetId"], invocation["OwnerInformation"]) == (
        "SUCCESS", target_id, "team-a")
    assert json.loads(invocation["Parameters"])["instanceIds"] == [agent.instance_id]
    output = ssm.get_command_invocation(CommandId=invocation["ExecutionId"], InstanceId=agent.instance_id)
    assert output["Status"] == "Success" and output["Comment"] == "priority 1"
    assert ssm.get_maintenance_window_execution_task_invocation(
        WindowExecutionId=execution["WindowExecutionId"], TaskId=p1["TaskExecutionId"],
        InvocationId=invocation["InvocationId"])["ExecutionId"] == invocation["ExecutionId"]
    listed = server.aws_json("ssm", "describe-maintenance-window-tasks", "--window-id", window_id)["Tasks"]
    assert sorted((t["WindowTaskId"], t["Priority"]) for t in listed) == sorted([(first, 1), (second, 2)])
    assert "NextExecutionTime" not in ssm.get_maintenance_window(WindowId=window_id)  # an at() runs once


def _set_next_run(server: ServerProcess, window_id: str, when: dt.datetime) -> None:
    """While the server is down, the window's stored next occurrence is moved back, as if it had been down
    since then."""
    db = open_database(f"sqlite:///{server.data_dir / 'openssm.db'}")
    with db.begin() as conn:
        conn.execute(sa.update(windows).where(windows.c.window_id == window_id).values(next_run_at=when))
    db.dispose()


def test_a_restart_across_an_occurrence_neither_skips_nor_doubles_it(
        fresh_server: Callable[..., ServerProcess]) -> None:
    server = fresh_server()
    ssm = server.client("ssm")
    window_id = ssm.create_maintenance_window(Name=name(), Schedule=at_in(5), Duration=1, Cutoff=0,
                                              AllowUnassociatedTargets=True)["WindowId"]
    server.stop()
    time.sleep(6)  # the occurrence passes while no server runs
    server.start()
    execution = wait_execution(ssm, window_id, timeout=30)
    assert execution["Status"] == "SUCCESS"  # no tasks: the execution ends at once
    server.stop()
    server.start()
    time.sleep(3)  # a few scheduler passes
    assert len(ssm.describe_maintenance_window_executions(WindowId=window_id)["WindowExecutions"]) == 1


def test_an_occurrence_whose_cutoff_passed_while_the_server_was_down_starts_nothing(
        fresh_server: Callable[..., ServerProcess]) -> None:
    server = fresh_server()
    ssm = server.client("ssm")
    now = dt.datetime.now(dt.UTC)
    hour = (now.hour + 12) % 24  # a daily window half a day away from now
    window_id = ssm.create_maintenance_window(Name=name(), Schedule=f"cron(0 {hour} ? * * *)", Duration=2, Cutoff=1,
                                              AllowUnassociatedTargets=True)["WindowId"]
    upcoming = ssm.get_maintenance_window(WindowId=window_id)["NextExecutionTime"]
    server.stop()
    missed = dt.datetime.fromisoformat(upcoming.replace("Z", "+00:00")) - dt.timedelta(days=1)
    _set_next_run(server, window_id, missed)  # ~12 hours ago: its cutoff (1 hour in) is long past
    server.start()
    time.sleep(4)
    assert ssm.describe_maintenance_window_executions(WindowId=window_id)["WindowExecutions"] == []
    assert ssm.get_maintenance_window(WindowId=window_id)["NextExecutionTime"] == upcoming


def test_bad_windows_targets_and_tasks_get_awss_errors(server: ServerProcess) -> None:
    ssm = server.client("ssm")
    good = {"Name": name(), "Schedule": "cron(0 2 ? * SUN *)", "Duration": 2, "Cutoff": 1,
            "AllowUnassociatedTargets": False}
    for changes, words in (({"Schedule": "cron(0 2 * * * *)"}, "Invalid schedule expression"),
                           ({"Schedule": "rate(2 fortnights)"}, "Invalid schedule expression"),
                           ({"Cutoff": 2}, "must be less than the Duration"),
                           ({"ScheduleTimezone": "Nowhere/Land"}, "Invalid ScheduleTimezone"),
                           ({"Schedule": "rate(1 day)", "ScheduleOffset": 2}, "ScheduleOffset"),
                           ({"StartDate": "2030-01-02T00:00:00Z", "EndDate": "2030-01-01T00:00:00Z"}, "EndDate")):
        code, message = error(ssm.create_maintenance_window, **{**good, **changes})
        assert code == "ValidationException" and words in message, (changes, message)
    assert error(ssm.create_maintenance_window, **{**good, "Duration": 25})[0] == "ValidationException"
    assert error(ssm.get_maintenance_window, WindowId="mw-0123456789abcdef0")[0] == "DoesNotExistException"
    window_id = ssm.create_maintenance_window(**good, ClientToken="t-" + good["Name"])["WindowId"]
    assert ssm.create_maintenance_window(**good, ClientToken="t-" + good["Name"])["WindowId"] == window_id
    assert error(ssm.create_maintenance_window, **{**good, "Duration": 3}, ClientToken="t-" + good["Name"])[0] == \
        "IdempotentParameterMismatch"
    code, message = error(ssm.register_target_with_maintenance_window, WindowId=window_id,
                          ResourceType="RESOURCE_GROUP", Targets=[{"Key": "resource-groups:Name", "Values": ["g"]}])
    assert code == "ValidationException" and "resource groups" in message
    target_id = ssm.register_target_with_maintenance_window(
        WindowId=window_id, ResourceType="INSTANCE", Targets=[{"Key": "tag:env", "Values": ["prod"]}])["WindowTargetId"]
    code, message = error(ssm.register_task_with_maintenance_window, WindowId=window_id, TaskType="LAMBDA",
                          TaskArn="arn:aws:lambda:us-east-1:123456789012:function:f",
                          Targets=[{"Key": "WindowTargetIds", "Values": [target_id]}])
    assert code == "FeatureNotAvailableException" and "RUN_COMMAND" in message
    code, _ = error(ssm.register_task_with_maintenance_window, WindowId=window_id, TaskType="RUN_COMMAND",
                    TaskArn="AWS-RunShellScript", MaxConcurrency="1", MaxErrors="0",
                    Targets=[{"Key": "InstanceIds", "Values": ["mi-0123456789abcdef0"]}])
    assert code == "ValidationException"  # the window allows no unassociated targets
    script_task(ssm, window_id, target_id, 1, "true")
    assert error(ssm.deregister_target_from_maintenance_window, WindowId=window_id, WindowTargetId=target_id,
                 Safe=True)[0] == "TargetInUseException"
    assert ssm.deregister_target_from_maintenance_window(WindowId=window_id, WindowTargetId=target_id)[
        "WindowTargetId"] == target_id
    result = server.aws("ssm", "create-maintenance-window", "--name", name(), "--schedule", "cron(bad)",
                        "--duration", "2", "--cutoff", "1", "--no-allow-unassociated-targets", check=False)
    assert result.returncode != 0 and "ValidationException" in result.stderr


def test_iam_decides_on_the_window_arn_and_tags(server: ServerProcess) -> None:
    ssm = server.client("ssm")
    mine = ssm.create_maintenance_window(Name=name(), Schedule="rate(1 day)", Duration=2, Cutoff=1,
                                         AllowUnassociatedTargets=True,
                                         Tags=[{"Key": "team", "Value": "a"}])["WindowId"]
    other = ssm.create_maintenance_window(Name=name(), Schedule="rate(1 day)", Duration=2, Cutoff=1,
                                          AllowUnassociatedTargets=True)["WindowId"]
    _, creds = user_with_policy(server, allow("ssm:GetMaintenanceWindow", "*",
                                              Condition={"StringEquals": {"aws:ResourceTag/team": "a"}}))
    limited = server.client("ssm", creds)
    assert limited.get_maintenance_window(WindowId=mine)["WindowId"] == mine
    code, message = error(limited.get_maintenance_window, WindowId=other)
    assert code == "AccessDeniedException" and f"maintenancewindow/{other}" in message
    tags = ssm.list_tags_for_resource(ResourceType="MaintenanceWindow", ResourceId=mine)["TagList"]
    assert tags == [{"Key": "team", "Value": "a"}]
    ssm.delete_maintenance_window(WindowId=other)
    assert error(ssm.get_maintenance_window, WindowId=other)[0] == "DoesNotExistException"


def test_updates_merge_or_replace_as_aws_documents(server: ServerProcess) -> None:
    ssm = server.client("ssm")
    window_id = ssm.create_maintenance_window(Name=name(), Schedule="cron(0 2 ? * SUN *)", Duration=3, Cutoff=1,
                                              AllowUnassociatedTargets=True, Description="first")["WindowId"]
    merged = ssm.update_maintenance_window(WindowId=window_id, Duration=4, ScheduleTimezone="Europe/Berlin")
    assert (merged["Duration"], merged["Cutoff"], merged["Description"], merged["ScheduleTimezone"]) == (
        4, 1, "first", "Europe/Berlin")
    assert ssm.get_maintenance_window(WindowId=window_id)["NextExecutionTime"].endswith("+01:00")
    code, _ = error(ssm.update_maintenance_window, WindowId=window_id, Replace=True, Duration=2)
    assert code == "ValidationException"  # Replace needs every member CreateMaintenanceWindow requires
    replaced = ssm.update_maintenance_window(WindowId=window_id, Replace=True, Name=merged["Name"],
                                             Schedule="rate(7 days)", Duration=2, Cutoff=0,
                                             AllowUnassociatedTargets=True)
    assert "Description" not in replaced and "ScheduleTimezone" not in replaced
    disabled = ssm.update_maintenance_window(WindowId=window_id, Enabled=False)
    assert disabled["Enabled"] is False and "NextExecutionTime" not in ssm.get_maintenance_window(WindowId=window_id)

    target_id = ssm.register_target_with_maintenance_window(
        WindowId=window_id, ResourceType="INSTANCE", Targets=[{"Key": "tag:env", "Values": ["a"]}],
        Name="web-nodes", OwnerInformation="ops")["WindowTargetId"]
    updated = ssm.update_maintenance_window_target(WindowId=window_id, WindowTargetId=target_id,
                                                   Targets=[{"Key": "tag-key", "Values": ["env"]}])
    assert (updated["Targets"], updated["Name"], updated["OwnerInformation"]) == (
        [{"Key": "tag-key", "Values": ["env"]}], "web-nodes", "ops")
    task_id = ssm.register_task_with_maintenance_window(
        WindowId=window_id, TaskArn="AWS-RunShellScript", TaskType="RUN_COMMAND", MaxConcurrency="2", MaxErrors="1",
        Targets=[{"Key": "InstanceIds", "Values": ["mi-0123456789abcdef0"]}], Name="patch", CutoffBehavior="CANCEL_TASK",
        TaskInvocationParameters={"RunCommand": {"Parameters": {"commands": ["uptime"]}, "NotificationConfig": {
            "NotificationArn": "arn:aws:sns:us-east-1:123456789012:t", "NotificationEvents": ["All"]}}})["WindowTaskId"]
    task = ssm.update_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id, Priority=5)
    assert (task["Priority"], task["Name"], task["CutoffBehavior"], task["MaxErrors"]) == (5, "patch", "CANCEL_TASK",
                                                                                           "1")
    got = ssm.get_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id)
    run = got["TaskInvocationParameters"]["RunCommand"]
    assert run["Parameters"] == {"commands": ["uptime"]} and run["NotificationConfig"]["NotificationEvents"] == ["All"]
    (found,) = ssm.describe_maintenance_window_tasks(WindowId=window_id, Filters=[
        {"Key": "Priority", "Values": ["5"]}])["Tasks"]
    assert (found["WindowTaskId"], found["Type"]) == (task_id, "RUN_COMMAND")
    ssm.deregister_task_from_maintenance_window(WindowId=window_id, WindowTaskId=task_id)
    assert error(ssm.get_maintenance_window_task, WindowId=window_id, WindowTaskId=task_id)[0] == \
        "DoesNotExistException"


def test_the_schedule_of_the_windows_targeting_a_node(server: ServerProcess, agent: AgentProcess) -> None:
    ssm, mark = server.client("ssm"), uuid.uuid4().hex[:12]
    ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=agent.instance_id,
                             Tags=[{"Key": "sched", "Value": mark}])
    daily = ssm.create_maintenance_window(Name=name(), Schedule="cron(30 3 ? * * *)", Duration=2, Cutoff=1,
                                          AllowUnassociatedTargets=False)["WindowId"]
    ssm.register_target_with_maintenance_window(WindowId=daily, ResourceType="INSTANCE",
                                                Targets=[{"Key": "tag:sched", "Values": [mark]}])
    runs = ssm.describe_maintenance_window_schedule(
        Targets=[{"Key": "InstanceIds", "Values": [agent.instance_id]}], ResourceType="INSTANCE",
        MaxResults=3)["ScheduledWindowExecutions"]
    assert [r["WindowId"] for r in runs] == [daily] * 3
    assert all(r["ExecutionTime"].endswith("T03:30Z") for r in runs)
    assert error(ssm.describe_maintenance_window_schedule, ResourceType="RESOURCE_GROUP",
                 Targets=[{"Key": "resource-groups:Name", "Values": ["g"]}])[0] == "ValidationException"
