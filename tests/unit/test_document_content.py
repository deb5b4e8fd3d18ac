"""Command documents read and checked as SSM's CreateDocument checks them: JSON and YAML, schema 1.2 and
2.x, AWS's own documents byte for byte, and each way a document is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from openssm.errors import AwsError, ValidationError
from openssm.services.document_content import (
    InvalidDocumentContent,
    InvalidDocumentSchemaVersion,
    ParameterDeclaration,
    parse,
    render,
    sha256,
)
from openssm.services.documents_builtin import BUILT_IN

_TIMEOUT = "([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)"
AWS_RUN_SHELL_SCRIPT = BUILT_IN["AWS-RunShellScript"].content
AWS_RUN_POWERSHELL_SCRIPT = BUILT_IN["AWS-RunPowerShellScript"].content


def document(*steps: Any, schema: str = "2.2", **extra: Any) -> dict[str, Any]:
    return {"schemaVersion": schema, "description": "a test", **extra,
            "mainSteps": list(steps) or [shell_step("run", "echo hi")]}


def shell_step(name: str, *commands: str, **extra: Any) -> dict[str, Any]:
    return {"action": "aws:runShellScript", "name": name, "inputs": {"runCommand": list(commands)}, **extra}


def refused(content: dict[str, Any] | str, document_format: str = "JSON") -> AwsError:
    text = content if isinstance(content, str) else json.dumps(content)
    with pytest.raises(AwsError) as err:
        parse(text, document_format)
    return err.value


def test_awss_run_shell_script_parses_and_hashes_as_aws_reports_it() -> None:
    # The Hash a real DescribeDocument reported: the content OpenSSM ships is AWS's, byte for byte.
    parsed = parse(AWS_RUN_SHELL_SCRIPT)
    assert sha256(AWS_RUN_SHELL_SCRIPT) == "99749de5e62f71e5ebe9a55c2321e2c394796afe7208cff048696541e6f6771e"
    assert (parsed.schema_version, parsed.platform_types, parsed.actions) == (
        "1.2", ("Linux", "MacOS"), ("aws:runShellScript",))
    assert parsed.description == "Run a shell script or specify the commands to run."
    assert [(p.name, p.type, p.has_default, p.default) for p in parsed.parameters] == [
        ("commands", "StringList", False, None), ("workingDirectory", "String", True, ""),
        ("executionTimeout", "String", True, "3600")]
    commands, directory, timeout = parsed.parameters
    assert (commands.min_items, commands.display_type, directory.max_chars) == (1, "textarea", 4096)
    assert timeout.allowed_pattern == _TIMEOUT and timeout.allowed_values is None


def test_awss_run_powershell_script_is_for_windows_and_linux() -> None:
    parsed = parse(AWS_RUN_POWERSHELL_SCRIPT)
    assert sha256(AWS_RUN_POWERSHELL_SCRIPT) == "2142e42a19e0955cc09e43600bf2e633df1917b69d2be9693737dfd62e0fdf61"
    assert parsed.platform_types == ("Windows", "Linux") and parsed.actions == ("aws:runPowerShellScript",)


def test_rendering_awss_document_as_json_gives_back_its_exact_text() -> None:
    assert render(parse(AWS_RUN_SHELL_SCRIPT), "JSON") == AWS_RUN_SHELL_SCRIPT


def test_a_schema_2_2_document_with_preconditions_lists_every_platform_in_awss_order() -> None:
    body = document(
        {"action": "aws:runPowerShellScript", "name": "windows", "inputs": {"runCommand": ["Write-Host hi"]},
         "precondition": {"StringEquals": ["platformType", "Windows"]}},
        shell_step("linux", "echo {{ who }}", precondition={"StringEquals": ["platformType", "Linux"]}),
        shell_step("mac", "uname", precondition={"StringEquals": ["MacOS", "platformType"]}),
        parameters={"who": {"type": "String", "default": "world"}})
    parsed = parse(json.dumps(body))
    assert parsed.platform_types == ("Windows", "Linux", "MacOS")
    assert parsed.actions == ("aws:runPowerShellScript", "aws:runShellScript")
    assert parsed.body == body and parsed.schema_version == "2.2"


def test_yaml_and_json_of_one_document_parse_alike() -> None:
    body = document(shell_step("run", "echo {{ n }}"), parameters={"n": {"type": "Integer", "default": 3}})
    from_yaml = parse(yaml.safe_dump(body), "YAML")
    assert from_yaml == parse(json.dumps(body), "JSON")


def test_an_unquoted_yaml_schema_version_is_read_as_text() -> None:
    text = "schemaVersion: 2.2\nmainSteps:\n- action: aws:runShellScript\n  name: run\n  inputs:\n" \
           "    runCommand: [uptime]\n"
    assert parse(text, "YAML").schema_version == "2.2"


def test_schema_2_0_and_inputs_with_directory_timeout_and_a_command_parameter_are_accepted() -> None:
    step = {"action": "aws:runShellScript", "name": "run.step-1",
            "inputs": {"runCommand": "{{ commands }}", "workingDirectory": "/tmp", "timeoutSeconds": 60}}
    parsed = parse(json.dumps(document(step, schema="2.0", parameters={"commands": {"type": "StringList"}})))
    assert parsed.schema_version == "2.0" and parsed.platform_types == ("Linux", "MacOS")


def test_parameter_declarations_keep_every_attribute() -> None:
    spec = {"type": "StringList", "description": "what", "default": ["a"], "allowedValues": ["a", "b"],
            "allowedPattern": "^[a-z]$", "minChars": 1, "maxChars": 2, "minItems": 1, "maxItems": 3,
            "displayType": "textarea"}
    (declared,) = parse(json.dumps(document(parameters={"p": spec}))).parameters
    assert declared == ParameterDeclaration("p", "StringList", "what", True, ["a"], ("a", "b"), "^[a-z]$", 1, 2, 1,
                                            3, "textarea")


def test_typed_defaults_of_each_type_are_accepted() -> None:
    parameters = {"i": {"type": "Integer", "default": 2}, "s": {"type": "Integer", "default": "-7"},
                  "b": {"type": "Boolean", "default": False}, "m": {"type": "StringMap", "default": {"k": "v"}},
                  "l": {"type": "MapList", "default": [{"k": "v"}]}, "t": {"type": "String", "default": "x"},
                  "e": {"type": "String", "interpolationType": "ENV_VAR", "allowedPattern": "^[^\"]*$"}}
    parsed = parse(json.dumps(document(parameters=parameters)))
    assert [p.name for p in parsed.parameters] == list(parameters)


def test_ssm_references_are_not_document_parameters_and_defaults_holding_them_are_not_checked() -> None:
    body = document(shell_step("run", "echo {{ssm:/motd}} {{ ssm:app.name:3 }} {{ commands }}"),
                    parameters={"commands": {"type": "String", "default": "{{ssm:myShellCommands}}",
                                             "allowedPattern": "^[a-z]+$"}})
    assert parse(json.dumps(body)).parameters[0].default == "{{ssm:myShellCommands}}"


def test_a_precondition_may_compare_a_document_parameter() -> None:
    body = document(shell_step("run", "true", precondition={"StringEquals": ["{{ flavour }}", "debian"]}),
                    parameters={"flavour": {"type": "String", "default": "debian"}})
    assert parse(json.dumps(body)).actions == ("aws:runShellScript",)


def test_platform_types_given_by_the_caller_replace_the_derived_ones() -> None:
    assert parse(AWS_RUN_SHELL_SCRIPT, platform_types=["Linux"]).platform_types == ("Linux",)


def test_rendering_converts_between_json_and_yaml() -> None:
    body = document(parameters={"n": {"type": "Integer", "default": 1}})
    parsed = parse(json.dumps(body))
    assert yaml.safe_load(render(parsed, "YAML")) == body
    assert json.loads(render(parse(render(parsed, "YAML"), "YAML"), "JSON")) == body


def test_yaml_dates_are_read_as_text_as_json_would_hold_them() -> None:
    parsed = parse("schemaVersion: '2.2'\ndescription: 2024-01-31\nmainSteps:\n- action: aws:runShellScript\n"
                   "  name: run\n  inputs: {runCommand: [date]}\n", "YAML")
    assert json.loads(render(parsed, "JSON"))["description"] == "2024-01-31"


@pytest.mark.parametrize("document_format", ["TEXT", "XML"])
def test_formats_other_than_json_and_yaml_are_refused(document_format: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse(AWS_RUN_SHELL_SCRIPT, document_format)
    assert err.value.code == "ValidationException"
    assert err.value.message == f"Invalid document format {document_format}"
    with pytest.raises(ValidationError):
        render(parse(AWS_RUN_SHELL_SCRIPT), document_format)


def test_malformed_json_and_yaml_are_not_well_formed() -> None:
    assert (refused("{not json").code, refused("{not json").message) == ("InvalidDocumentContent",
                                                                           "JSON not well-formed.")
    bad_yaml = refused("a: [1, 2\nb: {", "YAML")
    assert (bad_yaml.code, bad_yaml.message) == ("InvalidDocumentContent", "YAML not well-formed.")
    assert refused(AWS_RUN_SHELL_SCRIPT.replace("{", "", 1)).message == "JSON not well-formed."


@pytest.mark.parametrize("text", ["[1, 2]", "\"text\"", "7", "null"])
def test_content_that_is_not_an_object_is_not_valid(text: str) -> None:
    err = refused(text)
    assert (err.code, err.message) == ("InvalidDocumentContent", "The content for the document is not valid.")


@pytest.mark.parametrize("version", ["0.3", "1.0", "2.1", "3.0", "1"])
def test_schema_versions_a_command_document_cant_use_are_refused(version: str) -> None:
    err = refused(document(schema=version))
    assert isinstance(err, InvalidDocumentSchemaVersion) and err.code == "InvalidDocumentSchemaVersion"
    assert err.message == f"{version} is not a valid schema version for Command document type"


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


ONE_STEP = shell_step("run", "true")
BAD_CONTENT: list[tuple[str, dict[str, Any], str]] = [
    ("missing schema version", _without(document(), "schemaVersion"), "Missing \"schemaVersion\" in the document."),
    ("missing main steps", _without(document(), "mainSteps"), "Missing \"mainSteps\" in the document."),
    ("empty main steps", {**document(), "mainSteps": []}, "Missing \"mainSteps\" in the document."),
    ("runtime config in 2.2", {**document(), "runtimeConfig": {}}, "Unknown property \"runtimeConfig\"."),
    ("unknown top-level key", {**document(), "outputs": []}, "Unknown property \"outputs\"."),
    ("main steps in 1.2", {"schemaVersion": "1.2", "runtimeConfig": {"aws:runShellScript": {"properties": [
        {"runCommand": ["true"]}]}}, "mainSteps": []}, "Unknown property \"mainSteps\"."),
    ("missing runtime config", {"schemaVersion": "1.2"}, "Missing \"runtimeConfig\" in the document."),
    ("plugin without properties", {"schemaVersion": "1.2", "runtimeConfig": {"aws:runShellScript": {}}},
     "Missing \"properties\" in plugin aws:runShellScript."),
    ("unknown plugin key", {"schemaVersion": "1.2", "runtimeConfig": {"aws:runShellScript": {
        "properties": [{"runCommand": ["true"]}], "extra": 1}}},
     "Unknown property \"extra\" in plugin aws:runShellScript."),
    ("unknown 1.2 plugin", {"schemaVersion": "1.2", "runtimeConfig": {"aws:launchRocket": {"properties": [{}]}}},
     "Unknown plugin name: aws:launchRocket"),
    ("description not text", document(description=["a"]),
     "Invalid \"description\" in the document; it must be a string."),
    ("step not an object", document("run"), "Invalid step detail in mainSteps; each step must be an object."),
    ("step without a name", document({"action": "aws:runShellScript", "inputs": {"runCommand": ["a"]}}),
     "Missing \"name\" in step detail."),
    ("step without an action", document({"name": "x", "inputs": {"runCommand": ["a"]}}),
     "Missing \"action\" in step detail."),
    ("step without inputs", document({"action": "aws:runShellScript", "name": "x"}),
     "Missing \"inputs\" in step detail."),
    ("inputs not an object", document({"action": "aws:runShellScript", "name": "x", "inputs": ["a"]}),
     "Invalid \"inputs\" in step x; it must be an object."),
    ("unknown step key", document({**ONE_STEP, "colour": "red"}), "Unknown property \"colour\" in step detail."),
    ("step name with a space", document(shell_step("two words", "a")), "StepName: two words is invalid."),
    ("step name too long", document(shell_step("x" * 101, "a")), f"StepName: {'x' * 101} is invalid."),
    ("duplicate step names", document(shell_step("x", "a"), shell_step("x", "b")),
     "Duplicate step names found in mainSteps of the document."),
    ("unknown action", document({"action": "aws:launchRocket", "name": "x", "inputs": {}}),
     "Unknown plugin name: aws:launchRocket"),
    ("aws plugin openssm does not run", document({"action": "aws:runDocument", "name": "x", "inputs": {}}),
     "Plugin aws:runDocument is not supported by OpenSSM. Command documents here use aws:runShellScript, "
     "aws:runPowerShellScript, aws:refreshAssociation, aws:softwareInventory or aws:runPatchBaseline."),
    ("unknown input", document({**ONE_STEP, "inputs": {"runCommand": ["a"], "shell": "zsh"}}),
     "Unknown property \"shell\" in inputs of step run."),
    ("missing run command", document({**ONE_STEP, "inputs": {"workingDirectory": "/"}}),
     "Missing \"runCommand\" in inputs of step run."),
    ("run command a plain string", document({**ONE_STEP, "inputs": {"runCommand": "ls"}}),
     "Invalid \"runCommand\" in step run; it must be a list of strings or a parameter reference."),
    ("run command with a number", document({**ONE_STEP, "inputs": {"runCommand": ["ls", 3]}}),
     "Invalid \"runCommand\" in step run; it must be a list of strings or a parameter reference."),
    ("working directory a list", document({**ONE_STEP, "inputs": {"runCommand": ["a"], "workingDirectory": ["/"]}}),
     "Invalid \"workingDirectory\" in step run; it must be a string."),
    ("timeout a word", document({**ONE_STEP, "inputs": {"runCommand": ["a"], "timeoutSeconds": "soon"}}),
     "Invalid \"timeoutSeconds\" in step run; it must be a number of seconds or a parameter reference."),
    ("precondition in 2.0", document(shell_step("run", "a", precondition={"StringEquals": ["platformType", "Linux"]}),
                                     schema="2.0"),
     "Invalid precondition in step run; preconditions need schema version 2.2."),
    ("precondition not an object", document(shell_step("run", "a", precondition=["platformType", "Linux"])),
     "Invalid precondition in step run; it must be an object."),
    ("unknown operator", document(shell_step("run", "a", precondition={"StringLike": ["platformType", "Linux"]})),
     "Invalid precondition, unrecognized operator: \"StringLike\" encountered."),
    ("three operands", document(shell_step("run", "a", precondition={"StringEquals": ["platformType", "a", "b"]})),
     "Invalid precondition, \"StringEquals\": operator accepts exactly 2 arguments."),
    ("identical operands", document(shell_step("run", "a", precondition={"StringEquals": ["x", "x"]})),
     "Invalid precondition, \"StringEquals\": operator's arguments can't be identical."),
    ("unknown platform", document(shell_step("run", "a", precondition={"StringEquals": ["platformType", "BeOS"]})),
     "Invalid precondition, unrecognized values [platformType, BeOS] encountered."),
    ("platform in lower case", document(shell_step("run", "a",
                                                   precondition={"StringEquals": ["platformType", "linux"]})),
     "Invalid precondition, unrecognized values [platformType, linux] encountered."),
    ("ssm reference in precondition", document(shell_step("run", "a", precondition={
        "StringEquals": ["{{ssm:/os}}", "Linux"]})),
     "Invalid precondition, \"StringEquals\": operator's arguments can't contain SSM parameters."),
    ("constants compared", document(shell_step("run", "a", precondition={"StringEquals": ["a", "b"]})),
     "Invalid precondition, \"StringEquals\": at least one of operator's arguments must contain a valid document "
     "parameter."),
    ("undeclared reference", document(shell_step("run", "echo {{ undeclared }}")),
     "Parameter \"undeclared\" is not declared."),
    ("undeclared reference in 1.2", {"schemaVersion": "1.2", "runtimeConfig": {"aws:runShellScript": {
        "properties": [{"runCommand": "{{ commands }}"}]}}}, "Parameter \"commands\" is not declared."),
    ("undeclared reference in precondition", document(shell_step("run", "a", precondition={
        "StringEquals": ["{{ os }}", "debian"]})), "Parameter \"os\" is not declared."),
    ("parameters not an object", document(parameters=["a"]),
     "Invalid \"parameters\" in the document; it must be an object."),
    ("parameter name with underscore", document(parameters={"my_name": {"type": "String"}}),
     "Parameter name \"my_name\" is not alpha-numeric."),
    ("parameter spec not an object", document(parameters={"p": "String"}),
     "Invalid definition of parameter \"p\"; it must be an object."),
    ("parameter without a type", document(parameters={"p": {"default": "x"}}),
     "Missing \"type\" in parameter definition."),
    ("unknown parameter type", document(parameters={"p": {"type": "Float"}}), "Parameter type: Float is invalid."),
    ("type in lower case", document(parameters={"p": {"type": "string"}}), "Parameter type: string is invalid."),
    ("unknown parameter attribute", document(parameters={"p": {"type": "String", "secret": True}}),
     "Unknown property \"secret\" in parameter definition."),
    ("empty allowed values", document(parameters={"p": {"type": "String", "allowedValues": []}}),
     "Invalid \"allowedValues\" in parameter definition; it must be a non-empty list of values."),
    ("bad allowed pattern", document(parameters={"p": {"type": "String", "allowedPattern": "([a-z"}}),
     "Invalid \"allowedPattern\" in parameter definition: ([a-z is not a valid regular expression."),
    ("negative max chars", document(parameters={"p": {"type": "String", "maxChars": -1}}),
     "Invalid \"maxChars\" in parameter definition; it must be a non-negative integer."),
    ("min items as text", document(parameters={"p": {"type": "StringList", "minItems": "1"}}),
     "Invalid \"minItems\" in parameter definition; it must be a non-negative integer."),
    ("integer default a word", document(parameters={"p": {"type": "Integer", "default": "many"}}),
     "Wrong default value for a \"Integer\" parameters"),
    ("integer default a boolean", document(parameters={"p": {"type": "Integer", "default": True}}),
     "Wrong default value for a \"Integer\" parameters"),
    ("boolean default as text", document(parameters={"p": {"type": "Boolean", "default": "true"}}),
     "Wrong default value for a \"Boolean\" parameters"),
    ("string list default a string", document(parameters={"p": {"type": "StringList", "default": "a"}}),
     "Wrong default value for a \"StringList\" parameters"),
    ("string default a number", document(parameters={"p": {"type": "String", "default": 5}}),
     "Wrong default value for a \"String\" parameters"),
    ("string map default a list", document(parameters={"p": {"type": "StringMap", "default": []}}),
     "Wrong default value for a \"StringMap\" parameters"),
    ("map list default of strings", document(parameters={"p": {"type": "MapList", "default": ["a"]}}),
     "Wrong default value for a \"MapList\" parameters"),
    ("default outside allowed values", document(parameters={"p": {"type": "String", "default": "c",
                                                                  "allowedValues": ["a", "b"]}}),
     "Default value of parameter \"p\" is not valid. Parameter \"p\" value \"c\" is not one of allowedValues [a, b]."),
    ("default off the pattern", document(parameters={"p": {"type": "String", "default": "A",
                                                           "allowedPattern": "^[a-z]+$"}}),
     "Default value of parameter \"p\" is not valid. Parameter \"p\" value \"A\" does not match allowedPattern "
     "^[a-z]+$."),
    ("default too long", document(parameters={"p": {"type": "String", "default": "abc", "maxChars": 2}}),
     "Default value of parameter \"p\" is not valid. Parameter \"p\" value \"abc\" is longer than maxChars 2."),
    ("default list too short", document(parameters={"p": {"type": "StringList", "default": [], "minItems": 1}}),
     "Default value of parameter \"p\" is not valid. Parameter \"p\" has 0 item(s), fewer than minItems 1."),
]


@pytest.mark.parametrize(("body", "message"), [(b, m) for _, b, m in BAD_CONTENT], ids=[c[0] for c in BAD_CONTENT])
def test_bad_content_is_refused_with_awss_code_and_wording(body: dict[str, Any], message: str) -> None:
    err = refused(body)
    assert isinstance(err, InvalidDocumentContent)
    assert (err.code, err.message) == ("InvalidDocumentContent", message)


def test_bad_content_is_refused_alike_from_yaml() -> None:
    err = refused(yaml.safe_dump(document(shell_step("x", "a"), shell_step("x", "b"))), "YAML")
    assert err.message == "Duplicate step names found in mainSteps of the document."
