"""The sandbox serves the calls after the token for DOKU, Faspay SendMe and the Finpay widget (SPEC 6.3, 6.5).

Each call is signed by the provider's own build_call with a token fetched through the normal code
(tokens.fetch), sent over loopback with Transport.send(idempotent=False), and judged by the provider's
judge_call: the success, and every rejection in the gateway's own shape. The last tests sign a DOKU call with
hashlib and hmac written here, not with the recipe, so a bug shared by the recipe and the sandbox shows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import stats

from tidak_cli import tokens
from tidak_cli.gateways import PROVIDERS
from tidak_cli.gateways.base import Call, CallVerdict, SignedRequest
from tidak_cli.profiles import Profile, load_profile
from tidak_cli.sandbox import Sandbox
from tidak_cli.transport import Response, Transport

TIMEOUT = 10
OUT_OF_WINDOW = timedelta(minutes=10)  # twice the gateways' 5 minutes
DOKU_STATUS_PATH = "/orders/v1/status/INV-123123-12313"
DOKU_PAYMENT_PATH = "/checkout/v1/payment"
DOKU_BODY = b'{"order":{"invoice_number":"INV-1","amount":150000},"payment":{"payment_due_date":60}}'
FASPAY_PATH = "/account/api/transfer"
FASPAY_BODY = b'{"trx_amount":"10000","beneficiary_account":"0123456789"}'
FINPAY_PATH = "/apicobrand/widget/topup"


def profile(profiles: Path, provider: str, **overrides: object) -> Profile:
    return load_profile(PROVIDERS[provider], "demo", profiles_file=profiles, overrides=overrides or None)


def fetch_token(profiles: Path, provider: str, **overrides: object) -> str:
    with Transport() as transport:
        result = tokens.fetch(PROVIDERS[provider], profile(profiles, provider, **overrides), transport=transport)
    return result.token.access_token


def send(request: SignedRequest) -> Response:
    with Transport() as transport:
        return transport.send(request, timeout=TIMEOUT, idempotent=False)


def judged(provider: str, response: Response) -> CallVerdict:
    return PROVIDERS[provider].judge_call(response.status, response.body)


def answer(response: Response) -> dict[str, object]:
    data = json.loads(response.body)
    assert isinstance(data, dict)
    return data


def expire_tokens(sandbox: Sandbox) -> int:
    request = urllib.request.Request(f"{sandbox.url}/_sandbox/expire-tokens", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:
        return int(json.load(reply)["expired"])


def counts(sandbox: Sandbox, provider: str) -> Mapping[str, int]:
    return stats(sandbox)["providers"][provider]  # type: ignore[index,no-any-return]


def now() -> datetime:
    return datetime.now(UTC)


def jakarta_compact(moment: datetime) -> str:
    return (moment.astimezone(UTC) + timedelta(hours=7)).strftime("%Y%m%d%H%M%S")


# --- calls built by each provider's build_call ---------------------------------------------------


def doku_call(
    profiles: Path,
    token: str,
    *,
    method: str = "GET",
    path: str = DOKU_STATUS_PATH,
    body: bytes | None = None,
    request_id: str | None = None,
    when: datetime | None = None,
    **overrides: object,
) -> SignedRequest:
    call = Call(method, path, body, token, request_id or str(uuid.uuid4()))
    return PROVIDERS["doku"].build_call(profile(profiles, "doku", **overrides), call, when or now())


def faspay_call(
    profiles: Path, token: str, *, when: datetime | None = None, path: str = FASPAY_PATH, **overrides: object
) -> SignedRequest:
    call = Call("POST", path, FASPAY_BODY, token)
    return PROVIDERS["faspay-sendme"].build_call(profile(profiles, "faspay-sendme", **overrides), call, when or now())


def finpay_body(when: datetime | None = None, amount: str = "10000") -> bytes:
    fields = {
        "reqDtime": jakarta_compact(when or now()),
        "requestType": "topup",
        "transNumber": "TRX" + uuid.uuid4().hex[:12],
        "amount": amount,
    }
    return json.dumps(fields, separators=(",", ":")).encode()


def finpay_call(profiles: Path, token: str, body: bytes | None = None, **overrides: object) -> SignedRequest:
    call = Call("POST", FINPAY_PATH, body or finpay_body(), token)
    return PROVIDERS["finpay-widget"].build_call(profile(profiles, "finpay-widget", **overrides), call, now())


def assert_echoed(data: Mapping[str, object], method: str, path: str, body: bytes | None) -> None:
    assert data["request"] == {
        "method": method,
        "path": path,
        "body": json.loads(body) if body else "",
    }


# --- success ---------------------------------------------------------------------------------------


def test_a_doku_get_call_with_a_fetched_token_is_accepted(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku")
    response = send(doku_call(profiles, token))
    assert response.status == 200, response.body
    assert judged("doku", response) == CallVerdict(True)
    assert_echoed(answer(response), "GET", DOKU_STATUS_PATH, None)
    assert counts(sandbox, "doku")["calls"] == 1


def test_a_doku_post_call_signs_its_digest_and_is_accepted(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku")
    response = send(doku_call(profiles, token, method="POST", path=DOKU_PAYMENT_PATH, body=DOKU_BODY))
    assert response.status == 200, response.body
    assert judged("doku", response).ok
    assert_echoed(answer(response), "POST", DOKU_PAYMENT_PATH, DOKU_BODY)


def test_a_doku_call_with_a_query_signs_the_path_as_sent(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku")
    response = send(doku_call(profiles, token, path="/orders/v1/status/INV-9?channel=va"))
    assert response.status == 200, response.body


def test_a_faspay_call_with_a_fetched_token_is_accepted(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "faspay-sendme")
    response = send(faspay_call(profiles, token))
    assert response.status == 200, response.body
    data = answer(response)
    assert (data["status"], data["response_code"]) == ("2", "00")
    assert judged("faspay-sendme", response).ok
    assert_echoed(data, "POST", FASPAY_PATH, FASPAY_BODY)
    assert counts(sandbox, "faspay-sendme")["calls"] == 1


def test_a_faspay_call_signed_in_the_hmac_form_is_accepted(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "faspay-sendme")
    response = send(faspay_call(profiles, token, signature_method="hmac"))
    assert response.status == 200, response.body
    assert judged("faspay-sendme", response).ok


def test_faspay_finds_the_token_among_several_issued(sandbox: Sandbox, profiles: Path) -> None:
    first = fetch_token(profiles, "faspay-sendme")
    fetch_token(profiles, "faspay-sendme")
    response = send(faspay_call(profiles, first))
    assert response.status == 200, response.body


def test_a_finpay_widget_call_with_a_fetched_token_is_accepted(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "finpay-widget")
    request = finpay_call(profiles, token)
    response = send(request)
    assert response.status == 200
    data = answer(response)
    assert (data["statusCode"], data["statusDesc"]) == ("000", "Success")
    assert judged("finpay-widget", response) == CallVerdict(True, "000", "Success")
    assert_echoed(data, "POST", FINPAY_PATH, request.body)
    assert counts(sandbox, "finpay-widget")["calls"] == 1


def test_a_doku_token_lives_in_the_ledger_as_long_as_its_valid_time(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku", valid_time=600)
    issued = sandbox.ledger.record(token)
    assert issued is not None
    left = (issued.expires_at - now()).total_seconds()
    assert 600 * 60 - 30 < left <= 600 * 60, "the JWT's own lifetime, not the sandbox's 900 seconds"
    assert send(doku_call(profiles, token)).status == 200


# --- rejections, in each gateway's shape -------------------------------------------------------------


def assert_doku_refused(response: Response, status: int, code: str, message: str) -> None:
    assert response.status == status, response.body
    assert answer(response) == {"error": {"code": code, "message": message}}
    verdict = judged("doku", response)
    assert (verdict.ok, verdict.code, verdict.message) == (False, code, message)


def assert_faspay_refused(response: Response, description: str) -> None:
    assert response.status == 401, response.body
    data = answer(response)
    assert (data["status"], data["response_code"], data["response_desc"]) == ("9", "401", description)
    verdict = judged("faspay-sendme", response)
    assert not verdict.ok and verdict.code == "401"
    assert verdict.message is not None and description in verdict.message


def assert_finpay_refused(response: Response, code: str, description: str) -> None:
    assert response.status == 200, "Finpay answers its failures with HTTP 200"
    data = answer(response)
    assert (data["statusCode"], data["statusDesc"]) == (code, description)
    verdict = judged("finpay-widget", response)
    assert (verdict.ok, verdict.code, verdict.message) == (False, code, description)


def test_doku_refuses_a_wrong_secret(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku")
    response = send(doku_call(profiles, token, secret_key="not-the-secret"))
    assert_doku_refused(response, 401, "invalid_signature", "Invalid Header Signature")
    assert counts(sandbox, "doku")["calls"] == 0
    assert counts(sandbox, "doku")["rejected"] == 1


def test_doku_refuses_a_token_it_never_issued(sandbox: Sandbox, profiles: Path) -> None:
    response = send(doku_call(profiles, "eyJhbGciOiJIUzI1NiJ9.e30.not-issued-here"))
    assert_doku_refused(response, 401, "invalid_token", "Invalid access token for this Client-Id")


def test_doku_refuses_a_call_without_its_bearer_token(sandbox: Sandbox, profiles: Path) -> None:
    request = doku_call(profiles, "")
    assert "Authorization" not in request.headers
    response = send(request)
    assert_doku_refused(response, 401, "invalid_token", "Missing header Authorization: Bearer <token>")


def test_doku_refuses_an_expired_token(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku")
    assert expire_tokens(sandbox) == 1
    response = send(doku_call(profiles, token))
    assert_doku_refused(response, 401, "invalid_token", "Access token has expired")


def test_doku_refuses_a_timestamp_outside_the_window(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku")
    for shift in (-OUT_OF_WINDOW, OUT_OF_WINDOW):
        response = send(doku_call(profiles, token, when=now() + shift))
        assert_doku_refused(
            response, 401, "invalid_timestamp", "Request-Timestamp is not within 5 minutes of server time"
        )


def test_doku_refuses_a_timestamp_in_another_format(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku")
    jakarta = (now() + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    call = Call("GET", DOKU_STATUS_PATH, None, token, str(uuid.uuid4()))
    response = send(PROVIDERS["doku"].build_call(profile(profiles, "doku"), call, jakarta))
    assert_doku_refused(
        response, 400, "invalid_header", "Invalid Request-Timestamp format, expected UTC like 2020-08-11T08:45:42Z"
    )


def test_doku_refuses_a_request_id_used_twice_the_same_day(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku")
    request_id = str(uuid.uuid4())
    first = send(
        doku_call(profiles, token, method="POST", path=DOKU_PAYMENT_PATH, body=DOKU_BODY, request_id=request_id)
    )
    assert first.status == 200, first.body
    # A new signature and timestamp, the same Request-Id: the gateway has seen this payment already.
    again = send(
        doku_call(profiles, token, method="POST", path=DOKU_PAYMENT_PATH, body=DOKU_BODY, request_id=request_id)
    )
    assert_doku_refused(again, 409, "duplicate_request_id", "Request-Id has already been used today")
    assert counts(sandbox, "doku")["calls"] == 1


def test_doku_refuses_a_body_changed_after_signing(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku")
    signed = doku_call(profiles, token, method="POST", path=DOKU_PAYMENT_PATH, body=DOKU_BODY)
    tampered = replace(signed, body=DOKU_BODY.replace(b"150000", b"1500000"))
    assert_doku_refused(send(tampered), 401, "invalid_signature", "Invalid Header Signature")


def test_doku_refuses_a_call_signed_for_another_path(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "doku")
    signed = doku_call(profiles, token)
    moved = replace(signed, url=signed.url.replace("INV-123123-12313", "INV-999"))
    assert_doku_refused(send(moved), 401, "invalid_signature", "Invalid Header Signature")


def test_faspay_refuses_a_wrong_client_secret(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "faspay-sendme")
    assert_faspay_refused(
        send(faspay_call(profiles, token, client_secret="not-the-secret")), "Invalid faspay-signature"
    )
    assert counts(sandbox, "faspay-sendme")["calls"] == 0


def test_faspay_refuses_a_wrong_app_secret_in_the_authorization(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "faspay-sendme")
    response = send(faspay_call(profiles, token, app_secret="not-the-secret"))
    assert_faspay_refused(response, "Invalid faspay-authorization")


def test_faspay_refuses_a_token_it_never_issued(sandbox: Sandbox, profiles: Path) -> None:
    fetch_token(profiles, "faspay-sendme")
    assert_faspay_refused(send(faspay_call(profiles, "not-issued-here")), "Invalid access token")


def test_faspay_refuses_an_unknown_token_in_the_hmac_form_as_a_bad_signature(sandbox: Sandbox, profiles: Path) -> None:
    # The hex HMAC cannot be read back: the gateway can only say the signature does not verify.
    response = send(faspay_call(profiles, "not-issued-here", signature_method="hmac"))
    assert_faspay_refused(response, "Invalid faspay-signature")


def test_faspay_refuses_an_expired_token(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "faspay-sendme")
    expire_tokens(sandbox)
    assert_faspay_refused(send(faspay_call(profiles, token)), "Access token has expired")


def test_faspay_refuses_a_timestamp_outside_the_window(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "faspay-sendme")
    response = send(faspay_call(profiles, token, when=now() - OUT_OF_WINDOW))
    assert_faspay_refused(response, "faspay-timestamp is not within 5 minutes of server time (Jakarta)")


def test_faspay_refuses_a_call_sent_with_another_method_than_signed(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "faspay-sendme")
    assert_faspay_refused(send(replace(faspay_call(profiles, token), method="PUT")), "Invalid faspay-signature")


def test_finpay_refuses_a_wrong_secret_and_shows_the_expected_signature(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "finpay-widget")
    wrong = finpay_call(profiles, token, secret_key="not-the-secret")
    response = send(wrong)
    assert_finpay_refused(response, "A1004", "Invalid Signature")
    # As Finpay's staging server does, the answer shows the signature it expected: the right secret's.
    assert wrong.body is not None
    fields = {key: value for key, value in json.loads(wrong.body).items() if key not in ("tokenID", "signature")}
    right = finpay_call(profiles, token, body=json.dumps(fields, separators=(",", ":")).encode())
    assert answer(response)["signature"] == right.signature != wrong.signature
    assert counts(sandbox, "finpay-widget")["calls"] == 0


def test_finpay_refuses_a_token_it_never_issued(sandbox: Sandbox, profiles: Path) -> None:
    assert_finpay_refused(send(finpay_call(profiles, "not-issued-here")), "A1002", "Invalid tokenID")


def test_finpay_refuses_another_gateways_token(sandbox: Sandbox, profiles: Path) -> None:
    doku_token = fetch_token(profiles, "doku")
    assert_finpay_refused(send(finpay_call(profiles, doku_token)), "A1002", "Invalid tokenID")


def test_finpay_refuses_an_expired_token(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "finpay-widget")
    expire_tokens(sandbox)
    assert_finpay_refused(send(finpay_call(profiles, token)), "A1002", "tokenID has expired")


def test_finpay_refuses_a_req_dtime_outside_the_window(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "finpay-widget")
    response = send(finpay_call(profiles, token, body=finpay_body(now() - OUT_OF_WINDOW)))
    assert_finpay_refused(response, "A1005", "reqDtime is not within 5 minutes of server time (Jakarta)")


def test_finpay_refuses_a_call_without_req_dtime(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "finpay-widget")
    signed = finpay_call(profiles, token, body=b'{"amount":"10000"}')  # the recipe adds reqDtime: take it out
    fields = json.loads(signed.body or b"")
    del fields["reqDtime"]
    response = send(replace(signed, body=json.dumps(fields, separators=(",", ":")).encode()))
    assert_finpay_refused(response, "A1001", "Invalid field reqDtime")


def test_finpay_refuses_a_field_changed_after_signing(sandbox: Sandbox, profiles: Path) -> None:
    token = fetch_token(profiles, "finpay-widget")
    signed = finpay_call(profiles, token)
    assert signed.body is not None
    tampered = replace(signed, body=signed.body.replace(b'"amount":"10000"', b'"amount":"90000"'))
    assert tampered.body != signed.body
    assert_finpay_refused(send(tampered), "A1004", "Invalid Signature")


# --- requests that are not these gateways' calls ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", DOKU_STATUS_PATH, {"Client-Id": "x", "Request-Id": "y"}),  # no Signature: not a DOKU call
        ("POST", FASPAY_PATH, {"faspay-signature": "x"}),  # no faspay-key: not a Faspay call
        ("POST", "/apicobrand/other/topup", {"Authorization": "Basic eDp5"}),  # not under /apicobrand/widget/
    ],
)
def test_a_request_that_is_no_gateways_call_gets_the_sandbox_404(
    sandbox: Sandbox, method: str, path: str, headers: dict[str, str]
) -> None:
    request = urllib.request.Request(f"{sandbox.url}{path}", data=b"{}", method=method, headers=headers)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=TIMEOUT)
    assert refused.value.code == 404
    assert "paths" in json.load(refused.value)
    assert all(counts(sandbox, name)["requests"] == 0 for name in ("doku", "faspay-sendme", "finpay-widget"))


# --- DOKU signed by an independent implementation (SPEC 1.2, 6.3) -----------------------------------


def doku_credentials(profiles: Path) -> tuple[str, str]:
    values = profile(profiles, "doku")
    return values.require_text("client_id"), values.require_text("secret_key")


def independent_doku_headers(
    client_id: str, secret: str, token: str, path: str, hashed_body: bytes | None
) -> dict[str, str]:
    """DOKU's headers for a call, from the docs' recipe with hashlib and hmac: no tidak_cli code."""
    request_id = str(uuid.uuid4())
    timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        f"Client-Id:{client_id}",
        f"Request-Id:{request_id}",
        f"Request-Timestamp:{timestamp}",
        f"Request-Target:{path}",
    ]
    if hashed_body is not None:
        lines.append("Digest:" + base64.b64encode(hashlib.sha256(hashed_body).digest()).decode())
    mac = hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {token}",
        "Client-Id": client_id,
        "Request-Id": request_id,
        "Request-Timestamp": timestamp,
        "Signature": "HMACSHA256=" + base64.b64encode(mac).decode(),
    }


def send_raw(sandbox: Sandbox, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Response:
    request = SignedRequest("doku", method, sandbox.url + path, headers, body, "", "", "independent")
    return send(request)


def test_the_independent_doku_vector_of_spec_6_3() -> None:
    lines = (
        "Client-Id:MCH-0001-10791114622547\nRequest-Id:d895fb53-479c-4f77-a76a-ab81b40d77cb\n"
        "Request-Timestamp:2020-08-11T08:45:42Z\nRequest-Target:/orders/v1/status/INV-123123-12313"
    )
    mac = hmac.new(b"SK-EXAMPLE-SECRET", lines.encode(), hashlib.sha256).digest()
    assert "HMACSHA256=" + base64.b64encode(mac).decode() == "HMACSHA256=dza7OSB372dw9xrkSv41943kMvChJkg6yvhs5ON98kQ="


def test_a_doku_call_signed_independently_is_accepted(sandbox: Sandbox, profiles: Path) -> None:
    client_id, secret = doku_credentials(profiles)
    token = fetch_token(profiles, "doku")
    body = json.dumps(json.loads(DOKU_BODY), separators=(",", ":")).encode()
    headers = independent_doku_headers(client_id, secret, token, DOKU_PAYMENT_PATH, body)
    response = send_raw(sandbox, "POST", DOKU_PAYMENT_PATH, headers, body)
    assert response.status == 200, response.body
    assert judged("doku", response).ok
    get_headers = independent_doku_headers(client_id, secret, token, DOKU_STATUS_PATH, None)
    assert send_raw(sandbox, "GET", DOKU_STATUS_PATH, get_headers, None).status == 200
    assert counts(sandbox, "doku")["calls"] == 2


def test_a_doku_call_whose_pretty_printed_body_was_hashed_is_refused(sandbox: Sandbox, profiles: Path) -> None:
    client_id, secret = doku_credentials(profiles)
    token = fetch_token(profiles, "doku")
    value = json.loads(DOKU_BODY)
    sent = json.dumps(value, separators=(",", ":")).encode()
    pretty = json.dumps(value, indent=2).encode()  # the most common DOKU mistake: hash one form, send another
    headers = independent_doku_headers(client_id, secret, token, DOKU_PAYMENT_PATH, pretty)
    response = send_raw(sandbox, "POST", DOKU_PAYMENT_PATH, headers, sent)
    assert_doku_refused(response, 401, "invalid_signature", "Invalid Header Signature")


# --- judge_call reads Faspay's transaction states ----------------------------------------------------


@pytest.mark.parametrize(
    ("state", "ok"),
    [("2", True), ("1", True), ("4", False), ("9", False)],  # success, on process, failed, error
)
def test_faspay_judges_a_transfer_on_process_as_taken(state: str, ok: bool) -> None:
    body = json.dumps({"status": state, "response_code": "00", "response_desc": "x"}).encode()
    assert PROVIDERS["faspay-sendme"].judge_call(200, body).ok is ok
