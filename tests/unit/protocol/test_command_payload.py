"""The agent reads a SendCommandPayload as AWS's agent does: defaults from the document, `{{ name }}` replaced
in step inputs (agent/framework/docparser/parameters), executionTimeout bounded to 5..172800 seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openssm.protocol.command_payload import DEFAULT_TIMEOUT, BadPayload, execution_budget, parse, substitute

CAPTURE = Path(__file__).parents[2] / "golden" / "captures" / "amazon-ssm-agent.json"


def test_the_captured_job_reads_as_one_shell_step_with_its_commands() -> None:
    sent = next(e for e in json.loads(CAPTURE.read_text())["events"] if e.get("what") == "agent_job")
    job = parse(sent["payload"]["Content"])
    assert job.command_id == "11111111-2222-3333-4444-555555555555" and job.document_name == "AWS-RunShellScript"
    (step,) = job.steps
    assert (step.action, step.name, step.commands) == ("aws:runShellScript", "runShellScript",
                                                       ("echo hello-from-capture", "uname -s"))
    assert step.timeout_seconds == DEFAULT_TIMEOUT and step.working_directory == ""


def test_a_whole_placeholder_becomes_the_value_itself_and_embedded_ones_its_text() -> None:
    params = {"commands": ["a", "b"], "dir": "/tmp", "n": 3}
    assert substitute("{{ commands }}", params) == ["a", "b"]
    assert substitute("{{commands}}", params) == ["a", "b"]
    assert substitute("cd {{ dir }} && ls", params) == "cd /tmp && ls"
    assert substitute("list={{ commands }} n={{ n }}", params) == 'list=["a","b"] n=3'
    assert substitute({"x": ["{{ dir }}", 1]}, params) == {"x": ["/tmp", 1]}


def test_unknown_placeholders_stay_and_values_are_not_expanded_twice() -> None:
    params = {"a": "{{ b }}", "b": "B", "price": "$$5"}
    assert substitute("{{ missing }} {{ a }}", params) == "{{ missing }} {{ b }}"
    assert substitute("cost {{ price }}", params) == "cost $5"


def test_document_defaults_fill_parameters_the_payload_leaves_out() -> None:
    document = {"schemaVersion": "2.2", "parameters": {"commands": {"type": "StringList"},
                                                       "executionTimeout": {"type": "String", "default": "60"},
                                                       "workingDirectory": {"type": "String", "default": ""}},
                "mainSteps": [{"action": "aws:runShellScript", "name": "run", "inputs": {
                    "runCommand": "{{ commands }}", "timeoutSeconds": "{{ executionTimeout }}",
                    "workingDirectory": "{{ workingDirectory }}"}}]}
    payload = {"CommandId": "c", "DocumentContent": document, "Parameters": {"commands": ["true"]}}
    (step,) = parse(json.dumps(payload)).steps
    assert step.timeout_seconds == 60 and step.commands == ("true",)


@pytest.mark.parametrize(("given", "expected"), [("3", DEFAULT_TIMEOUT), ("5", 5), ("172800", 172800),
                                                  ("172801", DEFAULT_TIMEOUT), ("abc", DEFAULT_TIMEOUT),
                                                  (30, 30), (12.9, 12)])
def test_execution_timeouts_outside_awss_bounds_fall_back_to_an_hour(given: object, expected: int) -> None:
    document = {"mainSteps": [{"action": "aws:runShellScript", "name": "s",
                               "inputs": {"runCommand": ["x"], "timeoutSeconds": given}}]}
    assert parse(json.dumps({"DocumentContent": document})).steps[0].timeout_seconds == expected


def test_schema_1_2_runtime_config_documents_are_read_too() -> None:
    document = {"schemaVersion": "1.2", "runtimeConfig": {"aws:runShellScript": {"properties": [
        {"id": "0.aws:runShellScript", "runCommand": "{{ commands }}"}]}}}
    (step,) = parse(json.dumps({"DocumentContent": document, "Parameters": {"commands": ["date"]}})).steps
    assert (step.action, step.commands) == ("aws:runShellScript", ("date",))


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"DocumentContent": {"mainSteps": 7}}'])
def test_content_that_is_not_a_send_command_payload_is_refused(content: str) -> None:
    with pytest.raises(BadPayload):
        parse(content)


def test_the_execution_budget_is_the_steps_timeouts_one_after_the_other() -> None:
    def job(steps: list[dict[str, object]], parameters: dict[str, object] | None = None) -> str:
        document = {"schemaVersion": "2.2", "parameters": {"limit": {"type": "String", "default": "100"}},
                    "mainSteps": steps}
        return json.dumps({"CommandId": "c", "DocumentContent": document, "Parameters": parameters or {}})

    assert execution_budget(parse(job([]))) == DEFAULT_TIMEOUT
    two = [{"action": "aws:runShellScript", "name": "a", "inputs": {"runCommand": ["true"],
                                                                   "timeoutSeconds": "{{ limit }}"}},
           {"action": "aws:runShellScript", "name": "b", "inputs": {"runCommand": ["true"]}}]
    assert execution_budget(parse(job(two))) == 100 + DEFAULT_TIMEOUT
    assert execution_budget(parse(job(two, {"limit": "7"}))) == 7 + DEFAULT_TIMEOUT
