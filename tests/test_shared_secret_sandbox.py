"""The shared-secret gateways (SPEC 1.2-1.4 and 4): the sandbox spoken to directly, and the providers' parsers.

Every request in the first half is built here from the SPEC recipes with hashlib, hmac and `cryptography`,
never with tidak_cli's provider code: the DOKU component and HMAC, the Finpay sorted-values HMAC keyed with
the secret's hex text, the Faspay AES key and IV. The recipes are pinned to the SPEC's test vectors first, so
a bug shared by a provider and its sandbox gateway cannot make both look right.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import tomllib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support import requests_to, set_fault, stats

from tidak_cli.clock import oracle_moment
from tidak_cli.demo import Workspace
from tidak_cli.errors import PaytokenError
from tidak_cli.gateways import PROVIDERS, Token
from tidak_cli.gateways.doku.recipe import jwt_expiry
from tidak_cli.profiles import Profile, resolve_profile
from tidak_cli.sandbox import Sandbox

DOKU_PATH = "/adv-core-api/partner/v1.0/token"
FINPAY_PATH = "/apicobrand/security/getToken"
FASPAY_PATH = "/account/api/tokens"
DOKU_BODY = b'{"grant_type":"client_credentials"}'
TOKEN_TTL = 900  # the sandbox's default token lifetime: the workspace's config does not set token_ttl
TIMEOUT = 10
JAKARTA_OFFSET = timedelta(hours=7)
PROPERTY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
RECEIVED_AT = datetime(2024, 8, 24, 9, 0, 0, tzinfo=UTC)


def credentials(workspace: Workspace, provider: str) -> dict[str, str]:
    """The values the sandbox holds for provider (the partner's profile holds the same)."""
    table = tomllib.loads(workspace.sandbox_config.read_text(encoding="utf-8"))[provider]
    assert isinstance(table, dict)
    return {key: value for key, value in table.items() if isinstance(value, str)}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def answer_or_fail(**kwargs: object) -> requests.Response:
    """Send a request; a dropped connection means the sandbox crashed on it, which is a failure to report."""
    try:
        return requests.request(timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]
    except requests.exceptions.ConnectionError as error:
        reason = str(error)
    pytest.fail(f"the sandbox dropped the connection instead of answering (a crash in its handler?): {reason}")


# --- an independent DOKU client (SPEC 1.2) -------------------------------------------------------


def utc_stamp(shift: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC) + shift).strftime("%Y-%m-%dT%H:%M:%SZ")


def doku_digest(body: bytes) -> str:
    return b64(hashlib.sha256(body).digest())


def doku_signature(secret: str, client_id: str, request_id: str, timestamp: str, digest: str | None) -> str:
    lines = [
        f"Client-Id:{client_id}",
        f"Request-Id:{request_id}",
        f"Request-Timestamp:{timestamp}",
        f"Request-Target:{DOKU_PATH}",
    ]
    if digest is not None:
        lines.append(f"Digest:{digest}")
    mac = hmac.new(secret.encode("utf-8"), "\n".join(lines).encode("utf-8"), hashlib.sha256).digest()
    return "HMACSHA256=" + b64(mac)


def doku_headers(
    workspace: Workspace,
    body: bytes = DOKU_BODY,
    *,
    timestamp: str | None = None,
    client_id: str | None = None,
    secret: str | None = None,
    digest: str | None = "",
) -> dict[str, str]:
    """Headers of a correct request for body, unless an override makes them wrong on purpose.

    digest "" (the default) means the digest of body; None leaves the Digest line out of the component.
    """
    known = credentials(workspace, "doku")
    client_id = client_id if client_id is not None else known["client_id"]
    timestamp = timestamp if timestamp is not None else utc_stamp()
    request_id = str(uuid.uuid4())
    signed_digest = doku_digest(body) if digest == "" else digest
    return {
        "Content-Type": "application/json",
        "Client-Id": client_id,
        "Request-Id": request_id,
        "Request-Timestamp": timestamp,
        "Signature": doku_signature(secret or known["secret_key"], client_id, request_id, timestamp, signed_digest),
    }


def doku_post(sandbox: Sandbox, headers: Mapping[str, str], body: bytes = DOKU_BODY) -> requests.Response:
    return answer_or_fail(method="POST", url=sandbox.url + DOKU_PATH, headers=dict(headers), data=body)


def jwt_claims(token: str) -> dict[str, object]:
    parts = token.split(".")
    assert len(parts) == 3, token
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    claims = json.loads(base64.urlsafe_b64decode(payload))
    assert isinstance(claims, dict)
    return claims


def assert_doku_rejected(response: requests.Response, status: int | None = None) -> dict[str, object]:
    """DOKU's failure: a 4xx status and a JSON error body, never a token."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    answer = response.json()
    assert isinstance(answer, dict) and "error" in answer, answer
    assert "token" not in answer
    return answer


# --- an independent Finpay client (SPEC 1.3) ------------------------------------------------------


def jakarta_wall_clock(shift: timedelta = timedelta(0)) -> datetime:
    """Jakarta's wall clock as a naive datetime: UTC plus seven hours (WIB has no daylight saving)."""
    return (datetime.now(UTC) + shift + JAKARTA_OFFSET).replace(tzinfo=None)


