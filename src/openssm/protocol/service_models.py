"""The service models OpenSSM speaks, loaded once per process, and the lookups routing needs.

Models come from botocore, except a service with a file in `protocol/models/<name>.json` (same format as
botocore's `service-2.json`): ec2messages, which botocore does not ship, is served that way, through the
same code path as every other service.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import botocore.session
from botocore.model import OperationModel, ServiceModel

from openssm.errors import AwsError, InvalidAction, UnknownOperation
from openssm.protocol.plan import plan
from openssm.protocol.validation import checker

# The services served by the JSON 1.1 and query protocols, by botocore name; bundled models add to these.
SERVED_SERVICES = ("ssm", "kms", "organizations", "cloudtrail", "iam", "sts")
MODELS_DIR = Path(__file__).parent / "models"

# IAM action prefixes differ from botocore names only for a few services.
_IAM_PREFIX = {"cloudtrail": "cloudtrail", "organizations": "organizations"}


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def load_service_model(name: str, models_dir: Path = MODELS_DIR) -> ServiceModel:
    """A bundled model file if there is one, else botocore's model (uncached: see `service_model`), with the
    operations of `<name>.agent.json` (those AWS's agent calls but botocore does not publish) merged in."""
    bundled = models_dir / f"{name}.json"
    if bundled.is_file():
        return ServiceModel(json.loads(bundled.read_text(encoding="utf-8")), service_name=name)
    extra = models_dir / f"{name}.agent.json"
    if not extra.is_file():
        return _session().get_service_model(name)
    data = _session().get_component("data_loader").load_service_model(name, "service-2")
    additions = json.loads(extra.read_text(encoding="utf-8"))
    merged = {**data, "operations": {**data["operations"], **additions["operations"]},
              "shapes": {**data["shapes"], **additions["shapes"]}}
    return ServiceModel(merged, service_name=name)


def bundled_services(models_dir: Path = MODELS_DIR) -> tuple[str, ...]:
    """Services with a model of their own here (not the `.agent.json` additions to botocore's)."""
    return tuple(sorted(path.stem for path in models_dir.glob("*.json") if "." not in path.stem))


@cache
def served_services() -> tuple[str, ...]:
    return SERVED_SERVICES + tuple(name for name in bundled_services() if name not in SERVED_SERVICES)


@cache
def service_model(name: str) -> ServiceModel:
    """The model of `name`, loaded once per process (loading botocore's takes tens of milliseconds)."""
    return load_service_model(name)


def protocol_of(service: str) -> str:
    """'json' or 'query'."""
    return str(service_model(service).metadata.get("protocol", ""))


@cache
def _operation_names(service: str) -> frozenset[str]:
    return frozenset(service_model(service).operation_names)


def unknown_operation(service: str, name: str, version: str | None = None) -> AwsError:
    """The error AWS gives for an operation the service lacks: InvalidAction on query, else UnknownOperation."""
    model = service_model(service)
    if protocol_of(service) == "query":
        return InvalidAction(f"Could not find operation {name} for version {version or model.api_version}")
    return UnknownOperation()


def operation_model(service: str, name: str, *, version: str | None = None) -> OperationModel:
    """The operation `name` of `service`; raises `unknown_operation(...)` when there is none.

    `version` is the query request's Version, which AWS quotes back in InvalidAction.
    """
    if name not in _operation_names(service):
        raise unknown_operation(service, name, version)
    return service_model(service).operation_model(name)


@cache
def _target_prefixes() -> dict[str, str]:
    table: dict[str, str] = {}
    for name in served_services():
        prefix = service_model(name).metadata.get("targetPrefix")
        if prefix:
            table[prefix] = name
            # CloudTrail's model prefixes its target with a namespace (com.amazonaws.cloudtrail.v20131101.);
            # older SDKs send the bare CloudTrail_20131101.
            table.setdefault(prefix.rsplit(".", 1)[-1], name)
    return table


def service_for_target_prefix(prefix: str) -> str | None:
    """The service whose X-Amz-Target prefix this is (AmazonSSM -> ssm), or None."""
    return _target_prefixes().get(prefix)


@cache
def _signing_names() -> dict[str, str]:
    table: dict[str, str] = {}
    for name in served_services():
        model = service_model(name)
        for alias in (model.signing_name, model.endpoint_prefix, name):
            if alias:
                table.setdefault(alias, name)
    return table


def service_for_signing_name(name: str) -> str | None:
    """The service a SigV4 credential scope names (its signing name or endpoint prefix), or None."""
    return _signing_names().get(name)


def iam_prefix(service: str) -> str:
    """The prefix of the service's IAM actions (ssm:GetParameter)."""
    return _IAM_PREFIX.get(service, service_model(service).signing_name or service)


def preload(services: tuple[str, ...] | None = None) -> None:
    """Load the models and compile every operation's shapes now, so no request pays for it."""
    for service in services or served_services():
        model = service_model(service)
        for name in model.operation_names:
            op = model.operation_model(name)
            for shape in (op.input_shape, op.output_shape):
                if shape is not None:
                    checker(plan(shape))
