"""Parsing and IAM's validation of policy documents."""

from __future__ import annotations

import json

import pytest

from openssm.iam.policy import MalformedPolicyDocument, PolicyKind, parse_policy


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "Syntax errors in policy."),
    ('{"Version": "2012-10-17"}', "Syntax errors in policy."),
    ('{"Version": "2013-01-01", "Statement": []}', "The policy failed legacy parsing"),
    ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Resource": "*"}}',
     "Policy statement must contain actions."),
    ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*"}}',
     "Policy statement must contain resources."),
    ('{"Version": "2012-10-17", "Statement": {"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}}',
     "Syntax errors in policy."),
    ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "getparameter", "Resource": "*"}}',
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}}',
     'Resource bucket must be in ARN format or "*".'),
    ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",'
     ' "Condition": {"StringEqualz": {"a:b": "c"}}}}', "Invalid Condition type : StringEqualz."),
])
def test_malformed_identity_policies_are_refused_with_iams_message(text: str, message: str) -> None:
    with pytest.raises(MalformedPolicyDocument) as err:
        parse_policy(text)
    assert err.value.message == message
    assert err.value.code == "MalformedPolicyDocument"


def test_an_identity_policy_must_not_name_a_principal() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})
    with pytest.raises(MalformedPolicyDocument, match="should not specify a principal"):
        parse_policy(text)


def test_a_trust_policy_must_name_a_principal_and_needs_no_resource() -> None:
    without = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]})
    with pytest.raises(MalformedPolicyDocument, match="Missing required field Principal"):
        parse_policy(without, PolicyKind.TRUST)
    seed = ('{ "Version":"2012-10-17", "Statement":[ { "Sid":"", "Effect":"Allow", "Principal":{ "Service":'
            '"ssm.amazonaws.com" }, "Action":"sts:AssumeRole" } ] }')
    trust = parse_policy(seed, PolicyKind.TRUST)
    assert trust.statements[0].principals == {"Service": ("ssm.amazonaws.com",)}


def test_single_statement_object_and_string_elements_are_accepted() -> None:
    policy = parse_policy('{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotAction": "iam:*",'
                          ' "NotResource": "arn:aws:iam::*:user/x"}}')
    stmt = policy.statements[0]
    assert stmt.not_actions == ("iam:*",) and stmt.not_resources == ("arn:aws:iam::*:user/x",)
    assert stmt.actions is None and stmt.resources is None
