"""OutputS3BucketName's object keys follow AWS's layout for both schema generations."""

from __future__ import annotations

from openssm.services.command_documents import Plugin
from openssm.services.command_output import Stream
from openssm.services.output_export import output_key


def test_a_schema_1_2_plugin_is_keyed_as_aws_keys_it() -> None:
    plugin = Plugin("aws:runShellScript", "aws:runShellScript")
    assert output_key("logs/", "c-1", "mi-1", plugin, True, Stream.STDOUT) == \
        "logs/c-1/mi-1/awsrunShellScript/0.awsrunShellScript/stdout"


def test_a_schema_2_step_is_keyed_by_its_name_and_an_empty_prefix_leaves_no_empty_segment() -> None:
    plugin = Plugin("install", "aws:runPowerShellScript")
    assert output_key("", "c-1", "mi-1", plugin, False, Stream.STDERR) == \
        "c-1/mi-1/awsrunPowerShellScript/install/stderr"
