"""GetParameter throughput with SigV4 and policy evaluation, against moto_server in the same run.

Each server answers the same signed GetParameter request, replayed by wrk with 32 connections (a SigV4
signature stays valid for its 5-minute window, so one signed request can be replayed). OpenSSM serves
it as a non-admin IAM user whose policy allows ssm:GetParameter on a path, so every request pays for
signature verification, policy evaluation, the store read and the audit record.

    python bench/get_parameter.py [--duration 15] [--connections 32] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.server import ServerProcess, free_port  # noqa: E402

PARAM = "/bench/db/password"
REGION = "us-east-1"
USER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"],
         "Resource": "arn:aws:ssm:*:*:parameter/bench/*"},
        {"Effect": "Deny", "Action": "ssm:*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}, "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
    ],
}


def signed_get_parameter(endpoint: str, key: str, secret: str) -> tuple[dict[str, str], str]:
    body = json.dumps({"Name": PARAM})
    req = AWSRequest("POST", endpoint + "/", data=body, headers={
        "X-Amz-Target": "AmazonSSM.GetParameter", "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials(key, secret), "ssm", REGION).add_auth(req)
    return {k: v for k, v in req.headers.items()}, body


def wrk(endpoint: str, headers: dict[str, str], body: str, duration: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write('wrk.method = "POST"\n')
        script.write(f"wrk.body = {json.dumps(body)}\n")
        for k, v in headers.items():
            script.write(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n")
        script.write('function response(status, headers, body)\n'
                     '  if status ~= 200 then io.stderr:write("status " .. status .. ": " .. body .. "\\n") end\n'
                     'end\n')
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name,
                          endpoint + "/"], capture_output=True, text=True, check=True)
    errors = out.stderr.count("status ")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", out.stdout)
    return {"requests_per_second": rps, "non_200": errors, "p99": p99.group(0) if p99 else ""}  # type: ignore[dict-item]


def bench_openssm(args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    server = ServerProcess(tmp / "openssm", "--workers", str(args.workers)).start()
    try:
        iam, ssm = server.client("iam"), server.client("ssm")
        ssm.put_parameter(Name=PARAM, Value="s3cr3t", Type="String")
        iam.create_user(UserName="bench")
        iam.put_user_policy(UserName="bench", PolicyName="read", PolicyDocument=json.dumps(USER_POLICY))
        key = iam.create_access_key(UserName="bench")["AccessKey"]
        time.sleep(1)
        headers, body = signed_get_parameter(server.endpoint, key["AccessKeyId"], key["SecretAccessKey"])
        check = urllib.request.Request(server.endpoint + "/", data=body.encode(), headers=headers, method="POST")
        with urllib.request.urlopen(check) as r:
            assert json.load(r)["Parameter"]["Value"] == "s3cr3t"
        return wrk(server.endpoint, headers, body, args.duration, args.connections)
    finally:
        server.stop()


def bench_moto(args: argparse.Namespace) -> dict[str, float]:
    moto = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    port = free_port()
    proc = subprocess.Popen([moto, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        ssm = boto3.client("ssm", endpoint_url=endpoint, region_name=REGION,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        ssm.put_parameter(Name=PARAM, Value="s3cr3t", Type="String")
        headers, body = signed_get_parameter(endpoint, "testing", "testing")
        return wrk(endpoint, headers, body, args.duration, args.connections)
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ours = bench_openssm(args, Path(tmp))
    moto = bench_moto(args)
    ratio = ours["requests_per_second"] / moto["requests_per_second"]
    print(json.dumps({"openssm": ours, "moto_server": moto, "ratio": round(ratio, 2)}, indent=2))


if __name__ == "__main__":
    main()
