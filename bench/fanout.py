"""Run Command fan-out: N simulated agents, each registered by activation and holding its own real control
channel (one asyncio process plays all of them, answering every job at once), and one SendCommand to all of
them by tag. Reports the time from SendCommand until the command is Success on every node, and the server's
resident memory per connected agent.

    python bench/fanout.py [--agents 1000] [--workers 1] [--commands 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import websockets
from botocore.awsrequest import AWSRequest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.agents import node_role  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

from openssm.agent.client import RoleCredentials, SsmClient  # noqa: E402
from openssm.protocol import mgs, rsa_auth  # noqa: E402
from openssm.protocol.agent_message import AgentMessage  # noqa: E402

KEY = rsa_auth.new_key()  # shared: the server keys nodes by fingerprint, and 10,000 RSA keys take minutes


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    """Resident memory in KB: VmRSS, or its parts RssAnon (the heap) and RssFile (mapped files: SQLite's
    memory-mapped database, up to the store's mmap_size, is reclaimable page cache)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def enrol(server: ServerProcess, count: int) -> list[tuple[str, RoleCredentials]]:
    ssm = server.client("ssm")
    created = ssm.create_activation(IamRole=node_role(server, "FanoutNodes"), RegistrationLimit=min(count, 1000))
    client = SsmClient(server.endpoint, server.region)
    nodes = []
    for n in range(count):
        if n and n % 1000 == 0:
            created = ssm.create_activation(IamRole="FanoutNodes", RegistrationLimit=min(count - n, 1000))
        fingerprint = str(uuid.uuid4())
        instance_id = client.register(created["ActivationId"], created["ActivationCode"], KEY, fingerprint)
        nodes.append((instance_id, client.role_token(instance_id, KEY, fingerprint)))
        ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=instance_id,
                                 Tags=[{"Key": "fleet", "Value": "bench"}])
    return nodes


async def simulated_agent(server: ServerProcess, instance_id: str, creds: RoleCredentials, gate: asyncio.Semaphore,
                          connected: list[int], jobs_at: list[float]) -> None:
    """One node: opens its channel (again after a failure, as an agent reconnects), answers every job."""
    client = SsmClient(server.endpoint, server.region)
    path = f"/v1/control-channel/{instance_id}"
    while True:
        try:
            async with gate:  # real nodes come online over time, not ten thousand in the same second
                request = AWSRequest("POST", server.endpoint + path, data=b'{"MessageSchemaVersion":"1.0"}',
                                     headers={"Content-Type": "application/json"})
                answer = await asyncio.to_thread(client.send, client.signed(request, creds, "ssmmessages"))
                token = answer["_body"].split("<TokenValue>")[1].split("</TokenValue>")[0]
                url = server.endpoint.replace("http", "ws") + path + "?role=subscribe&stream=input"
                ws = await websockets.connect(url, max_size=None, ping_interval=None, open_timeout=60)
                await ws.send(mgs.OpenControlChannel(token, "3.3.0.0", "linux").encode())
            connected.append(1)
            break
        except (OSError, TimeoutError, websockets.WebSocketException) as err:
            print(f"{instance_id}: {err!r}; connecting again", file=sys.stderr)
            await asyncio.sleep(1)
    async with ws:
        async for frame in ws:
            message = AgentMessage.decode(frame)
            if message.message_type == mgs.ControlType.JOB:
                job = mgs.AgentJob.decode(message)
                jobs_at.append(time.monotonic())
                now = dt.datetime.now(dt.UTC)
                await ws.send(mgs.JobAck(job.job_id, str(message.message_id)).message(now).encode())
                result = mgs.PluginResult("aws:runShellScript", "Success", 0, "ok\n", "")
                await ws.send(mgs.JobReply(job.job_id, "Success", (result,)).message(now).encode())


async def run(args: argparse.Namespace, server: ServerProcess) -> dict[str, object]:
    assert server.proc is not None
    started = time.monotonic()
    nodes = await asyncio.to_thread(enrol, server, args.agents)
    enrolled = time.monotonic() - started
    base = rss_kb(server.proc.pid)
    connected: list[int] = []
    jobs_at: list[float] = []
    gate = asyncio.Semaphore(100)
    tasks = [asyncio.create_task(simulated_agent(server, i, c, gate, connected, jobs_at)) for i, c in nodes]
    while len(connected) < len(nodes):
        await asyncio.sleep(0.2)
    connecting = time.monotonic() - started - enrolled
    await asyncio.sleep(3)
    held = rss_kb(server.proc.pid)
    per_agent = (held - base) / len(nodes)
    ssm = server.client("ssm")
    rounds = [await one_command(ssm, server, jobs_at) for _ in range(args.commands)]
    for task in tasks:
        task.cancel()
    first = rounds[0]
    return {"agents": args.agents, **first, "server_rss_per_agent_kb": round(per_agent, 1),
            "server_rss_before_agents_mb": round(base / 1024), "server_rss_with_agents_mb": round(held / 1024),
            "later_commands": rounds[1:], "enrolment_s": round(enrolled, 1), "connecting_s": round(connecting, 1)}


async def one_command(ssm: Any, server: ServerProcess, jobs_at: list[float]) -> dict[str, object]:
    """One SendCommand to every node: how long until all are Success, and the server's memory after."""
    assert server.proc is not None
    jobs_at.clear()
    sent_at = time.monotonic()
    command = ssm.send_command(DocumentName="AWS-RunShellScript", Targets=[{"Key": "tag:fleet", "Values": ["bench"]}],
                               MaxConcurrency="100%", Parameters={"commands": ["echo ok"]})["Command"]
    accepted = time.monotonic() - sent_at
    while True:
        seen = ssm.list_commands(CommandId=command["CommandId"])["Commands"][0]
        if seen["Status"] not in ("Pending", "InProgress"):
            break
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - sent_at
    return {"target_count": seen["TargetCount"], "status": seen["Status"], "completed": seen["CompletedCount"],
            "send_to_all_success_s": round(elapsed, 2), "send_command_call_s": round(accepted, 2),
            "first_job_s": round(min(jobs_at) - sent_at, 2), "last_job_s": round(max(jobs_at) - sent_at, 2),
            "server_rss_after_command_mb": round(rss_kb(server.proc.pid) / 1024),
            "server_rss_anon_after_command_mb": round(rss_kb(server.proc.pid, "RssAnon") / 1024),
            "server_rss_file_after_command_mb": round(rss_kb(server.proc.pid, "RssFile") / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--commands", type=int, default=1, help="commands sent one after the other")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "openssm", "--workers", str(args.workers)).start()
        try:
            print(json.dumps(asyncio.run(run(args, server)), indent=2))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
