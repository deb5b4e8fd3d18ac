"""SigV4 golden vectors: each tests/golden/sigv4/*.json is a request, a key, a server time and the verdict.

Sources: AWS's published SigV4 test suite, requests AWS's Go agent really sent (the capture, including its
RSA-signed RequestManagedInstanceRoleToken), and botocore's signers; see tests/golden/sigv4/README.md.
A new case is a new data file.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from openssm.errors import AuthFailure
from openssm.protocol import rsa_auth, sigv4

GOLDEN = Path(__file__).parents[2] / "golden" / "sigv4"
CASES = sorted(GOLDEN.glob("*.json"))


def judge(case: dict[str, Any]) -> dict[str, Any]:
    """Parse and verify a golden case (HMAC with its secret, or RSA with its public key); the verdict found."""
    request = case["request"]
    headers = {name.lower(): value for name, value in request["headers"].items()}
    now = dt.datetime.strptime(case["now"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    method, path, query, body = request["method"], request["path"], request["query"], request["body"].encode()
    try:
        info = sigv4.parse_signature(method, path, query, headers, case["family"])
        if info is None:
            return {"verdict": "missing"}
        if "public_key" in case:
            public_key = rsa_auth.load_public_key(case["public_key"])
            rsa_auth.verify_rsa(info, method, path, query, headers, body, public_key, now, family=case["family"])
        else:
            sigv4.verify_signature(info, method, path, query, headers, body, case["secret_access_key"], now,
                                   family=case["family"], service=case.get("service"))
    except AuthFailure as err:
        return {"verdict": "refused", "code": err.code, "status": err.status, "message": err.message}
    return {"verdict": "valid"}


def test_there_are_golden_cases_of_every_source_and_verdict() -> None:
    cases = [json.loads(path.read_text()) for path in CASES]
    sources = {case["source"].split("/")[0].split(" ")[0] for case in cases}
    assert {"aws-sig-v4-test-suite", "tests", "botocore"} <= sources
    assert any("public_key" in case and case["expect"]["verdict"] == "valid" for case in cases)
    assert {case["expect"]["verdict"] for case in cases} == {"valid", "refused", "missing"}


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_the_golden_request_gets_its_recorded_verdict(path: Path) -> None:
    case = json.loads(path.read_text())
    expect = case["expect"]
    got = judge(case)
    assert got["verdict"] == expect["verdict"], got
    if expect["verdict"] != "refused":
        return
    assert (got["code"], got["status"]) == (expect["code"], expect["status"])
    if "message" in expect:
        assert got["message"] == expect["message"]
    else:
        assert got["message"].startswith(expect["message_prefix"])
