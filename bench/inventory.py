"""Inventory at fleet scale: N managed nodes (registered by activation, each reporting its platform by heartbeat)
each PutInventory ~500 applications with its own node credentials over HTTP with SigV4, as AWS's agent does; then
GetInventory latencies (p50/p99) for one node's applications, a fleet-wide filter by application name, and
aggregation counts by application name and by platform; and the cost of an unchanged report (hash only).

    python bench/inventory.py [--nodes 200] [--packages 500] [--workers 1] [--threads 8] [--rounds 50]
    python bench/inventory.py --nodes 5000            # the target: 5,000 nodes × 500 packages
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import datetime as dt
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.agents import node_role  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

from openssm.agent.client import RoleCredentials, SsmClient  # noqa: E402
from openssm.protocol import rsa_auth  # noqa: E402

KEY = rsa_auth.new_key()  # shared: the server keys nodes by fingerprint, and thousands of RSA keys take minutes
CAPTURE = "2026-12-06T10:00:00Z"
_STEMS = ["ssl", "crypto", "xml2", "curl", "z", "bz2", "lzma", "zstd", "ffi", "gcc-s", "stdc++", "systemd", "udev",
          "pam", "selinux", "acl", "attr", "cap", "audit", "krb5", "gssapi", "ldap", "sasl2", "nss", "nspr", "pcre2",
          "glib2.0", "dbus", "expat", "yaml", "readline", "ncurses", "tinfo", "gmp", "mpfr", "idn2", "unistring",
          "tasn1", "p11-kit", "gnutls", "nettle", "hogweed", "sqlite3", "db5.3", "gdbm", "uuid", "blkid", "mount",
          "fdisk", "smartcols", "kmod", "seccomp", "apparmor", "json-c", "jansson", "event", "uv", "ev", "cares",
          "nghttp2", "brotli", "psl", "ssh2", "rtmp", "png", "jpeg", "tiff", "webp", "gif", "freetype", "fontconfig"]
_TOOLS = ["bash", "coreutils", "util-linux", "openssh-server", "openssh-client", "sudo", "curl", "wget", "vim",
          "nano", "less", "grep", "sed", "gawk", "findutils", "tar", "gzip", "xz-utils", "bzip2", "zstd", "rsync",
          "git", "make", "gcc", "g++", "python3", "perl", "ruby", "nodejs", "openjdk-17-jre", "nginx", "apache2",
          "postgresql-15", "mariadb-server", "redis-server", "docker-ce", "containerd", "iptables", "nftables",
          "chrony", "rsyslog", "logrotate", "cron", "dnsutils", "iproute2", "net-tools", "tcpdump", "strace",
          "htop", "amazon-ssm-agent", "awscli", "cloud-init", "unattended-upgrades", "apt", "dpkg", "systemd"]
_FLAVOURS = ["", "-dev", "-doc", "-common", "-bin", "-data", "-tools", "-utils", "-dbg"]


def catalogue(size: int, rng: random.Random) -> list[tuple[str, str]]:
    """Package names as Debian/RHEL fleets have them (libssl3, python3-urllib3, nginx-common…), with versions."""
    names = set(_TOOLS)
    while len(names) < size:
        kind = rng.random()
        if kind < 0.5:
            names.add(f"lib{rng.choice(_STEMS)}{rng.choice(['', '1', '2', '3', '6', '-1.0-0'])}"
                      f"{rng.choice(_FLAVOURS)}")
        elif kind < 0.8:
            names.add(f"python3-{rng.choice(_STEMS).split('-')[0]}{rng.choice(_FLAVOURS)}{rng.randint(0, 40)}")
        else:
            names.add(f"{rng.choice(_TOOLS)}{rng.choice(_FLAVOURS)}{rng.choice(['', '-' + str(rng.randint(2, 9))])}")
    return [(n, f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}-{rng.randint(1, 9)}")
            for n in sorted(names)]


def applications(catalog: list[tuple[str, str]], packages: int, rng: random.Random) -> list[dict[str, str]]:
    """One node's packages: a common base every node has, the rest drawn from the catalogue, some versions newer."""
    base, rest = catalog[:packages * 3 // 5], catalog[packages * 3 // 5:]
    chosen = base + rng.sample(rest, min(len(rest), packages - len(base)))
    out = []
    for name, version in chosen:
        if rng.random() < 0.1:
            version = version.rsplit("-", 1)[0] + f"-{rng.randint(10, 19)}"
        out.append({"Name": name, "Version": version, "Publisher": "Debian", "Architecture": "amd64",
                    "ApplicationType": rng.choice(["libs", "admin", "utils", "python", "web", "database"]),
                    "InstalledTime": f"2026-11-0{rng.randint(1, 9)}T0{rng.randint(0, 9)}:00:00Z",
                    "URL": f"https://packages.debian.org/{name}", "Summary": f"{name} package",
                    "PackageId": f"{name}_{version}_amd64.deb"})
    return sorted(out, key=lambda a: a["Name"])


def content_hash(content: list[dict[str, str]]) -> str:
    """As AWS's agent computes it (datauploader.calculateCheckSum): base64 MD5 of the content's JSON."""
    return base64.b64encode(hashlib.md5(json.dumps(content).encode()).digest()).decode()


def enrol(server: ServerProcess, client: SsmClient, activation: dict[str, str], n: int) -> tuple[str, RoleCredentials]:
    fingerprint = str(uuid.uuid4())
    node = client.register(activation["ActivationId"], activation["ActivationCode"], KEY, fingerprint)
    creds = client.role_token(node, KEY, fingerprint)
    linux = n % 5 != 0
    client.call("UpdateInstanceInformation", {
        "InstanceId": node, "AgentName": "amazon-ssm-agent", "AgentVersion": "3.3.0.0", "AgentStatus": "Active",
        "PlatformType": "Linux" if linux else "Windows", "PlatformName": "Debian GNU/Linux" if linux else "Windows",
        "PlatformVersion": "12" if linux else "10.0.20348", "ComputerName": f"node-{n}",
        "IPAddress": f"10.0.{n // 250}.{n % 250 + 1}"}, creds)
    return node, creds


def put_body(node: str, content: list[dict[str, str]] | None, digest: str) -> dict[str, Any]:
    item: dict[str, Any] = {"TypeName": "AWS:Application", "SchemaVersion": "1.1", "CaptureTime": CAPTURE,
                            "ContentHash": digest}
    if content is not None:
        item["Content"] = content
    return {"InstanceId": node, "Items": [item]}


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, round(len(ordered) * 0.99))], 1),
            "n": len(ordered)}


