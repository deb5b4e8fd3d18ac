"""Authentication of API calls: SigV4 (header or presigned query), checked against the credential store.

In dev mode any access key this server does not know is taken as the root of the default dev account
(the convention of moto and LocalStack); keys it does know are still verified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from openssm.errors import AuthFailure
from openssm.iam.ports import CredentialResolver
from openssm.iam.principals import Caller, PrincipalType, root_caller
from openssm.protocol import rsa_auth, sigv4
from openssm.services.ec2_instances import identity_instance
from openssm.services.instances import NodeKey
from openssm.types import DEFAULT_ACCOUNT, AccessKeyId, AccountId, Arn, Region


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Authenticated:
    caller: Caller
    region: Region
    signing_service: str


def _session_token_barred(caller: Caller, service: str) -> bool:
    """GetSessionToken credentials (a user's, temporary) cannot call IAM without MFA, as at AWS, which
    answers such calls as if the token were unknown."""
    return caller.principal_type is PrincipalType.USER and service == "iam" and not caller.mfa_authenticated


NodeKeys = Callable[[str], NodeKey | None]


class Authenticator:
    def __init__(self, credentials: CredentialResolver, *, dev_mode: bool = False,
                 node_keys: NodeKeys | None = None) -> None:
        self._credentials = credentials
        self._dev_mode = dev_mode
        self._node_keys = node_keys

    def signature_scope(self, req: IncomingRequest) -> sigv4.SignatureInfo | None:
        return sigv4.parse_signature(req.method, req.path, req.query_string, req.headers)

    def authenticate(
        self, req: IncomingRequest, info: sigv4.SignatureInfo | None, family: str, now: dt.datetime,
        signing_name: str | None = None,
    ) -> Authenticated:
        if info is None:
            raise sigv4.auth_error(sigv4.AuthErrorKind.MISSING, family)
        # AWS checks the clock before it looks the key up, so a stale request learns nothing about the key.
        sigv4.check_request_time(info, now, family)
        if rsa_auth.is_managed_instance_id(info.access_key_id):
            return self._authenticate_node(req, info, family, now)
        resolved = self._credentials.resolve(info.access_key_id)
        if resolved is None or not resolved.active:
            if self._dev_mode and resolved is None:
                caller = root_caller(DEFAULT_ACCOUNT, AccessKeyId(info.access_key_id))
                return Authenticated(caller, Region(info.region), info.service)
            raise sigv4.auth_error(sigv4.AuthErrorKind.UNKNOWN_KEY, family)
        sigv4.verify_signature(
            info, req.method, req.path, req.query_string, req.headers, req.body,
            resolved.secret_access_key, now, family=family, service=signing_name,
        )
        if resolved.session_token is not None:
            if info.security_token != resolved.session_token:
                raise sigv4.auth_error(sigv4.AuthErrorKind.UNKNOWN_KEY, family)
            if resolved.expires_at is not None and resolved.expires_at <= now:
                raise sigv4.auth_error(sigv4.AuthErrorKind.EXPIRED_TOKEN, family)
            if _session_token_barred(resolved.caller, info.service):
                raise sigv4.auth_error(sigv4.AuthErrorKind.UNKNOWN_KEY, family)
        elif info.security_token:
            raise sigv4.auth_error(sigv4.AuthErrorKind.UNKNOWN_KEY, family)
        caller = resolved.caller
        if rsa_auth.ASYMMETRIC_AUTH_HEADER.lower() in req.headers:
            caller = self._prove_instance_key(req, caller, family)
        return Authenticated(caller, Region(info.region), info.service)

    def _prove_instance_key(self, req: IncomingRequest, caller: Caller, family: str) -> Caller:
        """Default Host Management: an instance's identity credentials signed the request, and the header signs
        their Authorization with the key the instance registered. A wrong signature fails the request; a
        header from anyone else is ignored, as it proves nothing about them."""
        instance = identity_instance(caller)
        key = self._node_keys(instance) if instance and self._node_keys else None
        if instance is None or key is None or not key.public_key:
            return caller
        rsa_auth.verify_asymmetric(req.headers, rsa_auth.load_public_key(key.public_key), family=family)
        return replace(caller, key_proven_instance=instance)

    def _authenticate_node(self, req: IncomingRequest, info: sigv4.SignatureInfo, family: str,
                           now: dt.datetime) -> Authenticated:
        """A hybrid node's own request (RequestManagedInstanceRoleToken): SigV4's string to sign, RSA-signed
        with the key it registered (SSM-AsymmetricKeyAuthorization, DESIGN §4)."""
        key = self._node_keys(info.access_key_id) if self._node_keys else None
        if key is None:
            raise sigv4.auth_error(sigv4.AuthErrorKind.UNKNOWN_KEY, family)
        rsa_auth.verify_rsa(info, req.method, req.path, req.query_string, req.headers, req.body,
                            rsa_auth.load_public_key(key.public_key), now, family=family)
        caller = Caller(AccountId(key.account_id), Arn(f"arn:aws:ssm:{info.region}:{key.account_id}:managed-instance/"
                                                       f"{key.instance_id}"),
                        PrincipalType.ASSUMED_ROLE, key.instance_id, key.instance_id, instance_id=key.instance_id)
        return Authenticated(caller, Region(info.region), info.service)


__all__ = ["Authenticated", "Authenticator", "AuthFailure", "IncomingRequest"]
