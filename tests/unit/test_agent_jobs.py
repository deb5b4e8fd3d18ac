"""The agent runs a job once: parameters substituted as AWS's agent does, the outcome recorded before it is
reported, a timeout ending the whole process tree."""

from __future__ import annotations

import json
import time
from pathlib import Path

from openssm.agent.jobs import run_job
from openssm.agent.run_shell import EXECUTION_TIMED_OUT, run_script
from openssm.agent.state import StateDir
from openssm.protocol.mgs import send_command_payload
from openssm.services.command_documents import BUILT_IN, prepare


def payload(name: str, commands: list[str], **extra: list[str]) -> str:
    document = prepare(name, None, {"commands": commands, **extra})
    return send_command_payload("c-1", name, document.content, document.parameters)


def test_a_job_runs_its_commands_with_parameters_substituted(tmp_path: Path) -> None:
    reply = run_job("c-1", payload("AWS-RunShellScript", ["echo one", "echo two"]), StateDir(tmp_path))
    assert reply.document_status == "Success"
    assert reply.plugins[0].standard_output == "one\ntwo\n" and reply.plugins[0].code == 0


def test_a_job_delivered_again_is_answered_from_the_record_not_run_again(tmp_path: Path) -> None:
    marker = tmp_path / "count"
    state = StateDir(tmp_path / "state")
    first = run_job("c-2", payload("AWS-RunShellScript", [f"echo x >> {marker}"]), state)
    again = run_job("c-2", payload("AWS-RunShellScript", [f"echo x >> {marker}"]), state)
    assert first == again and marker.read_text() == "x\n"
    assert json.loads((tmp_path / "state" / "jobs" / "c-2.json").read_text())["reply"]["status"] == "Success"


def test_a_job_started_before_a_crash_is_reported_failed_not_run_again(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.record_job("c-3", {"started": "2026-11-22T00:00:00+00:00"})
    reply = run_job("c-3", payload("AWS-RunShellScript", ["echo never"]), state)
    assert reply.document_status == "Failed" and "stopped" in reply.plugins[0].standard_error


def test_powershell_on_linux_fails_as_unsupported(tmp_path: Path) -> None:
    reply = run_job("c-4", payload("AWS-RunPowerShellScript", ["Get-Date"]), StateDir(tmp_path))
    assert reply.document_status == "Failed" and "not supported" in reply.plugins[0].standard_error


def test_a_timeout_kills_the_whole_process_tree(tmp_path: Path) -> None:
    marker = tmp_path / "child-survived"
    result = run_script([f"(sleep 2; touch {marker}) &", "sleep 30"], 0.5, tmp_path / "work")
    assert result.status == "TimedOut" and result.code == EXECUTION_TIMED_OUT
    time.sleep(2.5)
    assert not marker.exists()


def test_the_built_in_documents_declare_awss_parameters() -> None:
    assert set(BUILT_IN["AWS-RunShellScript"]["parameters"]) == {"commands", "workingDirectory", "executionTimeout"}
