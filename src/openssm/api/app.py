"""The ASGI application: every AWS API on `POST /` (and query-protocol GETs), one port for all."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from openssm.api import command_output, data_channel, instance_identity, mgs, patch_snapshots
from openssm.api.auth import Authenticator, IncomingRequest
from openssm.api.dispatch import handle_call
from openssm.api.headers import header_map
from openssm.api.operations import registry
from openssm.bus.session_links import NatsLinks
from openssm.container import Container
from openssm.protocol.service_models import service_model
from openssm.services import association_scheduler, commands, inventory, output_export
from openssm.services.association_scheduler import AssociationSweeper
from openssm.services.maintenance_windows_scheduler import MaintenanceWindowSweeper

_API_THREADS = 32
log = logging.getLogger(__name__)


class ApiCalls:
    """Every AWS API call (`/`, POST or GET), answered as plain ASGI in front of the Starlette app.

    The calls are the hot path: Starlette's middleware stack, Request and Response objects cost about a
    tenth of a GetParameter here, and add nothing to a body in, body out exchange. Anything else (health,
    WebSockets, lifespan) goes on to the Starlette app.

    Calls run on a thread pool, because the store is synchronous and a write may wait for a lock. The few
    operations marked `on_event_loop` (hot, bounded, lock-free reads) run on the event loop itself when the
    store is the embedded SQLite (in WAL mode a reader never waits): the hop to a thread and back cost a
    fifth of GetParameter's throughput. On PostgreSQL every call takes the pool, as a slow network must
    not stall the loop.
    """

    def __init__(self, container: Container, authenticator: Authenticator, executor: ThreadPoolExecutor,
                 rest: ASGIApp) -> None:
        self._container = container
        self._authenticator = authenticator
        self._executor = executor
        self._rest = rest
        self._inline_targets = _inline_targets() if container.db.is_sqlite else frozenset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/" or scope["method"] not in ("GET", "POST"):
            await self._rest(scope, receive, send)
            return
        body = await _read_body(receive)
        incoming = IncomingRequest(
            method=scope["method"],
            path="/",
            query_string=scope["query_string"].decode("latin-1"),
            headers=header_map(scope["headers"]),
            body=body,
        )
        client = scope.get("client")
        source_ip = client[0] if client else ""
        secure = scope.get("scheme") in ("https", "wss")
        if incoming.headers.get("x-amz-target") in self._inline_targets:
            reply = handle_call(self._container, self._authenticator, incoming, source_ip, secure)
        else:
            reply = await asyncio.get_running_loop().run_in_executor(
                self._executor, handle_call, self._container, self._authenticator, incoming, source_ip, secure)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()]
        headers.append((b"content-length", str(len(reply.body)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})


def _inline_targets() -> frozenset[str]:
    """The X-Amz-Target values of the operations answered on the event loop (JSON protocols only)."""
    return frozenset(f"{service_model(op.service).metadata['targetPrefix']}.{op.name}"
                     for op in registry().values()
                     if op.on_event_loop and service_model(op.service).metadata.get("targetPrefix"))


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _periodically(work: Callable[[], object], every: float, what: str) -> None:
    """Run `work` on a worker thread every `every` seconds for the server's life; a failure is logged and the
    next round tried."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(work)
        except Exception:
            log.exception("%s failed", what)


def _command_expiry(container: Container) -> Callable[[], None]:
    """Invocations past their command's deadlines time out, node online or not (commands.expire); each
    round reads only the deadlines passed since the last one that succeeded."""
    since: dt.datetime | None = None

    def sweep() -> None:
        nonlocal since
        now = container.clock.now()
        with container.db.begin() as conn:
            commands.expire(conn, now, since)
        since = now
    return sweep


def create_app(container: Container) -> ASGIApp:
    # A plain executor: the store is synchronous, and anyio's thread hop cost about 15 % of throughput here.
    executor = ThreadPoolExecutor(max_workers=_API_THREADS, thread_name_prefix="api")
    authenticator = Authenticator(container.credentials, dev_mode=container.config.dev_mode,
                                  node_keys=container.node_key)

    async def health(_request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    routes = [
        Route("/healthz", health, methods=["GET"]),
        Route(instance_identity.PATH, instance_identity.credentials_endpoint(container), methods=["POST"]),
        *mgs.routes(container, authenticator),
        *data_channel.routes(container, authenticator, mgs.channel_tokens(container)),
        *command_output.routes(container, authenticator),
        *patch_snapshots.routes(container),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        links = container.session_links
        if isinstance(links, NatsLinks):
            await links.connect()
        sweepers = [asyncio.create_task(_periodically(_command_expiry(container), 1.0, "expiring commands")),
                    asyncio.create_task(_periodically(mgs.StoreWatcher(container).look, mgs.POLL_SECONDS,
                                                      "looking for control channels' work")),
                    asyncio.create_task(_periodically(
                        AssociationSweeper(container.db, container.clock, container.command_hub).sweep,
                        association_scheduler.SWEEP_SECONDS, "running State Manager associations"))]
        sweepers.append(asyncio.create_task(_periodically(MaintenanceWindowSweeper.of(container).sweep,
                                                          MaintenanceWindowSweeper.EVERY, "maintenance windows")))
        sweepers.append(asyncio.create_task(_periodically(  # inventory not reported for 30 days (services/inventory)
            lambda: inventory.sweep(container.db, container.clock.now()), 3600.0, "deleting expired inventory")))
        store = container.output_store
        if store is not None:  # finished invocations' output to their commands' S3 buckets (output_export)
            sweepers.append(asyncio.create_task(_periodically(lambda: output_export.export_owed(container.db, store),
                                                              1.0, "exporting command output")))
        yield
        for sweeper in sweepers:
            sweeper.cancel()
        if isinstance(links, NatsLinks):
            await links.close()
        executor.shutdown(wait=True)
        await run_in_threadpool(container.audit.close)

    return ApiCalls(container, authenticator, executor, Starlette(routes=routes, lifespan=lifespan))
