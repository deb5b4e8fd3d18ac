"""The node's RSA key operations (protocol/rsa_auth.py: RSA-2048, RSA-PSS signatures).

`openssm agent register` signs in its own process. The running agent signs in a short-lived child
(`python -m openssm.agent.keys`) instead: loading `cryptography` would cost it about 9 MB of its 30 MB memory
budget, for a signature made once per credential half-life.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

Signer = Callable[[str], str]  # string to sign -> base64 RSA-PSS signature


class KeyHelperFailed(Exception):
    """The key helper failed (a broken key in the state directory, or the helper could not run)."""


def local_signer(private_key_b64: str) -> Signer:
    from openssm.protocol import rsa_auth

    key = rsa_auth.load_private_key(private_key_b64)
    return lambda message: rsa_auth.sign(key, message)


def new_key_pair() -> tuple[str, str]:
    """A fresh RSA-2048 key: (private key as stored, base64 DER PKCS#1; public key, base64 DER SPKI)."""
    from openssm.protocol import rsa_auth

    key = rsa_auth.new_key()
    return rsa_auth.private_key_b64(key), rsa_auth.public_key_b64(key)


def _child(request: dict[str, str]) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-m", "openssm.agent.keys"], input=json.dumps(request).encode(),
                          capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise KeyHelperFailed(f"key helper failed: {done.stderr.decode(errors='replace').strip()[-500:]}")
    return dict(json.loads(done.stdout))


def child_signer(private_key_b64: str) -> Signer:
    return lambda message: _child({"op": "sign", "key": private_key_b64, "message": message})["signature"]


def child_new_key_pair() -> tuple[str, str]:
    answer = _child({"op": "new"})
    return answer["private_key"], answer["public_key"]


def public_key_of(private_key_b64: str) -> str:
    from openssm.protocol import rsa_auth

    return rsa_auth.public_key_b64(rsa_auth.load_private_key(private_key_b64))


def _main() -> None:
    request = json.loads(sys.stdin.read())
    if request["op"] == "sign":
        answer = {"signature": local_signer(request["key"])(request["message"])}
    elif request["op"] == "new":
        private, public = new_key_pair()
        answer = {"private_key": private, "public_key": public}
    else:
        raise SystemExit(f"unknown operation {request['op']!r}")
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    _main()
