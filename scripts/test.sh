#!/bin/sh
# Installs what the tests need into .venv and runs the whole suite: lint, types, unit and integration tests.
set -eu
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
# The Session Manager tests run OpenSSH's ssh and scp through a session to a real sshd (Debian's packages).
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/ruff check src tests bench
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