def finpay_signature(fields: Mapping[str, str], secret_key: str) -> str:
    joined = "".join(value for key, value in sorted(fields.items()) if key != "signature")
    key_text = secret_key.encode("ascii").hex()
    return hmac.new(key_text.encode("ascii"), joined.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def finpay_fields(
    workspace: Workspace, *, req_dtime: str | None = None, secret: str | None = None, **extra: str
) -> dict[str, str]:
    fields = {
        "reqDtime": req_dtime if req_dtime is not None else jakarta_wall_clock().strftime("%Y%m%d%H%M%S"),
        "requestType": "getToken",
        "transNumber": "TKN" + uuid.uuid4().hex[:18],
        **extra,
    }
    fields["signature"] = finpay_signature(fields, secret or credentials(workspace, "finpay-widget")["secret_key"])
    return fields


def finpay_authorization(workspace: Workspace, merchant_id: str | None = None, password: str | None = None) -> str:
    known = credentials(workspace, "finpay-widget")
    user = merchant_id if merchant_id is not None else known["merchant_id"]
    secret = password if password is not None else known["merchant_password"]
    return "Basic " + b64(f"{user}:{secret}".encode())


def finpay_post(
    sandbox: Sandbox, workspace: Workspace, fields: Mapping[str, object], authorization: str | None = ""
) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization or finpay_authorization(workspace)
    body = json.dumps(fields, separators=(",", ":")).encode("utf-8")
    return answer_or_fail(method="POST", url=sandbox.url + FINPAY_PATH, headers=headers, data=body)


def assert_finpay_rejected(response: requests.Response, code: str | None = None) -> dict[str, object]:
    """Finpay's failure: HTTP 200 and a statusCode other than 000, with a statusDesc and no token."""
    assert response.status_code == 200, (response.status_code, response.text)
    answer = response.json()
    assert isinstance(answer, dict)
    assert answer.get("statusCode") != "000", answer
    assert isinstance(answer.get("statusCode"), str) and answer["statusCode"]
    assert isinstance(answer.get("statusDesc"), str) and answer["statusDesc"]
    if code is not None:
        assert answer["statusCode"] == code, answer
    assert "tokenID" not in answer
    return answer


# --- an independent Faspay client (SPEC 1.4) ------------------------------------------------------


def faspay_aes(faspay_secret: str, iv_seed: str, plaintext: str) -> str:
    key = hashlib.sha256(faspay_secret.encode("utf-8")).digest()
    iv = hashlib.md5((faspay_secret + iv_seed).encode("utf-8")).hexdigest()[-16:].encode("ascii")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return b64(encryptor.update(padded) + encryptor.finalize())


def faspay_string_to_sign(timestamp: str, client_key: str, client_secret: str, method: str = "GET") -> str:
    return f"{method}:{FASPAY_PATH}:{timestamp}:{b64(f'{client_key}:{client_secret}'.encode())}:"


def faspay_headers(
    workspace: Workspace,
    *,
    form: str = "aes",
    timestamp: str | None = None,
    signed_method: str = "GET",
    **overrides: str,
) -> dict[str, str]:
    """Headers of a correct request; overrides replace a credential (to make it wrong on purpose)."""
    known = {**credentials(workspace, "faspay-sendme"), **overrides}
    timestamp = timestamp if timestamp is not None else jakarta_wall_clock().strftime("%Y-%m-%d %H:%M:%S")
    string_to_sign = faspay_string_to_sign(timestamp, known["client_key"], known["client_secret"], signed_method)
    if form == "aes":
        signature = faspay_aes(known["faspay_secret"], known["iv"], string_to_sign)
    else:
        signature = hmac.new(known["faspay_secret"].encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "faspay-key": known["faspay_key"],
        "faspay-timestamp": timestamp,
        "faspay-authorization": faspay_aes(
            known["faspay_secret"], known["iv"], f"{known['app_key']}:{known['app_secret']}"
        ),
        "faspay-signature": signature,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


def faspay_send(sandbox: Sandbox, headers: Mapping[str, str], method: str = "GET") -> requests.Response:
    return answer_or_fail(method=method, url=sandbox.url + FASPAY_PATH, headers=dict(headers))


def assert_faspay_rejected(response: requests.Response) -> dict[str, object]:
    """Faspay's failure: status "9" (Unauthorized), a message, no access_token."""
    answer = response.json()
    assert isinstance(answer, dict)
    assert answer.get("status") == "9", (response.status_code, answer)
    assert isinstance(answer.get("message"), str) and answer["message"]
    assert "access_token" not in answer
    return answer


# --- the independent recipes reproduce the SPEC's vectors ------------------------------------------


def test_the_doku_recipe_reproduces_the_spec_vector() -> None:
    body = b'{"grant_type":"client_credentials","valid_time":"360"}'
    assert doku_digest(body) == "23kYsU7yk6vZ/exEcBe1UAFmjn17wuk165Oc+E3Cb8Y="
    signature = doku_signature(
        "SK-EXAMPLE-SECRET",
        "BRN-0001-10791114622547",
        "fdb69f47-96da-499d-acec-7cdc318ab2fe",
        "2020-08-11T08:45:42Z",
        doku_digest(body),
    )
    assert signature == "HMACSHA256=0sLUiPJP4lo5X2JbvywDRqdMjJ0e7+iMkMgcvMehEZA="


def test_the_finpay_recipe_reproduces_the_spec_vectors() -> None:
    with_phone = {
        "requestType": "getToken",
        "phoneNumber": "081286288844",
        "reqDtime": "20181127182011",
        "transNumber": "20181234567890",
    }
    assert finpay_signature(with_phone, "e4siErApPs2020") == (
        "5D20E985B6DABE15AB0BD55B52C31D020A8161EE0D02ADA3EC1C2F7BF70B7ABC"
    )
    plain = {"reqDtime": "20240821142750", "requestType": "getToken", "transNumber": "TKN212418241627519329"}
    assert finpay_signature(plain, "e4siErApPs2020") == (
        "02580ADCB95AABF2CBBA78B53CE45182F5B429EA30154C259A45CAECF532E7AE"
    )


def test_the_faspay_recipe_reproduces_the_spec_vectors() -> None:
    secret, seed = "FASPAY_SECRET_EXAMPLE", "IV_EXAMPLE"
    assert hashlib.md5((secret + seed).encode()).hexdigest()[-16:] == "7c194df1cd283328"
    assert faspay_aes(secret, seed, "APPKEY_EXAMPLE:APPSECRET_EXAMPLE") == (
        "iovowZGTwGVQni9cbrwgGx9sbsDKzX0W8OC9AHEBbs61VIQxMEUhnfvutNuut2l0"
    )
    string_to_sign = faspay_string_to_sign("2018-10-09 14:24:00", "CLIENTKEY_EXAMPLE", "CLIENTSECRET_EXAMPLE")
    assert string_to_sign == (
        "GET:/account/api/tokens:2018-10-09 14:24:00:Q0xJRU5US0VZX0VYQU1QTEU6Q0xJRU5UU0VDUkVUX0VYQU1QTEU=:"
    )
    assert faspay_aes(secret, seed, string_to_sign) == (
        "jPzOaPI1YK2ReoMELrv2mN9r2YNV6Qp4sex6k2llN8LRR7bMc1BnkolPHWA16q8MQiOlnrVx6CmnaK1SSBjfccpYcriT+h3aEfAyEqk+"
        "5lHDvsrYD5sz/K4wyyu89F8wE4MMa7LJKPoM2URhrHS5hw=="
    )
    assert hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest() == (
        "9eb29b19de5f163a937279f5f91f4445103de8736ea1d66b5bf2abb9b9c7a8ad"
    )


# --- DOKU: success ------------------------------------------------------------------------------


def test_doku_a_correct_request_gets_a_jwt_with_an_expiry(sandbox: Sandbox, workspace: Workspace) -> None:
    before = datetime.now(UTC)
    response = doku_post(sandbox, doku_headers(workspace))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    answer = response.json()
    assert set(answer) == {"token"}
    claims = jwt_claims(answer["token"])
    assert claims["sub"] == credentials(workspace, "doku")["client_id"]
    assert isinstance(claims["exp"], int)
    expected = before.timestamp() + TOKEN_TTL
    assert expected - 2 <= claims["exp"] <= datetime.now(UTC).timestamp() + TOKEN_TTL + 1
    assert stats(sandbox)["providers"]["doku"]["issued"] == 1  # type: ignore[index]


def test_doku_valid_time_sets_the_jwt_lifetime(sandbox: Sandbox, workspace: Workspace) -> None:
    body = b'{"grant_type":"client_credentials","valid_time":"5"}'
    now = datetime.now(UTC).timestamp()
    response = doku_post(sandbox, doku_headers(workspace, body), body)
    assert response.status_code == 200, response.text
    exp = jwt_claims(response.json()["token"])["exp"]
    assert isinstance(exp, int) and now + 300 - 2 <= exp <= now + 300 + 2


def test_doku_tokens_are_new_each_time(sandbox: Sandbox, workspace: Workspace) -> None:
    # SPEC 4: the sandbox "issues random tokens". Two requests within one second must still get two tokens.
    for _ in range(5):
        first = doku_post(sandbox, doku_headers(workspace)).json()["token"]
        second = doku_post(sandbox, doku_headers(workspace)).json()["token"]
        if jwt_claims(first)["iat"] == jwt_claims(second)["iat"]:
            break
    assert jwt_claims(first)["iat"] == jwt_claims(second)["iat"], "could not get two tokens within one second"
    assert first != second


# --- DOKU: the digest is over the bytes as received ------------------------------------------------


PRETTY_BODY = json.dumps({"grant_type": "client_credentials"}, indent=2).encode()


def test_doku_a_pretty_body_signed_with_the_compact_digest_is_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    assert PRETTY_BODY != DOKU_BODY and json.loads(PRETTY_BODY) == json.loads(DOKU_BODY)
    headers = doku_headers(workspace, digest=doku_digest(DOKU_BODY))
    answer = assert_doku_rejected(doku_post(sandbox, headers, PRETTY_BODY), 401)
    assert "signature" in json.dumps(answer).lower()


def test_doku_a_pretty_body_signed_with_its_own_digest_is_accepted(sandbox: Sandbox, workspace: Workspace) -> None:
    response = doku_post(sandbox, doku_headers(workspace, PRETTY_BODY), PRETTY_BODY)
    assert response.status_code == 200, response.text
    assert jwt_claims(response.json()["token"])["exp"]


def test_doku_a_python_default_json_body_is_hashed_as_sent(sandbox: Sandbox, workspace: Workspace) -> None:
    # json.dumps() without separators writes ", " and ": ": other bytes, another digest (SPEC 1.2).
    spaced = json.dumps({"grant_type": "client_credentials", "valid_time": "5"}).encode()
    assert_doku_rejected(doku_post(sandbox, doku_headers(workspace, digest=doku_digest(DOKU_BODY)), spaced), 401)
    assert doku_post(sandbox, doku_headers(workspace, spaced), spaced).status_code == 200


def test_doku_a_component_without_the_digest_line_is_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    assert_doku_rejected(doku_post(sandbox, doku_headers(workspace, digest=None)), 401)


# --- DOKU: rejections ---------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Client-Id", "Request-Id", "Request-Timestamp", "Signature"])
def test_doku_a_missing_header_is_rejected(header: str, sandbox: Sandbox, workspace: Workspace) -> None:
    headers = doku_headers(workspace)
    del headers[header]
    answer = assert_doku_rejected(doku_post(sandbox, headers), 400)
    assert header in json.dumps(answer)


def test_doku_a_missing_content_type_is_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    headers = doku_headers(workspace)
    del headers["Content-Type"]
    assert_doku_rejected(doku_post(sandbox, headers))


@pytest.mark.parametrize(
    "timestamp",
    [
        (datetime.now(UTC) + JAKARTA_OFFSET).strftime("%Y-%m-%dT%H:%M:%S+07:00"),
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.123Z"),
        datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        str(int(datetime.now(UTC).timestamp())),
        "2020-13-45T25:61:61Z",
    ],
    ids=["jakarta-offset", "no-zone", "millis", "space", "epoch", "impossible"],
)
def test_doku_a_malformed_timestamp_is_rejected(timestamp: str, sandbox: Sandbox, workspace: Workspace) -> None:
    # Signed correctly over the malformed value: only its format is wrong.
    answer = assert_doku_rejected(doku_post(sandbox, doku_headers(workspace, timestamp=timestamp)), 400)
    assert "Timestamp" in json.dumps(answer)


@pytest.mark.parametrize("minutes", [-10, 10])
def test_doku_a_timestamp_ten_minutes_off_is_rejected(minutes: int, sandbox: Sandbox, workspace: Workspace) -> None:
    headers = doku_headers(workspace, timestamp=utc_stamp(timedelta(minutes=minutes)))
    assert_doku_rejected(doku_post(sandbox, headers), 401)


def test_doku_a_timestamp_four_minutes_off_is_accepted(sandbox: Sandbox, workspace: Workspace) -> None:
    headers = doku_headers(workspace, timestamp=utc_stamp(timedelta(minutes=-4)))
    assert doku_post(sandbox, headers).status_code == 200


def test_doku_a_wrong_secret_is_an_invalid_signature(sandbox: Sandbox, workspace: Workspace) -> None:
    answer = assert_doku_rejected(doku_post(sandbox, doku_headers(workspace, secret="not-the-secret-key")), 401)
    assert "signature" in json.dumps(answer).lower()


def test_doku_a_tampered_body_is_an_invalid_signature(sandbox: Sandbox, workspace: Workspace) -> None:
    tampered = b'{"grant_type":"client_credentials","valid_time":"9999"}'
    assert_doku_rejected(doku_post(sandbox, doku_headers(workspace), tampered), 401)


@pytest.mark.parametrize("signature", ["", "HMACSHA256=", "garbage", "HMACSHA256=AAAA", "hmacsha256=xyz"])
def test_doku_a_garbage_signature_is_rejected(signature: str, sandbox: Sandbox, workspace: Workspace) -> None:
    headers = {**doku_headers(workspace), "Signature": signature}
    assert_doku_rejected(doku_post(sandbox, headers))


def test_doku_the_signature_without_its_prefix_is_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    headers = doku_headers(workspace)
    headers["Signature"] = headers["Signature"].removeprefix("HMACSHA256=")
    assert_doku_rejected(doku_post(sandbox, headers), 401)


def test_doku_an_unknown_client_is_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    secret = credentials(workspace, "doku")["secret_key"]
    headers = doku_headers(workspace, client_id="BRN-0001-00000000000000", secret=secret)
    assert_doku_rejected(doku_post(sandbox, headers), 401)


@pytest.mark.parametrize(
    "body",
    [b'{"grant_type":"password"}', b"{}", b"[]", b'{"grant_type":"client_credentials","valid_time":360}'],
    ids=["grant", "empty-object", "array", "valid-time-number"],
)
def test_doku_a_correctly_signed_wrong_body_is_a_bad_request(
    body: bytes, sandbox: Sandbox, workspace: Workspace
) -> None:
    assert_doku_rejected(doku_post(sandbox, doku_headers(workspace, body), body), 400)


@pytest.mark.parametrize("valid_time", ["²", "0", "-5", "5.5", " 5", ""], ids=repr)
def test_doku_an_odd_valid_time_is_a_bad_request_not_a_crash(
    valid_time: str, sandbox: Sandbox, workspace: Workspace
) -> None:
    # Untrusted input, correctly signed: the gateway must answer 400 (SPEC 1.2: minutes as a string of digits).
    body = json.dumps({"grant_type": "client_credentials", "valid_time": valid_time}, separators=(",", ":")).encode()
    assert_doku_rejected(doku_post(sandbox, doku_headers(workspace, body), body), 400)


def test_doku_get_is_not_allowed(sandbox: Sandbox, workspace: Workspace) -> None:
    response = answer_or_fail(method="GET", url=sandbox.url + DOKU_PATH, headers=doku_headers(workspace))
    assert_doku_rejected(response, 405)


# --- Finpay: success -----------------------------------------------------------------------------

EXPIRY_SHAPE = re.compile(r"(\d{2})-(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)-(\d{2}) (\d{2}):(\d{2}):(\d{2})")


def test_finpay_a_correct_request_gets_a_token_expiring_in_jakarta_time(sandbox: Sandbox, workspace: Workspace) -> None:
    before = datetime.now(UTC)
    response = finpay_post(sandbox, workspace, finpay_fields(workspace))
    after = datetime.now(UTC)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["statusCode"] == "000"
    assert isinstance(answer["tokenID"], str) and len(answer["tokenID"]) >= 20
    assert isinstance(answer["processingTime"], str)
    match = EXPIRY_SHAPE.fullmatch(answer["tokenExpiry"])
    assert match, answer["tokenExpiry"]
    # Read independently: DD-MON-YY HH24:MI:SS, Jakarta wall clock (UTC+7).
    wall = datetime.strptime(answer["tokenExpiry"].title(), "%d-%b-%y %H:%M:%S")
    expiry = (wall - JAKARTA_OFFSET).replace(tzinfo=UTC)
    assert before + timedelta(seconds=TOKEN_TTL - 1) <= expiry <= after + timedelta(seconds=TOKEN_TTL + 1)


def test_finpay_extra_fields_are_part_of_the_sorted_signature(sandbox: Sandbox, workspace: Workspace) -> None:
    fields = finpay_fields(workspace, phoneNumber="081286288844")
    assert list(fields)[:4] == ["reqDtime", "requestType", "transNumber", "phoneNumber"]
    response = finpay_post(sandbox, workspace, fields)
    assert response.json()["statusCode"] == "000", response.text


def test_finpay_an_extra_field_left_out_of_the_signature_is_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    fields = {**finpay_fields(workspace), "phoneNumber": "081286288844"}
    assert_finpay_rejected(finpay_post(sandbox, workspace, fields), "A1004")


def test_finpay_field_order_in_the_body_does_not_matter(sandbox: Sandbox, workspace: Workspace) -> None:
    fields = finpay_fields(workspace)
    shuffled = {key: fields[key] for key in ("signature", "transNumber", "requestType", "reqDtime")}
    assert finpay_post(sandbox, workspace, shuffled).json()["statusCode"] == "000"


# --- Finpay: rejections --------------------------------------------------------------------------


def test_finpay_a_wrong_signature_is_a1004_with_the_expected_one(sandbox: Sandbox, workspace: Workspace) -> None:
    fields = finpay_fields(workspace, secret="not-the-secret")
    answer = assert_finpay_rejected(finpay_post(sandbox, workspace, fields), "A1004")
    expected = finpay_signature(fields, credentials(workspace, "finpay-widget")["secret_key"])
    assert expected != fields["signature"]
    assert expected in json.dumps(answer)


def test_finpay_keyed_with_the_raw_secret_is_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    # The common mistake: HMAC keyed with the secret itself, not with its hex text.
    fields = finpay_fields(workspace)
    joined = "".join(value for key, value in sorted(fields.items()) if key != "signature")
    secret = credentials(workspace, "finpay-widget")["secret_key"]
    fields["signature"] = hmac.new(secret.encode(), joined.encode(), hashlib.sha256).hexdigest().upper()
    assert_finpay_rejected(finpay_post(sandbox, workspace, fields), "A1004")


def test_finpay_a_lowercase_signature_is_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    fields = finpay_fields(workspace)
    fields["signature"] = fields["signature"].lower()
    assert_finpay_rejected(finpay_post(sandbox, workspace, fields), "A1004")


@pytest.mark.parametrize("signature", ["", "É" * 64, "0" * 63 + "É", "ＡＢ"], ids=["empty", "accents", "one", "wide"])
def test_finpay_a_garbage_signature_is_rejected_not_a_crash(
    signature: str, sandbox: Sandbox, workspace: Workspace
) -> None:
    fields = {**finpay_fields(workspace), "signature": signature}
    assert_finpay_rejected(finpay_post(sandbox, workspace, fields))


@pytest.mark.parametrize("field", ["reqDtime", "requestType", "transNumber", "signature"])
def test_finpay_a_missing_field_is_rejected(field: str, sandbox: Sandbox, workspace: Workspace) -> None:
    fields = finpay_fields(workspace)
    del fields[field]
    if field != "signature":
        fields["signature"] = finpay_signature(fields, credentials(workspace, "finpay-widget")["secret_key"])
    answer = assert_finpay_rejected(finpay_post(sandbox, workspace, fields))
    assert field in answer["statusDesc"]  # type: ignore[operator]


@pytest.mark.parametrize(
    "req_dtime",
    [
        jakarta_wall_clock().strftime("%Y-%m-%d %H:%M:%S"),
        jakarta_wall_clock().strftime("%Y%m%d%H%M"),
        jakarta_wall_clock().strftime("%Y%m%d%H%M%S") + "0",
        jakarta_wall_clock().strftime("%Y-%m-%dT%H:%M:%S+07:00"),
        "20241345256161",
        "abcdefghijklmn",
    ],
    ids=["spaced", "no-seconds", "fifteen-digits", "iso", "impossible", "letters"],
)
def test_finpay_a_malformed_req_dtime_is_rejected(req_dtime: str, sandbox: Sandbox, workspace: Workspace) -> None:
    answer = assert_finpay_rejected(finpay_post(sandbox, workspace, finpay_fields(workspace, req_dtime=req_dtime)))
    assert "reqDtime" in answer["statusDesc"]  # type: ignore[operator]


@pytest.mark.parametrize("minutes", [-10, 10])
def test_finpay_a_req_dtime_ten_minutes_off_is_rejected(minutes: int, sandbox: Sandbox, workspace: Workspace) -> None:
    req_dtime = jakarta_wall_clock(timedelta(minutes=minutes)).strftime("%Y%m%d%H%M%S")
    assert_finpay_rejected(finpay_post(sandbox, workspace, finpay_fields(workspace, req_dtime=req_dtime)))


def test_finpay_a_utc_req_dtime_is_seven_hours_off_and_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    req_dtime = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    assert_finpay_rejected(finpay_post(sandbox, workspace, finpay_fields(workspace, req_dtime=req_dtime)))


def test_finpay_a_missing_authorization_is_a1003(sandbox: Sandbox, workspace: Workspace) -> None:
    assert_finpay_rejected(finpay_post(sandbox, workspace, finpay_fields(workspace), authorization=None), "A1003")


@pytest.mark.parametrize(
    "authorization",
    ["wrong-password", "unknown-merchant", "bearer", "not-base64"],
)
def test_finpay_wrong_merchant_credentials_are_a1003(
    authorization: str, sandbox: Sandbox, workspace: Workspace
) -> None:
    known = credentials(workspace, "finpay-widget")
    header = {
        "wrong-password": finpay_authorization(workspace, password="not-the-password"),
        "unknown-merchant": finpay_authorization(workspace, merchant_id="SOMEONE-ELSE"),
        "bearer": "Bearer " + b64(f"{known['merchant_id']}:{known['merchant_password']}".encode()),
        "not-base64": "Basic !!!!",
    }[authorization]
    assert_finpay_rejected(finpay_post(sandbox, workspace, finpay_fields(workspace), authorization=header), "A1003")


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"getToken"', b"\xff\xfe"], ids=repr)
def test_finpay_an_unreadable_body_is_rejected(body: bytes, sandbox: Sandbox, workspace: Workspace) -> None:
    headers = {"Content-Type": "application/json", "Authorization": finpay_authorization(workspace)}
    response = answer_or_fail(method="POST", url=sandbox.url + FINPAY_PATH, headers=headers, data=body)
    assert_finpay_rejected(response)


def test_finpay_a_wrong_request_type_is_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    fields = finpay_fields(workspace, requestType="getBalance")
    assert_finpay_rejected(finpay_post(sandbox, workspace, fields))


# --- Faspay: success -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("form", ["aes", "hmac"])
def test_faspay_both_signature_forms_with_get_and_post_get_a_token(
    form: str, method: str, sandbox: Sandbox, workspace: Workspace
) -> None:
    response = faspay_send(sandbox, faspay_headers(workspace, form=form), method)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"status", "response_code", "access_token", "expired_in", "message", "response_desc"}
    assert all(isinstance(value, str) for value in answer.values()), answer
    assert answer["status"] == "2" and answer["response_code"] == "00"
    assert len(answer["access_token"]) >= 20
    assert answer["expired_in"] == str(TOKEN_TTL)
    assert requests_to(sandbox, "faspay-sendme") == 1


# --- Faspay: rejections --------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["faspay-key", "faspay-timestamp", "faspay-authorization", "faspay-signature"])
def test_faspay_a_missing_header_is_status_9(header: str, sandbox: Sandbox, workspace: Workspace) -> None:
    headers = faspay_headers(workspace)
    del headers[header]
    answer = assert_faspay_rejected(faspay_send(sandbox, headers))
    assert header in json.dumps(answer)


@pytest.mark.parametrize(
    "timestamp",
    [
        jakarta_wall_clock().strftime("%Y-%m-%dT%H:%M:%S"),
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        jakarta_wall_clock().strftime("%Y%m%d%H%M%S"),
        jakarta_wall_clock().strftime("%Y-%m-%d %H:%M:%S.123"),
        jakarta_wall_clock().strftime("%d-%m-%Y %H:%M:%S"),
        "2018-13-45 25:61:61",
    ],
    ids=["iso", "utc-z", "compact", "millis", "day-first", "impossible"],
)
def test_faspay_a_malformed_timestamp_is_status_9(timestamp: str, sandbox: Sandbox, workspace: Workspace) -> None:
    assert_faspay_rejected(faspay_send(sandbox, faspay_headers(workspace, timestamp=timestamp)))


@pytest.mark.parametrize("minutes", [-10, 10])
def test_faspay_a_timestamp_ten_minutes_off_is_status_9(minutes: int, sandbox: Sandbox, workspace: Workspace) -> None:
    timestamp = jakarta_wall_clock(timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")
    assert_faspay_rejected(faspay_send(sandbox, faspay_headers(workspace, timestamp=timestamp)))


def test_faspay_a_utc_timestamp_is_seven_hours_off_and_status_9(sandbox: Sandbox, workspace: Workspace) -> None:
    timestamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert_faspay_rejected(faspay_send(sandbox, faspay_headers(workspace, timestamp=timestamp)))


@pytest.mark.parametrize(
    "override",
    [
        {"client_secret": "not-the-client-secret"},
        {"client_key": "NOT-THE-CLIENT-KEY"},
        {"signed_method": "POST"},
        {"app_secret": "not-the-app-secret"},
        {"app_key": "NOT-THE-APP-KEY"},
        {"faspay_secret": "not-the-faspay-secret"},
        {"iv": "not-the-iv"},
    ],
    ids=lambda override: next(iter(override)),
)
def test_faspay_a_wrong_credential_is_status_9(
    override: dict[str, str], sandbox: Sandbox, workspace: Workspace
) -> None:
    assert_faspay_rejected(faspay_send(sandbox, faspay_headers(workspace, **override)))


def test_faspay_a_wrong_hmac_signature_is_status_9(sandbox: Sandbox, workspace: Workspace) -> None:
    headers = faspay_headers(workspace, form="hmac", client_secret="not-the-client-secret")
    assert_faspay_rejected(faspay_send(sandbox, headers))


def test_faspay_an_uppercase_hmac_signature_is_status_9(sandbox: Sandbox, workspace: Workspace) -> None:
    headers = faspay_headers(workspace, form="hmac")
    headers["faspay-signature"] = headers["faspay-signature"].upper()
    assert_faspay_rejected(faspay_send(sandbox, headers))


def test_faspay_an_unknown_faspay_key_is_status_9(sandbox: Sandbox, workspace: Workspace) -> None:
    headers = faspay_headers(workspace, faspay_key="SOMEONE-ELSE")
    answer = assert_faspay_rejected(faspay_send(sandbox, headers))
    assert "faspay-key" in json.dumps(answer)


@pytest.mark.parametrize("signature", ["garbage", "É" * 20, "", "="])
def test_faspay_a_garbage_signature_is_status_9(signature: str, sandbox: Sandbox, workspace: Workspace) -> None:
    headers = {**faspay_headers(workspace), "faspay-signature": signature}
    assert_faspay_rejected(faspay_send(sandbox, headers))


def test_faspay_other_methods_are_status_9(sandbox: Sandbox, workspace: Workspace) -> None:
    assert_faspay_rejected(faspay_send(sandbox, faspay_headers(workspace), "PUT"))


# --- faults in each gateway's shape ---------------------------------------------------------------


def test_doku_a_5xx_fault_answers_a_json_error(sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, "doku", status=503)
    response = doku_post(sandbox, doku_headers(workspace))
    assert response.status_code == 503
    answer = response.json()
    assert isinstance(answer, dict) and "error" in answer and "token" not in answer


def test_finpay_a_5xx_fault_answers_a_status_code_not_000(sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, "finpay-widget", status=503)
    response = finpay_post(sandbox, workspace, finpay_fields(workspace))
    assert response.status_code == 503
    answer = response.json()
    assert answer["statusCode"] not in ("000", "") and answer["statusDesc"] and "tokenID" not in answer


def test_faspay_a_5xx_fault_answers_status_9(sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, "faspay-sendme", status=503)
    response = faspay_send(sandbox, faspay_headers(workspace))
    assert response.status_code == 503
    answer = response.json()
    assert answer["status"] == "9" and "access_token" not in answer
    assert all(isinstance(value, str) for value in answer.values())


def test_a_fault_touches_only_its_gateway(sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, "finpay-widget", status=503)
    assert doku_post(sandbox, doku_headers(workspace)).status_code == 200
    assert faspay_send(sandbox, faspay_headers(workspace)).json()["status"] == "2"
    assert finpay_post(sandbox, workspace, finpay_fields(workspace)).status_code == 503


def test_rejections_are_counted_as_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    doku_post(sandbox, doku_headers(workspace, secret="wrong"))
    finpay_post(sandbox, workspace, finpay_fields(workspace, secret="wrong"))
    faspay_send(sandbox, faspay_headers(workspace, client_secret="wrong"))
    counts = stats(sandbox)["providers"]
    for provider in ("doku", "finpay-widget", "faspay-sendme"):
        assert counts[provider] == {"requests": 1, "issued": 0, "rejected": 1, "faulted": 0, "calls": 0}  # type: ignore[index]


# --- parse(status, body): the gateway's answer is untrusted input ----------------------------------

SHARED_SECRET = ["doku", "finpay-widget", "faspay-sendme"]


def parses_or_explains(provider: str, status: int, body: bytes) -> Token | None:
    """A Token, or one of paytoken's own errors with an exit code from SPEC 3; nothing else may escape."""
    escaped = ""
    try:
        token = PROVIDERS[provider].parse(status, body)
    except PaytokenError as error:
        assert error.message
        assert error.exit_code in (4, 6), (type(error).__name__, error.message)
        return None
    except Exception as error:
        escaped = f"{type(error).__name__}: {str(error)[:200]}"
    if escaped:
        pytest.fail(f"{provider}.parse({status}, {len(body)} bytes) let {escaped} escape", pytrace=False)
    assert isinstance(token, Token)
    assert 200 <= status < 300
    assert isinstance(token.access_token, str) and token.access_token
    assert isinstance(token.token_type, str) and token.token_type
    assert token.expires_in is None or (type(token.expires_in) is int and token.expires_in > 0)
    anchored = token.anchored(RECEIVED_AT)
    assert anchored.expires_in is None or anchored.expires_in >= 0
    return token


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=16,
)
statuses = st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 405, 429, 500, 502, 503, 504]) | st.integers(
    100, 599
)
digit_like = st.text(alphabet=st.sampled_from("0123456789٠٩０９²③ -+."), min_size=1, max_size=12)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


