"""A throwaway Rocky Linux 9 root for the patching tests, never this machine's rpm or dnf state: etc/os-release,
an rpm database initialised under the root (/var/lib/rpm, as Rocky keeps it: Debian's rpm would otherwise put it
in ~/.rpmdb) and etc/yum.repos.d naming a local repository (a file: baseurl, gpgcheck=0) of tiny noarch packages
built with rpmbuild (no scriptlets), indexed with createrepo_c, and its advisories (updateinfo.xml: security
ones with severities, bugfix, enhancement) added with modifyrepo_c. Packages go into the root with rpm --root.

    root = RpmRoot.make(tmp_path)
    old, new = root.repo.add("alpha", "1.0"), root.repo.add("alpha", "1.1")
    root.repo.advise("RLSA-2024:0001", "security", [new], severity="Important", cves=("CVE-2024-0001",))
    root.repo.publish()
    root.install(("alpha", "1.0-1.el9"))
    root.installed()  # {"alpha": "1.0-1.el9"}
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

OS_RELEASE = ('NAME="Rocky Linux"\nVERSION="9.3 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
              'VERSION_ID="9.3"\nPLATFORM_ID="platform:el9"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n')
RPM_DB = "/var/lib/rpm"
REPO_ID = "rocky-local"
SPEC = """Name: {name}
Version: {version}
Release: {release}
{epoch}Summary: {name} for the patching tests
License: MIT
BuildArch: noarch
{requires}
%description
{name} for the patching tests, one small file and no scriptlets.
%install
cp -a {tree}/. %{{buildroot}}/
%files
{files}
"""


def rpm_options(root: Path) -> list[str]:
    """rpm confined to the root's own database (Debian's rpm defaults to ~/.rpmdb)."""
    return ["--root", str(root), "--dbpath", RPM_DB]


@dataclass(frozen=True)
class Built:
    name: str
    version: str
    release: str
    path: Path
    epoch: str = "0"

    @property
    def vr(self) -> str:
        return f"{self.version}-{self.release}"


@dataclass(frozen=True)
class Advisory:
    advisory_id: str
    kind: str  # security | bugfix | enhancement
    packages: tuple[Built, ...]
    severity: str = ""
    issued: str = "2024-01-02 03:04:05"
    cves: tuple[str, ...] = ()
    bugs: tuple[str, ...] = ()

    def xml(self) -> str:
        refs = [f'<reference href="https://www.cve.org/CVERecord?id={c}" id="{c}" type="cve" title="{c}"/>'
                for c in self.cves]
        refs += [f'<reference href="https://bugzilla.example.com/{b}" id="{b}" type="bugzilla" title="bug {b}"/>'
                 for b in self.bugs]
        packages = "".join(
            f'<package name="{p.name}" version="{p.version}" release="{p.release}" epoch="{p.epoch}" '
            f'arch="noarch"><filename>{p.path.name}</filename></package>' for p in self.packages)
        names = ", ".join(sorted({p.name for p in self.packages}))
        title = f"{self.severity + ': ' if self.severity else ''}{names} {self.kind} update"
        return (f'<update from="tests@example.com" status="final" type="{self.kind}" version="2">'
                f"<id>{escape(self.advisory_id)}</id><title>{escape(title)}</title>"
                f'<issued date="{self.issued}"/><updated date="{self.issued}"/><rights>none</rights>'
                f"<release>Rocky Linux 9</release>"
                + (f"<severity>{escape(self.severity)}</severity>" if self.severity else "")
                + f"<summary>{escape(title)}</summary><description>{escape(title)}.</description>"
                f"<references>{''.join(refs)}</references><pkglist><collection short={quoteattr(REPO_ID)}>"
                f"<name>Rocky Linux 9</name>{packages}</collection></pkglist></update>")


@dataclass
class Repo:
    """A local dnf repository: the built .rpm files, repodata/ and its updateinfo."""

    path: Path
    build: Path
    packages: list[Built] = field(default_factory=list)
    advisories: list[Advisory] = field(default_factory=list)

    def add(self, name: str, version: str, release: str = "1.el9", epoch: str = "0", requires: str = "",
            files: Mapping[str, str] | None = None) -> Built:
        """Build a noarch package of `files` (path -> text; default one README) into the repository."""
        tree = self.build / "trees" / f"{name}-{version}-{release}"
        contents = files or {f"/usr/share/doc/{name}/README": f"{name} {version}-{release}\n"}
        for path, text in contents.items():
            (tree / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            (tree / path.lstrip("/")).write_text(text)
        spec = self.build / f"{name}-{version}-{release}.spec"
        spec.write_text(SPEC.format(name=name, version=version, release=release, tree=tree,
                                    epoch=f"Epoch: {epoch}\n" if epoch != "0" else "",
                                    requires=f"Requires: {requires}" if requires else "",
                                    files="\n".join(contents)))
        top = self.build / "top"
        # The build's own database and temporary directory: rpmbuild never reads or writes the host's.
        subprocess.run(["rpmbuild", "-bb", "--nodeps", "--quiet", "--define", f"_topdir {top}",
                        "--define", f"_dbpath {self.build / 'rpmdb'}", "--define", f"_tmppath {self.build}",
                        str(spec)], check=True, capture_output=True)
        self.path.mkdir(parents=True, exist_ok=True)
        built_path = self.path / f"{name}-{version}-{release}.noarch.rpm"
        shutil.move(top / "RPMS" / "noarch" / built_path.name, built_path)
        built = Built(name, version, release, built_path, epoch)
        self.packages.append(built)
        return built

    def advise(self, advisory_id: str, kind: str, packages: Sequence[Built], severity: str = "",
               cves: Sequence[str] = (), bugs: Sequence[str] = (), issued: str = "2024-01-02 03:04:05") -> None:
        """An advisory (updateinfo entry) naming these package versions (publish() after)."""
        self.advisories.append(Advisory(advisory_id, kind, tuple(packages), severity, issued, tuple(cves),
                                        tuple(bugs)))

    def publish(self) -> None:
        """Index the packages (createrepo_c) and add updateinfo.xml to repodata (modifyrepo_c)."""
        subprocess.run(["createrepo_c", "-q", "--update", str(self.path)], check=True, capture_output=True)
        if self.advisories:
            updateinfo = self.build / "updateinfo.xml"
            updateinfo.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<updates>'
                                  + "".join(a.xml() for a in self.advisories) + "</updates>\n")
            subprocess.run(["modifyrepo_c", "--mdtype=updateinfo", str(updateinfo), str(self.path / "repodata")],
                           check=True, capture_output=True)

    def find(self, name: str, vr: str) -> Built:
        return next(p for p in self.packages if p.name == name and p.vr == vr)


@dataclass
class RpmRoot:
    root: Path
    repo: Repo

    @classmethod
    def make(cls, tmp_path: Path, repo: Repo | None = None) -> RpmRoot:
        """A root naming `repo` (default: a new, empty one in tmp_path; several roots may share one)."""
        root, repo = tmp_path / "node-root", repo or Repo(tmp_path / "repo", tmp_path / "rpmbuild")
        for relative in ("etc/yum.repos.d", "etc/dnf", "var/lib/rpm", "var/cache/dnf", "var/log"):
            (root / relative).mkdir(parents=True, exist_ok=True)
        (root / "etc/os-release").write_text(OS_RELEASE)
        (root / "etc/dnf/dnf.conf").write_text("[main]\ngpgcheck=1\ninstallonly_limit=3\nbest=True\n")
        (root / "etc/yum.repos.d/local.repo").write_text(
            f"[{REPO_ID}]\nname=Rocky Linux 9 - local test repository\nbaseurl=file://{repo.path}\nenabled=1\n"
            "gpgcheck=0\n")
        subprocess.run(["rpm", *rpm_options(root), "--initdb"], check=True, capture_output=True)
        return cls(root, repo)

    def install(self, *packages: tuple[str, str]) -> None:
        """rpm -i the repository's (name, version-release) packages into the root."""
        paths = [str(self.repo.find(name, vr).path) for name, vr in packages]
        subprocess.run(["rpm", *rpm_options(self.root), "-i", *paths], check=True, capture_output=True)

    def installed(self) -> dict[str, str]:
        """name -> version-release of the packages in the root's rpm database."""
        done = subprocess.run(["rpm", *rpm_options(self.root), "-qa", "--queryformat",
                               r"%{NAME} %{VERSION}-%{RELEASE}\n"], check=True, capture_output=True, text=True)
        return dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.strip())
