"""Session Manager data plane: tunnel throughput and keystroke latency, with a real server, a real agent and
our session-manager-plugin, compared in the same run with a direct loopback TCP connection.

- stream: N MB written to the plugin's stdin in an AWS-StartSSHSession session (the byte stream OpenSSH's
  ProxyCommand uses) to a counting TCP sink on the node, against the same N MB sent to the sink directly.
- scp: a file copied with OpenSSH's scp through seed 004's ProxyCommand to a real sshd, against scp to the
  same sshd directly (skipped without Debian's sshd).
- keys: one keystroke at a time in a shell session, the time until its echo comes back (p50, p99).

    python bench/tunnel.py [--megabytes 200] [--keystrokes 300]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.agents import AgentProcess  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402
from tests.support.sessions import SSHD, Sshd, aws_env  # noqa: E402

PLUGIN = str(Path(sys.executable).with_name("session-manager-plugin"))


class Sink:
    """A TCP server that counts what it is sent and notes when `expected` bytes have arrived."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.expected = 0
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            conn, _ = self._server.accept()
            threading.Thread(target=self._count, args=(conn,), daemon=True).start()

    def _count(self, conn: socket.socket) -> None:
        received = 0
        with conn:
            while chunk := conn.recv(1 << 20):
                received += len(chunk)
                if received >= self.expected:
                    self.done.set()

    def arm(self, expected: int) -> None:
        self.expected = expected
        self.done.clear()


def direct(sink: Sink, payload: bytes) -> float:
    sink.arm(len(payload))
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", sink.port)) as conn:
        conn.sendall(payload)
        sink.done.wait(120)
    return time.perf_counter() - started


def plugin_argv(server: ServerProcess, target: str, document: str, parameters: dict[str, list[str]]) -> list[str]:
    request = {"Target": target, "DocumentName": document, "Parameters": parameters}
    started = server.client("ssm").start_session(**request)
    response = {k: started[k] for k in ("SessionId", "TokenValue", "StreamUrl")}
    return [PLUGIN, json.dumps(response), server.region, "StartSession", "", json.dumps(request), server.endpoint]


def through_session(server: ServerProcess, target: str, sink: Sink, payload: bytes) -> float:
    argv = plugin_argv(server, target, "AWS-StartSSHSession", {"portNumber": [str(sink.port)]})
    sink.arm(len(payload))
    plugin = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=aws_env(server))
    assert plugin.stdin is not None
    time.sleep(1.0)  # the session's handshake, so that only the transfer is timed
    started = time.perf_counter()
    plugin.stdin.write(payload)
    plugin.stdin.flush()
    if not sink.done.wait(600):
        raise RuntimeError("the sink did not get everything through the session")
    elapsed = time.perf_counter() - started
    plugin.kill()
    plugin.wait()
    return elapsed


def scp_times(server: ServerProcess, target: str, work: Path, size: int) -> tuple[float, float]:
    sshd = Sshd.start(work / "sshd")
    try:
        payload = work / "payload.bin"
        payload.write_bytes(os.urandom(size))
        config, env = sshd.client_config(server), aws_env(server)
        base = ["scp", "-q", "-F", str(config), "-i", str(sshd.key), "-o", "StrictHostKeyChecking=no", "-o",
                "UserKnownHostsFile=/dev/null", "-P", str(sshd.port), str(payload)]
        timings = []
        for host in (target, "127.0.0.1"):
            started = time.perf_counter()
            subprocess.run([*base, f"root@{host}:{work / 'copy.bin'}"], env=env, check=True, timeout=600)
            timings.append(time.perf_counter() - started)
        return timings[0], timings[1]
    finally:
        sshd.stop()


def keystrokes(server: ServerProcess, target: str, count: int) -> list[float]:
    argv = plugin_argv(server, target, "SSM-SessionManagerRunShell", {})
    child = pexpect.spawn(argv[0], argv[1:], env=aws_env(server), timeout=30)
    child.delaybeforesend = None  # pexpect waits 50 ms before each send by default
    child.expect("Starting session")
    child.sendline("PS1='ready> '; stty -icanon")
    child.expect("ready> ")
    child.sendline("cat > /dev/null")
    time.sleep(0.5)
    child.read_nonblocking(65536, timeout=0.5)
    samples = []
    for n in range(count):
        key = "abcdefghijklmnopqrstuvwxyz"[n % 26]
        started = time.perf_counter()
        child.send(key)
        child.expect_exact(key)
        samples.append(time.perf_counter() - started)
    child.sendcontrol("c")
    child.sendline("exit")
    child.close(force=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--keystrokes", type=int, default=300)
    args = parser.parse_args()
    size = args.megabytes * 1024 * 1024
    payload = os.urandom(size)
    work = Path(tempfile.mkdtemp(prefix="openssm-tunnel-"))
    server = ServerProcess(work / "data").start()
    agent = AgentProcess(server, work / "agent").register().start()
    try:
        agent.wait_online()
        sink = Sink()
        direct_s = min(direct(sink, payload) for _ in range(3))
        session_s = min(through_session(server, agent.instance_id, sink, payload) for _ in range(2))
        mb = size / 1e6
        print(f"stream  {args.megabytes} MiB: session {mb / session_s:8.1f} MB/s, direct loopback "
              f"{mb / direct_s:8.1f} MB/s, ratio {direct_s / session_s:.1%}")
        if Path(SSHD).exists() and shutil.which("scp"):
            via, straight = scp_times(server, agent.instance_id, work, size)
            print(f"scp     {args.megabytes} MiB: through the session {mb / via:8.1f} MB/s, straight to sshd "
                  f"{mb / straight:8.1f} MB/s, ratio {straight / via:.1%}")
        samples = sorted(keystrokes(server, agent.instance_id, args.keystrokes))
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        print(f"keys    {len(samples)} keystrokes: p50 {statistics.median(samples) * 1000:.2f} ms, "
              f"p99 {p99 * 1000:.2f} ms")
    finally:
        agent.stop()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
