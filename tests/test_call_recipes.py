"""The call recipes of SPEC 6: every vector, and the SNAP and DOKU recipes against Python's hmac written here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from tidak_cli.errors import ConfigError, UsageError
from tidak_cli.gateways import lookup
from tidak_cli.gateways.base import Call, Provider
from tidak_cli.gateways.doku.recipe import component, doku_signature
from tidak_cli.gateways.faspay_sendme.recipe import faspay_aes, faspay_string_to_sign
from tidak_cli.gateways.snap.recipe import snap_call_string, snap_symmetric_signature
from tidak_cli.profiles import Profile, resolve_profile

MIDTRANS_STRING = (
    "POST:/v1.0/debit/payment-host-to-host:gp9HjjEj813Y9JGoqwOeOPWbnt4CupvIJbU1Mmu4a11MNDZ7Sg5u9a:"
    "56fa5f4999ad8014de49d7898c1d1d53472569db8999de3c1b752a0dd181e98c:2020-01-01T00:00:00+07:00"
)
DOKU_BODY = (
    '{"partnerServiceId":"  088899","customerNo":"12345678901234567890",'
    '"virtualAccountNo":"  08889912345678901234567890",'
    '"virtualAccountName":"Jokul Doe","virtualAccountEmail":"jokul@email.com","virtualAccountPhone":"6281828384858",'
    '"trxId":"abcdefgh1234","totalAmount":{"value":"12345678.00","currency":"IDR"}}'
)


def _profile(provider: Provider, values: dict[str, object]) -> Profile:
    """A profile [PROVIDER.t] of values, as a profiles file would give it, with no environment."""
    return resolve_profile(provider, "t", values, path=None, environ={})


def independent_finpay(secret_key: str, fields: dict[str, str]) -> str:
    """Finpay's signature written here: HMAC-SHA256 keyed by hex(secret) over the values sorted by name."""
    joined = "".join(value for _, value in sorted(fields.items()))
    return hmac.new(secret_key.encode().hex().encode(), joined.encode(), hashlib.sha256).hexdigest().upper()


def independent_snap(secret: str, method: str, path: str, token: str, body: bytes, timestamp: str) -> str:
    body_hash = hashlib.sha256(body).hexdigest()
    message = f"{method}:{path}:{token}:{body_hash}:{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha512).digest()).decode()


def test_midtrans_published_vector() -> None:
    expected = "FSlidRHe4ow9qppNifGVQNcdv67lBjgCiP0BHylh+IKXo4fs2rHaGsFNUY0N8t0rPlZs4iAHAOCDklnCccwuJw=="
    assert snap_symmetric_signature("fdppqbF5wq7vVegyvsV1CROMv646nJ7A", MIDTRANS_STRING) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/v1.0/transfer-va/status",
            "gZ5BSCgnZcrQIg1b5pc8rYlZxNs3nnUZf/OSBp2JE7Pi5kOWaCkBgUCH77D9xdoSmX32CPeiHogy8RkqH3f2vA==",
        ),
        (
            "/v1.0/transfer-va/status?partnerServiceId=123",
            "a/dnwehBwDxWjY3+cB7xdQjAdMEgOmNHZmd+4+3j5qKik+3X7r2T4DpH0LbLwCMaSuisvscBjpWNHyEeumU7bQ==",
        ),
    ],
)
def test_snap_get_vectors_through_build_call(path: str, expected: str) -> None:
    provider = lookup("snap")
    profile = _profile(
        provider,
        {"client_id": "C", "private_key": "unused", "client_secret": "EXAMPLE-CLIENT-SECRET", "base_url": "https://g"},
    )
    call = Call("get", path, None, "EXAMPLE-ACCESS-TOKEN", "1")
    request = provider.build_call(profile, call, "2024-01-01T00:00:00+07:00")
    assert request.signature == expected
    assert request.headers["X-SIGNATURE"] == expected
    assert request.method == "GET"
    assert request.url == "https://g" + path
    assert request.headers["Authorization"] == "Bearer EXAMPLE-ACCESS-TOKEN"
    assert request.string_to_sign.split(":")[3] == hashlib.sha256(b"").hexdigest()


def test_doku_documented_body_hash_keeps_spaces_inside_values() -> None:
    digest = hashlib.sha256(DOKU_BODY.encode()).hexdigest()
    assert digest == "3274fab8dac896837b106a16da2a974e7e65142dcecb4b768ef0294102838977"
    string = snap_call_string(
        "POST", "/v1.0/transfer-va/create-va", "T", DOKU_BODY.encode(), "2024-01-01T00:00:00+07:00"
    )
    assert string.split(":")[3] == digest


