"""SigV4 verification against requests signed by botocore's real signer."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from openssm.errors import AuthFailure
from openssm.protocol import sigv4

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
WHEN = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.UTC)


def signed(body: bytes = b'{"Name":"/a"}', query: bool = False, expires: int = 300) -> AWSRequest:
    if query:
        req = AWSRequest("GET", "http://localhost:8443/?Action=GetCallerIdentity&Version=2011-06-15")
        signer: SigV4Auth = SigV4QueryAuth(Credentials("AKIDEXAMPLE", SECRET), "sts", "us-east-1", expires=expires)
    else:
        req = AWSRequest("POST", "http://localhost:8443/", data=body, headers={
            "X-Amz-Target": "AmazonSSM.GetParameter", "Content-Type": "application/x-amz-json-1.1"})
        signer = SigV4Auth(Credentials("AKIDEXAMPLE", SECRET), "ssm", "us-east-1")
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN.replace(tzinfo=None)):
        signer.add_auth(req)
    return req


def parts(req: AWSRequest) -> tuple[str, str, str, dict[str, str], bytes]:
    url = urlsplit(req.url)
    headers = {k.lower(): v for k, v in req.headers.items()}
    headers.setdefault("host", url.netloc)
    return req.method, url.path or "/", url.query, headers, req.body or b""


def verify(req: AWSRequest, now: dt.datetime = WHEN, secret: str = SECRET, family: str = "json",
           body: bytes | None = None) -> None:
    method, path, query, headers, raw = parts(req)
    info = sigv4.parse_signature(method, path, query, headers, family)
    assert info is not None
    sigv4.verify_signature(info, method, path, query, headers, raw if body is None else body, secret, now,
                           family=family)


def test_a_botocore_signed_request_verifies_and_names_its_scope() -> None:
    req = signed()
    verify(req)
    method, path, query, headers, _ = parts(req)
    info = sigv4.parse_signature(method, path, query, headers)
    assert info is not None
    assert (info.access_key_id, info.region, info.service) == ("AKIDEXAMPLE", "us-east-1", "ssm")


def test_a_presigned_query_request_verifies_until_it_expires() -> None:
    req = signed(query=True, expires=300)
    verify(req, family="query")
    with pytest.raises(AuthFailure) as err:
        verify(req, now=WHEN + dt.timedelta(seconds=301), family="query")
    assert err.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("tamper", ["body", "secret", "header"])
def test_tampering_breaks_the_signature(tamper: str) -> None:
    req = signed()
    if tamper == "header":
        req.headers.replace_header("X-Amz-Target", "AmazonSSM.DeleteParameter")
    with pytest.raises(AuthFailure) as err:
        verify(req, secret="x" * 40 if tamper == "secret" else SECRET,
               body=b'{"Name":"/b"}' if tamper == "body" else None)
    assert err.value.code == "InvalidSignatureException"


@pytest.mark.parametrize(("offset", "phrase"), [(-6, "is now earlier than"), (6, "is still later than")])
def test_more_than_five_minutes_of_skew_is_refused(offset: int, phrase: str) -> None:
    with pytest.raises(AuthFailure) as err:
        verify(signed(), now=WHEN - dt.timedelta(minutes=offset))
    assert phrase in err.value.message
    verify(signed(), now=WHEN + dt.timedelta(minutes=4, seconds=59))


def test_query_services_get_query_error_codes() -> None:
    with pytest.raises(AuthFailure) as err:
        verify(signed(query=True), secret="x" * 40, family="query")
    assert (err.value.code, err.value.status) == ("SignatureDoesNotMatch", 403)


def test_a_request_without_any_signature_parses_to_none_and_a_malformed_one_is_refused() -> None:
    assert sigv4.parse_signature("POST", "/", "", {"host": "x"}) is None
    with pytest.raises(AuthFailure) as err:
        sigv4.parse_signature("POST", "/", "", {"authorization": "AWS4-HMAC-SHA256 Credential=AK/x",
                                                "x-amz-date": "20261122T120000Z"})
    assert err.value.code == "IncompleteSignatureException"
