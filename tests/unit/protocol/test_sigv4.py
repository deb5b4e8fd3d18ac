"""SigV4 verification against requests signed by botocore's real signers (header and presigned)."""

from __future__ import annotations

import datetime as dt
import hashlib
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from openssm.errors import AuthFailure
from openssm.protocol import sigv4
from openssm.protocol.sigv4 import AuthErrorKind, Family

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
WHEN = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.UTC)

Parts = tuple[str, str, str, dict[str, str], bytes]


def sign(req: AWSRequest, service: str, *, presign: int | None = None, token: str | None = None,
         when: dt.datetime = WHEN) -> AWSRequest:
    creds = Credentials(KEY_ID, SECRET, token)
    signer = (SigV4QueryAuth(creds, service, "us-east-1", expires=presign) if presign is not None
              else SigV4Auth(creds, service, "us-east-1"))
    with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
        signer.add_auth(req)
    return req


def json_post(body: bytes = b'{"Name":"/app/db/password"}', /, **headers: str) -> AWSRequest:
    return AWSRequest("POST", "https://ssm.us-east-1.amazonaws.com/", data=body, headers={
        "X-Amz-Target": "AmazonSSM.GetParameter", "Content-Type": "application/x-amz-json-1.1", **headers})


def query_post() -> AWSRequest:
    return AWSRequest("POST", "https://iam.amazonaws.com/", data=b"Action=ListUsers&Version=2010-05-08",
                      headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})


def presigned_get() -> AWSRequest:
    return AWSRequest("GET", "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15")


def parts(req: AWSRequest) -> Parts:
    """The request as the server receives it: lower-cased headers with Host, the raw query, the body."""
    url = urlsplit(req.url)
    headers = {k.lower(): v for k, v in req.headers.items()}
    headers.setdefault("host", url.netloc)
    return req.method, url.path or "/", url.query, headers, req.body or b""


def parse(received: Parts, family: str | None = None) -> sigv4.SignatureInfo:
    method, path, query, headers, _ = received
    info = sigv4.parse_signature(method, path, query, headers, family)
    assert info is not None
    return info


def verify(received: Parts, *, now: dt.datetime = WHEN, secret: str = SECRET, family: str | None = None,
           service: str | None = None) -> None:
    method, path, query, headers, body = received
    sigv4.verify_signature(parse(received, family), method, path, query, headers, body, secret, now,
                           family=family, service=service)


def refusal(received: Parts, **kwargs: object) -> AuthFailure:
    with pytest.raises(AuthFailure) as err:
        verify(received, **kwargs)  # type: ignore[arg-type]
    return err.value


def test_a_botocore_signed_json_post_verifies_and_names_its_scope() -> None:
    received = parts(sign(json_post(), "ssm"))
    verify(received)
    info = parse(received)
    assert (info.access_key_id, info.date, info.region, info.service) == (KEY_ID, "20261122", "us-east-1", "ssm")
    assert info.signed_headers == ("content-type", "host", "x-amz-date", "x-amz-target")
    assert (info.amz_date, info.timestamp, info.presigned, info.security_token) == (WHEN, "20261122T120000Z",
                                                                                    False, None)


def test_a_botocore_signed_query_post_verifies_and_is_answered_in_the_query_dialect() -> None:
    received = parts(sign(query_post(), "iam"))
    verify(received)
    err = refusal(received, secret="x" * 40)
    assert (err.code, err.status) == ("SignatureDoesNotMatch", 403)


def test_a_presigned_url_verifies_until_its_expiry_and_then_is_refused_as_expired() -> None:
    received = parts(sign(presigned_get(), "sts", presign=300))
    info = parse(received)
    assert info.presigned and info.expires == 300 and info.signed_headers == ("host",)
    verify(received, now=WHEN + dt.timedelta(seconds=300))
    err = refusal(received, now=WHEN + dt.timedelta(seconds=301))
    assert (err.code, err.status) == ("SignatureDoesNotMatch", 403)
    assert err.message == ("Signature expired: 20261122T120000Z is now earlier than 20261122T120001Z "
                           "(20261122T120501Z - 5 min.)")


def test_a_presigned_url_cannot_be_used_long_before_its_date() -> None:
    received = parts(sign(presigned_get(), "sts", presign=3600))
    with pytest.raises(AuthFailure, match="Signature not yet current: 20261122T120000Z is still later than"):
        verify(received, now=WHEN - dt.timedelta(minutes=5, seconds=1))


def test_a_presigned_query_post_carries_its_form_in_the_signed_query() -> None:
    form = AWSRequest("POST", "https://iam.amazonaws.com/", data={"Action": "ListUsers", "PathPrefix": "/a b/"})
    received = parts(sign(form, "iam", presign=60))
    assert "PathPrefix=%2Fa%20b%2F" in received[2]
    verify(received)


