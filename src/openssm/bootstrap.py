"""First start of a data directory: the default account, its administrator, and their key, shown once."""

from __future__ import annotations

import os
import sys

from openssm.container import Container
from openssm.iam import access_keys, bindings, users
from openssm.iam.accounts import create_account, get_account
from openssm.types import AccountId

ADMIN_USER = "admin"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
PROFILE = "openssm-admin"


def credentials_text(key_id: str, secret: str, region: str, endpoint_url: str) -> str:
    return (
        "# OpenSSM administrator credentials, written once at first start. Keep them secret.\n"
        "# For ~/.aws/credentials:\n"
        f"[{PROFILE}]\n"
        f"aws_access_key_id = {key_id}\n"
        f"aws_secret_access_key = {secret}\n"
        "\n"
        "# For ~/.aws/config:\n"
        f"# [profile {PROFILE}]\n"
        f"# region = {region}\n"
        f"# endpoint_url = {endpoint_url}\n"
    )


def ensure_bootstrapped(container: Container) -> None:
    """Create the default account and its administrator unless the account already exists."""
    config = container.config
    now = container.clock.now()
    with container.iam.write() as conn:
        if get_account(conn, config.default_account) is not None:
            return
        create_account(conn, "default", "admin@openssm.local", now, AccountId(config.default_account))
        admin = users.create_user(conn, config.default_account, ADMIN_USER, "/", now)
        bindings.attach(conn, admin, ADMIN_POLICY)
        key, secret = access_keys.create_key(conn, container.box, admin, now)
        text = credentials_text(key.access_key_id, secret, config.default_region, config.endpoint_url)
        path = config.data_dir / "admin-credentials"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    sys.stdout.write(f"Administrator credentials (shown once; also kept in {path}):\n\n{text}\n")
    sys.stdout.flush()
