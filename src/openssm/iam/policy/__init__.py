"""The IAM policy engine: pure parsing and evaluation, no I/O."""

from openssm.iam.policy.document import Condition, PolicyDocument, PolicyKind, Statement, parse_policy
from openssm.iam.policy.errors import MalformedPolicyDocument
from openssm.iam.policy.evaluate import (
    AuthzRequest,
    Decision,
    Effect,
    MatchedStatement,
    NamedPolicy,
    PolicySet,
    PolicyType,
    evaluate,
)

__all__ = [
    "AuthzRequest", "Condition", "Decision", "Effect", "MalformedPolicyDocument", "MatchedStatement",
    "NamedPolicy", "PolicyDocument", "PolicyKind", "PolicySet", "PolicyType", "Statement", "evaluate",
    "parse_policy",
]
