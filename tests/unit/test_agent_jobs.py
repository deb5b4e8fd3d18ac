"""The agent runs a job exactly once: parameters substituted as AWS's agent does, the outcome recorded before it
is reported (so a restart answers from the record), a timeout or a cancel ending the whole process tree, and
replies cut as AWS cuts them while the full output stays on the node."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from openssm.agent.jobs import LOST_MESSAGE, Jobs
from openssm.agent.plugins import steps
from openssm.agent.plugins.run_shell import STOPPED_EXIT_CODE, ProcessHandle, run_script
from openssm.agent.state import Registration, StateDir
from openssm.protocol.mgs import send_command_payload
from openssm.services import documents
from openssm.services.command_documents import for_version


def payload(commands: list[str], name: str = "AWS-RunShellScript", **extra: str) -> str:
    supplied = {"commands": commands, **{k: [v] for k, v in extra.items()}}
    document = for_version(documents.built_in(name, "us-east-1"), supplied, lambda ref: ref)
    return send_command_payload("c-1", name, document.content, document.run_parameters)


def wait_until_gone(pid: int, timeout: float = 10.0) -> bool:
    """Whether the process ended (or is a zombie waiting to be reaped by init)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
        except (FileNotFoundError, IndexError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def wait_for_file(path: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.02)
    raise AssertionError(f"{path} never written")


def test_a_job_runs_its_commands_with_parameters_substituted(tmp_path: Path) -> None:
    reply = Jobs(StateDir(tmp_path)).run("c-1", payload(["echo one", "echo two"]))
    assert reply.document_status == "Success"
    (plugin,) = reply.plugins
    assert (plugin.name, plugin.status, plugin.code, plugin.standard_output) == (
        "aws:runShellScript", "Success", 0, "one\ntwo\n")


def test_a_failing_command_reports_its_exit_code_and_stderr(tmp_path: Path) -> None:
    reply = Jobs(StateDir(tmp_path)).run("c-1", payload(["echo oops >&2", "exit 3"]))
    assert reply.document_status == "Failed"
    assert (reply.plugins[0].code, reply.plugins[0].standard_error) == (3, "oops\n")


def test_a_job_delivered_again_after_a_restart_is_answered_from_the_record_not_run_again(tmp_path: Path) -> None:
    marker = tmp_path / "count"
    first = Jobs(StateDir(tmp_path / "state")).run("c-2", payload([f"echo x >> {marker}"]))
    again = Jobs(StateDir(tmp_path / "state")).run("c-2", payload([f"echo x >> {marker}"]))
    assert first == again and marker.read_text() == "x\n"


def test_a_job_delivered_twice_while_it_runs_runs_once(tmp_path: Path) -> None:
    marker, gate = tmp_path / "count", tmp_path / "gate"
    jobs = Jobs(StateDir(tmp_path / "state"))
    content = payload([f"echo x >> {marker}", f"while [ ! -e {gate} ]; do sleep 0.05; done"])
    first = jobs.submit("c-3", content)
    second = jobs.submit("c-3", content)
    gate.touch()
    assert first is second and first.result(timeout=30).document_status == "Success"
    assert marker.read_text() == "x\n"


def test_a_job_started_before_a_crash_is_reported_failed_not_run_again(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    state = StateDir(tmp_path / "state")
    state.record_job("c-4", {"started": "2026-11-22T00:00:00+00:00"})
    reply = Jobs(state).run("c-4", payload([f"touch {marker}"]))
    assert reply.document_status == "Failed" and reply.plugins[0].standard_error == LOST_MESSAGE
    assert not marker.exists()
    assert state.job("c-4") == {"reply": {"job_id": "c-4", "status": "Failed", "plugins": [
        vars(reply.plugins[0])]}}


def test_powershell_without_powershell_core_fails_as_awss_agent_reports_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps.shutil, "which", lambda name: None)
    reply = Jobs(StateDir(tmp_path)).run("c-5", payload(["Get-Date"], "AWS-RunPowerShellScript"))
    assert reply.document_status == "Failed"
    assert reply.plugins[0].standard_error == ("Plugin with name aws:runPowerShellScript is not supported in "
                                               "current platform. Step name: aws:runPowerShellScript")


def test_a_timeout_kills_the_whole_process_tree(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    result = run_script(["/bin/sh"], f"sleep 60 &\necho $! > {pid_file}\nwait\n", 0.5, tmp_path / "work")
    assert (result.status, result.code) == ("TimedOut", STOPPED_EXIT_CODE)
    assert wait_until_gone(int(wait_for_file(pid_file)))


def test_a_cancel_kills_the_running_tree_and_reports_cancelled(tmp_path: Path) -> None:
    pid_file, marker = tmp_path / "child.pid", tmp_path / "after"
    jobs = Jobs(StateDir(tmp_path / "state"))
    running = jobs.submit("c-6", payload([f"sleep 60 & echo $! > {pid_file}", "wait", f"touch {marker}"]))
    child = int(wait_for_file(pid_file))
    assert jobs.cancel("c-6") and not jobs.cancel("not-running")
    reply = running.result(timeout=30)
    assert reply.document_status == "Cancelled"
    assert (reply.plugins[0].status, reply.plugins[0].code) == ("Cancelled", STOPPED_EXIT_CODE)
    assert wait_until_gone(child) and not marker.exists()


def test_a_cancel_that_arrives_before_the_script_starts_keeps_it_from_starting(tmp_path: Path) -> None:
    handle = ProcessHandle()
    handle.cancel()
    result = run_script(["/bin/sh"], f"touch {tmp_path / 'ran'}\n", 10, tmp_path / "work", handle=handle)
    assert result.status == "Cancelled" and not (tmp_path / "ran").exists()


def test_replies_carry_awss_output_cuts_and_the_node_keeps_the_full_output(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    script = ["head -c 30000 /dev/zero | tr '\\0' x", "head -c 9000 /dev/zero | tr '\\0' e >&2"]
    (plugin,) = Jobs(state).run("c-7", payload(script)).plugins
    assert plugin.standard_output == "x" * 24000 + "--output truncated--"
    assert plugin.standard_error == "e" * 8000 + "--output truncated--"
    kept = state.work_dir("c-7") / "aws_runShellScript"
    assert (kept / "stdout").read_text() == "x" * 30000 and (kept / "stderr").read_text() == "e" * 9000


def test_output_of_exactly_the_limit_is_not_cut(tmp_path: Path) -> None:
    (plugin,) = Jobs(StateDir(tmp_path)).run("c-8", payload(["head -c 24000 /dev/zero | tr '\\0' y"])).plugins
    assert plugin.standard_output == "y" * 24000


def test_a_working_directory_that_does_not_exist_fails_the_step(tmp_path: Path) -> None:
    reply = Jobs(StateDir(tmp_path)).run("c-9", payload(["pwd"], workingDirectory=str(tmp_path / "nowhere")))
    assert reply.document_status == "Failed" and "does not exist" in reply.plugins[0].standard_error
    reply = Jobs(StateDir(tmp_path)).run("c-10", payload(["pwd"], workingDirectory=str(tmp_path)))
    assert reply.plugins[0].standard_output == f"{tmp_path}\n"


def test_the_state_directory_and_its_files_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask would leave new files readable by all
    try:
        state = StateDir(tmp_path / "state")
        state.save_registration(Registration("mi-0123456789abcdef0", "us-east-1", "http://x", "f", "key"))
        Jobs(state).run("c-11", payload(["true"]))
    finally:
        os.umask(previous)
    for path in [state.path, *state.path.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, path
        elif path.suffix == ".json":
            assert mode == 0o600, path
    assert state.registration() == Registration("mi-0123456789abcdef0", "us-east-1", "http://x", "f", "key")
