"""Hand-signed raw requests, for tests that must send what boto3 never would (tampered, malformed)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from unittest import mock

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from tests.support.server import Credentials


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def sign(request: AWSRequest, creds: Credentials, service: str, region: str,
         when: dt.datetime | None = None, presign_expires: int | None = None) -> AWSRequest:
    boto_creds = BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
    signer = (SigV4QueryAuth(boto_creds, service, region, expires=presign_expires)
              if presign_expires is not None else SigV4Auth(boto_creds, service, region))
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
            signer.add_auth(request)
    return request


def json_request(endpoint: str, target: str, body: bytes | str) -> AWSRequest:
    data = body.encode() if isinstance(body, str) else body
    return AWSRequest("POST", endpoint + "/", data=data,
                      headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"})


def query_request(endpoint: str, body: str) -> AWSRequest:
    return AWSRequest("POST", endpoint + "/", data=body.encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})


def send(request: AWSRequest) -> RawResponse:
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=prepared.body, method=prepared.method,
                                 headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return RawResponse(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as err:
        return RawResponse(err.code, dict(err.headers), err.read())
