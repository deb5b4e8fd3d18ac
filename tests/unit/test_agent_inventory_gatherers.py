"""The inventory gatherers read the node as AWS's agent reads it, with AWS's type and attribute names: packages
from dpkg (this machine's real database, and a fake one) and rpm, AWS:File from the `files` filters (Go's path
expansion and globs, the limits, a SHA-256 per file), AWS:Network from /sys and /proc, AWS:Service from
systemd, the CPU from /proc/cpuinfo and /sys. Fake commands and fake roots stand in for the node."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from openssm.agent.inventory import applications, files, instance, network, services
from openssm.agent.inventory.model import GathererError
from openssm.agent.inventory.sources import Sources

MISSING = ("/nonexistent/command",)


def fake_command(path: Path, body: str) -> tuple[str, ...]:
    """A command that runs `body` (Python, with `args` = its arguments) in place of a real one."""
    path.write_text(f"#!{sys.executable}\nimport sys\nargs = sys.argv[1:]\n{body}\n")
    path.chmod(0o755)
    return (str(path),)


def write(root: Path, relative: str, text: str) -> None:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


# -- AWS:Application -------------------------------------------------------------------------------------------

def test_applications_are_exactly_what_this_machines_dpkg_database_holds() -> None:
    listed = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Version}\n"], capture_output=True, text=True,
                            check=True).stdout.splitlines()
    found = applications.applications(Sources(rpm=MISSING, snap=MISSING))
    assert [f"{entry['Name']}\t{entry['Version']}" for entry in found] == listed
    assert all(set(entry) <= set(applications.APPLICATION.attributes) for entry in found)


DPKG_STATUS = """\
Package: hello
Status: install ok installed
Priority: optional
Section: devel
Maintainer: Jane "J" Doe <jane@example.com>
Architecture: amd64
Version: 2.10-3
Homepage: https://www.gnu.org/software/hello/
Description: a greeting\tprogram
 The GNU hello program produces a familiar, friendly greeting.

Package: long-summary
Status: install ok installed
Maintainer: X <x@example.com>
Architecture: all
Version: 1.0
Description: {summary}

Package: gone
Status: deinstall ok config-files
Section: admin
Maintainer: X <x@example.com>
Architecture: i386
Version: 0.9
Description: a removed package
"""


def test_dpkg_packages_carry_awss_attributes_cleaned_as_awss_agent_cleans_them(tmp_path: Path) -> None:
    summary = 'say "hi" ' * 15  # 135 characters, 165 once its quotes are escaped: cut at 100 escaped bytes
    write(tmp_path, "status", DPKG_STATUS.format(summary=summary))
    found = applications.dpkg_packages(Sources(dpkg_query=("dpkg-query", f"--admindir={tmp_path}")))
    assert found == (
        {"Name": "gone", "Publisher": "X <x@example.com>", "Version": "0.9", "ApplicationType": "admin",
         "Architecture": "i386", "Summary": "a removed package", "PackageId": "gone_0.9_i386.deb"},
        {"Name": "hello", "Publisher": 'Jane "J" Doe <jane@example.com>', "Version": "2.10-3",
         "ApplicationType": "devel", "Architecture": "x86_64", "URL": "https://www.gnu.org/software/hello/",
         "Summary": "a greeting\tprogram", "PackageId": "hello_2.10-3_amd64.deb"},
        {"Name": "long-summary", "Publisher": "X <x@example.com>", "Version": "1.0", "Architecture": "all",
         "Summary": 'say "hi" ' * 9 + "s", "PackageId": "long-summary_1.0_all.deb"},
    )


RPM_ROWS = [
    {"NAME": "amazon-ssm-agent", "VENDOR": 'Amazon.com, Inc. "<ec2-ssm-feedback@amazon.com>"', "VERSION": "1.2.0.0",
     "RELEASE": "1", "EPOCH": "(none)", "INSTALLTIME": "1454346676", "GROUP": "admin", "ARCH": "amd64", "URL": "(none)",
     "SUMMARY": "Description with \"quotes\" 'and' tabs\t and carriage returns\r and\n new lines",
     "SOURCERPM": "amazon-ssm-agent_1.2_amd64.rpm"},
    {"NAME": "vim-filesystem", "VENDOR": "Amazon.com", "VERSION": "8.0.0503", "RELEASE": "1.45.amzn1",
     "EPOCH": "(none)", "INSTALLTIME": "1500000000", "GROUP": "Applications/Editors", "ARCH": "x86_64",
     "URL": "http://www.vim.org/", "SUMMARY": "VIM filesystem layout",
     "SOURCERPM": "vim-6:8.0.0503-1.45.amzn1.src.rpm"},
]
FAKE_RPM = f"""import re
rows = {RPM_ROWS!r}
assert args[:2] == ["-qa", "--queryformat"]
for row in rows:
    sys.stdout.write(re.sub(r"%{{(\\w+)}}", lambda m: row[m.group(1)], args[2]))
