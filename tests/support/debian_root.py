"""A throwaway Debian 12 root for the patching tests, never this machine's own packages: etc/os-release, an
empty dpkg database and apt's directories, and a local apt repository (a file: URI, `[trusted=yes]`) of tiny
packages without maintainer scripts, built with dpkg-deb, its Packages and Release files written here, in any
suites (e.g. bookworm and bookworm-security). Packages are installed into the root with dpkg --root.

    root = DebianRoot.make(tmp_path)
    root.repo.add("hello", "1.0-1", suite="bookworm")
    root.repo.add("hello", "1.1-1", suite="bookworm-security")
    root.repo.publish()
    root.install("hello", "1.0-1")
    root.installed()  # {"hello": "1.0-1"}
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

OS_RELEASE = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
              'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')
ROOT_DIRS = ("etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d", "etc/apt/trusted.gpg.d",
             "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "var/lib/apt/lists/partial",
             "var/cache/apt/archives/partial", "var/log/apt", "var/run")


@dataclass(frozen=True)
class Built:
    name: str
    version: str
    suite: str
    path: Path
    control: str


def dpkg_root_options(root: Path) -> list[str]:
    return [f"--root={root}", f"--admindir={root}/var/lib/dpkg", "--force-script-chrootless",
            f"--log={root}/var/log/dpkg.log"]


@dataclass
class Repo:
    """A local apt repository: dists/<suite>/main/binary-amd64/Packages and pool/."""

    path: Path
    packages: list[Built] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # suite -> Label (default Debian / Debian-Security)
    synthetic: list[tuple[str, int, str]] = field(default_factory=list)  # (suite, count, version)

    def add(self, name: str, version: str, section: str = "admin", priority: str = "optional",
            suite: str = "bookworm", depends: str = "", arch: str = "all") -> Built:
        """Build a package (one small file, no maintainer scripts) and put it in a suite (publish() after)."""
        tree = self.path / "build" / f"{name}_{version}"
        (tree / "DEBIAN").mkdir(parents=True, exist_ok=True)
        doc = tree / "usr/share/doc" / name
        doc.mkdir(parents=True, exist_ok=True)
        (doc / "README").write_text(f"{name} {version}\n")
        control = (f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\nMaintainer: OpenSSM tests "
                   f"<tests@example.com>\nSection: {section}\nPriority: {priority}\n"
                   + (f"Depends: {depends}\n" if depends else "") + f"Description: {name} for the patching tests\n")
        (tree / "DEBIAN/control").write_text(control)
        pool = self.path / "pool"
        pool.mkdir(parents=True, exist_ok=True)
        deb = pool / f"{name}_{version.replace(':', '%3a')}_{arch}.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-b", str(tree), str(deb)], check=True,
                       capture_output=True)
        built = Built(name, version, suite, deb, control)
        self.packages.append(built)
        return built

    def add_synthetic(self, suite: str, count: int, version: str = "1.0-1") -> None:
        """Index stanzas (no .deb behind them) for synth-00000… synth-<count-1>, each about as large as a real
        Packages stanza: enough to scan as a full distribution's index is scanned, not to install."""
        self.synthetic.append((suite, count, version))

    def suites(self) -> list[str]:
        return sorted({p.suite for p in self.packages} | set(self.labels) | {s for s, _, _ in self.synthetic})

    def publish(self) -> None:
        """Write each suite's Packages and Release files (Origin, Label, Suite, Codename, hashes)."""
        for suite in self.suites():
            index = self.path / "dists" / suite / "main" / "binary-amd64" / "Packages"
            index.parent.mkdir(parents=True, exist_ok=True)
            stanzas = []
            for p in (p for p in self.packages if p.suite == suite):
                data = p.path.read_bytes()
                stanzas.append(p.control + f"Filename: pool/{p.path.name}\nSize: {len(data)}\n"
                               f"SHA256: {hashlib.sha256(data).hexdigest()}\n")
            with open(index, "wb") as out:
                out.write("\n".join(stanzas).encode())
                for _, count, version in (x for x in self.synthetic if x[0] == suite):
                    for n in range(count):
                        out.write(synthetic_stanza(n, version).encode())
            text = index.read_bytes()
            label = self.labels.get(suite) or ("Debian-Security" if suite.endswith("-security") else "Debian")
            release = (f"Origin: Debian\nLabel: {label}\nSuite: {suite}\nCodename: {suite}\nArchitectures: amd64 all\n"
                       f"Components: main\nDate: Sat, 01 Jun 2024 00:00:00 UTC\nSHA256:\n"
                       f" {hashlib.sha256(text).hexdigest()} {len(text)} main/binary-amd64/Packages\n")
            (self.path / "dists" / suite / "Release").write_text(release)

    def find(self, name: str, version: str) -> Built:
        return next(p for p in self.packages if p.name == name and p.version == version)