JWT_HEADER = b64url(b'{"alg":"HS256","typ":"JWT"}')


def jwt(claims: object, signature: str = "c2lnbmF0dXJl") -> str:
    return f"{JWT_HEADER}.{b64url(json.dumps(claims).encode())}.{signature}"


jwt_like = st.builds(
    jwt,
    st.fixed_dictionaries(
        {},
        optional={
            "exp": st.integers() | st.floats() | digit_like | json_values,
            "iat": st.integers(),
            "sub": st.text(max_size=10),
        },
    )
    | json_values,
    st.text(alphabet="abcXYZ-_", max_size=10),
)
doku_answers = st.fixed_dictionaries(
    {},
    optional={
        "token": jwt_like | st.text(max_size=40) | json_values,
        "error": json_values,
        "message": json_values,
    },
)
finpay_answers = st.fixed_dictionaries(
    {},
    optional={
        "statusCode": st.sampled_from(["000", "A1003", "A1004", "E500", "", "0", "00"]) | json_values,
        "statusDesc": st.text(max_size=30) | json_values,
        "tokenID": st.text(max_size=40) | json_values,
        "tokenExpiry": st.sampled_from(["24-AUG-24 16:23:30", "24-aug-24 16:23:30", "31-FEB-24 10:00:00"])
        | st.from_regex(r"[0-9٠-٩]{2}-[A-Za-z]{3}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}", fullmatch=True)
        | json_values,
        "processingTime": json_values,
        "signature": st.from_regex(r"[0-9A-F]{64}", fullmatch=True) | json_values,
    },
)
faspay_answers = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["2", "9", "", 2]) | json_values,
        "response_code": st.sampled_from(["00", "401"]) | json_values,
        "access_token": st.text(max_size=40) | json_values,
        "expired_in": digit_like | st.integers() | json_values,
        "message": json_values,
        "response_desc": json_values,
    },
)
ANSWERS = {"doku": doku_answers, "finpay-widget": finpay_answers, "faspay-sendme": faspay_answers}