"""


def test_rpm_packages_carry_release_epoch_and_install_time_as_awss_agent_reports_them(tmp_path: Path) -> None:
    found = applications.rpm_packages(Sources(rpm=fake_command(tmp_path / "rpm", FAKE_RPM)))
    assert found == (
        {"Name": "amazon-ssm-agent", "Publisher": 'Amazon.com, Inc. "<ec2-ssm-feedback@amazon.com>"',
         "Version": "1.2.0.0", "Release": "1", "InstalledTime": "2016-02-01T17:11:16Z", "ApplicationType": "admin",
         "Architecture": "x86_64", "URL": "(none)",
         "Summary": "Description with \"quotes\" 'and' tabs\t and carriage returns and",
         "PackageId": "amazon-ssm-agent_1.2_amd64.rpm"},
        {"Name": "vim-filesystem", "Publisher": "Amazon.com", "Version": "8.0.0503", "Release": "1.45.amzn1",
         "Epoch": "6", "InstalledTime": "2017-07-14T02:40:00Z", "ApplicationType": "Applications/Editors",
         "Architecture": "x86_64", "URL": "http://www.vim.org/", "Summary": "VIM filesystem layout",
         "PackageId": "vim-6:8.0.0503-1.45.amzn1.src.rpm"},
    )


def test_snaps_are_listed_when_snapd_is_installed_and_aws_components_are_picked_out(tmp_path: Path) -> None:
    write(tmp_path, "dpkg/status", "Package: snapd\nStatus: install ok installed\nArchitecture: amd64\n"
          "Version: 2.58\nMaintainer: M\nDescription: d\n\nPackage: aws-apitools-ec2\nStatus: install ok installed\n"
          "Architecture: all\nVersion: 1.7\nMaintainer: M\nDescription: d\n")
    snap = fake_command(tmp_path / "snap", 'print("Name  Version    Rev   Tracking  Publisher   Notes")\n'
                                           'print("core  16-2.43.3  8689  stable    canonical*  core")')
    found = applications.applications(Sources(dpkg_query=("dpkg-query", f"--admindir={tmp_path / 'dpkg'}"),
                                              rpm=MISSING, snap=snap))
    assert found[-1] == {"Name": "core", "Publisher": "canonical*", "Version": "16-2.43.3", "ApplicationType": "admin",
                         "Architecture": "", "PackageId": "pkg:snap/canonical*/core@16-2.43.3"}
    assert [e["Name"] for e in applications.aws_components(found)] == ["aws-apitools-ec2"]


def test_a_node_without_dpkg_or_rpm_has_no_applications_and_that_is_not_an_error() -> None:
    assert applications.applications(Sources(dpkg_query=MISSING, rpm=MISSING)) == ()


# -- AWS:File --------------------------------------------------------------------------------------------------

def test_file_paths_expand_variables_as_gos_os_expand_does() -> None:
    env = {"HOME": "/home/u", "1": "one"}
    assert files.expand("$HOME/a:${HOME}/b:$1x:${}:${UNSET}c:$/:end$", env) == "/home/u/a:/home/u/b:onex::c:$/:end$"


@pytest.mark.parametrize(("pattern", "name", "matches"), [
    ("*.log", "app.log", True), ("*.log", "app.log.1", False), ("app-?.conf", "app-1.conf", True),
    ("[^a]*", "abc", False), ("[a-c]x", "bx", True), ("\\*", "*", True), ("\\*", "a", False),
])
def test_patterns_match_as_gos_filepath_match(pattern: str, name: str, matches: bool) -> None:
    assert bool(files.glob_regex(pattern).fullmatch(name)) is matches


@pytest.mark.parametrize("pattern", ["[", "[]a]", "[-a]", "[a-]", "[z-a]", "x\\"])
def test_malformed_patterns_are_bad_patterns_as_in_go(pattern: str) -> None:
    with pytest.raises(ValueError):
        files.glob_regex(pattern)


def test_a_bad_pattern_is_skipped_and_the_others_still_match(tmp_path: Path) -> None:
    write(tmp_path, "a.conf", "x")
    found = files.files(json.dumps([{"Path": str(tmp_path), "Pattern": ["[", "*.conf"]}]), {})
    assert [e["Name"] for e in found] == ["a.conf"]


def test_files_carry_awss_attributes_and_a_sha256_that_changes_with_the_content(tmp_path: Path) -> None:
    write(tmp_path, "etc/app.conf", "port=1\n")
    os.utime(tmp_path / "etc/app.conf", (1_700_000_000, 1_700_000_000))
    filters = json.dumps([{"Path": "$ROOT/etc", "Pattern": ["*.conf"], "Recursive": False}])
    (first,) = files.files(filters, {"ROOT": str(tmp_path)})
    assert list(first) == list(files.FILE.attributes)
    assert (first["Name"], first["Size"], first["InstalledDir"]) == ("app.conf", "7", str(tmp_path / "etc"))
    assert first["Description"] == "sha256:" + hashlib.sha256(b"port=1\n").hexdigest()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", first["ModificationTime"])
    assert dt.datetime.fromisoformat(first["ModificationTime"].replace("Z", "+00:00")).timestamp() == 1_700_000_000
    write(tmp_path, "etc/app.conf", "port=2\n")
    (second,) = files.files(filters, {"ROOT": str(tmp_path)})
    assert second["Description"] != first["Description"] and second["Size"] == first["Size"]


def test_a_recursive_filter_walks_the_tree_in_order_without_following_links(tmp_path: Path) -> None:
    for name in ("b/x.log", "a.log", "c.log", "b/d/y.log", "b/z.txt"):
        write(tmp_path, f"tree/{name}", name)
    (tmp_path / "tree" / "link").symlink_to(tmp_path / "tree" / "b")
    found = files.find(files.parse_filters(json.dumps(
        [{"Path": str(tmp_path / "tree"), "Pattern": ["*.log"], "Recursive": True}])), {})
    assert [os.path.relpath(p, tmp_path / "tree") for p in found] == ["a.log", "b/d/y.log", "b/x.log", "c.log"]


def test_the_directory_and_file_limits_fail_the_gatherer_with_awss_messages(tmp_path: Path) -> None:
    for index in range(3):
        write(tmp_path, f"deep/d{index}/f.log", "x")
    with pytest.raises(GathererError, match="Directory Scan Limit Exceeded"):
        files.files(json.dumps([{"Path": str(tmp_path / "deep"), "Pattern": ["*"], "Recursive": True,
                                 "DirScanLimit": 2}]), {})
    for index in range(501):
        write(tmp_path, f"many/{index}.log", "x")
    with pytest.raises(GathererError, match="File Count Limit Exceeded"):
        files.files(json.dumps([{"Path": str(tmp_path / "many"), "Pattern": ["*.log"]}]), {})


def test_missing_paths_find_nothing_and_malformed_filters_fail(tmp_path: Path) -> None:
    assert files.files(json.dumps([{"Path": str(tmp_path / "absent"), "Pattern": ["*"]}]), {}) == ()
    with pytest.raises(GathererError):
        files.files('[{"Path": "/etc", "Pattern": "*.conf"}]', {})
    with pytest.raises(GathererError):
        files.files("not json", {})


# -- AWS:Network -----------------------------------------------------------------------------------------------

ROUTES = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0102000A\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
"""
FIB_TRIE = """Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.0.2.0
        /24 link UNICAST
     |-- 10.0.2.15
        /32 host LOCAL
     |-- 127.0.0.1
        /32 host LOCAL
"""
INET6 = """fe800000000000000000000000000001 02 40 20 80     eth0
20010db8000000000000000000000015 02 40 00 80     eth0
00000000000000000000000000000001 01 80 10 80       lo
"""