@pytest.mark.parametrize("tamper", ["body", "signed header", "date", "scope region", "session token"])
def test_tampering_with_a_signed_part_is_refused_as_a_bad_signature(tamper: str) -> None:
    method, path, query, headers, body = parts(sign(json_post(), "ssm", token=TOKEN))
    if tamper == "body":
        body = b'{"Name":"/app/db/other"}'
    elif tamper == "signed header":
        headers["x-amz-target"] = "AmazonSSM.DeleteParameter"
    elif tamper == "date":
        headers["x-amz-date"] = "20261122T120001Z"
    elif tamper == "scope region":
        headers["authorization"] = headers["authorization"].replace("/us-east-1/", "/eu-west-1/")
    else:
        headers["x-amz-security-token"] = "another-token"
    err = refusal((method, path, query, headers, body))
    assert (err.code, err.status) == ("InvalidSignatureException", 400)
    assert err.message.startswith(sigv4.BAD_SIGNATURE_MESSAGE + "\n\nThe Canonical String for this request")


def test_a_wrong_secret_is_refused_and_the_answer_shows_the_canonical_request_like_aws() -> None:
    received = parts(sign(json_post(), "ssm"))
    method, path, query, headers, body = received
    canonical = sigv4.canonicalise(parse(received), method, path, query, headers, body)
    err = refusal(received, secret="x" * 40)
    assert err.message == (
        f"{sigv4.BAD_SIGNATURE_MESSAGE}\n\nThe Canonical String for this request should have been\n"
        f"'{canonical.request}'\n\nThe String-to-Sign should have been\n'{canonical.string_to_sign}'\n")
    assert canonical.request.startswith("POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:")
    assert canonical.string_to_sign.startswith("AWS4-HMAC-SHA256\n20261122T120000Z\n20261122/us-east-1/ssm/aws4_request\n")


def test_a_header_outside_signed_headers_may_change() -> None:
    method, path, query, headers, body = parts(sign(json_post(), "ssm"))
    headers["user-agent"] = "something else"
    verify((method, path, query, headers, body))


def test_a_signed_header_missing_from_the_request_is_a_bad_signature() -> None:
    method, path, query, headers, body = parts(sign(json_post(), "ssm"))
    del headers["content-type"]
    assert refusal((method, path, query, headers, body)).code == "InvalidSignatureException"


def test_the_payload_hash_comes_from_the_body_never_from_x_amz_content_sha256() -> None:
    honest = json_post(**{"X-Amz-Content-SHA256": hashlib.sha256(b'{"Name":"/app/db/password"}').hexdigest()})
    verify(parts(sign(honest, "ssm")))
    # botocore signs whatever hash the header claims; the body that arrives is what counts.
    lying = json_post(b'{"Name":"/other"}', **{"X-Amz-Content-SHA256": hashlib.sha256(b"{}").hexdigest()})
    assert refusal(parts(sign(lying, "ssm"))).code == "InvalidSignatureException"


@pytest.mark.parametrize(("offset", "message"), [
    (dt.timedelta(minutes=5, seconds=1),
     "Signature expired: 20261122T120000Z is now earlier than 20261122T120001Z (20261122T120501Z - 5 min.)"),
    (-dt.timedelta(minutes=5, seconds=1),
     "Signature not yet current: 20261122T120000Z is still later than 20261122T115959Z (20261122T115459Z + 5 min.)"),
])
def test_more_than_five_minutes_of_clock_skew_either_way_is_refused_in_aws_words(offset: dt.timedelta,
                                                                                message: str) -> None:
    received = parts(sign(json_post(), "ssm"))
    err = refusal(received, now=WHEN + offset)
    assert (err.code, err.status, err.message) == ("InvalidSignatureException", 400, message)


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=5), -dt.timedelta(minutes=5), dt.timedelta(minutes=4)])
def test_up_to_five_minutes_of_clock_skew_either_way_is_accepted(offset: dt.timedelta) -> None:
    verify(parts(sign(json_post(), "ssm")), now=WHEN + offset)


def test_the_time_can_be_checked_before_the_key_is_looked_up_as_aws_does() -> None:
    info = parse(parts(sign(json_post(), "ssm")))
    sigv4.check_request_time(info, WHEN)
    with pytest.raises(AuthFailure, match="Signature expired"):
        sigv4.check_request_time(info, WHEN + dt.timedelta(minutes=6))


def test_a_naive_server_time_is_taken_as_utc() -> None:
    verify(parts(sign(json_post(), "ssm")), now=WHEN.replace(tzinfo=None))


def test_session_tokens_are_read_from_the_header_or_the_presigned_query_and_are_signed() -> None:
    assert parse(parts(sign(json_post(), "ssm", token=TOKEN))).security_token == TOKEN
    presigned = parts(sign(presigned_get(), "sts", presign=60, token=TOKEN))
    assert parse(presigned).security_token == TOKEN
    verify(presigned)
    method, path, query, headers, body = presigned
    assert refusal((method, path, query.replace(TOKEN, "other"), headers, body)).code == "SignatureDoesNotMatch"


