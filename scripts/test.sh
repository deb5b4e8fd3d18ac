#!/bin/sh
# Installs what the tests need into .venv and runs the whole suite: lint, types, unit and integration tests.
set -eu
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
# The Session Manager tests run OpenSSH's ssh and scp through a session to a real sshd (Debian's packages).
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null
fi
# The rpm-family patching tests run dnf, rpm, rpmbuild and createrepo_c/modifyrepo_c on a throwaway root (Debian's).
if ! command -v dnf >/dev/null || ! command -v rpmbuild >/dev/null || ! command -v modifyrepo_c >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnf rpm createrepo-c >/dev/null
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# Scale-out tests use PostgreSQL (127.0.0.1:5432) and NATS (127.0.0.1:4222); NATS is started here if absent.
if ! .venv/bin/python -c "import socket; socket.create_connection(('127.0.0.1', 4222), 2)" 2>/dev/null; then
    command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || \
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null)
    PATH="$PATH:/usr/sbin" nohup nats-server -a 127.0.0.1 -p 4222 -js >/dev/null 2>&1 &
    sleep 1
fi
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/ruff check src tests bench
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
