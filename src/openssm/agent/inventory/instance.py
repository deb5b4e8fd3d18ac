"""The node's own inventory types: AWS:InstanceDetailedInformation (AWS's agent reads lscpu and uname,
instancedetailedinformation/dataProvider_unix.go; this reads what lscpu reads: /proc/cpuinfo and the CPU
topology in /sys) and AWS:BillingInfo (an EC2 instance's billing and Marketplace product codes from its identity
document; none on premises, as billinginfo/dataProvider.go). AWS:InstanceInformation is not gathered: AWS's
agent never sends it, the service builds it from the heartbeats (UpdateInstanceInformation)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from openssm.agent.inventory.model import BILLING_INFO, INSTANCE_DETAILED_INFORMATION, Entry
from openssm.agent.inventory.sources import Sources

log = logging.getLogger(__name__)
CPU_DIR = "/sys/devices/system/cpu"


def parse_cpuinfo(text: str) -> list[dict[str, str]]:
    """/proc/cpuinfo's blocks, one per logical CPU (only blocks with a `processor` line)."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines() + [""]:
        if not line.strip():
            if "processor" in current:
                blocks.append(current)
            current = {}
            continue
        key, _, value = line.partition(":")
        current[key.strip()] = value.strip()
    return blocks


def _topology(sources: Sources, cpu: dict[str, str]) -> tuple[str, str] | None:
    """(package, core) of a logical CPU, from sysfs, else from cpuinfo's physical id and core id."""
    base = f"{CPU_DIR}/cpu{cpu['processor']}/topology"
    package, core = sources.read(f"{base}/physical_package_id"), sources.read(f"{base}/core_id")
    if package is not None and core is not None:
        return package.strip(), core.strip()
    if "physical id" in cpu and "core id" in cpu:
        return cpu["physical id"], cpu["core id"]
    return None


def _speed_mhz(sources: Sources, first: dict[str, str]) -> str:
    """lscpu's CPU MHz truncated, as AWS's agent reports it; the frequency driver's when cpuinfo has none."""
    try:
        if "cpu MHz" in first:
            return str(int(float(first["cpu MHz"])))
        khz = sources.read(f"{CPU_DIR}/cpu{first['processor']}/cpufreq/scaling_cur_freq")
        return str(int(khz) // 1000) if khz and khz.strip().isdigit() else ""
    except ValueError:
        return ""


def detailed_information(sources: Sources) -> tuple[Entry, ...]:
    """One row; none when /proc/cpuinfo cannot be read (AWS's agent: none when lscpu fails)."""
    cpus = parse_cpuinfo(sources.read("/proc/cpuinfo") or "")
    if not cpus:
        return ()
    places = [_topology(sources, cpu) for cpu in cpus]
    known = [p for p in places if p is not None] if None not in places else []
    sockets, cores = len({package for package, _ in known}), len(set(known))
    model = next((cpu[k] for cpu in cpus for k in ("model name", "cpu model") if cpu.get(k)), "")
    return (INSTANCE_DETAILED_INFORMATION.entry(
        CPUModel=model, CPUSpeedMHz=_speed_mhz(sources, cpus[0]), CPUs=str(len(cpus)),
        CPUSockets=str(sockets) if known else "", CPUCores=str(cores) if known else "",
        CPUHyperThreadEnabled=str(len(cpus) // cores > 1).lower() if known else "",
        KernelVersion=sources.kernel_release),)


def billing_info(identity_document: Callable[[], str | None] | None) -> tuple[Entry, ...]:
    """The identity document's billingProducts then marketplaceProductCodes; none without instance metadata."""
    if identity_document is None:
        return ()
    try:
        document = json.loads(identity_document() or "{}")
        codes = list(document.get("billingProducts") or []) + list(document.get("marketplaceProductCodes") or [])
    except Exception as err:  # AWS's agent logs a metadata failure and reports no billing products
        log.warning("inventory: no instance identity document: %s", err)
        return ()
    return tuple(BILLING_INFO.entry(BillingProductId=str(code).strip()) for code in codes)

