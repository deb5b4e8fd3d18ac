"""A patch scan of a package root in a process of its own, optionally under an address-space limit, printing
what it found and its peak memory as JSON: the memory test and bench/patch_scan.py run it.

    python -m tests.support.patch_scan ROOT WORK_DIR [--limit-mb 512] [--update]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import time
from pathlib import Path

MIB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--limit-mb", type=int, default=0)
    parser.add_argument("--update", action="store_true", help="apt-get update first, as a Scan does")
    args = parser.parse_args()
    if args.limit_mb:
        limit = args.limit_mb * MIB
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # before the imports: they count too
    from openssm.agent.patching.apt import AptRoot
    from openssm.agent.patching.model import Baseline, PatchFilter, PatchState
    from openssm.agent.patching.rules import Context, Engine

    start = time.perf_counter()
    apt = AptRoot(args.root, args.work)
    if args.update:
        apt.update()
    installed = apt.installed()
    updates = apt.upgrades(installed)
    # Everything approved, security or not: the scan does the most work a baseline can ask of it.
    everything = Baseline("pb-0123456789abcdef0", "DEBIAN", (PatchFilter("PRODUCT", ("*",)),),
                          approved_patches=("*",), approved_enable_non_security=True)
    scan = Engine(everything, Context("Debian12", dt.datetime.now(dt.UTC), True)).scan(installed, updates)
    print(json.dumps({"installed": len(installed), "missing": scan.count(PatchState.MISSING),
                      "seconds": round(time.perf_counter() - start, 3),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "limit_mb": args.limit_mb}))


if __name__ == "__main__":
    main()