@pytest.mark.parametrize("provider", SHARED_SECRET)
@PROPERTY
@given(status=st.integers(min_value=100, max_value=599), body=st.binary(max_size=2048))
def test_any_bytes_parse_or_raise_an_expected_error(provider: str, status: int, body: bytes) -> None:
    parses_or_explains(provider, status, body)


@pytest.mark.parametrize("provider", SHARED_SECRET)
@PROPERTY
@given(status=statuses, data=st.data())
def test_any_json_parses_or_raises_an_expected_error(provider: str, status: int, data: st.DataObject) -> None:
    document = data.draw(ANSWERS[provider] | json_values)
    parses_or_explains(provider, status, json.dumps(document).encode("utf-8"))


@PROPERTY
@given(token=jwt_like, extra=st.dictionaries(st.text(max_size=8), json_values, max_size=3))
@example(token=jwt({"exp": 10**30}), extra={})
def test_doku_any_2xx_with_a_token_is_a_token(token: str, extra: dict[str, object]) -> None:
    parsed = parses_or_explains("doku", 200, json.dumps({**extra, "token": token}).encode())
    assert parsed is not None and parsed.access_token == token


@PROPERTY
@given(token=st.text(min_size=1, max_size=40), expiry=finpay_answers.map(lambda answer: answer.get("tokenExpiry")))
def test_finpay_any_000_with_a_token_id_is_a_token(token: str, expiry: object) -> None:
    body = {"statusCode": "000", "statusDesc": "Success", "tokenID": token, "tokenExpiry": expiry}
    parsed = parses_or_explains("finpay-widget", 200, json.dumps(body).encode())
    assert parsed is not None and parsed.access_token == token


