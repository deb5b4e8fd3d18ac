"""Shared vocabulary: identifier types used across layers."""

from __future__ import annotations

from typing import NewType

AccountId = NewType("AccountId", str)
Region = NewType("Region", str)
Arn = NewType("Arn", str)
AccessKeyId = NewType("AccessKeyId", str)
RequestId = NewType("RequestId", str)

DEFAULT_ACCOUNT = AccountId("123456789012")
DEFAULT_REGION = Region("us-east-1")
