"""AWS's inventory types and their attributes, as AWS publishes them (user guide, "Metadata collected by
inventory"), with the attributes GetInventorySchema's Aggregator view names (user guide, "Aggregating inventory
data") and the schema versions AWS's agent sends (amazon-ssm-agent, agent/plugins/inventory/gatherers/*)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

STRING, NUMBER = "STRING", "NUMBER"  # what GetInventorySchema answers (AWS's CLI examples), not the model's 'string'
INSTANCE_INFORMATION = "AWS:InstanceInformation"
APPLICATION = "AWS:Application"
COMPLIANCE_ITEM = "AWS:ComplianceItem"


@dataclass(frozen=True)
class Attribute:
    name: str
    data_type: str = STRING
    context: bool = False  # carried in the item's Context, not in its entries (AWS:ComplianceItem)


@dataclass(frozen=True)
class InventoryType:
    """One inventory type: an AWS one, or an account's Custom: type inferred from its data."""

    type_name: str
    version: str
    attributes: tuple[Attribute, ...]
    accepted_versions: frozenset[str] = frozenset()
    aggregatable: tuple[str, ...] = ()  # the attributes an Aggregator expression may name
    display_name: str | None = None  # GetInventorySchema's DisplayName in the Aggregator view

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def content_attributes(self) -> frozenset[str]:
        return frozenset(a.name for a in self.attributes if not a.context)

    @property
    def context_attributes(self) -> frozenset[str]:
        return frozenset(a.name for a in self.attributes if a.context)

    @property
    def is_custom(self) -> bool:
        return self.type_name.startswith("Custom:")

    def may_aggregate(self, attribute: str) -> bool:
        # AWS publishes the aggregatable attributes of its own types; a custom type's are all its attributes.
        return attribute in self.aggregatable if not self.is_custom else self.attribute(attribute) is not None


def _strings(*names: str) -> tuple[Attribute, ...]:
    return tuple(Attribute(n) for n in names)


def _type(type_name: str, attributes: Iterable[Attribute], version: str = "1.0", *, accepted: Iterable[str] = (),
          aggregatable: Iterable[str] = (), display_name: str | None = None) -> InventoryType:
    return InventoryType(type_name, version, tuple(attributes), frozenset({version, *accepted}), tuple(aggregatable),
                         display_name)


