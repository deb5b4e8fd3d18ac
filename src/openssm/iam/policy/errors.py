"""The error a policy document that IAM would refuse raises."""

from __future__ import annotations

from openssm.errors import AwsError


class MalformedPolicyDocument(AwsError):
    code = "MalformedPolicyDocument"