@PROPERTY
@given(token=st.text(min_size=1, max_size=40), expired_in=digit_like | st.integers() | json_values)
def test_faspay_any_status_2_with_a_token_is_a_token(token: str, expired_in: object) -> None:
    body = {"status": "2", "response_code": "00", "access_token": token, "expired_in": expired_in}
    parsed = parses_or_explains("faspay-sendme", 200, json.dumps(body).encode())
    assert parsed is not None and parsed.access_token == token


@pytest.mark.parametrize("depth", [100, 600, 900])
@pytest.mark.parametrize("provider", SHARED_SECRET)
def test_a_deeply_nested_answer_is_an_expected_error_not_a_crash(provider: str, depth: int) -> None:
    # Nesting json.loads accepts (it stops near 1000 levels) must not overflow the parser's own walk.
    nested = "[" * depth + "]" * depth
    for document in (
        f'{{"statusCode":"A1004","statusDesc":"x","detail":{nested}}}',
        f'{{"status":"9","message":{nested}}}',
        f'{{"error":{nested}}}',
    ):
        parses_or_explains(provider, 200, document.encode())
        parses_or_explains(provider, 401, document.encode())


def test_parse_reads_each_gateways_real_success() -> None:
    doku = PROVIDERS["doku"].parse(200, json.dumps({"token": jwt({"exp": 1724490000})}).encode())
    assert doku.expires_at == datetime(2024, 8, 24, 9, 0, 0, tzinfo=UTC)
    finpay = PROVIDERS["finpay-widget"].parse(
        200, b'{"statusCode":"000","tokenID":"abc","tokenExpiry":"24-AUG-24 16:23:30","processingTime":"0.1"}'
    )
    assert finpay.access_token == "abc" and finpay.expires_at == datetime(2024, 8, 24, 9, 23, 30, tzinfo=UTC)
    faspay = PROVIDERS["faspay-sendme"].parse(200, b'{"status":"2","access_token":"xyz","expired_in":"36000"}')
    assert faspay.access_token == "xyz" and faspay.expires_in == 36000 and faspay.expires_at is None


