"""`openssm server --local-agent` (what scripts/run.sh starts): the server's own machine is a managed node."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.support.agents import wait_invocation
from tests.support.server import ServerProcess


def online_nodes(server: ServerProcess, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        nodes = [i["InstanceId"] for i in server.client("ssm").describe_instance_information()[
            "InstanceInformationList"] if i["PingStatus"] == "Online"]
        if nodes:
            return nodes
        time.sleep(0.3)
    raise AssertionError(f"no local node came online; server log:\n{server.log_path.read_text()[-3000:]}")


def test_the_local_agent_enrols_once_and_runs_commands(fresh_server: Callable[..., ServerProcess]) -> None:
    server = fresh_server("--local-agent")
    (node,) = online_nodes(server)
    command_id = server.client("ssm").send_command(DocumentName="AWS-RunShellScript", InstanceIds=[node],
                                                   Parameters={"commands": ["echo local"]})["Command"]["CommandId"]
    assert wait_invocation(server, command_id, node)["StandardOutputContent"] == "local\n"
    server.stop()
    server.start()
    assert online_nodes(server) == [node]  # the same registration, not a second node
    activations = server.client("ssm").describe_activations()["ActivationList"]
    assert [a["RegistrationsCount"] for a in activations] == [1]
