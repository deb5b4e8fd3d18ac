"""AWS:Service on Linux, an OpenSSM extension (AWS's agent gathers services on Windows only): every systemd
service, loaded or only installed, from `systemctl list-units`, `list-unit-files` and one `systemctl show`.
None without systemd. Status and StartType use the Windows words AWS:Service already holds, so one query
covers both platforms: active or reloading is Running, activating StartPending, deactivating StopPending, any
other state Stopped; an enabled unit starts Automatic, a masked one is Disabled, any other Manual. ServiceType
is systemd's Type (simple, forking, oneshot, notify...); the dependency lists name services only, space
separated as PowerShell prints them: DependentServices from RequiredBy and WantedBy, ServicesDependedOn from
Requires and Wants."""

from __future__ import annotations

from openssm.agent.inventory.model import SERVICE, Entry
from openssm.agent.inventory.sources import Sources, exists, output

PROPERTIES = ("Id", "Description", "Type", "LoadState", "ActiveState", "UnitFileState", "Requires", "Wants",
              "RequiredBy", "WantedBy")
STATUS = {"active": "Running", "reloading": "Running", "activating": "StartPending", "deactivating": "StopPending"}
START_TYPE = {"enabled": "Automatic", "enabled-runtime": "Automatic", "masked": "Disabled",
              "masked-runtime": "Disabled"}


def unit_names(units: str, unit_files: str) -> list[str]:
    """Service units from `list-units --plain --no-legend` and `list-unit-files --no-legend`, templates left out."""
    names: dict[str, None] = {}
    for line in (units + "\n" + unit_files).splitlines():
        fields = line.split()
        name = fields[0] if fields and fields[0] not in ("●", "*") else (fields[1] if len(fields) > 1 else "")
        if name.endswith(".service") and not name.endswith("@.service"):
            names[name] = None
    return sorted(names)


def parse_show(text: str) -> list[dict[str, str]]:
    """`systemctl show`'s blocks of Key=Value lines, one per unit."""
    units: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines() + [""]:
        if not line.strip():
            if current:
                units.append(current)
            current = {}
            continue
        key, _, value = line.partition("=")
        current[key] = value
    return units


def _services(value: str) -> list[str]:
    return [name for name in value.split() if name.endswith(".service")]


def service_entry(unit: dict[str, str]) -> Entry:
    return SERVICE.entry(
        Name=unit.get("Id", ""), DisplayName=unit.get("Description", ""),
        Status=STATUS.get(unit.get("ActiveState", ""), "Stopped"),
        DependentServices=" ".join(_services(unit.get("RequiredBy", "")) + _services(unit.get("WantedBy", ""))),
        ServicesDependedOn=" ".join(_services(unit.get("Requires", "")) + _services(unit.get("Wants", ""))),
        ServiceType=unit.get("Type", ""), StartType=START_TYPE.get(unit.get("UnitFileState", ""), "Manual"))


def services(sources: Sources) -> tuple[Entry, ...]:
    if not exists(sources.systemctl) or not sources.path("/run/systemd/system").is_dir():
        return ()
    base = [*sources.systemctl, "--no-pager", "--no-legend"]
    units = output([*base, "--plain", "--all", "--type=service", "list-units"])
    unit_files = output([*base, "--type=service", "list-unit-files"])
    names = unit_names(units or "", unit_files or "")
    shown = output([*base, "show", "--property=" + ",".join(PROPERTIES), "--", *names]) if names else None
    found = [u for u in parse_show(shown or "") if u.get("Id") and u.get("LoadState") != "not-found"]
    return tuple(service_entry(unit) for unit in sorted(found, key=lambda u: u["Id"]))
