"""An EC2 instance's identity chain, as AWS's agent runs it: the instance profile role when Systems Manager takes
it, else Default Host Management (registration signed with the instance identity credentials, then a role token
also signed with the node's key); refusals retried on the identity schedule, so enabling Default Host Management
(or enabling it again) reaches a running agent; a registration lost with the state directory is fatal."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

from openssm.agent import main as agent_main
from openssm.agent.__main__ import main as lean_main
from openssm.agent.client import SsmClient
from openssm.agent.credentials import CredentialsUnavailable
from openssm.agent.ec2_credentials import Ec2CredentialSource
from openssm.agent.ec2_identity import Ec2Instance, Ec2Registrar, RegistrationLost
from openssm.agent.imds import Imds
from openssm.agent.keys import local_signer, new_key_pair, public_key_of
from openssm.agent.node_identity import Ec2Settings, ec2_identity
from openssm.agent.state import IdentityType, Registration, StateDir
from openssm.agent.version import AGENT_NAME, AGENT_VERSION, USER_AGENT
from openssm.protocol import rsa_auth
from openssm.protocol import sigv4 as server_sigv4
from tests.support.agent_stub import Call, StubAws
from tests.unit.test_agent_imds import IIR, INSTANCE, PROFILE, REGION, StubImds

DENIED = {"__type": "AccessDeniedException",
          "message": "Default Host Management Configuration is not enabled for this account and region."}


def access_key(call: Call) -> str:
    return call.headers.get("authorization", "").split("Credential=")[-1].split("/")[0]


@dataclass
class RevocableStub(StubAws):
    """StubAws whose control channel refuses (403) credentials the service has revoked."""

    revoked: set[str] = field(default_factory=set)

    async def _create_channel(self, request: Request) -> Response:
        if access_key(Call("POST", "", {"authorization": request.headers.get("authorization", "")}, b"")) in \
                self.revoked:
            return Response('{"message":"Forbidden"}', status_code=403, media_type="application/json")
        return await super()._create_channel(request)


class Service:
    """The service's side: whether it takes the instance profile and Default Host Management, the node keys it
    has registered, and every signature it checks (a wrong one is recorded, and answered as AWS would)."""

    def __init__(self, stub: RevocableStub, *, profile_allowed: bool = False, dhmc: bool = True) -> None:
        self.stub = stub
        self.profile_allowed, self.dhmc = profile_allowed, dhmc
        self.profile_error: dict[str, str] = {"__type": "AccessDeniedException", "message": "not authorized"}
        self.public_keys: dict[str, str] = {}
        self.issued: list[str] = []
        self.refused_tokens = 0
        self.bad_signatures: list[str] = []
        stub.answers["AmazonSSM.RegisterManagedInstance"] = self.register
        stub.answers["AmazonSSM.RequestManagedInstanceRoleToken"] = self.token
        stub.answers["AmazonSSM.UpdateInstanceInformation"] = self.update_instance_information

    def _signed_by_instance_identity(self, call: Call) -> bool:
        info = server_sigv4.parse_signature("POST", "/", "", call.headers)
        try:
            assert info is not None and info.access_key_id == IIR["AccessKeyId"] and info.region == REGION
            assert call.headers["x-amz-security-token"] == IIR["Token"]
            server_sigv4.verify_signature(info, "POST", "/", "", call.headers, call.body, IIR["SecretAccessKey"],
                                          dt.datetime.now(dt.UTC), service="ssm")
        except (AssertionError, server_sigv4.AuthFailure) as err:
            self.bad_signatures.append(f"{call.target}: {err!r}")
            return False
        return True

    def register(self, call: Call) -> tuple[int, dict[str, Any]]:
        if not self._signed_by_instance_identity(call):
            return 400, {"__type": "InvalidSignatureException", "message": "bad signature"}
        body = call.json()
        if self.public_keys.get(body["Fingerprint"], body["PublicKey"]) != body["PublicKey"]:  # as OpenSSM's
            return 400, {"__type": "InstanceAlreadyRegistered", "message": "Instance is already registered."}
        self.public_keys[body["Fingerprint"]] = body["PublicKey"]
        return 200, {"InstanceId": body["Fingerprint"]}

    def token(self, call: Call) -> tuple[int, dict[str, Any]]:
        if not self._signed_by_instance_identity(call):
            return 400, {"__type": "InvalidSignatureException", "message": "bad signature"}
        try:
            rsa_auth.verify_asymmetric(call.headers, rsa_auth.load_public_key(self.public_keys[INSTANCE]))
        except (KeyError, server_sigv4.AuthFailure) as err:
            self.bad_signatures.append(f"asymmetric: {err!r}")
            return 400, {"__type": "InvalidSignatureException", "message": "bad signature"}
        if not self.dhmc:
            self.refused_tokens += 1
            return 400, DENIED
        self.issued.append(f"ASIADHMC{len(self.issued):012d}")
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        return 200, {"AccessKeyId": self.issued[-1], "SecretAccessKey": "dhmc/secret", "SessionToken": "dhmc",
                     "TokenExpirationDate": expires.timestamp()}

    def update_instance_information(self, call: Call) -> tuple[int, dict[str, Any]]:
        key = access_key(call)
        if key == PROFILE["AccessKeyId"]:
            return (200, {}) if self.profile_allowed else (400, self.profile_error)
        if key in self.stub.revoked:
            return 400, {"__type": "UnrecognizedClientException", "message": "The security token is invalid."}
        return 200, {}

    def revoke(self) -> None:
        """Default Host Management turned off: every credential it issued stops working."""
        self.dhmc = False
        self.stub.revoked.update(self.issued)

    def heartbeats_with(self, key: str) -> int:
        return sum(1 for c in self.stub.calls if c.target.endswith("UpdateInstanceInformation")
                   and access_key(c) == key and "AgentStatus" in c.json())


@pytest.fixture
def stub() -> Iterator[RevocableStub]:
    running = RevocableStub()
    with running:
        yield running


@pytest.fixture
def imds() -> Iterator[StubImds]:
    with StubImds() as running:
        yield running


@pytest.fixture
def state(tmp_path: Path) -> StateDir:
    return StateDir(tmp_path / "state")


def source(stub: StubAws, imds: StubImds, state: StateDir, clock: list[dt.datetime] | None = None,
           retry_seconds: float = 300.0) -> Ec2CredentialSource:
    """The credential source with in-process keys (the agent signs in a helper process)."""
    client = SsmClient(stub.endpoint, REGION)
    registrar = Ec2Registrar(state, client, Ec2Instance(INSTANCE, REGION), new_key_pair=new_key_pair)
    now = (lambda: clock[0]) if clock else (lambda: dt.datetime.now(dt.UTC))
    return Ec2CredentialSource(Imds(imds.url), client, registrar, INSTANCE, retry_seconds=retry_seconds,
                               signer_for=local_signer, clock=now)


def calls_to(stub: StubAws, operation: str) -> list[Call]:
    return [c for c in stub.calls if c.target == f"AmazonSSM.{operation}"]


def test_registration_is_signed_with_the_instance_identity_and_names_the_instance(
        stub: RevocableStub, imds: StubImds, state: StateDir) -> None:
    service = Service(stub)
    creds = source(stub, imds, state).get()
    assert creds.access_key_id == service.issued[0] and service.bad_signatures == []
    (registration_call,) = calls_to(stub, "RegisterManagedInstance")
    assert registration_call.json() == {"PublicKey": service.public_keys[INSTANCE], "PublicKeyType": "Rsa",
                                        "Fingerprint": INSTANCE}
    assert registration_call.headers["user-agent"] == USER_AGENT == f"openssm-agent/{AGENT_VERSION}"
    saved = state.registration()
    assert saved is not None and saved.is_ec2 and saved.identity_type == IdentityType.EC2
    assert (saved.instance_id, saved.fingerprint, saved.region, saved.endpoint) == (INSTANCE, INSTANCE, REGION,
                                                                                     stub.endpoint)
    assert public_key_of(saved.private_key) == service.public_keys[INSTANCE]


def test_an_instance_profile_systems_manager_takes_is_used_without_default_host_management(
        stub: RevocableStub, imds: StubImds, state: StateDir) -> None:
    Service(stub, profile_allowed=True)
    imds.profile_role = "NodeRole"
    assert source(stub, imds, state).get().access_key_id == PROFILE["AccessKeyId"]
    (probe,) = calls_to(stub, "UpdateInstanceInformation")
    assert probe.json() == {"AgentName": AGENT_NAME, "AgentVersion": AGENT_VERSION, "InstanceId": INSTANCE,
                            "PlatformType": "Linux"}
    assert calls_to(stub, "RegisterManagedInstance") == calls_to(stub, "RequestManagedInstanceRoleToken") == []
    assert state.registration() is None


def test_instance_profile_credentials_are_trusted_an_hour_at_most(
        stub: RevocableStub, imds: StubImds, state: StateDir) -> None:
    Service(stub, profile_allowed=True)
    imds.profile_role = "NodeRole"
    clock = [dt.datetime.now(dt.UTC)]
    creds = source(stub, imds, state, clock)
    creds.get()
    clock[0] += dt.timedelta(minutes=59)
    creds.get()
    assert len(calls_to(stub, "UpdateInstanceInformation")) == 1
    clock[0] += dt.timedelta(minutes=1)
    creds.get()
    assert len(calls_to(stub, "UpdateInstanceInformation")) == 2


def test_a_refused_instance_profile_falls_back_to_a_role_token_signed_with_the_node_key(
        stub: RevocableStub, imds: StubImds, state: StateDir) -> None:
    service = Service(stub)
    imds.profile_role = "NodeRole"
    assert source(stub, imds, state).get().access_key_id == service.issued[0]
    (token,) = calls_to(stub, "RequestManagedInstanceRoleToken")
    assert token.json() == {"Fingerprint": INSTANCE} and service.bad_signatures == []
    rsa_auth.verify_asymmetric(token.headers, rsa_auth.load_public_key(service.public_keys[INSTANCE]))
    signed = token.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "content-length" not in signed and "x-amz-security-token" in signed


def test_an_unexpected_instance_profile_error_is_retried_without_falling_back(
        stub: RevocableStub, imds: StubImds, state: StateDir) -> None:
    service = Service(stub)
    service.profile_error = {"__type": "ThrottlingException", "message": "Rate exceeded"}
    imds.profile_role = "NodeRole"
    with pytest.raises(CredentialsUnavailable, match="ThrottlingException"):
        source(stub, imds, state).get()
    assert calls_to(stub, "RegisterManagedInstance") == calls_to(stub, "RequestManagedInstanceRoleToken") == []


def test_without_profile_or_default_host_management_the_reason_is_logged_and_tried_again_later(
        stub: RevocableStub, imds: StubImds, state: StateDir, caplog: pytest.LogCaptureFixture) -> None:
    service = Service(stub, dhmc=False)
    clock = [dt.datetime.now(dt.UTC)]
    creds = source(stub, imds, state, clock, retry_seconds=300.0)
    with caplog.at_level(logging.WARNING), pytest.raises(CredentialsUnavailable) as refused:
        creds.get()
    assert DENIED["message"] in refused.value.message and refused.value.retry_in == 300.0
    assert [r.levelname for r in caplog.records if DENIED["message"] in r.getMessage()] == ["WARNING"]
    clock[0] += dt.timedelta(seconds=299)
    with pytest.raises(CredentialsUnavailable):
        creds.get()  # held off: the service is not asked again before the identity schedule says so
    assert service.refused_tokens == 1
    service.dhmc = True
    clock[0] += dt.timedelta(seconds=1)
    assert creds.get().access_key_id == service.issued[0]


def test_invalidate_makes_the_next_get_fetch_anew(stub: RevocableStub, imds: StubImds, state: StateDir) -> None:
    service = Service(stub)
    creds = source(stub, imds, state)
    first = creds.get()
    assert creds.get() == first
    creds.invalidate()
    assert creds.get().access_key_id == service.issued[1]
    assert len(calls_to(stub, "RegisterManagedInstance")) == 1  # the saved registration is kept


def test_an_ec2_registration_of_another_instance_is_replaced(
        stub: RevocableStub, imds: StubImds, state: StateDir) -> None:
    service = Service(stub)
    state.save_registration(Registration("i-0fedcba9876543210", REGION, stub.endpoint, "i-0fedcba9876543210",
                                         new_key_pair()[0], identity_type=IdentityType.EC2))
    source(stub, imds, state).get()
    saved = state.registration()
    assert saved is not None and saved.instance_id == INSTANCE
    assert public_key_of(saved.private_key) == service.public_keys[INSTANCE]


def test_a_registration_cut_short_by_a_crash_is_retried_with_the_key_kept_before_it(
        stub: RevocableStub, imds: StubImds, state: StateDir) -> None:
    service = Service(stub)
    kept = new_key_pair()[0]
    state.save_registration(Registration(INSTANCE, REGION, stub.endpoint, INSTANCE, kept,
                                         identity_type=IdentityType.EC2, confirmed=False))
    service.public_keys[INSTANCE] = public_key_of(kept)  # the service took it; the agent died before saving
    source(stub, imds, state).get()
    saved = state.registration()
    assert saved is not None and saved.confirmed and saved.private_key == kept


def test_a_registration_saved_before_ec2_identities_loads_as_a_hybrid_one(state: StateDir) -> None:
    state.path.mkdir(parents=True)
    (state.path / "registration.json").write_text(json.dumps({
        "instance_id": "mi-0123456789abcdef0", "region": REGION, "endpoint": "https://ssm", "fingerprint": "f",
        "private_key": "k"}))
    saved = state.registration()
    assert saved is not None and saved.identity_type == IdentityType.ON_PREM and not saved.is_ec2


def test_a_registration_lost_with_the_state_directory_stops_the_agent_with_a_clear_message(
        stub: RevocableStub, imds: StubImds, state: StateDir, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    service = Service(stub)
    service.public_keys[INSTANCE] = new_key_pair()[1]  # registered by an agent whose state directory is gone
    expected = f"openssm imds release --instance-id {INSTANCE}"
    with caplog.at_level(logging.ERROR), pytest.raises(RegistrationLost) as lost:
        source(stub, imds, state).get()
    assert expected in lost.value.message and str(state.path) in lost.value.message
    assert any(expected in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    assert lean_main(["run", "--state-dir", str(state.path), "--imds-url", imds.url,
                      "--endpoint", stub.endpoint]) == 3
    assert expected in capsys.readouterr().err


def test_an_ec2_instance_needs_an_endpoint_until_it_is_registered(
        imds: StubImds, state: StateDir, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENSSM_ENDPOINT", raising=False)
    assert lean_main(["run", "--state-dir", str(state.path), "--imds-url", imds.url]) == 2
    assert "--endpoint" in capsys.readouterr().err


@contextmanager
def running(agent: agent_main.Agent) -> Iterator[None]:
    loop = asyncio.new_event_loop()
    task = loop.create_task(agent.run())
    thread = threading.Thread(target=loop.run_until_complete, args=(asyncio.wait([task]),), daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
    assert not task.done() or task.cancelled() or task.exception() is None, task.exception()


def ec2_agent(stub: StubAws, imds: StubImds, state: StateDir) -> agent_main.Agent:
    identity = ec2_identity(state, Ec2Settings(imds.url, stub.endpoint, retry_seconds=0.05))
    return agent_main.Agent(state, heartbeat_seconds=0.05, backoff=agent_main.Backoff(0.01, 0.05),
                            identity=identity)


def test_default_host_management_enabled_later_reaches_a_waiting_agent_without_a_restart(
        stub: RevocableStub, imds: StubImds, state: StateDir) -> None:
    service = Service(stub, dhmc=False)
    with running(ec2_agent(stub, imds, state)):
        stub.wait_for(lambda: service.refused_tokens >= 2)
        assert stub.open_frames == []
        service.dhmc = True
        stub.wait_for(lambda: len(stub.open_frames) == 1 and service.heartbeats_with(service.issued[0]) > 0)
    assert service.bad_signatures == []


def test_credentials_the_service_stops_taking_are_dropped_and_new_ones_fetched_once_it_takes_them_again(
        stub: RevocableStub, imds: StubImds, state: StateDir) -> None:
    service = Service(stub)
    with running(ec2_agent(stub, imds, state)):
        stub.wait_for(lambda: len(stub.open_frames) == 1 and service.heartbeats_with(service.issued[0]) > 0)
        service.revoke()
        stub.close_channel()
        stub.wait_for(lambda: service.refused_tokens >= 2)
        service.dhmc = True
        stub.wait_for(lambda: len(stub.open_frames) == 2 and len(service.issued) >= 2
                      and service.heartbeats_with(service.issued[-1]) > 0)
    assert service.bad_signatures == []
