"""Where Run Command output goes when a command names an S3 bucket: any S3-compatible store (MinIO, Ceph,
AWS S3 itself), reached with botocore's S3 client and path-style addressing so any endpoint works."""

from __future__ import annotations

from typing import Any, Protocol

from botocore.config import Config
from botocore.session import Session

from openssm.config import S3Settings


class ObjectStore(Protocol):
    def put(self, bucket: str, key: str, data: bytes) -> None: ...

    def url(self, bucket: str, key: str) -> str: ...


class S3ObjectStore:
    def __init__(self, settings: S3Settings) -> None:
        self._endpoint = settings.endpoint.rstrip("/")
        session = Session()
        if settings.access_key_id and settings.secret_access_key:
            session.set_credentials(settings.access_key_id, settings.secret_access_key)
        self._client: Any = session.create_client(
            "s3", endpoint_url=self._endpoint, region_name=settings.region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=bucket, Key=key, Body=data)

    def url(self, bucket: str, key: str) -> str:
        return f"{self._endpoint}/{bucket}/{key}"
