"""The MGS data channel (ssmmessages, DESIGN §3–4): `POST /v1/data-channel/<sessionId>` gives the session's node
a token (SigV4 with the node's own credentials); the WebSocket `/v1/data-channel/<sessionId>` then opens with
the node's token (its open frame names it with ClientInstanceId) or with the client's, the TokenValue that
StartSession or ResumeSession answered. The two ends are joined by a relay (bus/session_relay.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from openssm.api.auth import Authenticator
from openssm.api.mgs import ChannelTokens, json_error, signing_node
from openssm.api.session_supervision import supervise
from openssm.bus.session_relay import SessionRelay, Side
from openssm.container import Container
from openssm.protocol import mgs
from openssm.protocol.agent_message import AgentMessageError, json_payload
from openssm.services import sessions
from openssm.services.session_recording import RECORDED_TYPES, SessionRecording, Unrecorded, recording_dir

log = logging.getLogger(__name__)
OPEN_FRAME_SECONDS = 30


class _Socket:
    """A WebSocket as the relay's Peer."""

    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket

    async def send(self, frame: bytes) -> None:
        await self._ws.send_bytes(frame)

    async def close(self, reason: str) -> None:
        await self._ws.close(1000, reason)


def routes(container: Container, authenticator: Authenticator, tokens: ChannelTokens) -> list[Route | WebSocketRoute]:
    async def create_data_channel(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        node = await signing_node(container, authenticator, request, "ssmmessages:CreateDataChannel")
        if isinstance(node, Response):
            return node
        session = await run_in_threadpool(_session, container, session_id)
        if session is None or session.status not in sessions.ACTIVE or node != session.target:
            return json_error("Forbidden", 403)
        return Response(mgs.create_channel_response(tokens.issue(_agent_subject(session_id), container.clock.now())),
                        status_code=201, media_type="application/xml")

    async def data_channel(websocket: WebSocket) -> None:
        session_id = websocket.path_params["session_id"]
        await websocket.accept()
        try:
            opened = json_payload((await asyncio.wait_for(websocket.receive_text(), OPEN_FRAME_SECONDS)).encode(),
                                  "open data channel")
        except (TimeoutError, AgentMessageError, WebSocketDisconnect, KeyError):
            await websocket.close(1008)
            return
        admitted = await run_in_threadpool(_admit, container, tokens, session_id, opened)
        if admitted is None:
            await websocket.close(1008, "invalid token")
            return
        await _relay(container, websocket, *admitted)

    return [Route("/v1/data-channel/{session_id}", create_data_channel, methods=["POST"]),
            WebSocketRoute("/v1/data-channel/{session_id}", data_channel)]


def _agent_subject(session_id: str) -> str:
    return f"data-channel/{session_id}"


def _session(container: Container, session_id: str) -> sessions.Session | None:
    with container.db.read() as conn:
        return sessions.locate(conn, session_id)


def _admit(container: Container, tokens: ChannelTokens, session_id: str,
           opened: dict[str, Any]) -> tuple[sessions.Session, Side] | None:
    """The session and which of its ends the open frame's token admits, if any: the node's (it names
    itself), or the client's."""
    token, node = str(opened.get("TokenValue") or ""), opened.get("ClientInstanceId")
    with container.db.read() as conn:
        session = sessions.locate(conn, session_id)
        if session is None or session.status not in sessions.ACTIVE or not token:
            return None
        if node:
            good = node == session.target and tokens.valid(token, _agent_subject(session_id), container.clock.now())
            return (session, Side.AGENT) if good else None
        return (session, Side.CLIENT) if sessions.token_valid(conn, session_id, token) else None


def _new_relay(container: Container, session: sessions.Session) -> SessionRelay:
    links = container.session_links
    if session.session_type not in RECORDED_TYPES:
        return SessionRelay(session.session_id, session.target, Unrecorded(), check_digests=False, links=links)
    observer = SessionRecording(recording_dir(container.config.data_dir), session.session_id, session.started_at,
                                f"{session.session_id} on {session.target}")
    return SessionRelay(session.session_id, session.target, observer, links=links)


async def _relay(container: Container, websocket: WebSocket, session: sessions.Session, side: Side) -> None:
    session_id = session.session_id
    relay, made = container.session_relays.get_or_make(session_id, lambda: _new_relay(container, session))
    if made:
        asyncio.create_task(supervise(container, relay, session))
    peer = _Socket(websocket)
    await relay.join(side, peer)
    # Frames for this end from the other end, if another process holds that one (NATS; nothing without it).
    unsubscribe = await container.session_links.subscribe(session_id, side.value,
                                                          lambda frame: relay.deliver(side, frame))
    if side is Side.CLIENT:
        await run_in_threadpool(_mark, container, session_id, "Connected")
    try:
        while not relay.ended.is_set():
            await relay.forward(side, await websocket.receive_bytes())
    except (WebSocketDisconnect, RuntimeError, KeyError):
        pass
    finally:
        await unsubscribe()
        relay.leave(side, peer)
        if side is Side.CLIENT and not relay.ended.is_set() and not relay.connected(Side.CLIENT):
            await run_in_threadpool(_mark, container, session_id, "Disconnected")
        with contextlib.suppress(Exception):
            await websocket.close()


def _mark(container: Container, session_id: str, status: str) -> None:
    with container.db.begin() as conn:
        sessions.set_status(conn, session_id, status, container.clock.now())
