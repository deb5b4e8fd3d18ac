"""AWS:Network: each interface but loopback, in interface-index order, read from /sys and /proc without running
anything. AWS's agent reports Name, MacAddress, IPV4 and IPV6 on Linux (network/dataProvider_unix.go); like its
Windows gatherer, OpenSSM also fills SubnetMask, Gateway, DHCPServer and DNSServer, one value each.

IPv4 addresses are the node's local addresses (/proc/net/fib_trie) placed on the interface whose on-link route
holds them (/proc/net/route), the first one reported with that route's mask; an address without such a route
(a /32 added with noprefixroute) is not attributed. IPv6 (/proc/net/if_inet6): the first global address, else
the first link-local one. DNS: the link's servers from systemd-networkd, else the resolver's upstream list
(systemd-resolved's, else /etc/resolv.conf). DHCP: the server of the link's lease (systemd-networkd,
NetworkManager, dhclient)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from openssm.agent.inventory.model import NETWORK, Entry
from openssm.agent.inventory.sources import Sources

IFF_LOOPBACK = 0x8
RTF_UP, RTF_GATEWAY = 0x1, 0x2
IPV6_GLOBAL_SCOPE = 0x00
DHCLIENT_LEASE_DIRS = ("/var/lib/dhcp", "/var/lib/dhclient", "/var/lib/NetworkManager")


@dataclass(frozen=True)
class Route:
    interface: str
    destination: int
    gateway: int
    flags: int
    metric: int
    mask: int


def _ipv4(little_endian_hex: str) -> int:
    """/proc/net/route's addresses are the kernel's bytes printed as a little-endian number."""
    return int.from_bytes(int(little_endian_hex, 16).to_bytes(4, "little"), "big")


def _dotted(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def parse_routes(text: str) -> list[Route]:
    routes = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        try:
            routes.append(Route(fields[0], _ipv4(fields[1]), _ipv4(fields[2]), int(fields[3], 16), int(fields[6]),
                                _ipv4(fields[7])))
        except (IndexError, ValueError, OverflowError):
            continue  # not a route line
    return routes


def parse_local_addresses(fib_trie: str) -> list[int]:
    """The addresses /proc/net/fib_trie marks `/32 host LOCAL`, each once, in the order listed."""
    found: list[int] = []
    last = ""
    for line in fib_trie.splitlines():
        text = line.strip()
        if text.startswith("|-- "):
            last = text[4:]
        elif text.startswith("/32 host LOCAL") and last:
            try:
                address = int(ipaddress.IPv4Address(last))
            except ValueError:
                continue
            if address not in found:
                found.append(address)
    return found


def _on_link(address: int, routes: list[Route]) -> Route | None:
    candidates = [r for r in routes if r.flags & RTF_UP and not r.flags & RTF_GATEWAY
                  and address & r.mask == r.destination and r.mask]
    return max(candidates, key=lambda r: (r.mask, -r.metric), default=None)


def parse_inet6(text: str) -> dict[str, str]:
    """Each interface's IPv6 address to report: its first global one, else its first other one."""
    chosen: dict[str, tuple[bool, str]] = {}
    for line in text.splitlines():
        fields = line.split()
        try:
            address = str(ipaddress.IPv6Address(bytes.fromhex(fields[0])))
            is_global = int(fields[3], 16) == IPV6_GLOBAL_SCOPE
            name = fields[5]
        except (IndexError, ValueError):
            continue
        if name not in chosen or (is_global and not chosen[name][0]):
            chosen[name] = (is_global, address)
    return {name: address for name, (_, address) in chosen.items()}


def _first_nameserver(text: str | None) -> str:
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            return fields[1]
    return ""


def _key(text: str | None, key: str) -> str:
    """A `KEY=value` line's first value (systemd-networkd's link state and leases)."""
    match = re.search(rf"^{key}=(\S*)", text or "", re.MULTILINE)
    return match.group(1) if match else ""


def _dhclient_server(sources: Sources, name: str) -> str:
    """The dhcp-server-identifier of the interface's last lease in dhclient's lease files."""
    server = ""
    for directory in DHCLIENT_LEASE_DIRS:
        folder = sources.path(directory)
        for lease_file in sorted(folder.glob("*.lease*")) if folder.is_dir() else ():
            text = lease_file.read_text(errors="replace") if lease_file.is_file() else ""
            for lease in re.findall(r"lease\s*\{(.*?)\}", text, re.DOTALL):
                if re.search(rf'interface\s+"{re.escape(name)}"', lease):
                    match = re.search(r"option\s+dhcp-server-identifier\s+([0-9.]+)", lease)
                    server = match.group(1) if match else server
    return server


def _dhcp_server(sources: Sources, name: str, index: str) -> str:
    networkd = _key(sources.read(f"/run/systemd/netif/leases/{index}"), "SERVER_ADDRESS")
    if networkd:
        return networkd
    folder = sources.path("/var/lib/NetworkManager")
    for lease_file in sorted(folder.glob(f"internal-*-{name}.lease")) if folder.is_dir() else ():
        found = _key(lease_file.read_text(errors="replace"), "SERVER_ADDRESS")
        if found:
            return found
    return _dhclient_server(sources, name)


def _interfaces(sources: Sources) -> list[tuple[int, str]]:
    """(index, name) of every interface but loopback, by index."""
    found = []
    net = sources.path("/sys/class/net")
    for device in net.iterdir() if net.is_dir() else ():
        index, flags = sources.read(f"/sys/class/net/{device.name}/ifindex"), \
            sources.read(f"/sys/class/net/{device.name}/flags")
        if index is None or not index.strip().isdigit():
            continue
        if flags is not None and flags.strip() and int(flags.strip(), 16) & IFF_LOOPBACK:
            continue
        found.append((int(index), device.name))
    return sorted(found)


def network(sources: Sources) -> tuple[Entry, ...]:
    routes = parse_routes(sources.read("/proc/net/route") or "")
    ipv4: dict[str, tuple[int, Route]] = {}
    for local in parse_local_addresses(sources.read("/proc/net/fib_trie") or ""):
        route = _on_link(local, routes)
        if route is not None and route.interface not in ipv4:
            ipv4[route.interface] = (local, route)
    ipv6 = parse_inet6(sources.read("/proc/net/if_inet6") or "")
    resolver = _first_nameserver(sources.read("/run/systemd/resolve/resolv.conf") or
                                 sources.read("/etc/resolv.conf"))
    entries = []
    for index, name in _interfaces(sources):
        address = ipv4.get(name)
        gateways = sorted((r.metric, r.gateway) for r in routes
                          if r.interface == name and r.flags & RTF_GATEWAY and r.destination == 0 and r.mask == 0)
        dns = _key(sources.read(f"/run/systemd/netif/links/{index}"), "DNS") or resolver
        has_address = address is not None or name in ipv6
        entries.append(NETWORK.entry(
            Name=name, SubnetMask=_dotted(address[1].mask) if address else "",
            Gateway=_dotted(gateways[0][1]) if gateways else "", DHCPServer=_dhcp_server(sources, name, str(index)),
            DNSServer=dns if has_address else "",
            MacAddress=(sources.read(f"/sys/class/net/{name}/address") or "").strip(),
            IPV4=_dotted(address[0]) if address else "", IPV6=ipv6.get(name, "")))
    return tuple(entries)
