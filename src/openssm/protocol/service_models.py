"""botocore's service models, loaded once per process, and the lookups routing needs."""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.model import OperationModel, ServiceModel

# The services served by the JSON 1.1 and query protocols, by botocore name.
SERVED_SERVICES = ("ssm", "kms", "organizations", "cloudtrail", "iam", "sts")

# IAM action prefixes differ from botocore names only for a few services.
_IAM_PREFIX = {"cloudtrail": "cloudtrail", "organizations": "organizations"}


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def service_model(name: str) -> ServiceModel:
    return _session().get_service_model(name)


@cache
def operation_model(service: str, name: str) -> OperationModel:
    return service_model(service).operation_model(name)


@cache
def _target_prefixes() -> dict[str, str]:
    table: dict[str, str] = {}
    for name in SERVED_SERVICES:
        prefix = service_model(name).metadata.get("targetPrefix")
        if prefix:
            table[prefix] = name
    return table


def service_for_target_prefix(prefix: str) -> str | None:
    """The service whose X-Amz-Target prefix this is (AmazonSSM -> ssm), or None."""
    return _target_prefixes().get(prefix)


def iam_prefix(service: str) -> str:
    """The prefix of the service's IAM actions (ssm:GetParameter)."""
    return _IAM_PREFIX.get(service, service_model(service).signing_name or service)