@pytest.mark.parametrize("secret", ["s", "EXAMPLE-CLIENT-SECRET", "rahasia-ñ-秘密"])
@pytest.mark.parametrize("body", [b"", b'{"a":"x y","n":1}', DOKU_BODY.encode()])
def test_snap_call_signature_matches_an_independent_hmac(secret: str, body: bytes) -> None:
    provider = lookup("doku-snap")
    profile = _profile(
        provider, {"client_id": "C", "private_key": "unused", "client_secret": secret, "base_url": "https://g"}
    )
    timestamp = "2024-05-01T10:00:00+07:00"
    request = provider.build_call(profile, Call("POST", "/v1.0/x?q=1", body or None, "TOK", "42"), timestamp)
    assert request.signature == independent_snap(secret, "POST", "/v1.0/x?q=1", "TOK", body, timestamp)
    assert request.body == (body or None)


def test_nicepay_prefix_is_in_the_url_and_not_signed() -> None:
    provider = lookup("nicepay")
    profile = _profile(
        provider, {"client_id": "IONPAYTEST", "private_key": "x", "client_secret": "S", "base_url": "https://n"}
    )
    for given in ("/api/v1.0/transfer-va/create-va", "/nicepay/api/v1.0/transfer-va/create-va"):
        request = provider.build_call(profile, Call("POST", given, b"{}", "T", "7"), "2024-01-01T00:00:00+07:00")
        assert request.url == "https://n/nicepay/api/v1.0/transfer-va/create-va"
        assert request.string_to_sign.startswith("POST:/api/v1.0/transfer-va/create-va:T:")
        assert request.headers["CHANNEL-ID"] == "IONPAYTEST01"
        assert request.headers["X-PARTNER-ID"] == "IONPAYTEST"


def test_snap_call_headers_and_their_checks() -> None:
    provider = lookup("finpay-snap")
    values = {"client_id": "C", "private_key": "x", "client_secret": "S", "partner_id": "P", "channel_id": "95221"}
    profile = _profile(provider, {**values, "base_url": "https://f", "call_headers": {"X-DEVICE-ID": "d"}})
    request = provider.build_call(profile, Call("POST", "/v1/x", b"{}", "T", "123"), "2024-01-01T00:00:00+07:00")
    assert request.headers["X-PARTNER-ID"] == "P"
    assert request.headers["CHANNEL-ID"] == "95221"
    assert request.headers["X-EXTERNAL-ID"] == "123"
    assert request.headers["X-DEVICE-ID"] == "d"
    with pytest.raises(UsageError, match="X-EXTERNAL-ID"):
        provider.build_call(profile, Call("POST", "/v1/x", b"{}", "T", "12a"), "2024-01-01T00:00:00+07:00")
    with pytest.raises(UsageError, match=r"(?i)x-signature"):
        provider.build_call(
            profile, Call("POST", "/v1/x", b"{}", "T", "1", {"x-signature": "mine"}), "2024-01-01T00:00:00+07:00"
        )
    bare = _profile(provider, {"client_id": "C", "private_key": "x", "base_url": "https://f"})
    with pytest.raises(ConfigError, match="client_secret"):
        provider.build_call(bare, Call("POST", "/v1/x", b"{}", "T", "1"), "2024-01-01T00:00:00+07:00")


