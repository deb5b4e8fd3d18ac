"""`openssm imds`: serve EC2-compatible instance metadata for one instance (`serve`), make its identity key
(`keygen`), and declare it to the control plane's store (`declare`, run by the operator beside the server)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from openssm.protocol.instance_identity import IdentityError, InstanceIdentity


@click.group()
def imds() -> None:
    """Instance metadata (IMDSv2) for labs and on-prem hypervisors."""


@imds.command("keygen")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Private key file (0600); "
              "the public key goes beside it with .pub appended.")
def keygen(out: Path) -> None:
    """Make an instance identity key of its own for one instance (`openssm pki init` makes a lab key that a
    hypervisor's instances may share); declare its public half with `openssm imds declare`."""
    from openssm.pki import make_identity_key

    public = make_identity_key(out)
    click.echo(f"identity key: {out}\npublic key:   {public}")


@imds.command("declare")
@click.option("--data-dir", default=".openssm", show_default=True, type=click.Path(path_type=Path))
@click.option("--database-url", default=None, help="SQLAlchemy URL (default: SQLite in the data dir).")
@click.option("--instance-id", required=True)
@click.option("--account", "account_id", required=True)
@click.option("--region", required=True)
@click.option("--public-key", required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--instance-profile", default=None, help="Instance profile attached to the instance.")
def declare(data_dir: Path, database_url: str | None, instance_id: str, account_id: str, region: str,
            public_key: Path, instance_profile: str | None) -> None:
    """Make an instance known to the control plane, with its identity key and instance profile."""
    from openssm.errors import AwsError
    from openssm.services import ec2_instances
    from openssm.store.db import open_database, sqlite_url

    db = open_database(database_url or sqlite_url(data_dir.resolve()))
    try:
        with db.begin() as conn:
            ec2_instances.declare(conn, account_id, region, instance_id, public_key.read_text(), instance_profile,
                                  dt.datetime.now(dt.UTC))
    except (AwsError, IdentityError) as err:
        raise click.ClickException(str(err)) from err
    finally:
        db.dispose()
    click.echo(f"declared {instance_id} in {account_id} {region}"
               + (f" with instance profile {instance_profile}" if instance_profile else ""))


@imds.command("release")
@click.option("--data-dir", default=".openssm", show_default=True, type=click.Path(path_type=Path))
@click.option("--database-url", default=None, help="SQLAlchemy URL (default: SQLite in the data dir).")
@click.option("--instance-id", required=True)
def release(data_dir: Path, database_url: str | None, instance_id: str) -> None:
    """Forget the key an instance registered for Default Host Management (its agent lost its state directory),
    so that it may enrol again."""
    from openssm.services import default_host_management
    from openssm.store.db import open_database, sqlite_url

    db = open_database(database_url or sqlite_url(data_dir.resolve()))
    try:
        with db.begin() as conn:
            released = default_host_management.release(conn, instance_id)
    finally:
        db.dispose()
    if not released:
        raise click.ClickException(f"{instance_id} holds no Default Host Management registration")
    click.echo(f"released {instance_id}: its agent may register again")


@imds.command("serve")
@click.option("--instance-id", required=True)
@click.option("--account", "account_id", required=True)
@click.option("--region", required=True)
@click.option("--availability-zone", default=None, help="Default: the region with 'a' appended.")
@click.option("--private-ip", default="127.0.0.1", show_default=True)
@click.option("--key", "key_file", required=True, type=click.Path(path_type=Path, exists=True),
              help="The instance's identity key (from `openssm imds keygen`).")
@click.option("--endpoint", required=True, help="The control plane's URL.")
@click.option("--ca-bundle", default=None, type=click.Path(exists=True), help="CA to trust for --endpoint.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=1338, show_default=True, type=int)
def serve(instance_id: str, account_id: str, region: str, availability_zone: str | None, private_ip: str,
          key_file: Path, endpoint: str, ca_bundle: str | None, host: str, port: int) -> None:
    """Serve IMDSv2 for one instance until stopped."""
    import uvicorn

    from openssm.imds.credentials import ControlPlaneCredentials
    from openssm.imds.server import MetadataService, document_signer

    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise click.ClickException(f"{key_file} is not an RSA private key")
    try:
        identity = InstanceIdentity(account_id, region, instance_id, availability_zone or f"{region}a",
                                    private_ip=private_ip)
    except IdentityError as err:
        raise click.ClickException(str(err)) from err
    service = MetadataService(identity, document_signer(key),
                              ControlPlaneCredentials(endpoint, identity, key, ca_bundle))
    uvicorn.run(service.app(), host=host, port=port, log_level="warning")
