"""The floor under bench/tunnel.py's stream figure: the same bytes through a session's shape with no protocol at
all. A session's bytes go from the writer into the plugin's stdin, to the server, to the agent, to the sink; here
three socat processes (written in C, copying with no framing, hashing or acknowledgement) stand where the plugin,
the server's relay and the agent stand, against the sink reached directly over loopback in the same run.

What it shows: how much of a direct loopback copy any implementation of that path can reach on this machine,
before a byte of the protocol (AgentMessage framing, SHA-256 digests, WebSocket frames, acknowledgements) is
done. Needs Debian's socat.

    python bench/tunnel_floor.py [--megabytes 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tunnel import Sink, direct  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def forwarder(listen: int, to: int) -> Iterator[None]:
    """A socat that accepts one connection on `listen` and copies it to `to` (the relay's or the agent's place).
    The readiness probe above takes one accept, so it serves with fork and stays until stopped."""
    process = subprocess.Popen(["socat", "-b", str(1 << 18), f"TCP-LISTEN:{listen},bind=127.0.0.1,reuseaddr,fork",
                                f"TCP:127.0.0.1:{to}"], stderr=subprocess.DEVNULL)
    try:
        wait_listening(listen)
        yield
    finally:
        process.kill()
        process.wait()


def through_socats(sink: Sink, payload: bytes) -> float:
    """Writer -> socat (the plugin: stdin to TCP) -> socat (the relay) -> socat (the agent) -> sink."""
    agent_port, relay_port = free_port(), free_port()
    with forwarder(agent_port, sink.port), forwarder(relay_port, agent_port):
        plugin = subprocess.Popen(["socat", "-b", str(1 << 18), "-u", "STDIN", f"TCP:127.0.0.1:{relay_port}"],
                                  stdin=subprocess.PIPE)
        assert plugin.stdin is not None
        time.sleep(0.5)
        sink.arm(len(payload))
        started = time.perf_counter()
        plugin.stdin.write(payload)
        plugin.stdin.flush()
        if not sink.done.wait(600):
            raise RuntimeError("the sink did not get everything through the socats")
        elapsed = time.perf_counter() - started
        plugin.stdin.close()
        plugin.wait()
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("socat") is None:
        raise SystemExit("needs socat (Debian's package socat)")
    payload = os.urandom(args.megabytes << 20)
    sink = Sink()
    mb = len(payload) / 1e6
    direct_s = min(direct(sink, payload) for _ in range(args.rounds))
    chain_s = min(through_socats(sink, payload) for _ in range(args.rounds))
    print(f"stream {args.megabytes} MiB: three socats {mb / chain_s:8.1f} MB/s, direct loopback "
          f"{mb / direct_s:8.1f} MB/s, ratio {direct_s / chain_s:.1%}")


if __name__ == "__main__":
    main()
