"""The agent's patch scan against its peer, `apt-get -s upgrade`, on the same throwaway Debian root: a
synthetic distribution index (--packages, ~550 bytes a stanza, like Debian's), --installed packages recorded in
dpkg's status and --updates newer versions in the -security suite. Both run on indexes apt-get update has
already fetched; each in a process of its own, its wall time and peak RSS measured by GNU time.

    python bench/patch_scan.py [--packages 60000] [--installed 3000] [--updates 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.debian_root import DebianRoot  # noqa: E402

from openssm.agent.patching.apt import root_config  # noqa: E402

TIME = "/usr/bin/time"  # GNU time


def run_measured(argv: list[str], env: dict[str, str], report: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of a command, from GNU time: a small process that forks it, so the figure is
    the command's own (a child exec'd straight from this Python process would inherit its RSS high-water mark);
    a scan's children (apt-get indextargets, apt-helper) count if one of them peaks higher."""
    subprocess.run([TIME, "-f", "%e %M", "-o", str(report), *argv], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, env={**os.environ, **env}, cwd=ROOT)
    seconds, kib = report.read_text().split()[-2:]
    return float(seconds), int(kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=60_000)
    parser.add_argument("--installed", type=int, default=3_000)
    parser.add_argument("--updates", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        node = DebianRoot.make(work)
        node.repo.add_synthetic("bookworm", args.packages)
        node.repo.add_synthetic("bookworm-security", args.updates, "1.1-1")
        node.repo.publish()
        node.mark_installed(args.installed)
        config = work / "apt.conf"
        config.write_text(root_config(node.root))
        env = {"APT_CONFIG": str(config)}
        subprocess.run(["apt-get", "-q", "update"], check=True, capture_output=True, env={**os.environ, **env})
        index = node.repo.path / "dists/bookworm/main/binary-amd64/Packages"
        ours = [sys.executable, "-m", "tests.support.patch_scan", str(node.root), str(work / "scan")]
        peer = ["apt-get", "-s", "-q", "upgrade"]
        results: dict[str, list[tuple[float, float]]] = {"openssm scan": [], "apt-get -s upgrade": []}
        for _ in range(args.rounds):
            for name, argv in (("openssm scan", ours), ("apt-get -s upgrade", peer)):
                results[name].append(run_measured(argv, env, work / "time.out"))
        print(json.dumps({"packages": args.packages + args.updates, "installed": args.installed,
                          "updates": args.updates, "index_mb": round(index.stat().st_size / 1e6, 1)}))
        for name, runs in results.items():
            print(f"{name:<20} time {statistics.median(s for s, _ in runs):6.2f} s (median of {len(runs)})   "
                  f"peak RSS {max(r for _, r in runs):6.1f} MiB")


if __name__ == "__main__":
    main()
