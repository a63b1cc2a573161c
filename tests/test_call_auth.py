"""tidak_cli.auth and tidak_cli.httpx_auth: calls signed with a profile, sent by requests and httpx to the sandbox.

Every signature is also recomputed here with Python's hmac and hashlib, from the bytes the library sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest
import requests
from support import paytoken, sandbox_value, stats

import tidak_cli
from tidak_cli.demo import Workspace
from tidak_cli.errors import UsageError
from tidak_cli.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
CREATE_VA = "/nicepay/api/v1.0/transfer-va/create-va"
STATUS = "/nicepay/api/v1.0/transfer-va/status"


@pytest.fixture
def nicepay_secret(workspace: Workspace) -> str:
    """NICEPAY's client_secret, which the workspace gives both the profile and the sandbox."""
    return sandbox_value(workspace, "nicepay", "client_secret")


@pytest.fixture
def dev_profiles(profiles: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The profiles file with the workspace's NICEPAY client named [nicepay.dev], as PAYTOKEN_PROFILES."""
    profiles.write_text(profiles.read_text().replace("[nicepay.demo]\n", "[nicepay.dev]\n", 1))
    monkeypatch.setenv("PAYTOKEN_PROFILES", str(profiles))
    return profiles


def counts(sandbox: Sandbox) -> Mapping[str, int]:
    return stats(sandbox)["providers"]["nicepay"]  # type: ignore[index,return-value]


def independent_signature(secret: str, method: str, signed_path: str, headers: Mapping[str, str], body: bytes) -> str:
    """SPEC 6.2 written again from its text: base64(HMAC-SHA512(client_secret, METHOD:path:token:hash:ts))."""
    token = headers["Authorization"].removeprefix("Bearer ")
    message = f"{method}:{signed_path}:{token}:{hashlib.sha256(body).hexdigest()}:{headers['X-TIMESTAMP']}"
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha512).digest()).decode()


def cached_token() -> str:
    run = paytoken("get", "nicepay", "--profile", "dev", "-o", "token")
    assert run.exit_code == 0, run.output
    return run.stdout.strip()