@pytest.mark.parametrize(
    ("provider", "status", "body", "code"),
    [
        ("doku", 401, b'{"error":{"code":"invalid_signature"}}', 4),
        ("doku", 200, b'{"error":"no token"}', 6),
        ("doku", 503, b'{"error":"down"}', 6),
        ("doku", 200, b"<!DOCTYPE html><html></html>", 6),
        ("finpay-widget", 200, b'{"statusCode":"A1004","statusDesc":"Invalid Signature"}', 4),
        ("finpay-widget", 200, b'{"statusCode":"000","statusDesc":"Success"}', 6),
        ("finpay-widget", 503, b'{"statusCode":"E500","statusDesc":"General Error"}', 6),
        ("faspay-sendme", 401, b'{"status":"9","message":"Unauthorized"}', 4),
        ("faspay-sendme", 200, b'{"status":"9","message":"Unauthorized"}', 4),
        ("faspay-sendme", 200, b'{"status":"2"}', 6),
        ("faspay-sendme", 503, b'{"status":"9","message":"Internal Server Error"}', 6),
    ],
)
def test_parse_maps_failures_to_exit_codes(provider: str, status: int, body: bytes, code: int) -> None:
    with pytest.raises(PaytokenError) as caught:
        PROVIDERS[provider].parse(status, body)
    assert caught.value.exit_code == code


