"""Hybrid nodes' key rotation through a real server: UpdateManagedInstancePublicKey signed with the node's
current key (sent by the agent's own client), after which only the new key gets credentials; who may call it
and what it refuses; and a real agent that rotates when the server asks (UpdateKeyPair) and keeps working."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from openssm.agent.client import CallFailed, SsmClient
from openssm.agent.keys import Signer, local_signer
from openssm.agent.state import StateDir
from openssm.protocol import rsa_auth
from tests.support.agents import AgentProcess, node_role, wait_invocation
from tests.support.iam import allow, user_with_policy
from tests.support.node_client import Node
from tests.support.server import Credentials, ServerProcess
from tests.support.signing import RawResponse, json_request, send, sign

UPDATE_KEY = "UpdateManagedInstancePublicKey"
A_NEW_KEY = rsa_auth.public_key_b64(rsa_auth.new_key())


def enrolled(server: ServerProcess) -> Node:
    created = server.client("ssm").create_activation(IamRole=node_role(server, "KeyRotationNodes"))
    return Node(server).enrol(created["ActivationId"], created["ActivationCode"])


def signer_of(key: rsa.RSAPrivateKey) -> Signer:
    return lambda message: rsa_auth.sign(key, message)


def rsa_call(server: ServerProcess, node: Node, key: rsa.RSAPrivateKey, body: dict[str, str]) -> dict[str, object]:
    """UpdateManagedInstancePublicKey with any body, RSA-signed as the agent's client signs it."""
    assert node.instance_id is not None
    client = SsmClient(server.endpoint, server.region)
    return client.send(client.rsa_signed(client.request(UPDATE_KEY, body), node.instance_id, signer_of(key)))


def sigv4_call(server: ServerProcess, creds: Credentials, body: dict[str, str]) -> RawResponse:
    request = json_request(server.endpoint, f"AmazonSSM.{UPDATE_KEY}", json.dumps(body))
    return send(sign(request, creds, "ssm", server.region))


def test_a_node_rotates_its_key_and_then_only_the_new_key_gets_credentials(server: ServerProcess) -> None:
    node = enrolled(server)
    assert node.instance_id is not None
    client = SsmClient(server.endpoint, server.region)
    old, new = node.key, rsa_auth.new_key()
    assert not client.role_token(node.instance_id, old, node.fingerprint).update_key_pair  # 30 days by default
    client.update_public_key(node.instance_id, signer_of(old), rsa_auth.public_key_b64(new))
    refused = node.request_token()
    assert refused.status == 400 and refused.json()["__type"] == "InvalidSignatureException"
    with pytest.raises(CallFailed) as err:
        client.update_public_key(node.instance_id, signer_of(old), rsa_auth.public_key_b64(rsa_auth.new_key()))
    assert err.value.code == "InvalidSignatureException"
    node.key = new
    assert node.request_token().status == 200  # same fingerprint, new key
    assert node.heartbeat().status == 200


def test_only_the_node_itself_may_change_its_key(server: ServerProcess) -> None:
    node = enrolled(server)
    assert node.creds is not None
    body = {"NewPublicKey": A_NEW_KEY, "NewPublicKeyType": "Rsa"}
    _, user = user_with_policy(server, allow("ssm:*"))
    for creds in (user, server.admin, node.creds):  # its role credentials are not its key either
        refused = sigv4_call(server, creds, body)
        assert refused.status == 400 and refused.json()["__type"] == "AccessDeniedException", refused.body
    assert node.request_token().status == 200  # the registered key still works


@pytest.mark.parametrize("body", [
    {"NewPublicKey": "not a key", "NewPublicKeyType": "Rsa"},
    {"NewPublicKey": rsa_auth.public_key_b64(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
     "NewPublicKeyType": "Rsa"},
    {"NewPublicKey": "", "NewPublicKeyType": "Rsa"},
    {"NewPublicKeyType": "Rsa"},
    {"NewPublicKey": A_NEW_KEY, "NewPublicKeyType": "Dsa"},
], ids=["garbage", "rsa-1024", "empty", "missing", "wrong-type"])
def test_a_key_that_is_not_base64_der_rsa_2048_is_refused_and_the_old_one_kept(
        server: ServerProcess, body: dict[str, str]) -> None:
    node = enrolled(server)
    with pytest.raises(CallFailed) as err:
        rsa_call(server, node, node.key, body)
    assert (err.value.status, err.value.code) == (400, "ValidationException")
    assert node.request_token().status == 200


def registration_key(state_dir: Path) -> str:
    registration = StateDir(state_dir).registration()
    assert registration is not None
    return registration.private_key


def test_an_agent_told_to_rotate_rotates_and_keeps_running_commands(
        fresh_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = fresh_server("--node-key-rotation-days", "0")  # every token answer asks for a new key
    agent = AgentProcess(server, tmp_path / "agent").register()
    registration = StateDir(agent.state_dir).registration()
    assert registration is not None
    registered, fingerprint = registration.private_key, registration.fingerprint
    agent.start()
    try:
        deadline = time.monotonic() + 60
        while registration_key(agent.state_dir) == registered and time.monotonic() < deadline:
            time.sleep(0.2)
        rotated = registration_key(agent.state_dir)
        assert rotated != registered, agent.log.read_text()
        client = SsmClient(server.endpoint, server.region)
        with pytest.raises(CallFailed) as err:
            client.role_token(agent.instance_id, local_signer(registered), fingerprint)
        assert err.value.code == "InvalidSignatureException"
        assert client.role_token(agent.instance_id, local_signer(rotated), fingerprint).update_key_pair
        for run in ("before", "after"):  # and after a restart, signing in with the rotated key
            command_id = server.client("ssm").send_command(
                InstanceIds=[agent.instance_id], DocumentName="AWS-RunShellScript",
                Parameters={"commands": [f"echo {run} restart"]})["Command"]["CommandId"]
            done = wait_invocation(server, command_id, agent.instance_id)
            assert (done["Status"], done["StandardOutputContent"]) == ("Success", f"{run} restart\n")
            if run == "before":
                agent.stop()
                agent.start()
    finally:
        agent.stop()
