"""The scan fits a 512 MB node: run in a process whose address space is limited to 512 MiB, against a root whose
apt indexes hold 62,000 packages (a full distribution's worth, ~33 MB of Packages), it refreshes the indexes
(apt-get update, under the same limit), streams them, keeps only what concerns the 3,000 installed packages
and finds the 2,000 security updates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.debian_root import DebianRoot

PROJECT = Path(__file__).resolve().parent.parent.parent


def test_scan_of_a_full_distribution_index_runs_within_512_mib(tmp_path: Path) -> None:
    node = DebianRoot.make(tmp_path)
    node.repo.add_synthetic("bookworm", 60_000)
    node.repo.add_synthetic("bookworm-security", 2_000, "1.1-1")
    node.repo.publish()
    node.mark_installed(3_000)
    done = subprocess.run([sys.executable, "-m", "tests.support.patch_scan", str(node.root), str(tmp_path / "work"),
                           "--limit-mb", "512", "--update"], capture_output=True, text=True, cwd=PROJECT,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    assert (found["installed"], found["missing"], found["limit_mb"]) == (3_000, 2_000, 512)
    assert found["peak_rss_mb"] < 512
