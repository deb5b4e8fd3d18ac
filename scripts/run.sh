#!/bin/sh
# Installs OpenSSM into .venv and runs the control plane on embedded SQLite (data in ./.openssm), with this
# machine enrolled as a managed node (its agent's state in ./.openssm/agent).
# The first start prints the administrator's access key once and keeps it in .openssm/admin-credentials.
set -eu
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/openssm server --data-dir .openssm --local-agent "$@"
