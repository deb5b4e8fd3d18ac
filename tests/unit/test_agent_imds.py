"""The agent's instance metadata client speaks IMDSv2 only: a session token first, sent with every GET, renewed
when it is about to expire or refused; an instance that issues no token has no EC2 identity (never IMDSv1).
StubImds, a stand-in metadata service, serves the EC2 identity tests too."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from openssm.agent.imds import TOKEN_TTL_SECONDS, Imds, ImdsError, NoInstanceMetadata, parse_credentials
from tests.support.server import free_port

INSTANCE = "i-0123456789abcdef0"
REGION = "eu-west-1"
IIR = {"AccessKeyId": "ASIAIDENTITYIDENTITY", "SecretAccessKey": "identity/secret", "Token": "identity-token"}
PROFILE = {"AccessKeyId": "ASIAPROFILEPROFILE01", "SecretAccessKey": "profile/secret", "Token": "profile-token"}


def credentials_document(keys: dict[str, str], code: str = "Success") -> str:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)
    return json.dumps({"Code": code, "LastUpdated": "2026-01-01T00:00:00Z", "Type": "AWS-HMAC",
                       "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"), **keys})


@dataclass
class StubImds:
    """IMDSv2 as EC2 answers it; `put_status` other than 200 makes it refuse tokens (IMDS off, or v1 only)."""

    instance_id: str = INSTANCE
    region: str = REGION
    profile_role: str | None = None
    put_status: int = 200
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def gets(self) -> list[tuple[str, dict[str, str]]]:
        return [(path, headers) for method, path, headers in self.requests if method == "GET"]

    def puts(self) -> int:
        return sum(method == "PUT" for method, _, _ in self.requests)

    def _documents(self) -> dict[str, str]:
        docs = {"/latest/meta-data/instance-id": self.instance_id,
                "/latest/meta-data/placement/region": self.region,
                "/latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance":
                    credentials_document(IIR)}
        if self.profile_role:
            docs["/latest/meta-data/iam/security-credentials/"] = self.profile_role
            docs[f"/latest/meta-data/iam/security-credentials/{self.profile_role}"] = credentials_document(PROFILE)
        return docs

    def _answer(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
        self.requests.append((method, path, headers))
        if method == "PUT":
            if path != "/latest/api/token" or self.put_status != 200:
                return self.put_status, ""
            if int(headers.get("x-aws-ec2-metadata-token-ttl-seconds", "0")) < 1:
                return 400, ""
            token = secrets.token_urlsafe(16)
            self.tokens.add(token)
            return 200, token
        if headers.get("x-aws-ec2-metadata-token") not in self.tokens:
            return 401, ""
        document = self._documents().get(path)
        return (200, document) if document is not None else (404, "")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, text = stub._answer(self.command, self.path, headers)
                body = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> StubImds:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def stub_imds() -> Iterator[StubImds]:
    with StubImds() as running:
        yield running


@pytest.mark.parametrize("status", [403, 404, 405])
def test_an_instance_that_issues_no_token_has_no_ec2_identity_and_is_never_asked_without_one(
        stub_imds: StubImds, status: int) -> None:
    stub_imds.put_status = status
    with pytest.raises(NoInstanceMetadata):
        Imds(stub_imds.url).instance_id()
    assert stub_imds.puts() == 1 and stub_imds.gets() == []


def test_no_metadata_service_at_all_is_no_ec2_identity() -> None:
    with pytest.raises(NoInstanceMetadata):
        Imds(f"http://127.0.0.1:{free_port()}").instance_id()


def test_every_get_carries_the_session_token_asked_for_with_a_six_hour_ttl(stub_imds: StubImds) -> None:
    imds = Imds(stub_imds.url)
    assert (imds.instance_id(), imds.region()) == (INSTANCE, REGION)
    put = [headers for method, _, headers in stub_imds.requests if method == "PUT"]
    assert put == [put[0]] and put[0]["x-aws-ec2-metadata-token-ttl-seconds"] == str(TOKEN_TTL_SECONDS)
    assert all(headers["x-aws-ec2-metadata-token"] in stub_imds.tokens for _, headers in stub_imds.gets())


def test_a_refused_token_is_replaced_and_the_get_asked_again(stub_imds: StubImds) -> None:
    imds = Imds(stub_imds.url)
    imds.instance_id()
    stub_imds.expire_tokens()
    assert imds.region() == REGION
    assert stub_imds.puts() == 2


def test_a_token_about_to_expire_is_renewed_before_use(stub_imds: StubImds) -> None:
    now = [0.0]
    imds = Imds(stub_imds.url, clock=lambda: now[0])
    imds.instance_id()
    now[0] = TOKEN_TTL_SECONDS - 30.0
    imds.instance_id()
    assert stub_imds.puts() == 2 and [path for path, _ in stub_imds.gets()].count(
        "/latest/meta-data/instance-id") == 2  # no GET was refused on the way


def test_credentials_documents_are_parsed_and_a_failed_one_refused(stub_imds: StubImds) -> None:
    imds = Imds(stub_imds.url)
    identity = imds.identity_credentials()
    assert (identity.access_key_id, identity.session_token) == (IIR["AccessKeyId"], IIR["Token"])
    assert identity.expires > dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)
    with pytest.raises(ImdsError, match="AssumeRoleUnauthorizedAccess"):
        parse_credentials(credentials_document(PROFILE, code="AssumeRoleUnauthorizedAccess"), "profile")


def test_the_instance_profile_role_is_listed_or_absent(stub_imds: StubImds) -> None:
    imds = Imds(stub_imds.url)
    assert imds.profile_role() is None
    stub_imds.profile_role = "NodeRole"
    assert imds.profile_role() == "NodeRole"
    assert imds.profile_credentials("NodeRole").access_key_id == PROFILE["AccessKeyId"]
