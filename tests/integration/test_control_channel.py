"""The MGS control channel as a real server opens it: token, upgrade, open frame; and what it negotiates."""

from __future__ import annotations

import asyncio
import datetime as dt

import websockets
from botocore.awsrequest import AWSRequest

from openssm.agent.client import RoleCredentials, SsmClient
from openssm.protocol import mgs
from tests.integration.test_fleet import activation, node_role
from tests.support.node_client import Node
from tests.support.server import ServerProcess


def test_the_channel_opens_without_compression_whatever_the_client_offers(server: ServerProcess) -> None:
    node = Node(server).enrol(*activation(server, node_role(server, "ChannelNodes")))
    assert node.creds is not None and node.instance_id is not None
    creds = RoleCredentials(node.creds.access_key_id, node.creds.secret_access_key, node.creds.session_token or "",
                            dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    client = SsmClient(server.endpoint, server.region)
    path = f"/v1/control-channel/{node.instance_id}"
    request = AWSRequest("POST", server.endpoint + path, data=b'{"MessageSchemaVersion":"1.0"}',
                         headers={"Content-Type": "application/json"})
    answer = client.send(client.signed(request, creds, "ssmmessages"))
    token = answer["_body"].split("<TokenValue>")[1].split("</TokenValue>")[0]

    async def open_channel() -> str | None:
        url = server.endpoint.replace("http", "ws") + path + "?role=subscribe&stream=input"
        async with websockets.connect(url, compression="deflate") as ws:  # offers permessage-deflate
            await ws.send(mgs.OpenControlChannel(token, "3.3.0.0", "linux").encode())
            assert ws.response is not None
            return ws.response.headers.get("Sec-WebSocket-Extensions")

    # AWS's agent never asks for it; declining it saves every connection its zlib state.
    assert asyncio.run(open_channel()) is None
