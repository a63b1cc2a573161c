"""`SnapProvider.parse`: the gateway's answer is untrusted input (SPEC 1.1 success and failure shapes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tidak_cli.errors import ExitCode, GatewayError, PaytokenError, RejectedError
from tidak_cli.gateways import PROVIDERS, Token

PROVIDER = PROVIDERS["nicepay"]
RECEIVED_AT = datetime(2024, 12, 31, 3, 11, 40, tzinfo=UTC)
# The autouse `isolated` fixture only moves the test into an empty directory: safe to share across examples.
PROPERTY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def answer(**fields: object) -> bytes:
    return json.dumps(fields).encode("utf-8")


def success(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "responseCode": "2007300",
        "responseMessage": "Successful",
        "accessToken": "eyJhbGciOiJSUzI1NiJ9.token",
        "tokenType": "Bearer",
        "expiresIn": "900",
    }
    fields.update(overrides)
    return json.dumps({key: value for key, value in fields.items() if value is not ...}).encode("utf-8")


# --- success -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires_in", "seconds"),
    [("900", 900), (900, 900), (..., None), (None, None), ("3600", 3600)],
    ids=["string", "integer", "missing", "null", "hour"],
)
def test_success_reads_expires_in_as_string_or_integer(expires_in: object, seconds: int | None) -> None:
    token = PROVIDER.parse(200, success(expiresIn=expires_in))
    assert isinstance(token, Token)
    assert token.access_token == "eyJhbGciOiJSUzI1NiJ9.token"
    assert token.token_type == "Bearer"
    assert token.expires_in == seconds and (seconds is None or type(token.expires_in) is int)
    assert token.expires_at is None
    assert token.response["responseCode"] == "2007300"


def test_success_keeps_the_gateway_answer_as_received() -> None:
    body = success(additionalInfo={"merchant": "IONPAYTEST"})
    assert PROVIDER.parse(200, body).response == json.loads(body)


def test_success_without_token_type_is_bearer() -> None:
    assert PROVIDER.parse(200, success(tokenType=...)).token_type == "Bearer"


def test_every_snap_provider_parses_the_same_success() -> None:
    for name in ("nicepay", "finpay-snap", "doku-snap", "snap"):
        assert PROVIDERS[name].parse(200, success(expiresIn=900)).expires_in == 900


@pytest.mark.parametrize(
    "expires_in",
    ["0", 0, -900, "-900", "abc", "", True, 900.5, [900], {"seconds": 900}],
    ids=["zero-text", "zero", "negative", "negative-text", "word", "empty", "bool", "float", "list", "object"],
)
def test_a_meaningless_expires_in_is_unknown_not_a_crash(expires_in: object) -> None:
    token = PROVIDER.parse(200, success(expiresIn=expires_in))
    assert token.expires_in is None


@pytest.mark.parametrize(
    "expires_in",
    ["²", "①", "9" * 5000],
    ids=["superscript-two", "circled-one", "5000-digits"],
)
def test_an_odd_digit_string_in_expires_in_is_not_a_crash(expires_in: str) -> None:
    # str.isdigit() is true for these, yet int() refuses them. The answer is still a success (SPEC 1.1):
    # the token with an unknown lifetime.
    token = PROVIDER.parse(200, success(expiresIn=expires_in))
    assert token.access_token == "eyJhbGciOiJSUzI1NiJ9.token"
    assert token.expires_in is None or token.expires_in > 0


@pytest.mark.parametrize(
    "access_token",
    [..., "", None, 12345, ["token"]],
    ids=["missing", "empty", "null", "number", "list"],
)
def test_success_code_without_an_access_token_is_a_gateway_error(access_token: object) -> None:
    with pytest.raises(GatewayError) as caught:
        PROVIDER.parse(200, success(accessToken=access_token))
    assert caught.value.exit_code is ExitCode.GATEWAY and int(caught.value.exit_code) == 6
    assert "2007300" in caught.value.message
    assert caught.value.hint


# --- rejections ----------------------------------------------------------------------------------


def test_unauthorized_is_rejected_with_the_code_and_message_verbatim() -> None:
    body = answer(responseCode="4017300", responseMessage="Unauthorized. Invalid Signature")
    with pytest.raises(RejectedError) as caught:
        PROVIDER.parse(401, body)
    error = caught.value
    assert error.exit_code is ExitCode.REJECTED and int(error.exit_code) == 4
    assert "4017300" in error.message and "Unauthorized. Invalid Signature" in error.message
    assert error.code == "4017300" and error.gateway_message == "Unauthorized. Invalid Signature"
    assert error.status == 401
    assert error.hint and error.hint.strip()


def test_the_unauthorized_hint_names_the_usual_causes() -> None:
    body = answer(responseCode="4017300", responseMessage="Unauthorized. Invalid Signature")
    with pytest.raises(RejectedError) as caught:
        PROVIDER.parse(401, body)
    hint = (caught.value.hint or "").lower()
    assert "public key" in hint and "client_id" in hint and "clock" in hint


def test_too_many_requests_is_rejected_with_a_back_off_hint() -> None:
    body = answer(responseCode="4297300", responseMessage="Too Many Requests")
    with pytest.raises(RejectedError) as caught:
        PROVIDER.parse(429, body)
    assert caught.value.exit_code == 4
    assert "4297300" in caught.value.message and "Too Many Requests" in caught.value.message
    assert "back off" in (caught.value.hint or "").lower()


@pytest.mark.parametrize(
    ("code", "message", "mentions"),
    [
        ("4007300", "Bad Request", "malformed"),
        ("4007301", "Invalid Field Format X-TIMESTAMP", "X-TIMESTAMP"),
        ("4007302", "Invalid Mandatory Field X-SIGNATURE", "missing"),
    ],
)
def test_bad_requests_are_rejected_with_the_table_hint(code: str, message: str, mentions: str) -> None:
    with pytest.raises(RejectedError) as caught:
        PROVIDER.parse(400, answer(responseCode=code, responseMessage=message))
    assert code in caught.value.message and message in caught.value.message
    assert mentions in (caught.value.hint or "")


def test_a_failure_code_in_a_200_is_rejected() -> None:
    body = answer(responseCode="4017300", responseMessage="Unauthorized. Invalid Signature")
    with pytest.raises(RejectedError) as caught:
        PROVIDER.parse(200, body)
    assert "4017300" in caught.value.message


# --- gateway failures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [(500, "5007300", "General Error"), (504, "5047300", "Timeout"), (503, "5037300", "General Error")],
)
def test_a_server_error_is_a_gateway_error(status: int, code: str, message: str) -> None:
    with pytest.raises(GatewayError) as caught:
        PROVIDER.parse(status, answer(responseCode=code, responseMessage=message))
    assert caught.value.exit_code is ExitCode.GATEWAY and int(caught.value.exit_code) == 6
    assert code in caught.value.message and message in caught.value.message
    assert "retry" in (caught.value.hint or "").lower()


HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def test_an_html_502_is_a_gateway_error() -> None:
    with pytest.raises(GatewayError) as caught:
        PROVIDER.parse(502, HTML)
    assert "502" in caught.value.message and "HTML" in caught.value.message
    assert caught.value.hint


def test_an_html_404_is_rejected() -> None:
    with pytest.raises(RejectedError) as caught:
        PROVIDER.parse(404, HTML.replace(b"502 Bad Gateway", b"404 Not Found"))
    assert caught.value.exit_code == 4 and caught.value.status == 404
    assert "404" in caught.value.message
    assert "base_url" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("status", "error"),
    [(200, GatewayError), (500, GatewayError), (502, GatewayError), (401, RejectedError), (404, RejectedError)],
)
def test_an_empty_body(status: int, error: type[PaytokenError]) -> None:
    with pytest.raises(error) as caught:
        PROVIDER.parse(status, b"")
    assert str(status) in caught.value.message


@pytest.mark.parametrize(
    ("status", "error"),
    [(200, GatewayError), (503, GatewayError), (400, RejectedError)],
)
def test_json_that_is_a_list(status: int, error: type[PaytokenError]) -> None:
    body = json.dumps([{"responseCode": "2007300", "accessToken": "abc"}]).encode()
    with pytest.raises(error):
        PROVIDER.parse(status, body)


@pytest.mark.parametrize("body", [b"null", b"42", b'"2007300"', b"true", b"\xff\xfe\x00", b"{" * 100_000])
def test_json_that_is_no_object_is_not_a_token(body: bytes) -> None:
    with pytest.raises(GatewayError):
        PROVIDER.parse(200, body)


# --- properties ----------------------------------------------------------------------------------


def parses_or_explains(status: int, body: bytes) -> Token | None:
    """Parse; a PaytokenError is an acceptable outcome, any other exception fails the test."""
    try:
        token = PROVIDER.parse(status, body)
    except PaytokenError as error:
        assert error.message
        assert 1 <= error.exit_code <= 6
        return None
    assert isinstance(token, Token)
    assert isinstance(token.access_token, str) and token.access_token
    assert isinstance(token.token_type, str) and token.token_type
    assert token.expires_in is None or (type(token.expires_in) is int and token.expires_in > 0)
    return token


@PROPERTY
@given(status=st.integers(min_value=100, max_value=599), body=st.binary(max_size=2048))
def test_any_bytes_parse_or_raise_an_expected_error(status: int, body: bytes) -> None:
    parses_or_explains(status, body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=16,
)
# Strings a lax digit check might take for a number: ASCII digits mixed with other Unicode digits
# (Arabic-Indic, full-width, superscript, circled), signed or padded numbers, very long runs of digits.
digit_like = (
    st.text(alphabet=st.sampled_from("0123456789٠٩０９²³①⑨"), min_size=1, max_size=12)
    | st.from_regex(r"[ +-]?[0-9]{1,6}[ .]?[0-9]? ?", fullmatch=True)
    | st.integers(min_value=4000, max_value=5000).map(lambda length: "9" * length)
)
lifetimes = st.integers() | digit_like | json_values
snap_answers = st.fixed_dictionaries(
    {},
    optional={
        "responseCode": st.sampled_from(["2007300", "2000000", "4017300", "4297300", "5007300", "", "200"])
        | json_values,
        "responseMessage": json_values,
        "accessToken": st.text(max_size=40) | json_values,
        "tokenType": st.sampled_from(["Bearer", "bearer", ""]) | json_values,
        "expiresIn": lifetimes,
        "additionalInfo": json_values,
    },
)
statuses = st.sampled_from([200, 201, 400, 401, 404, 429, 500, 502, 503, 504]) | st.integers(100, 599)


@PROPERTY
@given(status=statuses, document=snap_answers | json_values)
def test_any_json_parses_or_raises_an_expected_error(status: int, document: object) -> None:
    parses_or_explains(status, json.dumps(document).encode("utf-8"))


@PROPERTY
@given(
    access_token=st.text(min_size=1, max_size=64).filter(str.strip),
    expires_in=lifetimes,
    token_type=st.sampled_from(["Bearer", ...]) | json_values,
)
@example(access_token="t", expires_in="²", token_type="Bearer")
@example(access_token="t", expires_in=10**12, token_type="Bearer")
def test_any_success_gives_a_token_that_can_be_anchored(
    access_token: str, expires_in: object, token_type: object
) -> None:
    # HTTP 200, responseCode 200xxxx and a non-empty accessToken is a success (SPEC 1.1), whatever
    # else the answer holds: an odd expiresIn means an unknown lifetime, not a failure.
    token = PROVIDER.parse(200, success(accessToken=access_token, expiresIn=expires_in, tokenType=token_type))
    assert token.access_token == access_token
    assert token.expires_in is None or (type(token.expires_in) is int and token.expires_in > 0)
    anchored = token.anchored(RECEIVED_AT)
    if token.expires_in is not None:
        assert anchored.expires_at is not None and anchored.expires_at > RECEIVED_AT


# --- Token.anchored ------------------------------------------------------------------------------


def test_an_absurd_lifetime_does_not_break_anchoring() -> None:
    # The parser already calls expiresIn 10**12 unknown, so anchoring its result proves nothing: anchor a
    # Token that holds the lifetime (as a library caller or an older cache could), past year 9999.
    assert PROVIDER.parse(200, success(expiresIn=10**12)).expires_in is None
    token = make_token(10**12, None)
    assert token.expires_in == 10**12
    anchored = token.anchored(RECEIVED_AT)  # must not raise OverflowError
    assert anchored.expires_in is None and anchored.expires_at is None


@given(lifetime=st.integers(min_value=1, max_value=10**30))
def test_anchoring_any_lifetime_gives_a_sane_expiry_or_an_unknown_one(lifetime: int) -> None:
    anchored = make_token(lifetime, None).anchored(RECEIVED_AT)
    if anchored.expires_in is None:
        assert anchored.expires_at is None
    else:
        assert anchored.expires_at is not None and RECEIVED_AT < anchored.expires_at < datetime(2100, 1, 1, tzinfo=UTC)


def make_token(expires_in: int | None, expires_at: datetime | None) -> Token:
    return Token("secret-access-token", "Bearer", expires_in, expires_at, {})


def test_anchored_computes_the_expiry_from_the_lifetime() -> None:
    token = make_token(900, None)
    anchored = token.anchored(RECEIVED_AT)
    assert anchored.expires_at == RECEIVED_AT + timedelta(seconds=900)
    assert anchored.expires_in == 900
    assert anchored.access_token == "secret-access-token"


def test_anchored_computes_the_lifetime_from_the_expiry() -> None:
    anchored = make_token(None, RECEIVED_AT + timedelta(seconds=600, milliseconds=400)).anchored(RECEIVED_AT)
    assert anchored.expires_in == 600
    assert anchored.expires_at == RECEIVED_AT + timedelta(seconds=600, milliseconds=400)


def test_anchored_never_gives_a_negative_lifetime() -> None:
    anchored = make_token(None, RECEIVED_AT - timedelta(minutes=5)).anchored(RECEIVED_AT)
    assert anchored.expires_in == 0


def test_anchored_keeps_what_the_gateway_said() -> None:
    both = make_token(900, RECEIVED_AT + timedelta(hours=1))
    assert both.anchored(RECEIVED_AT) == both
    neither = make_token(None, None)
    assert neither.anchored(RECEIVED_AT) == neither


def test_anchored_parse_result_from_a_string_lifetime() -> None:
    anchored = PROVIDER.parse(200, success(expiresIn="900")).anchored(RECEIVED_AT)
    assert anchored.expires_at == RECEIVED_AT + timedelta(seconds=900)


def test_the_token_is_not_in_its_repr() -> None:
    token = PROVIDER.parse(200, success(accessToken="very-secret-access-token-value"))
    assert "very-secret-access-token-value" not in repr(token)
