"""The ASGI application: every AWS API on `POST /` (and query-protocol GETs), one port for all."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openssm.api.auth import Authenticator, IncomingRequest
from openssm.api.dispatch import handle_call
from openssm.container import Container

_API_THREADS = 32


def header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request's headers as a plain dict (ASGI names are lower-case); a repeated header's values are
    joined with commas, as SigV4 canonicalises them. A dict lookup is what every request does a dozen times;
    Starlette's Headers scans its list on each."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    return headers


def create_app(container: Container) -> Starlette:
    authenticator = Authenticator(container.credentials, dev_mode=container.config.dev_mode)
    # A plain executor: the store is synchronous, and anyio's thread hop cost about 15 % of throughput here.
    executor = ThreadPoolExecutor(max_workers=_API_THREADS, thread_name_prefix="api")

    async def api_endpoint(request: Request) -> Response:
        body = await request.body()
        incoming = IncomingRequest(
            method=request.method,
            path=request.url.path,
            query_string=request.url.query,
            headers=header_map(request.scope["headers"]),
            body=body,
        )
        source_ip = request.client.host if request.client else ""
        secure = request.url.scheme in ("https", "wss")
        reply = await asyncio.get_running_loop().run_in_executor(
            executor, handle_call, container, authenticator, incoming, source_ip, secure)
        return Response(reply.body, status_code=reply.status, headers=dict(reply.headers))

    async def health(_request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    routes = [
        Route("/", api_endpoint, methods=["GET", "POST"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        executor.shutdown(wait=True)
        await run_in_threadpool(container.audit.close)

    return Starlette(routes=routes, lifespan=lifespan)
