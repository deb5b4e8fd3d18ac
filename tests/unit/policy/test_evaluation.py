"""Evaluation: AWS's documented examples, the seed policies, and the order of policy types."""

from __future__ import annotations

from openssm.iam.policy import Effect, PolicyKind, PolicyType
from tests.unit.policy.helpers import decide, doc, request

SSM_SETTING = ("arn:aws:ssm:us-east-1:123456789012:servicesetting/ssm/managed-instance/"
               "default-ec2-instance-management-role")


def test_nothing_is_allowed_without_a_policy() -> None:
    assert decide(request("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/x")).effect == \
        Effect.IMPLICIT_DENY


def test_action_match_ignores_case_and_supports_wildcards() -> None:
    policy = doc({"Effect": "Allow", "Action": "SSM:get*", "Resource": "*"})
    assert decide(request("ssm:GetParameter"), policy).allowed
    assert not decide(request("ssm:PutParameter"), policy).allowed
    single = doc({"Effect": "Allow", "Action": "ssm:GetParamete?", "Resource": "*"})
    assert decide(request("ssm:GetParameter"), single).allowed


def test_resource_wildcard_crosses_slashes_but_segments_are_case_sensitive() -> None:
    policy = doc({"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:*:*:parameter/app/*"})
    assert decide(request("ssm:GetParameter", "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db/pw"), policy).allowed
    assert not decide(request("ssm:GetParameter", "arn:aws:ssm:eu-west-1:123456789012:parameter/App/db"),
                      policy).allowed


def test_explicit_deny_beats_any_allow() -> None:
    allow = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    deny = doc({"Effect": "Deny", "Action": "ssm:StartSession", "Resource": "arn:aws:ssm:*:*:document/AWS-StartSSHSession"})
    req = request("ssm:StartSession", "arn:aws:ssm:us-east-1::document/AWS-StartSSHSession")
    decision = decide(req, allow, deny)
    assert decision.effect == Effect.EXPLICIT_DENY
    assert decision.denied_by == PolicyType.IDENTITY


