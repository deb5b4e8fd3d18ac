"""NonInteractiveCommands sessions: the command without a terminal, its output as OUTPUT, or stdout, stderr and
the exit code apart when the document asks for separate output streams (with prefixes), Ctrl-C signalling
it, and a command that cannot start."""

from __future__ import annotations

import asyncio
from typing import Any

from openssm.protocol.agent_message import PayloadType
from tests.unit.test_agent_sessions_harness import FakeMgs, runner, started, task


def document(**linux: Any) -> dict[str, Any]:
    return {"schemaVersion": "1.0", "sessionType": "NonInteractiveCommands",
            "parameters": {"command": {"type": "String"}},
            "properties": {"linux": {"commands": "{{ command }}", **linux}}}


def test_a_command_runs_without_a_terminal_and_its_output_comes_back() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            command = "sh -c 'test -t 0 || echo no-tty; echo to-stderr >&2; exit 3'"
            result = await runner(fake, task(document(), {"command": [command]})).run()
            assert result.status == "Success"  # the session ran; the command's code is the command's
            assert b"no-tty\n" in fake.output() and b"to-stderr\n" in fake.output()
            assert fake.output(PayloadType.EXIT_CODE) == b""
            assert fake.handshake_request().request.session_type.value == "NonInteractiveCommands"

    asyncio.run(scenario())


def test_separate_output_streams_carry_stdout_stderr_and_the_exit_code() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            command = "sh -c 'echo out-1; echo err-1 >&2; printf partial; echo -rest; exit 3'"
            linux = {"separateOutputStream": "true", "stdOutSeparatorPrefix": "OUT:", "stdErrSeparatorPrefix": "ERR:"}
            result = await runner(fake, task(document(**linux), {"command": [command]})).run()
            assert result.status == "Success"
            stdout = fake.output().decode()
            assert stdout.startswith("OUT:out-1\n") and stdout.replace("OUT:", "") == "out-1\npartial-rest\n"
            assert fake.output(PayloadType.STDERR) == b"ERR:err-1\n"
            assert fake.output(PayloadType.EXIT_CODE) == b"EXIT_CODE: 3"
            assert fake.handshake_complete().complete.customer_message == ""

    asyncio.run(scenario())


def test_an_old_client_is_told_to_update_for_separate_output_streams() -> None:
    async def scenario() -> None:
        async with FakeMgs(client_version="1.2.295.0").running() as fake:
            await runner(fake, task(document(separateOutputStream=True), {"command": ["true"]})).run()
            assert fake.handshake_complete().complete.customer_message == (
                "Please update session manager plugin version (minimum required version 1.2.312.0) for fully "
                "support of separate StdOut/StdErr output.\r\n")

    asyncio.run(scenario())


def test_ctrl_c_from_the_client_interrupts_the_command() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            command = "sh -c 'trap \"echo interrupted; exit 7\" INT; echo ready; while true; do sleep 0.05; done'"
            outcome = await started(fake, runner(fake, task(document(separateOutputStream=True),
                                                            {"command": [command]})))
            await fake.wait_for(lambda: b"ready" in fake.output())
            await fake.type("\x03")
            assert (await outcome).status == "Success"
            assert b"interrupted" in fake.output()
            assert fake.output(PayloadType.EXIT_CODE) == b"EXIT_CODE: 7"

    asyncio.run(scenario())


def test_a_command_that_cannot_start_fails_the_session_and_says_why() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            result = await runner(fake, task(document(separateOutputStream=True),
                                             {"command": ["/nonexistent/program --flag"]})).run()
            assert result.status == "Failed"
            assert result.output.startswith("Error occurred starting the command: ")
            assert b"/nonexistent/program" in fake.output(PayloadType.STDERR)
            assert fake.output(PayloadType.EXIT_CODE) == b"EXIT_CODE: 1"

    asyncio.run(scenario())


def test_an_invalid_prefix_fails_the_session() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            linux = {"separateOutputStream": True, "stdOutSeparatorPrefix": "bad prefix!"}
            result = await runner(fake, task(document(**linux), {"command": ["true"]})).run()
            assert (result.status, result.output) == ("Failed", "invalid stdoutSeparatorPrefix bad prefix!")

    asyncio.run(scenario())
