"""Which operating system a package root holds, read from its os-release(5) as AWS's patching payload reads
it: Patch Manager's OperatingSystem value and the PRODUCT a baseline's filters name (e.g. Debian12)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

DEB, RPM = "deb", "rpm"
# os-release ID -> (OperatingSystem, PRODUCT prefix, package family)
_SYSTEMS = {
    "debian": ("DEBIAN", "Debian", DEB),
    "raspbian": ("RASPBIAN", "Raspbian", DEB),
    "ubuntu": ("UBUNTU", "Ubuntu", DEB),
    "rhel": ("REDHAT_ENTERPRISE_LINUX", "RedhatEnterpriseLinux", RPM),
    "rocky": ("ROCKY_LINUX", "RockyLinux", RPM),
    "almalinux": ("ALMA_LINUX", "AlmaLinux", RPM),
    "centos": ("CENTOS", "CentOS", RPM),
    "ol": ("ORACLE_LINUX", "OracleLinux", RPM),
    "amzn": ("AMAZON_LINUX_2", "AmazonLinux", RPM),
}


class UnsupportedOs(Exception):
    """The root's operating system is not one Patch Manager patches on Linux."""


@dataclass(frozen=True)
class NodeOs:
    operating_system: str  # DEBIAN, UBUNTU, REDHAT_ENTERPRISE_LINUX…
    product: str  # Debian12, Ubuntu22.04, RedhatEnterpriseLinux9.2…
    family: str  # DEB or RPM


def parse_os_release(text: str) -> NodeOs:
    """The OS of an os-release file; UnsupportedOs for one Patch Manager does not know."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, raw = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            try:
                parsed = shlex.split(raw)
            except ValueError:
                parsed = [raw.strip()]
            values[key.strip()] = parsed[0] if parsed else ""
    os_id, version = values.get("ID", "").lower(), values.get("VERSION_ID", "")
    known = _SYSTEMS.get(os_id)
    if known is None:
        raise UnsupportedOs(f"unsupported operating system {os_id or 'unknown'!r} {version}".rstrip())
    operating_system, prefix, family = known
    if os_id == "debian":
        version = version.split(".")[0]  # AWS's products are Debian11, Debian12
    if os_id == "amzn" and version.startswith("20"):
        operating_system = "AMAZON_LINUX_2023" if version.startswith("2023") else "AMAZON_LINUX_2022"
    return NodeOs(operating_system, prefix + version, family)
