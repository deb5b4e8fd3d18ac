"""The composition root: builds every service once from the store, the master key and the clock.

Handlers reach services through `ctx.container`; nothing else constructs them.
"""

from __future__ import annotations

from openssm.bus.local import LocalHub
from openssm.bus.session_links import NatsLinks, NoLinks, SessionLinks
from openssm.bus.session_relay import RelayRegistry
from openssm.clock import Clock, SystemClock
from openssm.config import ServerConfig
from openssm.iam.authorizer import PolicyAuthorizer
from openssm.iam.service import IamService
from openssm.iam.sessions import resolve_session_credential
from openssm.protocol.trail_parameters import trail_parameters
from openssm.services import associations, documents, instances
from openssm.services.audit import AuditTrail
from openssm.services.audit_chain import CHAIN_KEY_LABEL
from openssm.services.command_replies import ReplyWriter
from openssm.services.instances import NodeKey
from openssm.services.kms import KmsService
from openssm.services.maintenance_windows import WindowTagTarget
from openssm.services.parameters import ParameterService
from openssm.services.patch_baselines import BaselineTagTarget
from openssm.services.resource_tags import TaggableResources
from openssm.store.db import Database
from openssm.store.object_store import ObjectStore, S3ObjectStore
from openssm.store.secrets import SecretBox


class Container:
    def __init__(self, config: ServerConfig, db: Database, box: SecretBox, clock: Clock | None = None) -> None:
        self.config = config
        self.db = db
        self.box = box
        self.clock: Clock = clock or SystemClock()
        # Services, one attribute each, constructed eagerly (handlers run on many threads).
        self.iam = IamService(db, box, self.clock)
        self.credentials = self.iam.credentials
        self.credentials.session_resolver = resolve_session_credential
        self.authorizer = PolicyAuthorizer(self.iam.directory)
        self.kms = KmsService(db, box)
        self.parameters = ParameterService(db, self.kms)
        self.ssm_tags = TaggableResources(self.parameters.tags, {"Parameter": self.parameters,
                                                                  "ManagedInstance": instances.InstanceTagTarget(),
                                                                  "Document": documents.DocumentTagTarget(),
                                                                  "Association": associations.AssociationTagTarget(),
                                                                  "MaintenanceWindow": WindowTagTarget(),
                                                                  "PatchBaseline": BaselineTagTarget()})
        self.output_store: ObjectStore | None = S3ObjectStore(config.s3) if config.s3 else None
        self.command_hub = LocalHub()
        self.session_relays = RelayRegistry()
        self.session_links: SessionLinks = NatsLinks(config.nats_url) if config.nats_url else NoLinks()
        self.command_replies = ReplyWriter(db, self.clock)
        self.audit = AuditTrail(db, chain_key=box.derive_key(CHAIN_KEY_LABEL), default_account=config.default_account,
                                default_region=config.default_region, render=trail_parameters)

    def node_key(self, instance_id: str) -> NodeKey | None:
        """A registered node's public key, for authenticating its RSA-signed requests."""
        with self.db.read() as conn:
            return instances.node_key(conn, instance_id)

    def close(self) -> None:
        self.command_replies.close()
        self.audit.close()
        self.db.dispose()