def network_root(root: Path) -> Path:
    for name, index, flags, mac in (("lo", 1, "0x9", "00:00:00:00:00:00"), ("eth0", 2, "0x1003", "0a:1b:2c:3d:4e:5f"),
                                    ("tun0", 3, "0x1091", "")):
        write(root, f"sys/class/net/{name}/ifindex", f"{index}\n")
        write(root, f"sys/class/net/{name}/flags", f"{flags}\n")
        write(root, f"sys/class/net/{name}/address", f"{mac}\n")
    write(root, "proc/net/route", ROUTES)
    write(root, "proc/net/fib_trie", FIB_TRIE)
    write(root, "proc/net/if_inet6", INET6)
    write(root, "etc/resolv.conf", "search example.com\nnameserver 10.0.2.3\nnameserver 1.1.1.1\n")
    write(root, "run/systemd/netif/leases/2", "ADDRESS=10.0.2.15\nSERVER_ADDRESS=10.0.2.2\n")
    return root


def test_network_interfaces_carry_addresses_mask_gateway_dhcp_and_dns_from_sys_and_proc(tmp_path: Path) -> None:
    assert network.network(Sources(root=network_root(tmp_path))) == (
        {"Name": "eth0", "SubnetMask": "255.255.255.0", "Gateway": "10.0.2.1", "DHCPServer": "10.0.2.2",
         "DNSServer": "10.0.2.3", "MacAddress": "0a:1b:2c:3d:4e:5f", "IPV4": "10.0.2.15", "IPV6": "2001:db8::15"},
        {"Name": "tun0", "MacAddress": "", "IPV4": "", "IPV6": ""},
    )


