"""Parameter Store's storage-free rules: names, selectors, ARNs, labels, policies, tiers, values and filters."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from openssm.errors import AccessDenied, AwsError, ValidationError
from openssm.services.parameter_labels import label_is_valid
from openssm.services.parameter_model import (
    DataType,
    HierarchyLevelLimitExceeded,
    IncompatiblePolicy,
    InvalidAllowedPattern,
    InvalidFilterKey,
    InvalidFilterOption,
    InvalidFilterValue,
    InvalidPolicyAttribute,
    InvalidPolicyType,
    ParameterPatternMismatch,
    ParameterType,
    ParameterVersion,
    PoliciesLimitExceeded,
    Tier,
)
from openssm.services.parameter_names import (
    canonical,
    split_selector,
    strip_arn,
    under_path,
    validate_new_name,
    validate_path,
    validate_read_name,
)
from openssm.services.parameter_policies import expiry_of, parse_policies, stored_form
from openssm.services.parameter_queries import Filter, legacy_filters, matches, validate_filters
from openssm.services.parameter_values import check_pattern, check_value, data_type_of, resolve_tier

REGION, ACCOUNT = "us-east-1", "123456789012"


def new_name(name: str) -> None:
    validate_new_name(name, REGION, ACCOUNT)


@pytest.mark.parametrize(("raw", "expected"), [
    ("/a/b", ("/a/b", None)), ("/a/b:3", ("/a/b", "3")), ("/a/b:prod", ("/a/b", "prod")), ("plain:1", ("plain", "1")),
    ("arn:aws:ssm:us-east-1:123456789012:parameter/a/b:2", ("/a/b", "2")),
    ("arn:aws:ssm:us-east-1:123456789012:parameter/flat", ("/flat", None)),
])
def test_selectors_and_arns_split_into_a_name_and_a_selector(raw: str, expected: tuple[str, str | None]) -> None:
    assert split_selector(raw) == expected


def test_a_root_level_name_is_the_same_parameter_with_or_without_its_leading_slash() -> None:
    assert canonical("/flat") == canonical("flat") == "flat"
    assert canonical("/a/b") == "/a/b"
    assert canonical(strip_arn("arn:aws:ssm:r:1:parameter/x/y")) == "/x/y"
    assert canonical(strip_arn("arn:aws:ssm:r:1:parameter/x")) == "x"


def test_a_reserved_path_under_aws_is_refused_as_access_denied_without_its_leading_slash() -> None:
    with pytest.raises(AccessDenied) as err:
        new_name("/awssec/lab01/vpc_id")
    assert err.value.message == "No access to reserved parameter name: awssec/lab01/vpc_id."


@pytest.mark.parametrize(("name", "message_start"), [
    ("aws-thing", 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).'),
    ("SSMx", 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).'),
    ("/ssm/x", 'Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path'),
    ("a/b", "Parameter name must be a fully qualified name"),
    ("/a//b", 'Parameter name: can\'t be prefixed with "ssm"'),
    ("/a b/c", 'Parameter name: can\'t be prefixed with "ssm"'),
    ("a b", 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path'),
    ("/a/", 'Parameter name: can\'t be prefixed with "ssm"'),
])
def test_malformed_or_reserved_names_are_refused_with_aws_messages(name: str, message_start: str) -> None:
    with pytest.raises(ValidationError) as err:
        new_name(name)
    assert err.value.message.startswith(message_start)


def test_fifteen_levels_are_allowed_and_sixteen_exceed_the_hierarchy_limit() -> None:
    new_name("/a" * 15)
    with pytest.raises(HierarchyLevelLimitExceeded):
        new_name("/a" * 16)


def test_a_name_whose_arn_passes_1011_characters_is_refused() -> None:
    prefix = len(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/")
    new_name("/" + "x" * (1011 - prefix))
    with pytest.raises(ValidationError):
        new_name("/" + "x" * (1012 - prefix))


def test_a_read_of_a_name_that_can_never_exist_is_a_validation_error() -> None:
    validate_read_name("/a/b")
    validate_read_name("flat")
    for bad in ("a/b", "/a//b"):
        with pytest.raises(ValidationError):
            validate_read_name(bad)


@pytest.mark.parametrize(("name", "path", "recursive", "inside"), [
    ("/a/b", "/a", False, True), ("/a/b/c", "/a", False, False), ("/a/b/c", "/a", True, True),
    ("/a/b", "/a/", False, True), ("/ab/c", "/a", True, False), ("flat", "/", False, True), ("/a/b", "/", False, False),
    ("/a/b", "/", True, True),
])
def test_under_path_follows_one_level_and_recursive_rules(name: str, path: str, recursive: bool,
                                                          inside: bool) -> None:
    assert under_path(name, path, recursive) is inside


def test_paths_must_start_with_a_slash_and_use_the_name_characters() -> None:
    validate_path("/")
    validate_path("/get/parameters2-/by1./path0_")
    for bad in ("app", "/a//b", "/a b"):
        with pytest.raises(ValidationError) as err:
            validate_path(bad)
        assert "Valid example: /get/parameters2-/by1./path0_." in err.value.message


@pytest.mark.parametrize(("label", "valid"), [
    ("prod", True), ("v1.2-rc_1", True), ("1st", False), ("awsprod", False), ("SSMx", False), ("Awsx", False),
    ("a/b", False), ("x" * 100, True), ("x" * 101, False),
])
def test_label_rules(label: str, valid: bool) -> None:
    assert label_is_valid(label) is valid


def test_policies_are_validated_and_the_expiration_is_read_in_either_iso_form() -> None:
    policies = parse_policies(json.dumps([
        {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "2026-01-01T10:00:00.000+10:00"}},
        {"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "15", "Unit": "Days"}},
        {"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "20", "Unit": "Hours"}}]))
    assert expiry_of(policies) == dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
    assert [p["Type"] for p in json.loads(stored_form(policies) or "")] == [
        "Expiration", "ExpirationNotification", "NoChangeNotification"]
    assert parse_policies("[]") == [] and stored_form([]) is None


@pytest.mark.parametrize(("text", "error"), [
    ('[{"Type": "Explode", "Attributes": {}}]', InvalidPolicyType),
    ('{"Type": "Expiration"}', InvalidPolicyAttribute),
    ("not json", InvalidPolicyAttribute),
    ('[{"Type": "Expiration", "Attributes": {"Timestamp": "tomorrow"}}]', InvalidPolicyAttribute),
    ('[{"Type": "Expiration", "Attributes": {"Timestamp": "2030-01-01T00:00:00"}}]', InvalidPolicyAttribute),
    ('[{"Type": "ExpirationNotification", "Attributes": {"Before": "0", "Unit": "Days"}}]', InvalidPolicyAttribute),
    ('[{"Type": "NoChangeNotification", "Attributes": {"After": "3", "Unit": "Weeks"}}]', InvalidPolicyAttribute),
    (json.dumps([{"Type": "Expiration", "Attributes": {"Timestamp": "2030-01-01T00:00:00Z"}}] * 2), IncompatiblePolicy),
    (json.dumps([{"Type": "NoChangeNotification", "Attributes": {"After": "1", "Unit": "Days"}}] * 11),
     PoliciesLimitExceeded),
])
def test_invalid_policies_are_refused_with_the_matching_error(text: str, error: type[AwsError]) -> None:
    with pytest.raises(error):
        parse_policies(text)


def test_intelligent_tiering_picks_advanced_only_when_needed_and_advanced_never_goes_back() -> None:
    assert resolve_tier(Tier.INTELLIGENT, None, "x", False) is Tier.STANDARD
    assert resolve_tier(Tier.INTELLIGENT, None, "x" * 4097, False) is Tier.ADVANCED
    assert resolve_tier(Tier.INTELLIGENT, None, "x", True) is Tier.ADVANCED
    assert resolve_tier(None, Tier.ADVANCED, "x", False) is Tier.ADVANCED
    with pytest.raises(ValidationError) as err:
        resolve_tier(Tier.STANDARD, Tier.ADVANCED, "x", False)
    assert err.value.message.startswith("This parameter uses the advanced-parameter tier. You can't downgrade")
    with pytest.raises(ValidationError):
        resolve_tier(Tier.STANDARD, None, "x", True)


def test_values_are_limited_to_4_kb_standard_and_8_kb_advanced() -> None:
    check_value("x" * 4096, Tier.STANDARD, DataType.TEXT, ParameterType.STRING)
    check_value("x" * 8192, Tier.ADVANCED, DataType.TEXT, ParameterType.STRING)
    with pytest.raises(ValidationError) as err:
        check_value("x" * 4097, Tier.STANDARD, DataType.TEXT, ParameterType.STRING)
    assert err.value.message.startswith("Standard tier parameters support a maximum parameter value of 4096")
    with pytest.raises(ValidationError) as err:
        check_value("x" * 8193, Tier.ADVANCED, DataType.TEXT, ParameterType.STRING)
    assert "Advanced-tier parameters support a maximum parameter value of 8192 characters." in err.value.message
    with pytest.raises(ValidationError):
        check_value("", Tier.STANDARD, DataType.TEXT, ParameterType.STRING)


def test_image_ids_are_checked_for_the_ec2_image_data_type() -> None:
    check_value("ami-0123456789abcdef0", Tier.STANDARD, DataType.EC2_IMAGE, ParameterType.STRING)
    check_value("ami-12345678", Tier.STANDARD, DataType.EC2_IMAGE, ParameterType.STRING)
    for bad in ("ami-xyz", "i-0123456789abcdef0", "ami-0123456789ABCDEF0"):
        with pytest.raises(ValidationError):
            check_value(bad, Tier.STANDARD, DataType.EC2_IMAGE, ParameterType.STRING)
    with pytest.raises(ValidationError):
        check_value("ami-12345678", Tier.STANDARD, DataType.EC2_IMAGE, ParameterType.SECURE_STRING)
    with pytest.raises(ValidationError) as err:
        data_type_of("AWS:EC2:IMAGE")
    assert err.value.message == ("The following data type is not supported: AWS:EC2:IMAGE (Data type names are all "
                                 "lowercase.)")


def test_allowed_pattern_must_match_the_whole_value() -> None:
    check_pattern(r"^\d+$", "123")
    check_pattern(r"\d+", "123")
    with pytest.raises(ParameterPatternMismatch) as err:
        check_pattern(r"\d+", "123a")
    assert err.value.message == r"Parameter value, cannot be validated against allowedPattern: \d+"
    with pytest.raises(InvalidAllowedPattern):
        check_pattern("([", "x")


@pytest.mark.parametrize(("filters", "by_path", "error", "message"), [
    ([Filter("Label", None, ("x",))], False, InvalidFilterKey,
     "The following filter key is not valid: Label. Valid filter keys include: [Path, Name, Type, KeyId, Tier]."),
    ([Filter("Name", None, ("x",))], True, InvalidFilterKey,
     "The following filter key is not valid: Name. Valid filter keys include: [Type, KeyId]."),
    ([Filter("tag:team", None, ("x",))], True, InvalidFilterKey, None),
    ([Filter("Type", None, ())], False, InvalidFilterValue,
     "The following filter values are missing : null for filter key Type."),
    ([Filter("Type", None, ("String",)), Filter("Type", None, ("String",))], False, InvalidFilterKey,
     "The following filter is duplicated in the request: Type. A request can contain only one occurrence of a "
     "specific filter."),
    ([Filter("Path", "Equals", ("/a",))], False, InvalidFilterOption,
     "The following filter option is not valid: Equals. Valid options include: [Recursive, OneLevel]."),
    ([Filter("Path", None, ("/aws/x",))], False, ValidationError, None),
    ([Filter("Path", None, ("a",))], False, ValidationError, None),
    ([Filter("Tier", None, ("Gold",))], False, InvalidFilterOption,
     "The following filter value is not valid: Gold. Valid values include: [Standard, Advanced, "
     "Intelligent-Tiering]."),
    ([Filter("Type", None, ("Text",))], False, InvalidFilterOption, None),
    ([Filter("KeyId", "Contains", ("x",))], False, InvalidFilterOption,
     "The following filter option is not valid: Contains. Valid options include: [BeginsWith, Equals]."),
])
def test_filters_are_validated_as_aws_does(filters: list[Filter], by_path: bool, error: type[AwsError],
                                           message: str | None) -> None:
    with pytest.raises(error) as err:
        validate_filters(filters, by_path)
    if message is not None:
        assert err.value.message == message


def test_filters_and_parameter_filters_cannot_be_combined() -> None:
    with pytest.raises(ValidationError):
        legacy_filters([Filter("Name", None, ("x",))], [Filter("Type", None, ("String",))])
    assert legacy_filters([Filter("Name", None, ("/a",))], []) == [Filter("Name", "BeginsWith", ("/a",))]


def version(name: str, kind: ParameterType = ParameterType.STRING, key_id: str | None = None) -> ParameterVersion:
    return ParameterVersion(name, 1, kind, "v", key_id, None, None, Tier.STANDARD, DataType.TEXT, None,
                            dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "u")


@pytest.mark.parametrize(("f", "name", "hit"), [
    (Filter("Name", None, ("/a/b",)), "/a/b", True), (Filter("Name", None, ("flat",)), "flat", True),
    (Filter("Name", None, ("/flat",)), "flat", True), (Filter("Name", "BeginsWith", ("/a",)), "/a/b", True),
    (Filter("Name", "Contains", ("b/c",)), "/a/b/c", True), (Filter("Name", "BeginsWith", ("/b",)), "/a/b", False),
    (Filter("Path", None, ("/a",)), "/a/b", True), (Filter("Path", None, ("/a",)), "/a/b/c", False),
    (Filter("Path", "Recursive", ("/a",)), "/a/b/c", True), (Filter("Path", None, ("/",)), "flat", True),
    (Filter("Path", "Recursive", ("/",)), "/a/b/c", True), (Filter("Type", None, ("SecureString",)), "/a", False),
])
def test_filters_match_names_paths_and_types(f: Filter, name: str, hit: bool) -> None:
    assert matches(f, version(name), {}, ()) is hit


def test_tag_filters_match_a_value_or_only_the_presence_of_the_tag() -> None:
    p = version("/a")
    assert matches(Filter("tag:team", None, ("blue",)), p, {"team": "blue"}, ())
    assert not matches(Filter("tag:team", None, ("red",)), p, {"team": "blue"}, ())
    assert matches(Filter("tag:team", None, ()), p, {"team": "blue"}, ())
    assert not matches(Filter("tag:team", None, ()), p, {}, ())
    assert matches(Filter("KeyId", None, ("alias/aws/ssm",)), version("/s", ParameterType.SECURE_STRING,
                                                                      "alias/aws/ssm"), {}, ())
    assert matches(Filter("Label", None, ("prod",)), p, {}, ["prod", "x"])