def test_a_request_signed_for_another_service_is_refused_when_the_service_is_known() -> None:
    err = refusal(parts(sign(json_post(), "ssm")), service="kms")
    assert (err.code, err.message) == ("InvalidSignatureException", "Credential should be scoped to correct service: 'kms'.")


def test_a_botocore_request_dated_by_an_rfc_1123_date_header_verifies() -> None:
    received = parts(sign(json_post(Date="Mon, 01 Jan 2001 00:00:00 GMT"), "ssm"))
    assert "x-amz-date" not in received[3] and received[3]["date"] == "Sun, 22 Nov 2026 12:00:00 -0000"
    assert parse(received).timestamp == "20261122T120000Z"
    verify(received)


def test_a_request_without_any_signature_parses_to_none() -> None:
    assert sigv4.parse_signature("POST", "/", "", {"host": "x", "x-amz-target": "AmazonSSM.ListDocuments"}) is None
    unknown = "Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=a"
    assert sigv4.parse_signature("GET", "/", unknown, {"host": "x"}) is None


def test_a_malformed_authorization_header_is_an_incomplete_signature_in_the_requests_dialect() -> None:
    auth = "AWS4-HMAC-SHA256 Credential=AK/20261122/us-east-1/ssm/aws4_request"
    json_headers = {"authorization": auth, "x-amz-date": "20261122T120000Z", "x-amz-target": "AmazonSSM.ListDocuments"}
    with pytest.raises(AuthFailure) as err:
        sigv4.parse_signature("POST", "/", "", json_headers)
    assert (err.value.code, err.value.status) == ("IncompleteSignatureException", 400)
    assert err.value.message == ("Authorization header requires 'Signature' parameter. Authorization header "
                                 f"requires 'SignedHeaders' parameter. Authorization={auth}")
    query_auth = auth.replace("/ssm/", "/sts/")
    with pytest.raises(AuthFailure) as err:
        sigv4.parse_signature("POST", "/", "", {"authorization": query_auth, "x-amz-date": "20261122T120000Z"})
    assert (err.value.code, err.value.status) == ("IncompleteSignature", 400)
    with pytest.raises(AuthFailure) as err:
        sigv4.parse_signature("POST", "/", "", {"authorization": query_auth}, family="json")
    assert err.value.code == "IncompleteSignatureException"


def test_the_error_table_holds_aws_codes_statuses_and_messages_for_both_dialects() -> None:
    table = {(family, kind): (shape.code, shape.status, shape.message)
             for family, shapes in sigv4.AUTH_ERRORS.items() for kind, shape in shapes.items()}
    invalid, expired = ("The security token included in the request is invalid.",
                        "The security token included in the request is expired")
    assert table == {
        (Family.JSON, AuthErrorKind.MISSING): ("MissingAuthenticationTokenException", 400, "Missing Authentication Token"),
        (Family.JSON, AuthErrorKind.INCOMPLETE): ("IncompleteSignatureException", 400, "Incomplete signature"),
        (Family.JSON, AuthErrorKind.UNKNOWN_KEY): ("UnrecognizedClientException", 400, invalid),
        (Family.JSON, AuthErrorKind.BAD_SIGNATURE): ("InvalidSignatureException", 400, sigv4.BAD_SIGNATURE_MESSAGE),
        (Family.JSON, AuthErrorKind.EXPIRED_TOKEN): ("ExpiredTokenException", 400, expired),
        (Family.QUERY, AuthErrorKind.MISSING): ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        (Family.QUERY, AuthErrorKind.INCOMPLETE): ("IncompleteSignature", 400, "Incomplete signature"),
        (Family.QUERY, AuthErrorKind.UNKNOWN_KEY): ("InvalidClientTokenId", 403, invalid),
        (Family.QUERY, AuthErrorKind.BAD_SIGNATURE): ("SignatureDoesNotMatch", 403, sigv4.BAD_SIGNATURE_MESSAGE),
        (Family.QUERY, AuthErrorKind.EXPIRED_TOKEN): ("ExpiredToken", 403, expired),
    }
    err = sigv4.auth_error(AuthErrorKind.UNKNOWN_KEY, "query")
    assert (err.code, err.status, err.message) == ("InvalidClientTokenId", 403, invalid)
    assert sigv4.auth_error(AuthErrorKind.MISSING, "json", "custom").message == "custom"


def test_the_dialect_follows_x_amz_target_then_the_signing_service() -> None:
    assert sigv4.family_for({"x-amz-target": "AmazonSSM.ListDocuments"}, "sts") is Family.JSON
    assert sigv4.family_for({}, "iam") is Family.QUERY
    assert sigv4.family_for({}, "ssmmessages") is Family.JSON
    assert sigv4.family_for({}) is Family.QUERY


def test_signing_keys_are_derived_once_per_secret_date_region_and_service() -> None:
    received = parts(sign(json_post(), "ssm"))
    verify(received)
    hits = sigv4.signing_key.cache_info().hits
    verify(received)
    assert sigv4.signing_key.cache_info().hits == hits + 1
