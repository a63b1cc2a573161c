"""The floor for a cache miss: one NICEPAY SNAP token request by hand, with only requests and cryptography.

Written from SPEC.md §1.1, not from tidak_cli, so that bench/startup.py can set `paytoken get nicepay -o token`
(a plain miss) beside the least any Python script pays for the same token: sign client_id|X-TIMESTAMP with
SHA256withRSA, POST the body, print accessToken.

    python bench/floor_miss.py BASE_URL CLIENT_ID PRIVATE_KEY_FILE
"""

from __future__ import annotations

import base64
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# Asia/Jakarta has kept +07:00 without daylight saving since 1964: a fixed offset is its exact clock.
JAKARTA = timezone(timedelta(hours=7))
TOKEN_PATH = "/nicepay/v1.0/access-token/b2b"
BODY = b'{"grantType":"client_credentials","additionalInfo":{}}'


def main() -> None:
    base_url, client_id, key_file = sys.argv[1:4]
    key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    x_timestamp = datetime.now(JAKARTA).isoformat(timespec="seconds")
    signature = key.sign(f"{client_id}|{x_timestamp}".encode(), padding.PKCS1v15(), hashes.SHA256())
    headers = {
        "Content-Type": "application/json",
        "X-TIMESTAMP": x_timestamp,
        "X-CLIENT-KEY": client_id,
        "X-SIGNATURE": base64.b64encode(signature).decode(),
    }
    answer = requests.post(base_url + TOKEN_PATH, data=BODY, headers=headers, timeout=30)
    answer.raise_for_status()
    print(answer.json()["accessToken"])


if __name__ == "__main__":
    main()