def test_a_dhclient_lease_names_the_dhcp_server(tmp_path: Path) -> None:
    root = network_root(tmp_path)
    (root / "run/systemd/netif/leases/2").unlink()
    write(root, "var/lib/dhcp/dhclient.eth0.leases", 'lease {\n  interface "eth0";\n  fixed-address 10.0.2.15;\n'
          "  option dhcp-server-identifier 10.0.2.9;\n}\n")
    assert network.network(Sources(root=root))[0]["DHCPServer"] == "10.0.2.9"


# -- AWS:Service and AWS:InstanceDetailedInformation -----------------------------------------------------------

FAKE_SYSTEMCTL = """if "list-units" in args:
    print("ssh.service loaded active running OpenBSD Secure Shell server")
    print("gone.service not-found inactive dead gone.service")
elif "list-unit-files" in args:
    print("ssh.service enabled enabled")
    print("getty@.service enabled enabled")
    print("rescue.service static -")
elif "show" in args:
    assert "--" in args and "getty@.service" not in args, args
    print("Id=gone.service\\nLoadState=not-found\\n")
    print("Id=rescue.service\\nDescription=Rescue Shell\\nType=oneshot\\nLoadState=loaded\\nActiveState=inactive")
    print("UnitFileState=static\\nRequires=sysinit.target\\nWants=\\nRequiredBy=\\nWantedBy=\\n")
    print("Id=ssh.service\\nDescription=OpenBSD Secure Shell server\\nType=notify\\nLoadState=loaded")
    print("ActiveState=active\\nUnitFileState=enabled\\nRequires=system.slice\\nWants=network.target sshd-keygen.service")
    print("RequiredBy=\\nWantedBy=multi-user.target cloud-init.service")
"""


