"""The node's role credentials: refreshed at half their lifetime, and its key rotated when the service answers
UpdateKeyPair, as AWS's agent does (the new public key sent signed with the old key, the new key kept only once
the service has it)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openssm.agent.client import CallFailed, SsmClient
from openssm.agent.credentials import CredentialSource
from openssm.agent.identity import register
from openssm.agent.keys import local_signer, new_key_pair, public_key_of
from openssm.agent.state import StateDir
from openssm.protocol import rsa_auth
from openssm.protocol import sigv4 as server_sigv4
from tests.support.agent_stub import Call, StubAws

LIFETIME = dt.timedelta(hours=1)


class Service:
    """The service's side of key rotation: it knows one public key and checks every RSA signature with it."""

    def __init__(self, stub: StubAws, state: StateDir, rotate: bool = False, refuse_update: bool = False) -> None:
        registration = state.registration()
        assert registration is not None
        self.public_key = public_key_of(registration.private_key)
        self.rotate, self.refuse_update = rotate, refuse_update
        self.now = dt.datetime.now(dt.UTC)
        stub.answers["AmazonSSM.RequestManagedInstanceRoleToken"] = self.token
        stub.answers["AmazonSSM.UpdateManagedInstancePublicKey"] = self.update

    def _signed_by_known_key(self, call: Call) -> bool:
        info = server_sigv4.parse_signature("POST", "/", "", call.headers)
        assert info is not None
        return rsa_auth.verify_request(rsa_auth.load_public_key(self.public_key), info, "POST", "/", "",
                                       call.headers, call.body)

    def token(self, call: Call) -> tuple[int, dict[str, Any]]:
        if not self._signed_by_known_key(call):
            return 400, {"__type": "InvalidSignatureException", "message": "The signature is not valid."}
        return 200, {"AccessKeyId": f"ASIA{len(call.body)}", "SecretAccessKey": "s", "SessionToken": "t",
                     "TokenExpirationDate": (self.now + LIFETIME).timestamp(), "UpdateKeyPair": self.rotate}

    def update(self, call: Call) -> tuple[int, dict[str, Any]]:
        if self.refuse_update or not self._signed_by_known_key(call):
            return 400, {"__type": "InvalidKeyId", "message": "refused"}
        body = json.loads(call.body)
        assert body["NewPublicKeyType"] == "Rsa"
        self.public_key, self.rotate = body["NewPublicKey"], False
        return 200, {}


@pytest.fixture
def stub() -> Iterator[StubAws]:
    with StubAws() as running:
        yield running


@pytest.fixture
def state(stub: StubAws, tmp_path: Path) -> StateDir:
    directory = StateDir(tmp_path / "state")
    register(directory, stub.endpoint, "us-east-1", "activation", "code")
    stub.calls.clear()
    return directory


def source(stub: StubAws, state: StateDir, clock: list[dt.datetime]) -> CredentialSource:
    return CredentialSource(state, SsmClient(stub.endpoint, "us-east-1"), signer_for=local_signer,
                            new_key_pair=new_key_pair, clock=lambda: clock[0])


def token_calls(stub: StubAws) -> int:
    return stub.targets().count("AmazonSSM.RequestManagedInstanceRoleToken")


def test_credentials_are_refreshed_at_half_their_lifetime(stub: StubAws, state: StateDir) -> None:
    service = Service(stub, state)
    clock = [service.now]
    creds = source(stub, state, clock)
    creds.get()
    clock[0] = service.now + LIFETIME / 2 - dt.timedelta(seconds=1)
    creds.get()
    assert token_calls(stub) == 1
    clock[0] = service.now + LIFETIME / 2
    creds.get()
    assert token_calls(stub) == 2


def test_update_key_pair_rotates_the_key_and_the_new_key_then_works(stub: StubAws, state: StateDir) -> None:
    service = Service(stub, state, rotate=True)
    before = state.registration()
    assert before is not None
    clock = [service.now]
    creds = source(stub, state, clock)
    creds.get()
    after = state.registration()
    assert after is not None and after.private_key != before.private_key and after.next_private_key is None
    assert service.public_key == public_key_of(after.private_key)
    clock[0] += LIFETIME  # the next token is signed with the new key, which the service now holds
    assert creds.get().access_key_id.startswith("ASIA")


def test_a_refused_rotation_keeps_the_old_key(stub: StubAws, state: StateDir) -> None:
    service = Service(stub, state, rotate=True, refuse_update=True)
    before = state.registration()
    source(stub, state, [service.now]).get()
    assert state.registration() == before


def test_a_rotation_cut_short_after_the_service_took_the_new_key_recovers_with_it(
        stub: StubAws, state: StateDir) -> None:
    before = state.registration()
    assert before is not None
    private, public = new_key_pair()
    state.save_registration(before.__class__(**{**vars(before), "next_private_key": private}))
    service = Service(stub, state)
    service.public_key = public  # the service has the new key; the agent died before saving it as current
    source(stub, state, [service.now]).get()
    recovered = state.registration()
    assert recovered is not None and recovered.private_key == private and recovered.next_private_key is None


def test_a_key_the_service_refuses_without_a_rotation_pending_is_an_error(stub: StubAws, state: StateDir) -> None:
    service = Service(stub, state)
    service.public_key = new_key_pair()[1]
    with pytest.raises(CallFailed) as caught:
        source(stub, state, [service.now]).get()
    assert caught.value.code == "InvalidSignatureException"


def test_invalidate_makes_the_next_get_ask_for_a_new_token(stub: StubAws, state: StateDir) -> None:
    service = Service(stub, state)
    creds = source(stub, state, [service.now])
    creds.get()
    creds.get()
    assert token_calls(stub) == 1
    creds.invalidate()
    creds.get()
    assert token_calls(stub) == 2