def analyze(args: argparse.Namespace) -> None:
    """On PostgreSQL, ANALYZE as autovacuum does once a table has grown (this machine's PostgreSQL runs without
    autovacuum, and without statistics the planner reads a node's entries by scanning the type's whole index)."""
    if args.database_url:
        import psycopg

        with psycopg.connect(args.database_url, autocommit=True) as pg:
            pg.execute("ANALYZE")


def run(args: argparse.Namespace, server: ServerProcess) -> dict[str, Any]:
    rng = random.Random(7)
    client = SsmClient(server.endpoint, server.region)
    ssm = server.client("ssm")
    node_role(server, "InventoryNodes")
    pool = concurrent.futures.ThreadPoolExecutor(args.threads)
    started = time.monotonic()
    activations = [ssm.create_activation(IamRole="InventoryNodes", RegistrationLimit=1000)
                   for _ in range((args.nodes + 999) // 1000)]
    nodes = list(pool.map(lambda n: enrol(server, client, activations[n // 1000], n), range(args.nodes)))
    enrolled = time.monotonic() - started

    catalog = catalogue(args.packages * 4, rng)
    reports = [applications(catalog, args.packages, rng) for _ in nodes]
    digests = [content_hash(r) for r in reports]
    entries = sum(len(r) for r in reports)

    def first_report(i: int) -> float:
        node, creds = nodes[i]
        return timed(lambda: client.call("PutInventory", put_body(node, reports[i], digests[i]), creds))

    started = time.monotonic()
    put_ms: list[float] = []
    early = max(1, len(nodes) // 50)
    for part in (range(early), range(early, len(nodes))):
        put_ms += pool.map(first_report, part)
        analyze(args)
    ingest_s = time.monotonic() - started

    def unchanged_report(i: int) -> float:  # AWS's agent sends only the hash when the content has not changed
        node, creds = nodes[i]
        return timed(lambda: client.call("PutInventory", put_body(node, None, digests[i]), creds))

    sample = rng.sample(range(len(nodes)), min(len(nodes), args.rounds * 4))
    unchanged_ms = list(pool.map(unchanged_report, sample))
    pool.shutdown()

    admin = RoleCredentials(server.admin.access_key_id, server.admin.secret_access_key, "",
                            dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    everywhere = catalog[0][0]  # in the common base: on every node
    some = catalog[-1][0]  # drawn: on about a tenth of the nodes or fewer

    def query(body: Callable[[], dict[str, Any]], check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        samples, answer = [], {}
        for _ in range(args.rounds):
            request = body()
            started = time.perf_counter()
            answer = client.call("GetInventory", request, admin)
            samples.append((time.perf_counter() - started) * 1000)
            assert check(answer), json.dumps(answer)[:500]
        return percentiles(samples)

    def one_node() -> dict[str, Any]:
        return {"Filters": [{"Key": "AWS:InstanceInformation.InstanceId", "Values": [rng.choice(nodes)[0]],
                             "Type": "Equal"}], "ResultAttributes": [{"TypeName": "AWS:Application"}]}

    def by_name(name: str, how: str = "Equal") -> Callable[[], dict[str, Any]]:
        return lambda: {"Filters": [{"Key": "AWS:Application.Name", "Values": [name], "Type": how}], "MaxResults": 50}

    def aggregation(expression: str) -> Callable[[], dict[str, Any]]:
        return lambda: {"Aggregators": [{"Expression": expression}]}

    results = {
        "one_node_applications": query(one_node, lambda a: len(
            a["Entities"][0]["Data"]["AWS:Application"]["Content"]) == args.packages),
        "fleet_filter_name_equal_on_every_node": query(by_name(everywhere), lambda a: len(a["Entities"]) == min(
            50, len(nodes))),
        "fleet_filter_name_equal_on_few_nodes": query(by_name(some), lambda a: "Entities" in a),
        "fleet_filter_name_begin_with": query(by_name(everywhere[:4], "BeginWith"), lambda a: bool(a["Entities"])),
        "aggregate_count_by_application_name": query(aggregation("AWS:Application.Name"), lambda a: bool(
            a["Entities"][0]["Data"]["AWS:Application"]["Content"])),
        "aggregate_count_by_platform_type": query(aggregation("AWS:InstanceInformation.PlatformType"), lambda a: bool(
            a["Entities"][0]["Data"]["AWS:InstanceInformation"]["Content"])),
    }
    db_file = server.data_dir / "openssm.db"
    return {"nodes": len(nodes), "packages_per_node": args.packages, "entries": entries,
            "enrolment_s": round(enrolled, 1), "ingest_s": round(ingest_s, 1),
            "ingest_entries_per_s": round(entries / ingest_s), "put_inventory": percentiles(put_ms),
            "put_inventory_unchanged_hash_only": percentiles(unchanged_ms), "get_inventory": results,
            "database_mb": round(db_file.stat().st_size / 2**20) if db_file.exists() else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--packages", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8, help="client threads enrolling and reporting")
    parser.add_argument("--rounds", type=int, default=50, help="calls per measured query")
    parser.add_argument("--database-url", help="PostgreSQL instead of the embedded SQLite")
    args = parser.parse_args()
    extra = ["--workers", str(args.workers)] + (["--database-url", args.database_url] if args.database_url else [])
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "openssm", *extra).start()
        try:
            print(json.dumps(run(args, server), indent=2))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
