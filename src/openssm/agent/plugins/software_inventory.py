"""aws:softwareInventory, the step of AWS-GatherSoftwareInventory (schema 2.0), run as AWS's agent runs it
(agent/plugins/inventory/inventory.go): only by an association, one inventory association per node; its inputs
("Enabled" turns a gatherer on; `files` is a JSON list of filters) choose the gatherers; a gatherer's error or
data past AWS's size limits (3 MiB a type, 10 MiB in all) fails the step without sending anything; the rest
goes in PutInventory (inventory/upload.py). The Windows-only types (windowsRoles, windowsUpdates,
windowsRegistry) are skipped on Linux as AWS's agent skips them; `services` gathers systemd's services, an
OpenSSM extension. AWS:InstanceInformation and AWS:Tag are not gathered: as at AWS, the service builds them
(from heartbeats and the instance's tags). Bad custom inventory files are named in the step's standard error
without failing it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openssm.agent.inventory import applications, custom, files, instance, model, network, services
from openssm.agent.inventory.model import GathererError, InventoryType, Item
from openssm.agent.inventory.sources import Sources
from openssm.agent.inventory.upload import InventoryUploader
from openssm.agent.plugins.steps import StepRun, outcome
from openssm.protocol.mgs import PluginResult

NAME = "aws:softwareInventory"
ENABLED = "Enabled"
SUCCESS = "Inventory policy has been successfully applied and collected inventory data has been uploaded to SSM"
NO_DATA = "Inventory policy has been successfully applied but there is no inventory data to upload to SSM"
NOT_AN_ASSOCIATION = f"{NAME} plugin can only be invoked via ssm-associate"
INVALID_INPUT = f"invalid or unrecognized input was received for {NAME} plugin"
MULTIPLE_ASSOCIATIONS = (f"{NAME} detected multiple inventory configurations associated with one instance. Each "
                         "instance can be associated with just one inventory configuration. Conflicting inventory "
                         "configuration IDs: {} and {}")
TOO_LARGE = "the size of the collected data exceeded the maximum allowable size"
TYPE_LIMIT_BYTES, TOTAL_LIMIT_BYTES = 3072 * 1024, 10240 * 1024
# The step's inputs (AWS's PluginInput fields, matched without regard to case as Go's JSON decoder does).
INPUTS = ("applications", "awsComponents", "networkConfig", "billingInfo", "files", "windowsRoles", "services",
          "windowsRegistry", "windowsUpdates", "instanceDetailedInformation", "customInventory",
          "customInventoryDirectory")


@dataclass(frozen=True)
class Policy:
    enabled: frozenset[str]  # the inputs set to "Enabled"
    files: str = ""  # the `files` filters, JSON
    custom_directory: str = ""


def parse_policy(inputs: Mapping[str, Any]) -> Policy:
    """The step's inputs; ValueError for one AWS's agent cannot read (a known input that is not a string)."""
    if not isinstance(inputs, Mapping):
        raise ValueError(INVALID_INPUT)
    values: dict[str, str] = {}
    for key, value in inputs.items():
        name = next((known for known in INPUTS if known.lower() == str(key).lower()), None)
        if name is None:
            continue
        if not isinstance(value, str):
            raise ValueError(INVALID_INPUT)
        values[name] = value
    return Policy(frozenset(name for name, value in values.items() if value == ENABLED), values.get("files", ""),
                  values.get("customInventoryDirectory", ""))


class SoftwareInventory:
    """The plugin; `sources` and `identity_document` (an EC2 instance's, for AWS:BillingInfo) let tests point
    the gatherers elsewhere."""

    def __init__(self, uploader: InventoryUploader, custom_dir: Path, *,
                 sources: Sources | None = None, identity_document: Callable[[], str | None] | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self._uploader = uploader
        self._custom_dir = custom_dir
        self._sources = sources or Sources()
        self._identity_document = identity_document
        self._clock = clock

    def __call__(self, run: StepRun) -> PluginResult:
        start, step = self._clock(), run.step
        if not run.association_id:
            return outcome(step, start, "", NOT_AN_ASSOCIATION, 1)
        others = [a for a in run.current_associations if a != run.association_id]
        if others:
            return outcome(step, start, "", MULTIPLE_ASSOCIATIONS.format(run.association_id, others[0]), 1)
        try:
            policy = parse_policy(run.inputs)
        except ValueError as err:
            return outcome(step, start, "", str(err), 1)
        try:
            items, problems = self.gather(policy)
        except GathererError as err:
            return outcome(step, start, "", str(err), 1)
        if not items:
            return outcome(step, start, NO_DATA, "\n".join(problems))
        errors = self._uploader.upload(items)
        if errors:
            return outcome(step, start, "", "\n".join([*problems, *errors]), 1)
        return outcome(step, start, SUCCESS, "\n".join(problems))

    def gather(self, policy: Policy) -> tuple[list[Item], list[str]]:
        """The items to upload and the custom inventory files left out; GathererError (AWS's words) when a
        gatherer fails or the data is too large."""
        now, sources = self._clock(), self._sources
        found: list[Item] = []
        problems: list[str] = []

        def add(kind: InventoryType, gather: Callable[[], tuple[model.Entry, ...]]) -> None:
            try:
                found.append(model.item(kind, gather(), now))
            except GathererError as err:
                raise GathererError(f"Encountered error while executing {kind.name}. Error - {err}") from err

        wanted = policy.enabled
        if {"applications", "awsComponents"} & wanted:
            packages = applications.applications(sources)
            if "applications" in wanted:
                add(model.APPLICATION, lambda: packages)
            if "awsComponents" in wanted:
                add(model.AWS_COMPONENT, lambda: applications.aws_components(packages))
        if policy.files:
            add(model.FILE, lambda: files.files(policy.files, sources.environ))
        if "networkConfig" in wanted:
            add(model.NETWORK, lambda: network.network(sources))
        if "services" in wanted:
            add(model.SERVICE, lambda: services.services(sources))
        if "instanceDetailedInformation" in wanted:
            add(model.INSTANCE_DETAILED_INFORMATION, lambda: instance.detailed_information(sources))
        if "billingInfo" in wanted:
            add(model.BILLING_INFO, lambda: instance.billing_info(self._identity_document))
        if "customInventory" in wanted:
            found.extend(self._custom(policy, now, problems))
        _check_size(found)
        return found, problems

    def _custom(self, policy: Policy, now: dt.datetime, problems: list[str]) -> tuple[Item, ...]:
        folder = Path(policy.custom_directory) if policy.custom_directory else self._custom_dir
        try:
            gathered = custom.custom_inventory(folder, now)
        except GathererError as err:
            raise GathererError(f"Encountered error while executing CustomInventory. Error - {err}") from err
        problems.extend(gathered.problems)
        return gathered.items


def _check_size(items: list[Item]) -> None:
    """AWS's limits: 3 MiB a type and 10 MiB in all (model.go SizeLimitKBPerInventoryType, TotalSizeLimitKB)."""
    sizes = [i.size() for i in items]
    if any(size > TYPE_LIMIT_BYTES for size in sizes) or sum(sizes) + len(sizes) + 1 > TOTAL_LIMIT_BYTES:
        raise GathererError(TOO_LARGE)