_AWS = [
    # The service builds this one from the node's heartbeats (UpdateInstanceInformation), not from PutInventory.
    _type(INSTANCE_INFORMATION, _strings("AgentType", "AgentVersion", "ComputerName", "InstanceId", "IpAddress",
                                         "PlatformName", "PlatformType", "PlatformVersion", "ResourceType",
                                         "AgentStatus", "InstanceStatus"),
          aggregatable=("PlatformName", "PlatformType", "PlatformVersion"), display_name="Platform"),
    # Schema 1.1 since the agent added Release, Epoch…; older agents sent 1.0.
    _type(APPLICATION, _strings("Name", "ApplicationType", "Publisher", "Version", "Release", "Epoch",
                                "InstalledTime", "Architecture", "URL", "Summary", "PackageId"),
          "1.1", accepted=("1.0",), aggregatable=("Name", "Version"), display_name="Application"),
    _type("AWS:File", _strings("Name", "Size", "Description", "FileVersion", "InstalledDate", "ModificationTime",
                               "LastAccessTime", "ProductName", "InstalledDir", "ProductLanguage", "CompanyName",
                               "ProductVersion")),
    _type("AWS:Process", _strings("StartTime", "CommandLine", "User", "FileName", "FileVersion", "FileDescription",
                                  "FileSize", "CompanyName", "ProductName", "ProductVersion", "InstalledDate",
                                  "InstalledDir", "UsageId")),
    _type("AWS:AWSComponent", _strings("Name", "ApplicationType", "Publisher", "Version", "InstalledTime",
                                       "Architecture", "URL")),
    _type("AWS:WindowsUpdate", _strings("HotFixId", "Description", "InstalledTime", "InstalledBy")),
    _type("AWS:Network", _strings("Name", "SubnetMask", "Gateway", "DHCPServer", "DNSServer", "MacAddress", "IPV4",
                                  "IPV6")),
    _type("AWS:PatchSummary", (*_strings("PatchGroup", "BaselineId", "SnapshotId", "OwnerInformation"),
                               *(Attribute(n, NUMBER) for n in (
                                   "InstalledCount", "InstalledPendingRebootCount", "InstalledOtherCount",
                                   "InstalledRejectedCount", "NotApplicableCount", "UnreportedNotApplicableCount",
                                   "MissingCount", "FailedCount")),
                               *_strings("OperationType", "OperationStartTime", "OperationEndTime",
                                         "InstallOverrideList", "RebootOption", "LastNoRebootInstallOperationTime",
                                         "ExecutionId", "NonCompliantSeverity"),
                               *(Attribute(n, NUMBER) for n in ("SecurityNonCompliantCount",
                                                                "CriticalNonCompliantCount",
                                                                "OtherNonCompliantCount")))),
    _type("AWS:PatchCompliance", _strings("Title", "KBId", "Classification", "Severity", "State", "InstalledTime")),
    _type(COMPLIANCE_ITEM, (*(Attribute(n, context=True) for n in ("ComplianceType", "ExecutionId", "ExecutionType",
                                                                   "ExecutionTime")),
                            *_strings("Id", "Title", "Status", "Severity", "DocumentName", "DocumentVersion",
                                      "Classification", "PatchBaselineId", "PatchSeverity", "PatchState",
                                      "PatchGroup", "InstalledTime", "InstallOverrideList", "DetailedText",
                                      "DetailedLink", "CVEIds"))),
    _type("AWS:ComplianceSummary", (*_strings("ComplianceType", "PatchGroup", "PatchBaselineId", "Status",
                                              "OverallSeverity", "ExecutionId", "ExecutionType", "ExecutionTime"),
                                    *(Attribute(f"{state}{severity}Count", NUMBER)
                                      for state in ("Compliant", "NonCompliant")
                                      for severity in ("Critical", "High", "Medium", "Low", "Informational",
                                                       "Unspecified")))),
    # KernelVersion is not in the user guide's list, but AWS's agent sends it (model.InstanceDetailedInformation).
    _type("AWS:InstanceDetailedInformation", (Attribute("CPUModel"), Attribute("CPUCores", NUMBER),
                                              Attribute("CPUs", NUMBER), Attribute("CPUSpeedMHz", NUMBER),
                                              Attribute("CPUSockets", NUMBER), Attribute("CPUHyperThreadEnabled"),
                                              Attribute("OSServicePack"), Attribute("KernelVersion"))),
    _type("AWS:Service", _strings("Name", "DisplayName", "ServiceType", "Status", "DependentServices",
                                  "ServicesDependedOn", "StartType"),
          aggregatable=("Name", "DisplayName", "ServiceType", "Status", "StartType"), display_name="Service"),
    _type("AWS:WindowsRegistry", _strings("KeyPath", "ValueName", "ValueType", "Value")),
    _type("AWS:WindowsRole", _strings("Name", "DisplayName", "Path", "FeatureType", "DependsOn", "Description",
                                      "Installed", "InstalledState", "SubFeatures", "ServerComponentDescriptor",
                                      "Parent"),
          aggregatable=("Name", "DisplayName", "FeatureType", "Installed"), display_name="WindowsRole"),
    _type("AWS:Tag", _strings("Key", "Value")),
    _type("AWS:ResourceGroup", _strings("Name", "Arn"), aggregatable=("Name",), display_name="ResourceGroup"),
    _type("AWS:BillingInfo", _strings("BillingProductId")),
]

AWS_TYPES: dict[str, InventoryType] = {t.type_name: t for t in _AWS}


def custom_type(type_name: str, version: str, attributes: Iterable[str]) -> InventoryType:
    """A Custom: type as its data defines it: every attribute a string."""
    return InventoryType(type_name, version, _strings(*attributes), frozenset({version}))


def version_key(version: str) -> tuple[int, ...]:
    """Schema versions compare as numbers: 1.10 is newer than 1.9."""
    return tuple(int(part) for part in version.split("."))