def test_seed_004_allow_policy_grants_the_instance_and_the_ssh_document_only() -> None:
    allow = doc({"Effect": "Allow", "Action": "ssm:StartSession", "Resource": [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0", "arn:aws:ssm:*:*:document/AWS-StartSSHSession"]})
    assert decide(request("ssm:StartSession", "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"),
                  allow).allowed
    assert decide(request("ssm:StartSession", "arn:aws:ssm:us-east-1::document/AWS-StartSSHSession"), allow).allowed
    assert not decide(request("ssm:StartSession", "arn:aws:ec2:us-east-1:123456789012:instance/i-0fffffffffffffff0"),
                      allow).allowed


def test_not_action_allows_everything_else_and_not_resource_excludes() -> None:
    policy = doc({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:ssm:*:*:parameter/secret/*"})
    assert decide(request("ssm:GetParameter", "arn:aws:ssm:us-east-1:1:parameter/public"), policy).allowed
    assert not decide(request("iam:CreateUser", "arn:aws:iam::1:user/x"), policy).allowed
    assert not decide(request("ssm:GetParameter", "arn:aws:ssm:us-east-1:1:parameter/secret/a"), policy).allowed


def test_manage_own_credentials_with_the_username_variable() -> None:
    policy = doc({"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::*:user/${aws:username}"})
    assert decide(request("iam:CreateAccessKey", "arn:aws:iam::123456789012:user/alice"), policy).allowed
    assert not decide(request("iam:CreateAccessKey", "arn:aws:iam::123456789012:user/bob"), policy).allowed


def test_variables_are_literal_text_in_2008_policies() -> None:
    policy = doc({"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::*:user/${aws:username}"},
                 version="2008-10-17")
    assert not decide(request("iam:CreateAccessKey", "arn:aws:iam::123456789012:user/alice"), policy).allowed


def test_variable_defaults_and_escapes() -> None:
    policy = doc({"Effect": "Allow", "Action": "ssm:GetParameter",
                  "Resource": "arn:aws:ssm:*:*:parameter/${aws:PrincipalTag/team, 'shared'}/${*}"})
    assert decide(request("ssm:GetParameter", "arn:aws:ssm:r:1:parameter/shared/*"), policy).allowed
    assert not decide(request("ssm:GetParameter", "arn:aws:ssm:r:1:parameter/shared/x"), policy).allowed
    tagged = request("ssm:GetParameter", "arn:aws:ssm:r:1:parameter/blue/*", **{"aws:PrincipalTag/team": "blue"})
    assert decide(tagged, policy).allowed


def test_a_variable_without_value_or_default_matches_nothing() -> None:
    policy = doc({"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:*:*:parameter/${aws:PrincipalTag/team}"})
    assert not decide(request("ssm:GetParameter", "arn:aws:ssm:r:1:parameter/"), policy).allowed


def test_seed_000_scp_denies_non_administrators_case_insensitively() -> None:
    scp = doc({"Effect": "Deny", "Action": ["ssm:UpdateServiceSetting", "ssm:ResetServiceSetting"],
               "Resource": "arn:aws:ssm:*:*:servicesetting/ssm/managed-instance/default-ec2-instance-management-role",
               "Condition": {"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/job-function": ["administrator"]}}},
              kind=PolicyKind.SCP)
    full = doc({"Effect": "Allow", "Action": "*", "Resource": "*"}, kind=PolicyKind.SCP)
    admin_policy = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    levels = [[("p-FullAWSAccess", full), ("p-seed", scp)]]
    admin = request("ssm:UpdateServiceSetting", SSM_SETTING, **{"aws:PrincipalTag/job-function": "Administrator"})
    assert decide(admin, admin_policy, scp_levels=levels).allowed
    other = request("ssm:UpdateServiceSetting", SSM_SETTING, **{"aws:PrincipalTag/job-function": "developer"})
    denied = decide(other, admin_policy, scp_levels=levels)
    assert denied.effect == Effect.EXPLICIT_DENY and denied.denied_by == PolicyType.SCP
    untagged = request("ssm:UpdateServiceSetting", SSM_SETTING)
    assert decide(untagged, admin_policy, scp_levels=levels).effect == Effect.EXPLICIT_DENY


def test_every_scp_level_must_allow() -> None:
    full = doc({"Effect": "Allow", "Action": "*", "Resource": "*"}, kind=PolicyKind.SCP)
    only_iam = doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}, kind=PolicyKind.SCP)
    admin = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    levels = [[("root", full)], [("ou", only_iam)]]
    assert decide(request("iam:ListUsers"), admin, scp_levels=levels).allowed
    decision = decide(request("ssm:GetParameter"), admin, scp_levels=levels)
    assert decision.effect == Effect.IMPLICIT_DENY and decision.denied_by == PolicyType.SCP


def test_root_needs_no_identity_policy_but_is_bound_by_scps() -> None:
    from openssm.iam.policy import AuthzRequest, PolicySet, evaluate

    req = AuthzRequest("iam:CreateUser", "arn:aws:iam::1:user/x", "arn:aws:iam::1:root", "1")
    assert evaluate(req, PolicySet(is_root=True)).allowed
    deny = doc({"Effect": "Deny", "Action": "iam:*", "Resource": "*"}, kind=PolicyKind.SCP)
    assert not evaluate(req, PolicySet(is_root=True, scp_levels=[[("d", deny)]])).allowed


def test_permissions_boundary_and_session_policy_limit_an_allow() -> None:
    admin = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    boundary = ("b", doc({"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}))
    assert decide(request("ssm:GetParameter"), admin, boundary=boundary).allowed
    denied = decide(request("iam:CreateUser"), admin, boundary=boundary)
    assert denied.effect == Effect.IMPLICIT_DENY and denied.denied_by == PolicyType.BOUNDARY
    session = [("s", doc({"Effect": "Allow", "Action": "ssm:Describe*", "Resource": "*"}))]
    assert decide(request("ssm:DescribeParameters"), admin, session=session).allowed
    assert decide(request("ssm:GetParameter"), admin, session=session).denied_by == PolicyType.SESSION


def test_resource_policy_naming_the_user_allows_without_identity_policy() -> None:
    resource = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"},
                    "Action": "kms:Decrypt", "Resource": "*"}, kind=PolicyKind.RESOURCE)
    assert decide(request("kms:Decrypt", "arn:aws:kms:r:1:key/k"), resource=[("key", resource)]).allowed
    other = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
                 "Action": "kms:Decrypt", "Resource": "*"}, kind=PolicyKind.RESOURCE)
    assert not decide(request("kms:Decrypt", "arn:aws:kms:r:1:key/k"), resource=[("key", other)]).allowed


def test_a_resource_policy_naming_only_the_account_needs_an_identity_allow() -> None:
    account_wide = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": "kms:*", "Resource": "*"}, kind=PolicyKind.RESOURCE)
    req = request("kms:Decrypt", "arn:aws:kms:r:123456789012:key/k")
    assert not decide(req, resource=[("key", account_wide)]).allowed
    allow = doc({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})
    assert decide(req, allow, resource=[("key", account_wide)]).allowed


def test_a_required_resource_policy_must_allow_even_an_identity_allow() -> None:
    other = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
                 "Action": "kms:*", "Resource": "*"}, kind=PolicyKind.RESOURCE)
    admin = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    req = request("kms:Decrypt", "arn:aws:kms:r:123456789012:key/k")
    decision = decide(req, admin, resource=[("key", other)], resource_required=True)
    assert decision.effect == Effect.IMPLICIT_DENY and decision.denied_by == PolicyType.RESOURCE


def test_seed_000_principal_policy_denies_the_dhmc_setting_and_the_role_to_everyone() -> None:
    deny = doc(
        {"Effect": "Deny", "Action": ["ssm:UpdateServiceSetting", "ssm:ResetServiceSetting"],
         "Resource": SSM_SETTING},
        {"Effect": "Deny", "Action": ["iam:AttachRolePolicy", "iam:DeleteRole", "iam:PassRole"],
         "Resource": "arn:aws:iam::123456789012:role/service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"})
    admin = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    role = "arn:aws:iam::123456789012:role/service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
    assert decide(request("ssm:UpdateServiceSetting", SSM_SETTING), admin, deny).effect == Effect.EXPLICIT_DENY
    assert decide(request("iam:PassRole", role), admin, deny).effect == Effect.EXPLICIT_DENY
    assert decide(request("ssm:GetServiceSetting", SSM_SETTING), admin, deny).allowed
    assert decide(request("iam:PassRole", "arn:aws:iam::123456789012:role/other"), admin, deny).allowed


def test_seed_000_scp_passrole_deny_needs_the_ssm_service_and_a_non_administrator() -> None:
    role = "arn:aws:iam::123456789012:role/service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
    scp = doc({"Effect": "Deny", "Action": ["iam:PassRole"], "Resource": "arn:aws:iam::*:role/service-role/"
               "AWSSystemsManagerDefaultEC2InstanceManagementRole",
               "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"},
                             "StringNotEqualsIgnoreCase": {"aws:PrincipalTag/job-function": ["administrator"]}}},
              kind=PolicyKind.SCP)
    full = doc({"Effect": "Allow", "Action": "*", "Resource": "*"}, kind=PolicyKind.SCP)
    admin = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    levels = [[("full", full), ("seed", scp)]]
    to_ssm = {"iam:PassedToService": "ssm.amazonaws.com"}
    assert not decide(request("iam:PassRole", role, **to_ssm), admin, scp_levels=levels).allowed
    assert decide(request("iam:PassRole", role, **to_ssm, **{"aws:PrincipalTag/job-function": "ADMINISTRATOR"}),
                  admin, scp_levels=levels).allowed
    assert decide(request("iam:PassRole", role, **{"iam:PassedToService": "ec2.amazonaws.com"}), admin,
                  scp_levels=levels).allowed
