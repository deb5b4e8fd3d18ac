#!/bin/sh
# Installs the benchmark-only tools (wrk from Debian, moto[server] from PyPI) and runs one benchmark.
#   sh bench/run.sh get_parameter [--duration 15 --connections 32 --workers 2]
set -eu
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet -e '.[test,bench]'
name=$1; shift
exec .venv/bin/python "bench/$name.py" "$@"
