"""Who is calling: the authenticated principal every authorization decision starts from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from openssm.types import AccessKeyId, AccountId, Arn


class PrincipalType(StrEnum):
    """The values of aws:PrincipalType."""

    ROOT = "Account"
    USER = "User"
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    ANONYMOUS = "Anonymous"


@dataclass(frozen=True)
class Caller:
    """An authenticated principal.

    `user_id` is aws:userid (AIDA… for users, AROA…:session for role sessions, the account id for root);
    `tags` are aws:PrincipalTag (user or role tags, overridden by session tags).
    """

    account_id: AccountId
    arn: Arn
    principal_type: PrincipalType
    user_id: str
    name: str
    access_key_id: AccessKeyId | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    role_arn: Arn | None = None
    session_policies: tuple[str, ...] = ()
    session_policy_arns: tuple[Arn, ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    mfa_authenticated: bool = False
    source_identity: str | None = None
    # The managed node (mi-…) whose credentials these are: RequestManagedInstanceRoleToken's role session, or
    # the node's own RSA-signed request. Services let a node reach only its own resources by it.
    instance_id: str | None = None
    # The EC2 instance whose registered key also signed this request (SSM-AsymmetricKeyAuthorization, Default
    # Host Management): the instance's identity credentials alone cannot ask for its role credentials.
    key_proven_instance: str | None = None

    @property
    def is_root(self) -> bool:
        return self.principal_type is PrincipalType.ROOT


def root_caller(account_id: AccountId, access_key_id: AccessKeyId | None = None) -> Caller:
    return Caller(
        account_id=account_id,
        arn=Arn(f"arn:aws:iam::{account_id}:root"),
        principal_type=PrincipalType.ROOT,
        user_id=account_id,
        name="root",
        access_key_id=access_key_id,
    )
