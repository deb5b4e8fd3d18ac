"""Importing this package registers every table with `openssm.store.metadata.metadata`."""

from openssm.store.tables import (
    accounts,  # noqa: F401
    associations,  # noqa: F401
    audit,  # noqa: F401
    commands,  # noqa: F401
    compliance,  # noqa: F401
    documents,  # noqa: F401
    ec2_instances,  # noqa: F401
    iam,  # noqa: F401
    instances,  # noqa: F401
    inventory,  # noqa: F401
    kms,  # noqa: F401
    maintenance_windows,  # noqa: F401
    organizations,  # noqa: F401
    parameters,  # noqa: F401
    patch_baselines,  # noqa: F401
    patch_snapshots,  # noqa: F401
    service_settings,  # noqa: F401
    sessions,  # noqa: F401
    sts,  # noqa: F401
)
