"""Standard_Stream and InteractiveCommands sessions on a real PTY, driven through a real data channel: typed
input, output, terminal size, the shell profile, the session's end (the shell exiting, the service closing it,
idle and maximum duration) with every process it started, and a dropped WebSocket losing nothing."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from openssm.agent.sessions.runner import IDLE_MESSAGE, MAX_DURATION_MESSAGE
from openssm.protocol.agent_message import PayloadType
from tests.unit.test_agent_sessions_harness import SHELL_DOCUMENT, FakeMgs, runner, started, task, with_timeouts


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def test_typed_input_runs_in_the_shell_and_exit_ends_the_session_with_success() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(SHELL_DOCUMENT)))
            await fake.type("echo hello-$((6*7))\n")
            await fake.wait_for(lambda: b"hello-42" in fake.output())
            await fake.type("exit\n")
            result = await outcome
            assert (result.status, result.output) == ("Success", "")
            states = [m.payload for m in fake.from_agent if m.message_type == "agent_session_state"]
            assert b'"Terminating"' in states[-1]
            outputs = [m for m in fake.from_agent if m.message_type == "output_stream_data"]
            assert all(len(m.payload) <= 1024 for m in outputs)

    asyncio.run(scenario())


def test_the_terminal_takes_the_size_the_client_sends() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(SHELL_DOCUMENT)))
            await fake.send(PayloadType.SIZE, b'{"cols":113,"rows":37}')
            await fake.type("stty size\n")
            await fake.wait_for(lambda: b"37 113" in fake.output())
            await fake.send(PayloadType.SIZE, b'{"cols":80,"rows":24}')
            await fake.type("stty size\n")
            await fake.wait_for(lambda: b"24 80" in fake.output())
            await fake.type("exit\n")
            await outcome

    asyncio.run(scenario())


def test_the_shell_profile_is_typed_in_first_and_the_environment_is_awss() -> None:
    document = {**SHELL_DOCUMENT, "inputs": {"shellProfile": {"linux": "export PROFILED=yes-{{ who }}",
                                                              "windows": ""}}}
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(document, {"who": ["alice"]})))
            await fake.type("echo P=$PROFILED T=$TERM\n")
            await fake.wait_for(lambda: b"P=yes-alice T=xterm-256color" in fake.output())
            await fake.type("exit\n")
            await outcome

    asyncio.run(scenario())


def test_output_is_sent_in_whole_characters() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(SHELL_DOCUMENT)))
            await fake.type("i=0; while [ $i -lt 400 ]; do printf 'é€'; i=$((i+1)); done; echo; echo done-$i\n")
            await fake.wait_for(lambda: b"done-400" in fake.output())
            await fake.type("exit\n")
            await outcome
            for message in fake.from_agent:
                if message.message_type == "output_stream_data" and message.payload_type == PayloadType.OUTPUT:
                    message.payload.decode("utf-8")  # no message ends inside a character
            assert "é€" * 400 in fake.output().decode()

    asyncio.run(scenario())


def test_an_interactive_command_runs_on_a_terminal_and_its_exit_ends_the_session() -> None:
    document = {"schemaVersion": "1.0", "sessionType": "InteractiveCommands",
                "parameters": {"command": {"type": "String"}},
                "properties": {"linux": {"commands": "{{ command }}", "runAsElevated": False}}}
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            command = "test -t 0 && echo on-a-tty; read line; echo got-$line"
            outcome = await started(fake, runner(fake, task(document, {"command": [command]})))
            await fake.wait_for(lambda: b"on-a-tty" in fake.output())
            await fake.type("abc\n")
            assert (await outcome).status == "Success"
            assert b"got-abc" in fake.output()
            assert dict(fake.handshake_request().request.properties) == {}

    asyncio.run(scenario())


def test_an_interactive_session_without_commands_fails_as_awss_agent_says() -> None:
    document = {"schemaVersion": "1.0", "sessionType": "InteractiveCommands", "properties": {"linux": {}}}
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            result = await runner(fake, task(document)).run()
            assert (result.status, result.output) == ("Failed", "Commands cannot be empty for session type "
                                                                "InteractiveCommands")

    asyncio.run(scenario())


def test_channel_closed_from_the_service_ends_the_session_and_every_process_it_started() -> None:
    # A child that leaves the shell's process group and Unix session (its parent stays: still a descendant).
    spawn = (f"{sys.executable} -c \"import os,time; pid = os.fork(); pid or os.setsid(); "
             "pid or print('SID', os.getpid(), flush=True); time.sleep(1000)\" &\n")
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(SHELL_DOCUMENT)))
            await fake.type("sleep 1000 & echo BG $!\n")
            await fake.type("(sleep 1001 & echo SUB $!)\n")
            await fake.type(spawn)
            await fake.wait_for(lambda: all(re.search(rb"%s (\d+)" % k, fake.output()) for k in (b"BG", b"SUB",
                                                                                                    b"SID")))
            pids = [int(re.search(rb"%s (\d+)" % k, fake.output()).group(1))  # type: ignore[union-attr]
                    for k in (b"BG", b"SUB", b"SID")]
            assert all(alive(p) for p in pids)
            await fake.close_session()
            result = await outcome
            assert (result.status, result.output) == ("Terminated", "")
            await asyncio.sleep(0.2)
            assert not [p for p in pids if alive(p)]

    asyncio.run(scenario())


def test_terminate_from_the_control_channel_ends_the_shell() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            run = runner(fake, task(SHELL_DOCUMENT))
            outcome = await started(fake, run)
            await fake.type("echo PID-$$\n")
            await fake.wait_for(lambda: re.search(rb"PID-(\d+)", fake.output()) is not None)
            shell = int(re.search(rb"PID-(\d+)", fake.output()).group(1))  # type: ignore[union-attr]
            run.terminate()
            assert (await outcome).status == "Terminated"
            await asyncio.sleep(0.1)
            assert not alive(shell)

    asyncio.run(scenario())


def test_no_input_for_the_idle_timeout_ends_the_session_with_awss_message() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            session = task(SHELL_DOCUMENT)
            loop = asyncio.get_running_loop()
            begun = loop.time()
            outcome = await started(fake, runner(fake, session, config=with_timeouts(session, idle=1.0)))
            await asyncio.sleep(0.6)
            await fake.type("echo still-here\n")  # input resets the idle time
            result = await outcome
            assert (result.status, result.output) == ("TimedOut", IDLE_MESSAGE)
            assert loop.time() - begun >= 1.5
            assert b"still-here" in fake.output()

    asyncio.run(scenario())


def test_the_maximum_duration_ends_a_session_even_with_input() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            session = task(SHELL_DOCUMENT)
            outcome = await started(fake, runner(fake, session, config=with_timeouts(session, idle=10, longest=1.0)))
            for _ in range(4):
                await fake.type("true\n")
                await asyncio.sleep(0.2)
            result = await outcome
            assert (result.status, result.output) == ("TimedOut", MAX_DURATION_MESSAGE)

    asyncio.run(scenario())


def test_a_dropped_websocket_is_reopened_and_no_output_is_lost_or_repeated() -> None:
    async def scenario() -> None:
        async with FakeMgs(drop_at_outputs={6, 30}, lose_outputs={12, 13, 50}).running() as fake:
            outcome = await started(fake, runner(fake, task(SHELL_DOCUMENT)))
            await fake.type("stty -echo; echo; seq 1 20000; echo seq-done-$((40+2))\n")
            await fake.wait_for(lambda: b"seq-done-42" in fake.output(), timeout=60)
            numbers = [int(n) for n in re.findall(rb"^(\d+)\r?$", fake.output(), re.MULTILINE)]
            assert numbers == list(range(1, 20001))
            assert len(fake.opens) == 3  # two drops, two reconnections, each with a new token
            assert [o["TokenValue"] for o in fake.opens] == [f"data-token-{i}" for i in range(1, 4)]
            await fake.type("exit\n")
            assert (await outcome).status == "Success"

    asyncio.run(scenario())


def test_a_missing_run_as_user_fails_the_session_with_awss_message() -> None:
    from openssm.agent.sessions.users import SessionUsers

    document = {**SHELL_DOCUMENT, "inputs": {"runAsEnabled": True, "runAsDefaultUser": "nobody-here"}}
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            users = SessionUsers(is_root=lambda: True, find=lambda name: None)
            result = await runner(fake, task(document), users=users).run()
            assert (result.status, result.output) == (
                "Failed", "Unable to start command: failed to start pty since RunAs user nobody-here does not "
                          "exist\n")

    asyncio.run(scenario())


def test_the_agent_that_is_not_root_runs_the_shell_as_itself() -> None:
    async def scenario() -> None:
        async with FakeMgs().running() as fake:
            outcome = await started(fake, runner(fake, task(SHELL_DOCUMENT)))
            await fake.type("echo UID-$(id -u)\n")
            await fake.wait_for(lambda: b"UID-%d\r" % os.getuid() in fake.output())
            await fake.type("exit\n")
            await outcome

    asyncio.run(scenario())