def test_services_are_systemds_units_in_awss_service_vocabulary(tmp_path: Path) -> None:
    (tmp_path / "run/systemd/system").mkdir(parents=True)
    found = services.services(Sources(root=tmp_path, systemctl=fake_command(tmp_path / "systemctl", FAKE_SYSTEMCTL)))
    assert found == (
        {"Name": "rescue.service", "DisplayName": "Rescue Shell", "Status": "Stopped", "DependentServices": "",
         "ServicesDependedOn": "", "ServiceType": "oneshot", "StartType": "Manual"},
        {"Name": "ssh.service", "DisplayName": "OpenBSD Secure Shell server", "Status": "Running",
         "DependentServices": "cloud-init.service", "ServicesDependedOn": "sshd-keygen.service",
         "ServiceType": "notify", "StartType": "Automatic"},
    )


def test_a_node_without_systemd_has_no_services(tmp_path: Path) -> None:
    assert services.services(Sources(root=tmp_path, systemctl=fake_command(tmp_path / "sc", FAKE_SYSTEMCTL))) == ()


def cpuinfo(packages: int, cores: int, threads: int) -> str:
    blocks, number = [], 0
    for package in range(packages):
        for core in range(cores):
            for _ in range(threads):
                blocks.append(f"processor\t: {number}\nmodel name\t: Test CPU @ 2.40GHz\ncpu MHz\t\t: 2400.072\n"
                              f"physical id\t: {package}\ncore id\t\t: {core}\n")
                number += 1
    return "\n".join(blocks) + "\n"


def test_cpu_details_come_from_cpuinfo_as_lscpu_would_report_them(tmp_path: Path) -> None:
    write(tmp_path, "proc/cpuinfo", cpuinfo(2, 2, 2))
    assert instance.detailed_information(Sources(root=tmp_path, kernel_release="6.1.0-test")) == (
        {"CPUModel": "Test CPU @ 2.40GHz", "CPUSpeedMHz": "2400", "CPUs": "8", "CPUSockets": "2", "CPUCores": "4",
         "CPUHyperThreadEnabled": "true", "OSServicePack": "", "KernelVersion": "6.1.0-test"},)


def test_sysfs_topology_wins_over_cpuinfo_and_unknown_topology_leaves_counts_empty(tmp_path: Path) -> None:
    write(tmp_path, "proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n")
    (detail,) = instance.detailed_information(Sources(root=tmp_path, kernel_release="k"))
    assert (detail["CPUs"], detail["CPUSockets"], detail["CPUCores"], detail["CPUModel"]) == ("2", "", "", "")
    for cpu in (0, 1):
        write(tmp_path, f"sys/devices/system/cpu/cpu{cpu}/topology/physical_package_id", "0\n")
        write(tmp_path, f"sys/devices/system/cpu/cpu{cpu}/topology/core_id", f"{cpu}\n")
    (detail,) = instance.detailed_information(Sources(root=tmp_path, kernel_release="k"))
    assert (detail["CPUSockets"], detail["CPUCores"], detail["CPUHyperThreadEnabled"]) == ("1", "2", "false")


def test_billing_products_come_from_the_identity_document_and_none_on_premises() -> None:
    document = json.dumps({"billingProducts": ["bp-6ba54002"], "marketplaceProductCodes": [" prod-1 "]})
    assert instance.billing_info(lambda: document) == ({"BillingProductId": "bp-6ba54002"},
                                                       {"BillingProductId": "prod-1"})
    assert instance.billing_info(None) == ()



def test_a_file_name_that_is_not_utf8_is_reported_with_replacement_characters_as_go_does(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    with open(os.fsencode(tmp_path / "w") + b"/caf\xe9.conf", "wb") as f:
        f.write(b"x")
    (entry,) = files.files(json.dumps([{"Path": str(tmp_path / "w"), "Pattern": ["*.conf"]}]), {})
    assert entry["Name"] == "caf\ufffd.conf"
