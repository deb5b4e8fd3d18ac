"""Integration fixtures: a real `openssm server` process shared by the session, and fresh ones on demand."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.agents import AgentProcess
from tests.support.server import ServerProcess, free_port


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for many tests; tests must use unique names so they do not collide."""
    proc = ServerProcess(tmp_path_factory.mktemp("server") / "data").start()
    yield proc
    proc.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """A factory for servers of a test's own (own data dir, own options); all stopped at the end."""
    started: list[ServerProcess] = []

    def start(*args: str, name: str = "data", **kw: object) -> ServerProcess:
        proc = ServerProcess(tmp_path / name, *args, **kw)  # type: ignore[arg-type]
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def agent(server: ServerProcess, tmp_path: Path) -> Iterator[AgentProcess]:
    """A real `openssm agent` enrolled with the shared server and online."""
    running = AgentProcess(server, tmp_path / "agent").register().start()
    running.wait_online()
    yield running
    running.stop()


@pytest.fixture
def s3_store() -> Iterator[str]:
    """moto's server standing in for an S3-compatible store (MinIO, Ceph…): not an OpenSSM part."""
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(endpoint + "/", timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


PG_ADMIN_URL = os.environ.get("OPENSSM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("OPENSSM_TEST_NATS", "nats://127.0.0.1:4222")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = f"openssm_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