def test_finpay_a_rejection_carries_the_echoed_signature() -> None:
    echoed = "02580ADCB95AABF2CBBA78B53CE45182F5B429EA30154C259A45CAECF532E7AE"
    body = json.dumps({"statusCode": "A1004", "statusDesc": "Invalid Signature", "signature": echoed}).encode()
    with pytest.raises(PaytokenError) as caught:
        PROVIDERS["finpay-widget"].parse(200, body)
    assert getattr(caught.value, "echoed_signature", None) == echoed
    assert getattr(caught.value, "code", None) == "A1004"


# --- jwt_expiry ----------------------------------------------------------------------------------


def test_jwt_expiry_reads_exp_without_verifying() -> None:
    assert jwt_expiry(jwt({"exp": 1724490000, "sub": "BRN"})) == datetime(2024, 8, 24, 9, 0, 0, tzinfo=UTC)


def test_jwt_expiry_reads_a_fractional_exp() -> None:
    assert jwt_expiry(jwt({"exp": 1724490000.5})) == datetime(2024, 8, 24, 9, 0, 0, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    "claims", [{"sub": "BRN"}, {}, {"exp": None}, {"exp": "1724490000"}, {"exp": True}, [1724490000], "exp"]
)
def test_jwt_expiry_without_a_numeric_exp_is_none(claims: object) -> None:
    assert jwt_expiry(jwt(claims)) is None


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b",
        "a.b.c.d",
        "a.!!!!.c",
        "a.eyJleHAiOjE3.c",  # base64 of a truncated JSON object
        "a." + b64url(b"\xff\xfe\x00") + ".c",
        "a." + b64url(b"[" * 5000 + b"]" * 5000) + ".c",
    ],
    ids=["empty", "word", "two-parts", "four-parts", "bad-base64", "truncated-json", "not-utf8", "deep"],
)
def test_jwt_expiry_of_garbage_is_none(token: str) -> None:
    assert jwt_expiry(token) is None


