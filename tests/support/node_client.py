"""A hybrid node's side of enrolment, as AWS's agent does it (tests/golden/captures/amazon-ssm-agent.json):
unsigned RegisterManagedInstance with a fresh RSA key, then RequestManagedInstanceRoleToken RSA-signed, then
calls signed with the role credentials it got."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from openssm.protocol import rsa_auth
from tests.support.server import Credentials, ServerProcess
from tests.support.signing import RawResponse, json_request, send, sign


@dataclass
class Node:
    server: ServerProcess
    key: rsa.RSAPrivateKey = field(default_factory=rsa_auth.new_key)
    fingerprint: str = field(default_factory=rsa_auth.new_fingerprint)
    instance_id: str | None = None
    creds: Credentials | None = None

    def register(self, activation_id: str, code: str) -> RawResponse:
        body = {"ActivationCode": code, "ActivationId": activation_id, "Fingerprint": self.fingerprint,
                "PublicKey": rsa_auth.public_key_b64(self.key), "PublicKeyType": "Rsa"}
        response = send(json_request(self.server.endpoint, "AmazonSSM.RegisterManagedInstance", json.dumps(body)))
        if response.status == 200:
            self.instance_id = response.json()["InstanceId"]
        return response

    def request_token(self, fingerprint: str | None = None) -> RawResponse:
        assert self.instance_id is not None
        request = json_request(self.server.endpoint, "AmazonSSM.RequestManagedInstanceRoleToken",
                               json.dumps({"Fingerprint": fingerprint or self.fingerprint}))
        rsa_auth.sign_rsa(request, self.instance_id, self.key, self.server.region, dt.datetime.now(dt.UTC))
        response = send(request)
        if response.status == 200:
            token = response.json()
            self.creds = Credentials(token["AccessKeyId"], token["SecretAccessKey"], token["SessionToken"])
        return response

    def call(self, target: str, body: dict[str, Any], creds: Credentials | None = None) -> RawResponse:
        """A JSON call signed with the node's role credentials (or others given)."""
        signer = creds or self.creds
        assert signer is not None
        return send(sign(json_request(self.server.endpoint, target, json.dumps(body)), signer, "ssm",
                         self.server.region))

    def heartbeat(self, instance_id: str | None = None) -> RawResponse:
        return self.call("AmazonSSM.UpdateInstanceInformation", {
            "AgentName": "amazon-ssm-agent", "AgentStatus": "Active", "AgentVersion": "3.3.0.0",
            "ComputerName": "node-1", "IPAddress": "192.0.2.2", "InstanceId": instance_id or self.instance_id,
            "PlatformName": "Debian GNU/Linux", "PlatformType": "Linux", "PlatformVersion": "12"})

    def enrol(self, activation_id: str, code: str) -> Node:
        assert self.register(activation_id, code).status == 200
        assert self.request_token().status == 200
        return self