def synthetic_name(n: int) -> str:
    return f"synth-{n:05d}"


def synthetic_stanza(n: int, version: str, installed: bool = False) -> str:
    name = synthetic_name(n)
    head = f"\nPackage: {name}\n" + ("Status: install ok installed\n" if installed else "")
    return (head + f"Version: {version}\nInstalled-Size: {100 + n % 900}\nMaintainer: Synthetic Maintainers "
            f"<synth@example.com>\nArchitecture: amd64\nHomepage: https://synthetic.example/{name}\n"
            f"Description: synthetic package {n} for the patch scan benchmark\n This stanza stands for one of a "
            f"distribution's packages; its long\n description makes the index as large as a real one.\n"
            f"Section: {('admin', 'libs', 'utils', 'net', 'devel')[n % 5]}\nPriority: optional\n"
            + ("" if installed else f"Filename: pool/main/s/{name}/{name}_{version}_amd64.deb\nSize: {5000 + n}\n"
               f"SHA256: {hashlib.sha256(name.encode()).hexdigest()}\n"))


@dataclass
class DebianRoot:
    root: Path
    repo: Repo

    @classmethod
    def make(cls, tmp_path: Path, suites: tuple[str, ...] = ("bookworm", "bookworm-security")) -> DebianRoot:
        root, repo = tmp_path / "node-root", Repo(tmp_path / "repo")
        for relative in ROOT_DIRS:
            (root / relative).mkdir(parents=True, exist_ok=True)
        for name in ("status", "available"):
            (root / "var/lib/dpkg" / name).touch()
        (root / "etc/os-release").write_text(OS_RELEASE)
        (root / "etc/apt/sources.list").write_text(
            "".join(f"deb [trusted=yes] file:{repo.path} {suite} main\n" for suite in suites))
        for suite in suites:
            repo.labels.setdefault(suite, "Debian-Security" if suite.endswith("-security") else "Debian")
        return cls(root, repo)

    def install(self, *packages: tuple[str, str]) -> None:
        """dpkg -i the repository's (name, version) packages into the root."""
        debs = [str(self.repo.find(name, version).path) for name, version in packages]
        subprocess.run(["dpkg", *dpkg_root_options(self.root), "-i", *debs], check=True, capture_output=True)

    def installed(self) -> dict[str, str]:
        """name -> version of the packages dpkg has installed in the root."""
        found: dict[str, str] = {}
        for stanza in (self.root / "var/lib/dpkg/status").read_text().split("\n\n"):
            fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
            if fields.get("Status", "").endswith(" installed"):
                found[fields["Package"]] = fields["Version"]
        return found

    def mark_installed(self, count: int, version: str = "1.0-1") -> None:
        """Record synth-00000… as installed in dpkg's status (for scans only: nothing is unpacked)."""
        with open(self.root / "var/lib/dpkg/status", "a") as status:
            for n in range(count):
                status.write(synthetic_stanza(n, version, installed=True))

    def require_reboot(self) -> None:
        (self.root / "var/run/reboot-required").write_text("*** System restart required ***\n")