@pytest.mark.parametrize("exp", [10**20, -(10**20), 1e308, 10**400, float("inf"), float("nan"), 253402300800])
def test_jwt_expiry_beyond_the_calendar_is_none(exp: float) -> None:
    assert jwt_expiry(jwt({"exp": exp})) is None


# --- oracle_moment (Finpay's tokenExpiry) ---------------------------------------------------------


def test_token_expiry_is_read_as_jakarta_time() -> None:
    moment = oracle_moment("24-AUG-24 16:23:30")
    assert moment is not None
    assert moment.astimezone(UTC) == datetime(2024, 8, 24, 9, 23, 30, tzinfo=UTC)
    assert moment.utcoffset() == JAKARTA_OFFSET


@pytest.mark.parametrize("text", ["24-aug-24 16:23:30", "24-Aug-24 16:23:30", " 24-AUG-24 16:23:30 "])
def test_token_expiry_month_in_any_case(text: str) -> None:
    assert oracle_moment(text) == oracle_moment("24-AUG-24 16:23:30")


@pytest.mark.parametrize(
    "text",
    [
        "24-AGU-24 16:23:30",
        "24-AUGUST-24 16:23:30",
        "24-08-24 16:23:30",
        "31-FEB-24 10:00:00",
        "29-FEB-23 10:00:00",
        "24-AUG-24 25:00:00",
        "24-AUG-24 16:60:00",
        "00-AUG-24 16:23:30",
        "2024-08-24 16:23:30",
        "24-AUG-2024 16:23:30",
        "",
        "24-AUG-24",
    ],
)
def test_token_expiry_that_is_not_a_date_is_none(text: str) -> None:
    assert oracle_moment(text) is None


def test_token_expiry_leap_day_is_valid() -> None:
    assert oracle_moment("29-FEB-24 00:00:00") == datetime(2024, 2, 28, 17, 0, tzinfo=UTC)


# --- DOKU's requested lifetime: the expiry of last resort --------------------------------------------


def doku_profile(table: dict[str, object], overrides: dict[str, object] | None = None) -> Profile:
    base = {"client_id": "BRN-0001-10791114622547", "secret_key": "SK-EXAMPLE-SECRET", **table}
    return resolve_profile(PROVIDERS["doku"], "unit", base, path=None, overrides=overrides, environ={})


@pytest.mark.parametrize(
    ("table", "overrides", "seconds"),
    [
        ({"valid_time": 360}, None, 21600),
        ({"valid_time": 5}, None, 300),
        ({}, {"valid_time": "5"}, 300),
        ({"valid_time": 360}, {"valid_time": "1"}, 60),
        ({}, None, None),
    ],
    ids=["profile-360", "profile-5", "flag-5", "flag-wins", "unset"],
)
def test_doku_requested_lifetime_comes_from_valid_time(
    table: dict[str, object], overrides: dict[str, object] | None, seconds: int | None
) -> None:
    provider = PROVIDERS["doku"]
    request = provider.build(doku_profile(table, overrides), "2020-08-11T08:45:42Z", "r-1")
    assert request.requested_lifetime == seconds
    body = json.loads(request.body or b"")
    assert body.get("valid_time") == (None if seconds is None else str(seconds // 60))


@pytest.mark.parametrize("provider", ["finpay-widget", "faspay-sendme"])
def test_only_doku_asks_for_a_lifetime(provider: str, workspace: Workspace) -> None:
    table: dict[str, object] = dict(credentials(workspace, provider))
    profile = resolve_profile(PROVIDERS[provider], "unit", table, path=None, environ={})
    request = PROVIDERS[provider].build(profile, datetime.now(UTC), PROVIDERS[provider].new_nonce())
    assert request.requested_lifetime is None
