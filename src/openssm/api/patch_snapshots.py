"""OpenSSM's download of a deployable patch snapshot: the SnapshotDownloadUrl GetDeployablePatchSnapshotForInstance
answers (AWS answers a presigned S3 URL; OpenSSM serves the snapshot itself, no object store needed).

`GET /openssm/v1/patch-snapshots/<token>` needs no signature: the token is the authority, as a presigned URL's
query is. It names the account, Region, node, SnapshotId and the snapshot's creation time, expires 24 hours after
it was issued, and is an HMAC under a key derived from the master key, so any replica can check it and no field
can be changed (another node's snapshot, a later snapshot under the same id) without breaking it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openssm.api.context import RequestContext
from openssm.container import Container
from openssm.services import patch_snapshots
from openssm.services.patch_snapshots import NodeSnapshot

PATH = "/openssm/v1/patch-snapshots/{token}"
TOKEN_KEY_LABEL = b"openssm/patch-snapshot-url"


@dataclass(frozen=True)
class Claims:
    account_id: str
    region: str
    instance_id: str
    snapshot_id: str
    created: int  # the snapshot's creation, epoch seconds
    expires: int  # epoch seconds


class SnapshotTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(self, claims: Claims) -> str:
        body = json.dumps([claims.account_id, claims.region, claims.instance_id, claims.snapshot_id, claims.created,
                           claims.expires], separators=(",", ":")).encode()
        mac = hmac.new(self._key, body, hashlib.sha256).digest()
        return f"{_b64(body)}.{_b64(mac)}"

    def read(self, token: str, now: dt.datetime) -> Claims | None:
        """The token's claims if it is intact and unexpired, else None."""
        try:
            body_part, _, mac_part = token.partition(".")
            body, mac = _unb64(body_part), _unb64(mac_part)
            if not hmac.compare_digest(mac, hmac.new(self._key, body, hashlib.sha256).digest()):
                return None
            account_id, region, instance_id, snapshot_id, created, expires = json.loads(body)
            claims = Claims(str(account_id), str(region), str(instance_id), str(snapshot_id), int(created),
                            int(expires))
        except (ValueError, TypeError, binascii.Error):
            return None
        return claims if claims.expires > now.timestamp() else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def snapshot_tokens(container: Container) -> SnapshotTokens:
    return SnapshotTokens(container.box.derive_key(TOKEN_KEY_LABEL))


def download_url(ctx: RequestContext, snapshot: NodeSnapshot) -> str:
    """Where the node downloads `snapshot`: this server, as the node reached it, with a fresh token."""
    claims = Claims(snapshot.account_id, snapshot.region, snapshot.instance_id, snapshot.snapshot_id,
                    int(snapshot.created_at.timestamp()),
                    int((ctx.now + patch_snapshots.URL_LIFETIME).timestamp()))
    scheme = "https" if ctx.secure_transport else "http"
    return f"{scheme}://{ctx.host}{PATH.format(token=snapshot_tokens(ctx.container).issue(claims))}"


def _refused(status: int, code: str, message: str) -> Response:
    return Response(json.dumps({"__type": code, "message": message}), status_code=status,
                    media_type="application/json")


def routes(container: Container) -> list[Route]:
    tokens = snapshot_tokens(container)

    async def download(request: Request) -> Response:
        now = container.clock.now()
        claims = tokens.read(request.path_params["token"], now)
        if claims is None:
            return _refused(403, "AccessDeniedException", "The snapshot URL is not valid or has expired.")

        def load() -> NodeSnapshot | None:
            with container.db.read() as conn:
                return patch_snapshots.for_node(conn, claims.account_id, claims.region, claims.snapshot_id,
                                                claims.instance_id, now)

        snapshot = await run_in_threadpool(load)
        if snapshot is None or int(snapshot.created_at.timestamp()) != claims.created:
            return _refused(404, "ResourceNotFoundException", "The snapshot has expired; ask for it again with "
                            "GetDeployablePatchSnapshotForInstance.")
        return Response(json.dumps(snapshot.document()), media_type="application/json")

    return [Route(PATH, download, methods=["GET"])]