def test_a_requests_call_is_signed_as_sent_and_accepted(
    dev_profiles: Path, sandbox: Sandbox, nicepay_secret: str
) -> None:
    auth = tidak_cli.auth("nicepay", profile="dev")
    body = {"partnerServiceId": "  1234", "virtualAccountName": "Budi Santoso ñ", "totalAmount": {"value": "1.00"}}
    answer = requests.post(sandbox.url + CREATE_VA, json=body, auth=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["responseCode"] == "2002700"
    sent = answer.request
    assert isinstance(sent.body, bytes)
    # requests' own json= spelling (spaces, \u escapes) is what was hashed: the bytes sent, not a re-serialization.
    assert sent.body == json.dumps(body).encode()
    assert sent.headers["X-SIGNATURE"] == independent_signature(
        nicepay_secret, "POST", "/api/v1.0/transfer-va/create-va", sent.headers, sent.body
    )
    assert sent.headers["Authorization"] == f"Bearer {cached_token()}"
    assert sent.headers["CHANNEL-ID"] == sent.headers["X-PARTNER-ID"] + "01"  # NICEPAY's default, from client_id
    assert counts(sandbox)["calls"] == 1
    assert counts(sandbox)["issued"] == 1

    again = requests.post(sandbox.url + CREATE_VA, json=body, auth=auth, timeout=30)
    assert again.status_code == 200, again.text
    assert again.request.headers["X-EXTERNAL-ID"] != sent.headers["X-EXTERNAL-ID"]
    assert (counts(sandbox)["calls"], counts(sandbox)["issued"]) == (2, 1)  # the cached token served


def test_a_text_body_with_non_ascii_and_spaces_is_signed_as_its_utf8_bytes(
    dev_profiles: Path,
    sandbox: Sandbox,
    nicepay_secret: str,
) -> None:
    text = '{ "virtualAccountName" : "Siti Nurhaliza — Jl. Merdeka / 5" ,"trxId":"  A 1" }'
    auth = tidak_cli.auth("nicepay", profile="dev")
    answer = requests.post(
        sandbox.url + CREATE_VA, data=text, headers={"Content-Type": "text/plain"}, auth=auth, timeout=30
    )
    assert answer.status_code == 200, answer.text
    sent = answer.request
    assert sent.body == text.encode("utf-8")
    assert sent.headers["Content-Length"] == str(len(text.encode("utf-8")))
    assert sent.headers["Content-Type"] == "application/json"  # the recipe's header, as signed
    assert sent.headers["X-SIGNATURE"] == independent_signature(
        nicepay_secret, "POST", "/api/v1.0/transfer-va/create-va", sent.headers, text.encode("utf-8")
    )
    assert answer.json()["request"]["body"]["virtualAccountName"] == "Siti Nurhaliza — Jl. Merdeka / 5"


def test_the_query_string_is_signed(dev_profiles: Path, sandbox: Sandbox, nicepay_secret: str) -> None:
    auth = tidak_cli.auth("nicepay", profile="dev")
    answer = requests.get(
        sandbox.url + STATUS, params={"partnerServiceId": "  1234", "trxId": "A/1"}, auth=auth, timeout=30
    )
    assert answer.status_code == 200, answer.text
    sent = answer.request
    assert sent.body is None
    query = "partnerServiceId=++1234&trxId=A%2F1"
    assert sent.url == f"{sandbox.url}{STATUS}?{query}"
    assert sent.headers["X-SIGNATURE"] == independent_signature(
        nicepay_secret, "GET", f"/api/v1.0/transfer-va/status?{query}", sent.headers, b""
    )
    without_query = independent_signature(nicepay_secret, "GET", "/api/v1.0/transfer-va/status", sent.headers, b"")
    assert sent.headers["X-SIGNATURE"] != without_query


def test_an_httpx_call_is_signed_and_accepted(dev_profiles: Path, sandbox: Sandbox, nicepay_secret: str) -> None:
    auth = tidak_cli.httpx_auth("nicepay", profile="dev")
    content = '{"virtualAccountName": "Dewi Lestari ü",  "trxId": "B 2"}'.encode()
    with httpx.Client(base_url=auth.base_url, auth=auth, timeout=30) as client:
        answer = client.post(CREATE_VA, content=content, params={"channel": "a b"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["responseCode"] == "2002700"
    sent = answer.request
    assert sent.content == content
    assert sent.headers["X-SIGNATURE"] == independent_signature(
        nicepay_secret, "POST", "/api/v1.0/transfer-va/create-va?channel=a+b", sent.headers, content
    )
    assert sent.headers["Authorization"] == f"Bearer {cached_token()}"
    assert counts(sandbox)["calls"] == 1


def test_an_async_httpx_call_is_accepted(dev_profiles: Path, sandbox: Sandbox) -> None:
    import asyncio

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(auth=tidak_cli.httpx_auth("nicepay", profile="dev"), timeout=30) as client:
            return await client.post(sandbox.url + CREATE_VA, json={"trxId": "C3"})

    answer = asyncio.run(send())
    assert answer.status_code == 200, answer.text
    assert counts(sandbox)["calls"] == 1


def test_a_path_without_nicepays_prefix_gets_it_and_is_signed_without_it(
    dev_profiles: Path,
    sandbox: Sandbox,
    nicepay_secret: str,
) -> None:
    auth = tidak_cli.auth("nicepay", profile="dev")
    answer = requests.post(sandbox.url + "/api/v1.0/transfer-va/create-va", data=b"{}", auth=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.request.url == sandbox.url + CREATE_VA
    assert answer.request.headers["X-SIGNATURE"] == independent_signature(
        nicepay_secret, "POST", "/api/v1.0/transfer-va/create-va", answer.request.headers, b"{}"
    )


def test_a_streamed_body_is_refused_before_anything_is_sent(dev_profiles: Path, sandbox: Sandbox) -> None:
    before = counts(sandbox)["requests"]
    with pytest.raises(UsageError, match=r"streamed body \(generator\) cannot be signed"):
        requests.post(
            sandbox.url + CREATE_VA,
            data=(part for part in [b"{", b"}"]),
            auth=tidak_cli.auth("nicepay", profile="dev"),
            timeout=30,
        )
    with (
        httpx.Client(auth=tidak_cli.httpx_auth("nicepay", profile="dev"), timeout=30) as client,
        pytest.raises(UsageError, match=r"httpx call with a streamed body .* cannot be signed"),
    ):
        client.post(sandbox.url + CREATE_VA, content=(part for part in [b"{", b"}"]))
    assert counts(sandbox)["requests"] == before  # not even the token: refused before it was needed
    assert counts(sandbox)["calls"] == 0


def test_a_url_outside_the_profiles_base_url_is_refused(dev_profiles: Path, sandbox: Sandbox) -> None:
    elsewhere = sandbox.url.replace("127.0.0.1", "localhost") + CREATE_VA
    with pytest.raises(UsageError, match="not under the profile's base_url"):
        requests.post(elsewhere, json={}, auth=tidak_cli.auth("nicepay", profile="dev"), timeout=30)
    assert counts(sandbox)["calls"] == 0


def test_a_refused_token_is_not_resent_and_refresh_gets_a_new_one(dev_profiles: Path, sandbox: Sandbox) -> None:
    auth = tidak_cli.auth("nicepay", profile="dev")
    assert requests.post(sandbox.url + CREATE_VA, json={}, auth=auth, timeout=30).status_code == 200
    expire = urllib.request.Request(f"{sandbox.url}/_sandbox/expire-tokens", data=b"", method="POST")
    with urllib.request.urlopen(expire) as done:
        assert done.status == 200
    before = counts(sandbox)["requests"]
    refused = requests.post(sandbox.url + CREATE_VA, json={}, auth=auth, timeout=30)
    assert refused.status_code == 401
    assert refused.json()["responseCode"] == "4012701"
    assert counts(sandbox)["requests"] == before + 1  # sent once, never again by the auth object
    old = refused.request.headers["Authorization"]
    auth.refresh()
    again = requests.post(sandbox.url + CREATE_VA, json={}, auth=auth, timeout=30)
    assert again.status_code == 200, again.text
    assert again.request.headers["Authorization"] != old
    assert (counts(sandbox)["issued"], counts(sandbox)["calls"]) == (2, 2)


def test_import_tidak_cli_loads_no_http_or_crypto_library() -> None:
    script = "import sys, tidak_cli; print(sorted({'requests', 'httpx', 'cryptography'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_httpx_auth_without_httpx_says_what_to_install(dev_profiles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # what `import httpx` sees when it is not installed
    with pytest.raises(ImportError, match=r"needs httpx, which is not installed: pip install httpx"):
        tidak_cli.httpx_auth("nicepay", profile="dev")


def test_the_example_runs_against_the_sandbox(dev_profiles: Path, sandbox: Sandbox) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "requests_auth.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PAYTOKEN_PROFILES": str(dev_profiles)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "200 2002700\n"
    assert counts(sandbox)["calls"] == 1


def test_a_doku_call_is_signed_with_its_own_recipe_and_accepted(profiles: Path, sandbox: Sandbox) -> None:
    import tomllib

    secret = tomllib.loads(profiles.read_text())["doku"]["demo"]["secret_key"]
    auth = tidak_cli.auth("doku", profile="demo", profiles_file=profiles)
    answer = requests.get(f"{sandbox.url}/orders/v1/status/INV-123", auth=auth, timeout=30)
    assert answer.status_code == 200, answer.text
    sent = answer.request
    # SPEC 6.3, written again here: the component lines of a GET carry no Digest line.
    component = (
        "\n".join(f"{name}:{sent.headers[name]}" for name in ("Client-Id", "Request-Id", "Request-Timestamp"))
        + "\nRequest-Target:/orders/v1/status/INV-123"
    )
    expected = base64.b64encode(hmac.new(secret.encode(), component.encode(), hashlib.sha256).digest()).decode()
    assert sent.headers["Signature"] == f"HMACSHA256={expected}"
    assert stats(sandbox)["providers"]["doku"]["calls"] == 1  # type: ignore[index]
