"""The three non-SNAP recipes (SPEC 1.2–1.4): known answers, the openssl command line, and what `sign` shows."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
from support import assert_clean, paytoken

from tidak_cli.errors import ConfigError, ExitCode
from tidak_cli.gateways import PROVIDERS
from tidak_cli.gateways.doku.recipe import component
from tidak_cli.gateways.faspay_sendme.recipe import faspay_aes, faspay_key_iv, faspay_string_to_sign
from tidak_cli.gateways.finpay_widget.recipe import finpay_signature, key_text
from tidak_cli.profiles import Profile, resolve_profile
from tidak_cli.signing import sha256_b64

BASE_URL = "https://gw.example"

# --- SPEC 1.2, DOKU -------------------------------------------------------------------------------------

DOKU_PATH = "/adv-core-api/partner/v1.0/token"
DOKU_CLIENT_ID = "BRN-0001-10791114622547"
DOKU_REQUEST_ID = "fdb69f47-96da-499d-acec-7cdc318ab2fe"
DOKU_TIMESTAMP = "2020-08-11T08:45:42Z"
DOKU_SECRET = "SK-EXAMPLE-SECRET"
DOKU_BODY = b'{"grant_type":"client_credentials","valid_time":"360"}'
DOKU_DIGEST = "23kYsU7yk6vZ/exEcBe1UAFmjn17wuk165Oc+E3Cb8Y="
DOKU_SIGNATURE = "HMACSHA256=0sLUiPJP4lo5X2JbvywDRqdMjJ0e7+iMkMgcvMehEZA="
DOKU_COMPONENT = (
    f"Client-Id:{DOKU_CLIENT_ID}\n"
    f"Request-Id:{DOKU_REQUEST_ID}\n"
    f"Request-Timestamp:{DOKU_TIMESTAMP}\n"
    f"Request-Target:{DOKU_PATH}\n"
    f"Digest:{DOKU_DIGEST}"
)
DOKU_TABLE: dict[str, object] = {
    "base_url": BASE_URL,
    "client_id": DOKU_CLIENT_ID,
    "secret_key": DOKU_SECRET,
    "valid_time": 360,
}
DOKU_SIGN = ("sign", "doku", "-p", "t", "--timestamp", DOKU_TIMESTAMP, "--request-id", DOKU_REQUEST_ID)

# --- SPEC 1.3, Finpay widget ----------------------------------------------------------------------------

FINPAY_PATH = "/apicobrand/security/getToken"
FINPAY_SECRET = "e4siErApPs2020"
FINPAY_KEY_TEXT = "6534736945724170507332303230"
FINPAY_FIRST_FIELDS = {
    "requestType": "getToken",
    "phoneNumber": "081286288844",
    "reqDtime": "20181127182011",
    "transNumber": "20181234567890",
}
FINPAY_FIRST_JOINED = "081286288844" + "20181127182011" + "getToken" + "20181234567890"
FINPAY_FIRST_SIGNATURE = "5D20E985B6DABE15AB0BD55B52C31D020A8161EE0D02ADA3EC1C2F7BF70B7ABC"
FINPAY_REQ_DTIME = "20240821142750"
FINPAY_TRANS_NUMBER = "TKN212418241627519329"
FINPAY_SECOND_FIELDS = {"reqDtime": FINPAY_REQ_DTIME, "requestType": "getToken", "transNumber": FINPAY_TRANS_NUMBER}
FINPAY_SECOND_JOINED = "20240821142750getTokenTKN212418241627519329"
FINPAY_SECOND_SIGNATURE = "02580ADCB95AABF2CBBA78B53CE45182F5B429EA30154C259A45CAECF532E7AE"
FINPAY_MERCHANT_ID = "MERCHANT-0001"
FINPAY_PASSWORD = "merchant-PASSWORD-0001"
FINPAY_BASIC = "Basic " + base64.b64encode(f"{FINPAY_MERCHANT_ID}:{FINPAY_PASSWORD}".encode()).decode()
FINPAY_TABLE: dict[str, object] = {
    "base_url": BASE_URL,
    "merchant_id": FINPAY_MERCHANT_ID,
    "merchant_password": FINPAY_PASSWORD,
    "secret_key": FINPAY_SECRET,
}
FINPAY_SIGN = (
    "sign", "finpay-widget", "-p", "t", "--timestamp", FINPAY_REQ_DTIME, "--trans-number", FINPAY_TRANS_NUMBER,
)  # fmt: skip

# --- SPEC 1.4, Faspay SendMe ----------------------------------------------------------------------------

FASPAY_PATH = "/account/api/tokens"
FASPAY_KEY = "FASPAYKEY_EXAMPLE"
FASPAY_SECRET = "FASPAY_SECRET_EXAMPLE"
FASPAY_IV_SEED = "IV_EXAMPLE"
FASPAY_APP_KEY = "APPKEY_EXAMPLE"
FASPAY_APP_SECRET = "APPSECRET_EXAMPLE"
FASPAY_CLIENT_KEY = "CLIENTKEY_EXAMPLE"
FASPAY_CLIENT_SECRET = "CLIENTSECRET_EXAMPLE"
FASPAY_TIMESTAMP = "2018-10-09 14:24:00"
FASPAY_DERIVED_IV = "7c194df1cd283328"
FASPAY_AUTHORIZATION = "iovowZGTwGVQni9cbrwgGx9sbsDKzX0W8OC9AHEBbs61VIQxMEUhnfvutNuut2l0"
FASPAY_STRING_TO_SIGN = (
    "GET:/account/api/tokens:2018-10-09 14:24:00:Q0xJRU5US0VZX0VYQU1QTEU6Q0xJRU5UU0VDUkVUX0VYQU1QTEU=:"
)
FASPAY_AES_SIGNATURE = (
    "jPzOaPI1YK2ReoMELrv2mN9r2YNV6Qp4sex6k2llN8LRR7bMc1BnkolPHWA16q8MQiOlnrVx6CmnaK1SSBjfccpYcriT+h3aEfAyEqk+5lHD"
    "vsrYD5sz/K4wyyu89F8wE4MMa7LJKPoM2URhrHS5hw=="
)
FASPAY_HMAC_SIGNATURE = "9eb29b19de5f163a937279f5f91f4445103de8736ea1d66b5bf2abb9b9c7a8ad"
FASPAY_TABLE: dict[str, object] = {
    "base_url": BASE_URL,
    "faspay_key": FASPAY_KEY,
    "faspay_secret": FASPAY_SECRET,
    "iv": FASPAY_IV_SEED,
    "app_key": FASPAY_APP_KEY,
    "app_secret": FASPAY_APP_SECRET,
    "client_key": FASPAY_CLIENT_KEY,
    "client_secret": FASPAY_CLIENT_SECRET,
}
FASPAY_SIGN = ("sign", "faspay-sendme", "-p", "t", "--timestamp", FASPAY_TIMESTAMP)
FASPAY_SECRETS = (FASPAY_SECRET, FASPAY_APP_SECRET, FASPAY_CLIENT_SECRET, FASPAY_IV_SEED)

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command line is not installed")


# --- helpers --------------------------------------------------------------------------------------------


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    # A JSON string is a TOML basic string (BMP characters only, which is all these tests use).
    return json.dumps(value)


def write_profiles(tables: Mapping[str, Mapping[str, object]]) -> Path:
    """Write ./profiles.toml with one [PROVIDER.t] table per provider, mode 0600 (no permission warning)."""
    lines: list[str] = []
    for provider, table in tables.items():
        lines.append(f'["{provider}".t]')
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
        lines.append("")
    path = Path("profiles.toml")
    path.write_text("\n".join(lines), encoding="utf-8")
    path.chmod(0o600)
    return path


def profile(provider: str, table: Mapping[str, object]) -> Profile:
    return resolve_profile(PROVIDERS[provider], "t", table, path=None)


def sign_json(*args: str) -> dict[str, object]:
    run = paytoken(*args, "-o", "json")
    assert run.exit_code == 0, run.output
    assert "Traceback" not in run.output
    return json.loads(run.stdout)  # type: ignore[no-any-return]


def headers_of(document: Mapping[str, object]) -> dict[str, str]:
    headers = document["headers"]
    assert isinstance(headers, dict)
    return headers


def openssl(*args: str, data: bytes) -> bytes:
    result = subprocess.run(["openssl", *args], input=data, capture_output=True, check=False, timeout=30)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def openssl_hex_digest(algorithm: str, data: bytes) -> str:
    return openssl("dgst", f"-{algorithm}", "-binary", data=data).hex()


def curl_words(command: str) -> list[str]:
    return shlex.split(command.replace("\\\n", " "))


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(18)}"


# === 1. Known-answer vectors through the library ==========================================================


def test_doku_digest_and_component_vector() -> None:
    assert sha256_b64(DOKU_BODY) == DOKU_DIGEST
    assert component(DOKU_CLIENT_ID, DOKU_REQUEST_ID, DOKU_TIMESTAMP, DOKU_PATH, DOKU_DIGEST) == DOKU_COMPONENT
    # No body, no Digest line, and never a trailing newline.
    assert (
        component(DOKU_CLIENT_ID, DOKU_REQUEST_ID, DOKU_TIMESTAMP, DOKU_PATH, None) == DOKU_COMPONENT.rsplit("\n", 1)[0]
    )


def test_doku_build_reproduces_the_vector() -> None:
    request = PROVIDERS["doku"].build(profile("doku", DOKU_TABLE), DOKU_TIMESTAMP, DOKU_REQUEST_ID)
    assert request.method == "POST"
    assert request.url == BASE_URL + DOKU_PATH
    assert request.body == DOKU_BODY
    assert request.string_to_sign == DOKU_COMPONENT
    assert request.signature == DOKU_SIGNATURE
    assert dict(request.headers) == {
        "Content-Type": "application/json",
        "Client-Id": DOKU_CLIENT_ID,
        "Request-Id": DOKU_REQUEST_ID,
        "Request-Timestamp": DOKU_TIMESTAMP,
        "Signature": DOKU_SIGNATURE,
    }
    assert DOKU_DIGEST in dict(request.derivation)["Digest"]


def test_doku_body_leaves_valid_time_out_when_unset() -> None:
    table = {key: value for key, value in DOKU_TABLE.items() if key != "valid_time"}
    request = PROVIDERS["doku"].build(profile("doku", table), DOKU_TIMESTAMP, DOKU_REQUEST_ID)
    assert request.body == b'{"grant_type":"client_credentials"}'
    assert request.string_to_sign.endswith(
        "\nDigest:" + base64.b64encode(hashlib.sha256(request.body).digest()).decode()
    )


def test_finpay_key_text_vector() -> None:
    assert key_text(FINPAY_SECRET) == FINPAY_KEY_TEXT


@pytest.mark.parametrize(
    ("fields", "joined", "signature"),
    [
        (FINPAY_FIRST_FIELDS, FINPAY_FIRST_JOINED, FINPAY_FIRST_SIGNATURE),
        (FINPAY_SECOND_FIELDS, FINPAY_SECOND_JOINED, FINPAY_SECOND_SIGNATURE),
    ],
    ids=["with-phoneNumber", "getToken"],
)
def test_finpay_signature_vectors(fields: dict[str, str], joined: str, signature: str) -> None:
    assert finpay_signature(fields, FINPAY_SECRET) == (joined, signature)
    # A signature field already in the body is not signed.
    assert finpay_signature({**fields, "signature": "X" * 64}, FINPAY_SECRET) == (joined, signature)


def test_finpay_build_reproduces_the_vector() -> None:
    request = PROVIDERS["finpay-widget"].build(
        profile("finpay-widget", FINPAY_TABLE), FINPAY_REQ_DTIME, FINPAY_TRANS_NUMBER
    )
    assert request.method == "POST"
    assert request.url == BASE_URL + FINPAY_PATH
    assert request.string_to_sign == FINPAY_SECOND_JOINED
    assert request.signature == FINPAY_SECOND_SIGNATURE
    assert dict(request.headers) == {"Content-Type": "application/json", "Authorization": FINPAY_BASIC}
    assert request.body is not None
    assert json.loads(request.body) == {**FINPAY_SECOND_FIELDS, "signature": FINPAY_SECOND_SIGNATURE}
    assert b" " not in request.body  # compact


def test_faspay_primitives_reproduce_the_vectors() -> None:
    key, derived_iv = faspay_key_iv(FASPAY_SECRET, FASPAY_IV_SEED)
    assert key == hashlib.sha256(FASPAY_SECRET.encode()).digest()
    assert derived_iv == FASPAY_DERIVED_IV.encode("ascii")
    assert faspay_aes(FASPAY_SECRET, FASPAY_IV_SEED, f"{FASPAY_APP_KEY}:{FASPAY_APP_SECRET}") == FASPAY_AUTHORIZATION
    assert (
        faspay_string_to_sign(FASPAY_PATH, FASPAY_TIMESTAMP, FASPAY_CLIENT_KEY, FASPAY_CLIENT_SECRET)
        == FASPAY_STRING_TO_SIGN
    )
    assert faspay_aes(FASPAY_SECRET, FASPAY_IV_SEED, FASPAY_STRING_TO_SIGN) == FASPAY_AES_SIGNATURE


@pytest.mark.parametrize(
    ("extra", "method", "signature"),
    [
        ({}, "GET", FASPAY_AES_SIGNATURE),
        ({"signature_method": "aes"}, "GET", FASPAY_AES_SIGNATURE),
        ({"signature_method": "hmac"}, "GET", FASPAY_HMAC_SIGNATURE),
        ({"http_method": "POST"}, "POST", FASPAY_AES_SIGNATURE),
        ({"signature_method": "hmac", "http_method": "POST"}, "POST", FASPAY_HMAC_SIGNATURE),
    ],
    ids=["default", "aes", "hmac", "post", "hmac-post"],
)
def test_faspay_build_reproduces_the_vectors(extra: dict[str, str], method: str, signature: str) -> None:
    request = PROVIDERS["faspay-sendme"].build(
        profile("faspay-sendme", {**FASPAY_TABLE, **extra}), FASPAY_TIMESTAMP, None
    )
    assert request.method == method
    assert request.url == BASE_URL + FASPAY_PATH
    assert request.body is None
    assert request.string_to_sign == FASPAY_STRING_TO_SIGN  # the signed method stays GET
    assert request.signature == signature
    assert dict(request.headers) == {
        "faspay-key": FASPAY_KEY,
        "faspay-timestamp": FASPAY_TIMESTAMP,
        "faspay-authorization": FASPAY_AUTHORIZATION,
        "faspay-signature": signature,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


# === 1. Known-answer vectors through the CLI ==============================================================


@pytest.mark.parametrize("valid_time_from", ["profile", "flag"])
def test_cli_doku_vector(valid_time_from: str) -> None:
    if valid_time_from == "profile":
        write_profiles({"doku": DOKU_TABLE})
        document = sign_json(*DOKU_SIGN)
    else:
        write_profiles({"doku": {key: value for key, value in DOKU_TABLE.items() if key != "valid_time"}})
        document = sign_json(*DOKU_SIGN, "--valid-time", "360")
    assert document["provider"] == "doku"
    assert document["method"] == "POST"
    assert document["url"] == BASE_URL + DOKU_PATH
    assert document["body"] == DOKU_BODY.decode()
    assert document["string_to_sign"] == DOKU_COMPONENT
    assert document["signature"] == DOKU_SIGNATURE
    assert document["algorithm"] == "HMAC-SHA256"
    assert headers_of(document) == {
        "Content-Type": "application/json",
        "Client-Id": DOKU_CLIENT_ID,
        "Request-Id": DOKU_REQUEST_ID,
        "Request-Timestamp": DOKU_TIMESTAMP,
        "Signature": DOKU_SIGNATURE,
    }
    derivation = document["derivation"]
    assert isinstance(derivation, dict)
    assert derivation["Digest"].split()[0] == DOKU_DIGEST


def test_cli_finpay_vector() -> None:
    write_profiles({"finpay-widget": FINPAY_TABLE})
    document = sign_json(*FINPAY_SIGN)
    assert document["provider"] == "finpay-widget"
    assert document["method"] == "POST"
    assert document["url"] == BASE_URL + FINPAY_PATH
    assert document["string_to_sign"] == FINPAY_SECOND_JOINED
    assert document["signature"] == FINPAY_SECOND_SIGNATURE
    assert headers_of(document) == {"Content-Type": "application/json", "Authorization": FINPAY_BASIC}
    body = document["body"]
    assert isinstance(body, str)
    assert json.loads(body) == {**FINPAY_SECOND_FIELDS, "signature": FINPAY_SECOND_SIGNATURE}
    assert " " not in body
    # The derived key is the secret in another spelling: even json shows it masked.
    assert FINPAY_KEY_TEXT not in json.dumps(document)
    assert FINPAY_SECRET not in json.dumps(document)


@pytest.mark.parametrize(
    ("extra", "method", "signature"),
    [
        ({}, "GET", FASPAY_AES_SIGNATURE),
        ({"signature_method": "hmac"}, "GET", FASPAY_HMAC_SIGNATURE),
        ({"http_method": "POST"}, "POST", FASPAY_AES_SIGNATURE),
        ({"signature_method": "hmac", "http_method": "POST"}, "POST", FASPAY_HMAC_SIGNATURE),
    ],
    ids=["aes", "hmac", "post", "hmac-post"],
)
def test_cli_faspay_vectors(extra: dict[str, str], method: str, signature: str) -> None:
    write_profiles({"faspay-sendme": {**FASPAY_TABLE, **extra}})
    document = sign_json(*FASPAY_SIGN)
    assert document["provider"] == "faspay-sendme"
    assert document["method"] == method
    assert document["url"] == BASE_URL + FASPAY_PATH
    assert document["body"] is None
    assert document["string_to_sign"] == FASPAY_STRING_TO_SIGN
    assert document["signature"] == signature
    assert headers_of(document) == {
        "faspay-key": FASPAY_KEY,
        "faspay-timestamp": FASPAY_TIMESTAMP,
        "faspay-authorization": FASPAY_AUTHORIZATION,
        "faspay-signature": signature,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    derivation = document["derivation"]
    assert isinstance(derivation, dict)
    assert derivation["AES IV"].split()[0] == FASPAY_DERIVED_IV


# === 2. Independent checks with the openssl command line, fresh credentials ===============================


@needs_openssl
def test_doku_digest_and_hmac_match_openssl() -> None:
    client_id = f"BRN-{secrets.randbelow(10**4):04d}-{secrets.randbelow(10**14):014d}"
    secret = fresh("SK")
    request_id = fresh("req")
    timestamp = "2031-02-03T04:05:06Z"
    valid_time = 1 + secrets.randbelow(1440)
    write_profiles(
        {"doku": {"base_url": BASE_URL, "client_id": client_id, "secret_key": secret, "valid_time": valid_time}}
    )
    document = sign_json("sign", "doku", "-p", "t", "--timestamp", timestamp, "--request-id", request_id)

    body = f'{{"grant_type":"client_credentials","valid_time":"{valid_time}"}}'.encode()
    assert document["body"] == body.decode()
    digest = (
        subprocess.run(
            ["sh", "-c", "openssl dgst -sha256 -binary | base64"],
            input=body,
            capture_output=True,
            check=True,
            timeout=30,
        )
        .stdout.decode()
        .strip()
    )
    expected_component = (
        f"Client-Id:{client_id}\nRequest-Id:{request_id}\nRequest-Timestamp:{timestamp}\n"
        f"Request-Target:{DOKU_PATH}\nDigest:{digest}"
    )
    assert document["string_to_sign"] == expected_component
    mac = openssl("dgst", "-sha256", "-hmac", secret, "-binary", data=expected_component.encode())
    expected = "HMACSHA256=" + base64.b64encode(mac).decode()
    assert document["signature"] == expected
    assert headers_of(document)["Signature"] == expected


@needs_openssl
def test_doku_hmac_keys_with_the_utf8_bytes_of_a_non_ascii_secret() -> None:
    secret = "kunci-rahasia-é-ü-" + secrets.token_hex(8)
    write_profiles({"doku": {**DOKU_TABLE, "secret_key": secret}})
    document = sign_json(*DOKU_SIGN)
    assert document["string_to_sign"] == DOKU_COMPONENT
    mac = openssl(
        "dgst", "-sha256", "-mac", "HMAC", "-macopt", f"hexkey:{secret.encode('utf-8').hex()}", "-binary",
        data=DOKU_COMPONENT.encode(),
    )  # fmt: skip
    assert document["signature"] == "HMACSHA256=" + base64.b64encode(mac).decode()


@needs_openssl
def test_finpay_hmac_matches_openssl() -> None:
    secret = secrets.token_urlsafe(15)
    password = fresh("pw")
    trans_number = "TKN" + "".join(secrets.choice("0123456789") for _ in range(18))
    req_dtime = "20310203040506"
    write_profiles(
        {
            "finpay-widget": {
                "base_url": BASE_URL,
                "merchant_id": "M1",
                "merchant_password": password,
                "secret_key": secret,
            }
        }
    )
    document = sign_json("sign", "finpay-widget", "-p", "t", "--timestamp", req_dtime, "--trans-number", trans_number)

    joined = f"{req_dtime}getToken{trans_number}"
    assert document["string_to_sign"] == joined
    hex_text = secret.encode("ascii").hex()
    by_text = openssl("dgst", "-sha256", "-hmac", hex_text, "-binary", data=joined.encode()).hex().upper()
    by_hexkey = (
        openssl(
            "dgst", "-sha256", "-mac", "HMAC", "-macopt", f"hexkey:{hex_text.encode('ascii').hex()}", "-binary",
            data=joined.encode(),
        )
        .hex()
        .upper()
    )  # fmt: skip
    assert by_text == by_hexkey
    assert document["signature"] == by_text
    assert len(by_text) == 64
    body = document["body"]
    assert isinstance(body, str)
    assert json.loads(body)["signature"] == by_text
    assert headers_of(document)["Authorization"] == "Basic " + base64.b64encode(f"M1:{password}".encode()).decode()


def faspay_fresh_table() -> dict[str, object]:
    return {
        "base_url": BASE_URL,
        "faspay_key": fresh("fk"),
        "faspay_secret": fresh("fs"),
        "iv": fresh("iv"),
        "app_key": fresh("ak"),
        "app_secret": fresh("as"),
        "client_key": fresh("ck"),
        "client_secret": fresh("cs"),
    }


def openssl_faspay_aes(faspay_secret: str, iv_seed: str, plaintext: str) -> str:
    key_hex = openssl_hex_digest("sha256", faspay_secret.encode())
    derived_iv = openssl_hex_digest("md5", (faspay_secret + iv_seed).encode())[-16:]
    return (
        openssl(
            "enc", "-aes-256-cbc", "-K", key_hex, "-iv", derived_iv.encode("ascii").hex(), "-base64", "-A",
            data=plaintext.encode(),
        )
        .decode()
        .strip()
    )  # fmt: skip


@needs_openssl
def test_faspay_aes_matches_openssl() -> None:
    table = faspay_fresh_table()
    timestamp = "2031-02-03 04:05:06"
    write_profiles({"faspay-sendme": table})
    document = sign_json("sign", "faspay-sendme", "-p", "t", "--timestamp", timestamp)

    credentials = base64.b64encode(f"{table['client_key']}:{table['client_secret']}".encode()).decode()
    string_to_sign = f"GET:{FASPAY_PATH}:{timestamp}:{credentials}:"
    assert document["string_to_sign"] == string_to_sign
    secret, seed = str(table["faspay_secret"]), str(table["iv"])
    headers = headers_of(document)
    assert headers["faspay-authorization"] == openssl_faspay_aes(
        secret, seed, f"{table['app_key']}:{table['app_secret']}"
    )
    assert document["signature"] == headers["faspay-signature"] == openssl_faspay_aes(secret, seed, string_to_sign)
    derivation = document["derivation"]
    assert isinstance(derivation, dict)
    assert derivation["AES IV"].split()[0] == openssl_hex_digest("md5", (secret + seed).encode())[-16:]


@needs_openssl
def test_faspay_hmac_matches_openssl() -> None:
    table = {**faspay_fresh_table(), "signature_method": "hmac"}
    timestamp = "2031-02-03 04:05:06"
    write_profiles({"faspay-sendme": table})
    document = sign_json("sign", "faspay-sendme", "-p", "t", "--timestamp", timestamp)
    string_to_sign = str(document["string_to_sign"])
    credentials = base64.b64encode(f"{table['client_key']}:{table['client_secret']}".encode()).decode()
    assert string_to_sign == f"GET:{FASPAY_PATH}:{timestamp}:{credentials}:"
    expected = openssl("dgst", "-sha256", "-hmac", str(table["faspay_secret"]), "-binary", data=string_to_sign.encode())
    assert document["signature"] == headers_of(document)["faspay-signature"] == expected.hex()
    # faspay-authorization is AES whatever the signature method.
    assert headers_of(document)["faspay-authorization"] == openssl_faspay_aes(
        str(table["faspay_secret"]), str(table["iv"]), f"{table['app_key']}:{table['app_secret']}"
    )


# === 3. `sign` explains each recipe, and shows no secret ==================================================


def test_pretty_doku_shows_body_digest_and_visible_component() -> None:
    write_profiles({"doku": DOKU_TABLE})
    run = paytoken(*DOKU_SIGN)
    assert run.exit_code == 0, run.output
    visible_component = (
        "\n".join(f"  {line}\\n" for line in DOKU_COMPONENT.split("\n")[:-1]) + f"\n  Digest:{DOKU_DIGEST}\n"
    )
    assert visible_component in run.stdout
    assert f"  {DOKU_BODY.decode()}\n" in run.stdout
    assert f"{len(DOKU_BODY)} bytes" in run.stdout
    assert f"{DOKU_DIGEST}  (base64 SHA-256 of the body bytes)" in run.stdout
    assert f"Signature  {DOKU_SIGNATURE}" in run.stdout
    assert f"Request-Target:{DOKU_PATH}" in run.stdout
    assert_clean(run.output, [DOKU_SECRET])


def test_pretty_doku_warns_that_a_reformatted_body_changes_the_digest() -> None:
    # SPEC 1.2: "A pretty-printed or Python-default json.dumps body gives a different digest: that is the
    # most common DOKU mistake, and `sign` should say so."
    write_profiles({"doku": DOKU_TABLE})
    run = paytoken(*DOKU_SIGN)
    assert run.exit_code == 0, run.output
    said = run.output.lower()
    assert "json.dumps" in said or "pretty-printed" in said, run.output


def test_pretty_finpay_shows_fields_joined_string_and_masked_key() -> None:
    write_profiles({"finpay-widget": FINPAY_TABLE})
    run = paytoken(*FINPAY_SIGN)
    assert run.exit_code == 0, run.output
    assert "reqDtime, requestType, transNumber" in run.stdout
    assert f"  {FINPAY_SECOND_JOINED}\n" in run.stdout
    assert f"Signature  {FINPAY_SECOND_SIGNATURE}" in run.stdout
    assert "••••" in run.stdout
    # Neither the key text nor any prefix a mask might leave of it, nor the secret or the Basic credentials.
    assert_clean(run.output, [FINPAY_KEY_TEXT, FINPAY_KEY_TEXT[:-4], FINPAY_SECRET, FINPAY_PASSWORD, FINPAY_BASIC[6:]])


def test_pretty_finpay_masks_a_fresh_key_text_too() -> None:
    secret = secrets.token_urlsafe(24)
    write_profiles({"finpay-widget": {**FINPAY_TABLE, "secret_key": secret}})
    run = paytoken(*FINPAY_SIGN)
    assert run.exit_code == 0, run.output
    hex_text = secret.encode().hex()
    assert "••••" in run.stdout
    assert_clean(run.output, [hex_text, hex_text[:-4], secret])


def test_pretty_faspay_shows_string_to_sign_fingerprint_and_iv_never_secrets() -> None:
    write_profiles({"faspay-sendme": FASPAY_TABLE})
    run = paytoken(*FASPAY_SIGN)
    assert run.exit_code == 0, run.output
    # The string to sign carries base64(client_key:client_secret): the pretty view masks that part.
    credentials = base64.b64encode(b"CLIENTKEY_EXAMPLE:CLIENTSECRET_EXAMPLE").decode()
    assert f"  {FASPAY_STRING_TO_SIGN.replace(credentials, '••••' + credentials[-4:])}\n" in run.stdout
    assert credentials not in run.output
    assert "fingerprint" in run.stdout.lower()
    assert FASPAY_DERIVED_IV in run.stdout
    assert f"Signature  {FASPAY_AES_SIGNATURE}" in run.stdout
    assert "faspay-authorization: ••••" in run.stdout
    raw_key = hashlib.sha256(FASPAY_SECRET.encode()).hexdigest()
    assert_clean(run.output, [*FASPAY_SECRETS, FASPAY_AUTHORIZATION, raw_key])


def test_pretty_faspay_with_fresh_secrets_shows_none_of_them() -> None:
    table = faspay_fresh_table()
    write_profiles({"faspay-sendme": table})
    run = paytoken("sign", "faspay-sendme", "-p", "t")
    assert run.exit_code == 0, run.output
    key = hashlib.sha256(str(table["faspay_secret"]).encode())
    leaks = [str(table[name]) for name in ("faspay_secret", "app_secret", "client_secret", "iv")]
    assert_clean(run.output, [*leaks, key.hexdigest(), base64.b64encode(key.digest()).decode()])


def test_curl_faspay_is_a_get_without_data() -> None:
    write_profiles({"faspay-sendme": FASPAY_TABLE})
    run = paytoken(*FASPAY_SIGN, "-o", "curl")
    assert run.exit_code == 0, run.output
    words = curl_words(run.stdout)
    assert words[:4] == ["curl", "-sS", "-X", "GET"]
    assert BASE_URL + FASPAY_PATH in words
    assert not {"--data", "--data-raw", "--data-binary", "-d"} & set(words)
    headers = [words[i + 1] for i, word in enumerate(words) if word == "-H"]
    assert f"faspay-signature: {FASPAY_AES_SIGNATURE}" in headers
    assert f"faspay-timestamp: {FASPAY_TIMESTAMP}" in headers


def test_curl_faspay_post_switches_the_verb_only() -> None:
    write_profiles({"faspay-sendme": {**FASPAY_TABLE, "http_method": "POST"}})
    run = paytoken(*FASPAY_SIGN, "-o", "curl")
    assert run.exit_code == 0, run.output
    words = curl_words(run.stdout)
    assert words[2:4] == ["-X", "POST"]
    assert not {"--data", "--data-raw", "--data-binary", "-d"} & set(words)
    assert f"faspay-signature: {FASPAY_AES_SIGNATURE}" in words


def test_curl_finpay_carries_authorization_and_exact_body() -> None:
    write_profiles({"finpay-widget": FINPAY_TABLE})
    run = paytoken(*FINPAY_SIGN, "-o", "curl")
    assert run.exit_code == 0, run.output
    words = curl_words(run.stdout)
    assert words[:4] == ["curl", "-sS", "-X", "POST"]
    assert BASE_URL + FINPAY_PATH in words
    assert f"Authorization: {FINPAY_BASIC}" in words
    assert "Content-Type: application/json" in words
    body = words[words.index("--data-raw") + 1]
    assert json.loads(body) == {**FINPAY_SECOND_FIELDS, "signature": FINPAY_SECOND_SIGNATURE}


# === 4. --compare ========================================================================================


COMPARE_CASES = {
    "doku": (DOKU_TABLE, DOKU_SIGN, DOKU_SIGNATURE),
    "finpay-widget": (FINPAY_TABLE, FINPAY_SIGN, FINPAY_SECOND_SIGNATURE),
    "faspay-sendme": (FASPAY_TABLE, FASPAY_SIGN, FASPAY_AES_SIGNATURE),
}


@pytest.mark.parametrize("provider", list(COMPARE_CASES))
@pytest.mark.parametrize("output", ["pretty", "json", "curl"])
def test_compare_right_signature_exits_0(provider: str, output: str) -> None:
    table, args, signature = COMPARE_CASES[provider]
    write_profiles({provider: table})
    run = paytoken(*args, "-o", output, "--compare", signature)
    assert run.exit_code == 0, run.output
    assert "the given signature matches" in run.stderr
    if output == "json":
        assert json.loads(run.stdout)["compare"]["matches"] is True


@pytest.mark.parametrize("provider", list(COMPARE_CASES))
def test_compare_wrong_signature_exits_1(provider: str) -> None:
    table, args, signature = COMPARE_CASES[provider]
    write_profiles({provider: table})
    wrong = signature[:-6] + ("AAAAAA" if not signature[:-6].endswith("A") else "BBBBBB")
    if provider == "faspay-sendme":
        wrong = FASPAY_HMAC_SIGNATURE  # the other method's signature is the wrong one here
    run = paytoken(*args, "--compare", wrong)
    assert run.exit_code == ExitCode.MISMATCH == 1, run.output
    assert "differs" in run.output
    assert "the given signature matches" not in run.output
    assert_clean(
        run.output, [str(value) for key, value in table.items() if "secret" in key or key == "merchant_password"]
    )


def test_compare_finpay_lowercase_is_other_letter_case() -> None:
    write_profiles({"finpay-widget": FINPAY_TABLE})
    run = paytoken(*FINPAY_SIGN, "--compare", FINPAY_SECOND_SIGNATURE.lower())
    assert run.exit_code == 1, run.output
    assert "other letter case" in run.output


def test_compare_faspay_hmac_uppercase_is_other_letter_case() -> None:
    write_profiles({"faspay-sendme": {**FASPAY_TABLE, "signature_method": "hmac"}})
    assert paytoken(*FASPAY_SIGN, "--compare", FASPAY_HMAC_SIGNATURE).exit_code == 0
    run = paytoken(*FASPAY_SIGN, "--compare", FASPAY_HMAC_SIGNATURE.upper())
    assert run.exit_code == 1, run.output
    assert "other letter case" in run.output


@pytest.mark.parametrize("output", ["pretty", "json", "curl"])
def test_compare_doku_without_prefix_is_named(output: str) -> None:
    write_profiles({"doku": DOKU_TABLE})
    bare = DOKU_SIGNATURE.removeprefix("HMACSHA256=")
    run = paytoken(*DOKU_SIGN, "-o", output, "--compare", bare)
    assert run.exit_code == 1, run.output
    assert "without the HMACSHA256= prefix" in run.output
    if output == "json":
        document = json.loads(run.stdout)
        assert document["compare"]["matches"] is False
        assert document["signature"] == DOKU_SIGNATURE


# === 5. Configuration errors =============================================================================


MISSING_CASES = [
    *(("doku", DOKU_TABLE, key) for key in ("client_id", "secret_key")),
    *(("finpay-widget", FINPAY_TABLE, key) for key in ("merchant_id", "merchant_password", "secret_key")),
    *(
        ("faspay-sendme", FASPAY_TABLE, key)
        for key in ("faspay_key", "faspay_secret", "app_key", "app_secret", "client_key", "client_secret", "iv")
    ),
]


@pytest.mark.parametrize(
    ("provider", "table", "missing"), MISSING_CASES, ids=[f"{case[0]}-{case[2]}" for case in MISSING_CASES]
)
def test_missing_key_is_exit_3_naming_key_and_table(provider: str, table: dict[str, object], missing: str) -> None:
    incomplete = {key: value for key, value in table.items() if key != missing}
    write_profiles({provider: incomplete})
    run = paytoken("sign", provider, "-p", "t")
    assert run.exit_code == ExitCode.CONFIG == 3, run.output
    assert run.stdout == ""
    assert f"{missing} is not set in [{provider}.t]" in run.stderr
    assert "profiles.toml" in run.stderr
    assert_clean(run.output, [str(value) for key, value in incomplete.items() if "secret" in key or "password" in key])


@pytest.mark.parametrize(
    ("provider", "table", "missing"), MISSING_CASES, ids=[f"{case[0]}-{case[2]}" for case in MISSING_CASES]
)
def test_missing_key_in_the_library_is_a_config_error(provider: str, table: dict[str, object], missing: str) -> None:
    with pytest.raises(ConfigError) as raised:
        profile(provider, {key: value for key, value in table.items() if key != missing})
    assert raised.value.exit_code == 3
    assert missing in raised.value.message
    assert f"[{provider}.t]" in raised.value.message


@pytest.mark.parametrize(("key", "value"), [("signature_method", "rsa"), ("http_method", "PUT")])
def test_faspay_unknown_choice_is_exit_3(key: str, value: str) -> None:
    write_profiles({"faspay-sendme": {**FASPAY_TABLE, key: value}})
    run = paytoken(*FASPAY_SIGN)
    assert run.exit_code == 3, run.output
    assert run.stdout == ""
    assert key in run.stderr
    assert repr(value) in run.stderr or value in run.stderr
    assert "[faspay-sendme.t]" in run.stderr
    assert_clean(run.output, FASPAY_SECRETS)
