"""Service models: which service a request names, and the errors for operations a service lacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openssm.errors import InvalidAction, UnknownOperation
from openssm.protocol import service_models
from openssm.protocol.service_models import (
    load_service_model,
    operation_model,
    protocol_of,
    service_for_signing_name,
    service_for_target_prefix,
    service_model,
)


@pytest.mark.parametrize(("prefix", "service"), [
    ("AmazonSSM", "ssm"), ("TrentService", "kms"), ("AWSOrganizationsV20161128", "organizations"),
    ("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", "cloudtrail"), ("CloudTrail_20131101", "cloudtrail"),
    ("Nope", None), ("", None),
])
def test_target_prefixes_name_their_services(prefix: str, service: str | None) -> None:
    assert service_for_target_prefix(prefix) == service


@pytest.mark.parametrize(("name", "service"), [
    ("ssm", "ssm"), ("kms", "kms"), ("organizations", "organizations"), ("cloudtrail", "cloudtrail"), ("iam", "iam"),
    ("sts", "sts"), ("s3", None),
])
def test_signing_names_name_their_services(name: str, service: str | None) -> None:
    assert service_for_signing_name(name) == service


def test_models_are_loaded_once_per_process() -> None:
    assert service_model("ssm") is service_model("ssm")
    assert operation_model("ssm", "GetParameter") is operation_model("ssm", "GetParameter")


def test_protocols_are_the_models() -> None:
    assert [protocol_of(s) for s in ("ssm", "kms", "organizations", "cloudtrail", "iam", "sts")] == [
        "json", "json", "json", "json", "query", "query"]


def test_an_unknown_json_operation_is_unknown_operation_exception() -> None:
    with pytest.raises(UnknownOperation) as err:
        operation_model("ssm", "MakeCoffee")
    assert err.value.code == "UnknownOperationException"


def test_an_unknown_query_action_is_invalid_action_quoting_the_version() -> None:
    with pytest.raises(InvalidAction) as err:
        operation_model("iam", "MakeCoffee")
    assert (err.value.code, err.value.message) == ("InvalidAction", "Could not find operation MakeCoffee for version "
                                                                    "2010-05-08")
    with pytest.raises(InvalidAction) as err:
        operation_model("sts", "Foo", version="2011-06-15")
    assert err.value.message == "Could not find operation Foo for version 2011-06-15"


def test_a_bundled_model_file_is_loaded_in_place_of_botocores(tmp_path: Path) -> None:
    model = {
        "version": "2.0",
        "metadata": {"apiVersion": "2016-11-14", "endpointPrefix": "ec2messages", "jsonVersion": "1.1",
                     "protocol": "json", "serviceId": "EC2 Messages", "signatureVersion": "v4",
                     "targetPrefix": "EC2WindowsMessageDeliveryService", "uid": "ec2messages-2016-11-14"},
        "operations": {"GetEndpoint": {"name": "GetEndpoint", "http": {"method": "POST", "requestUri": "/"},
                                       "input": {"shape": "GetEndpointRequest"},
                                       "output": {"shape": "GetEndpointResponse"}}},
        "shapes": {"GetEndpointRequest": {"type": "structure", "required": ["Destination"],
                                          "members": {"Destination": {"shape": "Text"}}},
                   "GetEndpointResponse": {"type": "structure", "members": {"Endpoint": {"shape": "Text"}}},
                   "Text": {"type": "string", "min": 1}},
    }
    (tmp_path / "ec2messages.json").write_text(json.dumps(model))
    loaded = load_service_model("ec2messages", tmp_path)
    assert loaded.metadata["targetPrefix"] == "EC2WindowsMessageDeliveryService"
    assert loaded.operation_model("GetEndpoint").input_shape.required_members == ["Destination"]
    assert service_models.bundled_services(tmp_path) == ("ec2messages",)
    assert load_service_model("sts", tmp_path).api_version == "2011-06-15"


def test_preloading_compiles_every_operation_of_every_service() -> None:
    service_models.preload(("sts",))