def test_fresh_external_ids_are_digits_and_distinct() -> None:
    provider = lookup("nicepay")
    ids = {provider.new_call_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(value is not None and value.isdigit() and len(value) <= 36 for value in ids)


def test_doku_call_vector_and_independent_hmac() -> None:
    lines = "\n".join(
        [
            "Client-Id:MCH-0001-10791114622547",
            "Request-Id:d895fb53-479c-4f77-a76a-ab81b40d77cb",
            "Request-Timestamp:2020-08-11T08:45:42Z",
            "Request-Target:/orders/v1/status/INV-123123-12313",
        ]
    )
    independent = (
        "HMACSHA256="
        + base64.b64encode(hmac.new(b"SK-EXAMPLE-SECRET", lines.encode(), hashlib.sha256).digest()).decode()
    )
    assert independent == "HMACSHA256=dza7OSB372dw9xrkSv41943kMvChJkg6yvhs5ON98kQ="
    provider = lookup("doku")
    profile = _profile(
        provider, {"client_id": "MCH-0001-10791114622547", "secret_key": "SK-EXAMPLE-SECRET", "base_url": "https://d"}
    )
    call = Call("GET", "/orders/v1/status/INV-123123-12313", None, "JWT", "d895fb53-479c-4f77-a76a-ab81b40d77cb")
    request = provider.build_call(profile, call, "2020-08-11T08:45:42Z")
    assert request.string_to_sign == lines
    assert request.signature == independent
    body = b'{"order":{"amount":1}}'
    posted = provider.build_call(profile, Call("POST", "/p", body, "JWT", "r"), "2020-08-11T08:45:42Z")
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert posted.string_to_sign.endswith(f"\nDigest:{digest}")
    assert posted.signature == doku_signature(
        "SK-EXAMPLE-SECRET", component("MCH-0001-10791114622547", "r", "2020-08-11T08:45:42Z", "/p", digest)
    )


FASPAY = {
    "faspay_key": "K",
    "faspay_secret": "FASPAY_SECRET_EXAMPLE",
    "iv": "IV_EXAMPLE",
    "app_key": "APPKEY_EXAMPLE",
    "app_secret": "APPSECRET_EXAMPLE",
    "client_key": "CLIENTKEY_EXAMPLE",
    "client_secret": "CLIENTSECRET_EXAMPLE",
    "base_url": "https://f",
}


def test_faspay_call_vector() -> None:
    expected_string = (
        "POST:/account/api/transfer:2018-10-09 14:24:00:"
        "Q0xJRU5US0VZX0VYQU1QTEU6Q0xJRU5UU0VDUkVUX0VYQU1QTEU6QUNDRVNTX1RPS0VOX0VYQU1QTEU=:"
    )
    expected = (
        "yOt0a/N9kJhMtXKFaxv45R902MH5fojr7AS9XSTASwAgP+o5YhfBDgWy2YkEKq0RGxiz/gtOWB4xX0qLMkRCeLyPL3iFVrwvz81ONPLy2unu"
        "iSEOLKzDw6GcZ+w4XqWzqoZ5YE0wCpcmKbvgaiPCbLJlIfAuGtYHnm8oFt1kMnmFWYTm9ix3Y206k9syN0V/"
    )
    provider = lookup("faspay-sendme")
    profile = _profile(provider, FASPAY)
    call = Call("POST", "/account/api/transfer", b'{"amount":"1"}', "ACCESS_TOKEN_EXAMPLE")
    request = provider.build_call(profile, call, "2018-10-09 14:24:00")
    assert request.string_to_sign == expected_string
    assert request.signature == expected == request.headers["faspay-signature"]
    assert request.body == b'{"amount":"1"}'
    sts = faspay_string_to_sign(
        "/account/api/transfer",
        "2018-10-09 14:24:00",
        "CLIENTKEY_EXAMPLE",
        "CLIENTSECRET_EXAMPLE",
        method="POST",
        token="ACCESS_TOKEN_EXAMPLE",
    )
    assert faspay_aes("FASPAY_SECRET_EXAMPLE", "IV_EXAMPLE", sts) == expected


def test_finpay_widget_call_signs_its_fields_with_the_token() -> None:
    provider = lookup("finpay-widget")
    profile = _profile(
        provider,
        {"merchant_id": "M", "merchant_password": "P", "secret_key": "e4siErApPs2020", "base_url": "https://w"},
    )
    body = b'{"reqDtime":"20240821142750","amount":"10000","phoneNumber":"081286288844"}'
    request = provider.build_call(profile, Call("POST", "/apicobrand/widget/topup", body, "TOKEN-1"), "x")
    fields = {"reqDtime": "20240821142750", "amount": "10000", "phoneNumber": "081286288844", "tokenID": "TOKEN-1"}
    independent = independent_finpay("e4siErApPs2020", fields)
    assert request.signature == independent
    sent = json.loads(request.body or b"")
    assert sent == {**fields, "signature": independent}
    with pytest.raises(UsageError, match="tokenID"):
        provider.build_call(profile, Call("POST", "/apicobrand/widget/topup", b'{"tokenID":"x"}', "T"), "x")


def test_finpay_widget_call_adds_req_dtime_from_the_clock_unless_given() -> None:
    provider = lookup("finpay-widget")
    profile = _profile(
        provider, {"merchant_id": "M", "merchant_password": "P", "secret_key": "k", "base_url": "https://w"}
    )
    request = provider.build_call(
        profile, Call("POST", "/apicobrand/widget/topup", b'{"amount":"5"}', "T"), "20240821142750"
    )
    sent = json.loads(request.body or b"")
    assert sent["reqDtime"] == "20240821142750"
    assert request.signed_at is not None
    fields = {"amount": "5", "reqDtime": "20240821142750", "tokenID": "T"}
    assert request.signature == independent_finpay("k", fields)
