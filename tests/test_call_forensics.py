"""`--compare` and `--replay` for the calls after the token (SPEC 6.4): each known mistake, named.

Every wrong signature here is made in the test the way a user's own code makes it: Python's hmac, hashlib,
json and base64, `openssl dgst` for the RSA form, and `cryptography`'s AES primitive for Faspay (the same
independent helpers as tests/test_forensics.py). tidak_cli only builds the right request and searches. The
helpers are pinned to SPEC 6's vectors first, so that a mistake built here is the mistake it claims to be.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import subprocess
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import padding as block_padding
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from support import assert_clean, faspay_credentials, paytoken

from tidak_cli.capture import parse_capture
from tidak_cli.demo import Workspace
from tidak_cli.forensics import Comparison, SearchContext
from tidak_cli.gateways import forensics_for, lookup
from tidak_cli.gateways.base import Call, CallReplay, Provider
from tidak_cli.gateways.snap.forensics import SnapForensics
from tidak_cli.gateways.snap.recipe import NICEPAY
from tidak_cli.inspection import compare_call, replay_call
from tidak_cli.profiles import Profile, resolve_profile
from tidak_cli.sandbox import Sandbox

JAKARTA = ZoneInfo("Asia/Jakarta")
BASE_URL = "https://gw.example"

# Fresh credentials for every run of this module.
CLIENT_ID = "IONPAY" + secrets.token_hex(3).upper()
CLIENT_SECRET = "cs-" + secrets.token_urlsafe(24)
TOKEN = "tok-" + secrets.token_urlsafe(30)
OLD_TOKEN = "tok-" + secrets.token_urlsafe(30)  # the token before the last refresh
UNKNOWN_TOKEN = "tok-" + secrets.token_urlsafe(30)  # a token paytoken has never seen
EXTERNAL_ID = "".join(secrets.choice("0123456789") for _ in range(20))
DOKU_CLIENT = "MCH-0001-" + "".join(secrets.choice("0123456789") for _ in range(14))
DOKU_SECRET = "SK-" + secrets.token_urlsafe(24)
REQUEST_ID = str(uuid.uuid4())
FINPAY_SECRET = "fs-" + secrets.token_urlsafe(18)
FASPAY = faspay_credentials()

SNAP_STAMP = "2024-12-31T10:11:40+07:00"
DOKU_STAMP = "2024-12-31T03:11:40Z"
FASPAY_STAMP = "2024-12-31 10:11:40"
SIGNED_AT = datetime(2024, 12, 31, 3, 11, 40, tzinfo=UTC)

# A body every body mistake applies to: spaces inside values, a "/", a non-ASCII letter.
BODY: dict[str, Any] = {
    "partnerServiceId": "  088899",
    "customerNo": "12345678901234567890",
    "virtualAccountName": "Jokul Doé",
    "trxId": "inv/2024/001",
    "totalAmount": {"value": "12345678.00", "currency": "IDR"},
}
SENT = json.dumps(BODY, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
NICEPAY_PATH = "/api/v1.0/transfer-va/create-va?channel=web"  # as the user gives it: the /nicepay prefix unsigned


# --- independent implementations (SPEC 6.2, 6.3) -------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def snap_string(method: str, path: str, token: str | None, body: bytes, stamp: str, *, body_hash: str = "") -> str:
    digest = body_hash or hashlib.sha256(body).hexdigest()
    return ":".join([method, path, *([token] if token is not None else []), digest, stamp])


def hmac512(key: str, text: str) -> bytes:
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha512).digest()


def snap_sig(
    *,
    method: str = "POST",
    path: str = NICEPAY_PATH,
    token: str = TOKEN,
    body: bytes = SENT,
    stamp: str = SNAP_STAMP,
    key: str = CLIENT_SECRET,
    body_hash: str = "",
) -> str:
    return b64(hmac512(key, snap_string(method, path, token, body, stamp, body_hash=body_hash)))


def openssl_sign(key_file: Path, text: str) -> str:
    data = key_file.with_suffix(".data")
    data.write_bytes(text.encode("utf-8"))
    signed = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(key_file), str(data)], check=True, capture_output=True
    ).stdout
    return b64(signed)


def doku_sig(
    *,
    target: str,
    body: bytes | None,
    stamp: str = DOKU_STAMP,
    key: str = DOKU_SECRET,
    digest: str | None = None,
    with_digest: bool | None = None,
) -> str:
    lines = [
        f"Client-Id:{DOKU_CLIENT}",
        f"Request-Id:{REQUEST_ID}",
        f"Request-Timestamp:{stamp}",
        f"Request-Target:{target}",
    ]
    if with_digest if with_digest is not None else bool(body):
        lines.append(f"Digest:{digest if digest is not None else b64(hashlib.sha256(body or b'').digest())}")
    raw = hmac.new(key.encode("utf-8"), "\n".join(lines).encode("utf-8"), hashlib.sha256).digest()
    return "HMACSHA256=" + b64(raw)


def faspay_text(method: str, path: str, stamp: str, token: str | None, body_field: str = "") -> str:
    credentials = f"{FASPAY['client_key']}:{FASPAY['client_secret']}" + (f":{token}" if token is not None else "")
    return f"{method}:{path}:{stamp}:{b64(credentials.encode())}:{body_field}"


def faspay_aes(text: str, secret: str = FASPAY["faspay_secret"], iv: str = FASPAY["iv"]) -> str:
    key = hashlib.sha256(secret.encode("utf-8")).digest()
    vector = hashlib.md5((secret + iv).encode("utf-8")).hexdigest()[-16:].encode("ascii")
    padder = block_padding.PKCS7(128).padder()
    plain = padder.update(text.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(vector)).encryptor()
    return b64(encryptor.update(plain) + encryptor.finalize())


def faspay_hmac(text: str, secret: str = FASPAY["faspay_secret"]) -> str:
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def finpay_sig(fields: Mapping[str, str], *, key: bytes | None = None, order: list[str] | None = None) -> str:
    joined = "".join(fields[name] for name in (order if order is not None else sorted(fields)))
    key = key if key is not None else FINPAY_SECRET.encode("ascii").hex().encode("ascii")
    return hmac.new(key, joined.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def test_the_independent_helpers_give_spec_6_vectors() -> None:
    midtrans = (
        "POST:/v1.0/debit/payment-host-to-host:gp9HjjEj813Y9JGoqwOeOPWbnt4CupvIJbU1Mmu4a11MNDZ7Sg5u9a:"
        "56fa5f4999ad8014de49d7898c1d1d53472569db8999de3c1b752a0dd181e98c:2020-01-01T00:00:00+07:00"
    )
    assert b64(hmac512("fdppqbF5wq7vVegyvsV1CROMv646nJ7A", midtrans)) == (
        "FSlidRHe4ow9qppNifGVQNcdv67lBjgCiP0BHylh+IKXo4fs2rHaGsFNUY0N8t0rPlZs4iAHAOCDklnCccwuJw=="
    )
    status = snap_sig(
        method="GET",
        path="/v1.0/transfer-va/status?partnerServiceId=123",
        token="EXAMPLE-ACCESS-TOKEN",
        body=b"",
        stamp="2024-01-01T00:00:00+07:00",
        key="EXAMPLE-CLIENT-SECRET",
    )
    assert status == "a/dnwehBwDxWjY3+cB7xdQjAdMEgOmNHZmd+4+3j5qKik+3X7r2T4DpH0LbLwCMaSuisvscBjpWNHyEeumU7bQ=="
    lines = (
        "Client-Id:MCH-0001-10791114622547\nRequest-Id:d895fb53-479c-4f77-a76a-ab81b40d77cb\n"
        "Request-Timestamp:2020-08-11T08:45:42Z\nRequest-Target:/orders/v1/status/INV-123123-12313"
    )
    doku = b64(hmac.new(b"SK-EXAMPLE-SECRET", lines.encode(), hashlib.sha256).digest())
    assert doku == "dza7OSB372dw9xrkSv41943kMvChJkg6yvhs5ON98kQ="
    example = {"faspay_secret": "FASPAY_SECRET_EXAMPLE", "iv": "IV_EXAMPLE"}
    text = (
        "POST:/account/api/transfer:2018-10-09 14:24:00:"
        "Q0xJRU5US0VZX0VYQU1QTEU6Q0xJRU5UU0VDUkVUX0VYQU1QTEU6QUNDRVNTX1RPS0VOX0VYQU1QTEU=:"
    )
    assert faspay_aes(text, example["faspay_secret"], example["iv"]) == (
        "yOt0a/N9kJhMtXKFaxv45R902MH5fojr7AS9XSTASwAgP+o5YhfBDgWy2YkEKq0RGxiz/gtOWB4xX0qLMkRCeLyPL3iFVrwvz81ONPLy2unu"
        "iSEOLKzDw6GcZ+w4XqWzqoZ5YE0wCpcmKbvgaiPCbLJlIfAuGtYHnm8oFt1kMnmFWYTm9ix3Y206k9syN0V/"
    )
    fields = {"reqDtime": "20240821142750", "requestType": "getToken", "transNumber": "TKN212418241627519329"}
    assert finpay_sig(fields, key=b"6534736945724170507332303230") == (
        "02580ADCB95AABF2CBBA78B53CE45182F5B429EA30154C259A45CAECF532E7AE"
    )
    documented = (
        '{"partnerServiceId":"  088899","customerNo":"12345678901234567890","virtualAccountNo":"  '
        '08889912345678901234567890","virtualAccountName":"Jokul Doe","virtualAccountEmail":"jokul@email.com",'
        '"virtualAccountPhone":"6281828384858","trxId":"abcdefgh1234","totalAmount":{"value":"12345678.00",'
        '"currency":"IDR"}}'
    )
    assert hashlib.sha256(documented.encode()).hexdigest() == (
        "3274fab8dac896837b106a16da2a974e7e65142dcecb4b768ef0294102838977"
    )


# --- profiles and the search ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    pem: str  # the profile's RSA private key, PKCS#8 PEM text
    file: Path  # the same key on disk, for openssl
    other_file: Path  # a stranger's key


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("call-keys")

    def write(name: str) -> tuple[str, Path]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        path = folder / f"{name}.pem"
        path.write_text(pem)
        return pem, path

    pem, file = write("mine")
    _, other = write("other")
    return Keys(pem, file, other)


def profile_for(provider: Provider, table: Mapping[str, object]) -> Profile:
    return resolve_profile(provider, "test", {**table, "base_url": BASE_URL}, path=None, environ={})


def snap_profile(keys: Keys) -> Profile:
    return profile_for(NICEPAY, {"client_id": CLIENT_ID, "private_key": keys.pem, "client_secret": CLIENT_SECRET})


def context(
    stamp: str | None, *, nonce: str | None = None, tokens: tuple[str, ...] = (), now: datetime | None = None
) -> SearchContext:
    now = now or datetime.now(UTC)
    return SearchContext.around(
        now, timestamp=stamp, signed_at=SIGNED_AT if stamp else None, nonce=nonce, tokens=tokens
    )


def compare(
    provider: Provider, profile: Profile, call: Call, signature: str, search: SearchContext, when: datetime | str
) -> Comparison:
    request = provider.build_call(profile, call, when)
    return forensics_for(provider).compare_call(profile, request, call, signature, search)


def never_shown() -> list[str]:
    """Secrets, and tokens other than the call's own, which no finding may spell out."""
    credentials = [f"{FASPAY['client_key']}:{FASPAY['client_secret']}" + end for end in ("", f":{TOKEN}")]
    return [
        CLIENT_SECRET,
        DOKU_SECRET,
        FINPAY_SECRET,
        FINPAY_SECRET.encode().hex(),
        *(FASPAY[name] for name in ("faspay_secret", "app_secret", "client_secret", "iv")),
        *(b64(text.encode())[:-4] for text in credentials),
        OLD_TOKEN,
        UNKNOWN_TOKEN,
    ]


def assert_nothing_secret(found: Comparison) -> None:
    shown = "\n".join((*found.findings, found.hint or ""))
    leaks = [secret[:6] + "…" for secret in never_shown() if secret in shown]
    assert not leaks, (leaks, shown)


def assert_named(found: Comparison, key: str) -> None:
    assert not found.matches, found
    assert found.mistake == key, found
    assert found.hint, found  # the fix
    assert any(line.startswith("found the mistake:") for line in found.findings), found
    assert_nothing_secret(found)


def assert_none_named(found: Comparison, *words: str) -> None:
    assert not found.matches, found
    assert found.mistake is None, found
    shown = "\n".join(found.findings)
    assert "checked: the recipe as given" in shown, shown
    assert_nothing_secret(found)
    for word in words:
        assert word in shown, shown


# --- SNAP, symmetric (HMAC-SHA512 with client_secret) -----------------------------------------------------

SNAP_CALL = Call("POST", NICEPAY_PATH, SENT, TOKEN, EXTERNAL_ID)


def _bare(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if "-----" not in line)


SNAP_MISTAKES: list[tuple[str, Callable[[Keys], str], str]] = [
    ("python json.dumps default", lambda k: snap_sig(body=json.dumps(BODY).encode()), "snap.call.body-spacing"),
    (
        "spaced, unicode kept",
        lambda k: snap_sig(body=json.dumps(BODY, ensure_ascii=False).encode()),
        "snap.call.body-spacing",
    ),
    (
        "indent=2",
        lambda k: snap_sig(body=json.dumps(BODY, indent=2, ensure_ascii=False).encode()),
        "snap.call.body-spacing",
    ),
    ("pretty indent=4", lambda k: snap_sig(body=json.dumps(BODY, indent=4).encode()), "snap.call.body-spacing"),
    (
        "php \\/",
        lambda k: snap_sig(body=SENT.decode().replace("/", "\\/").encode()),
        "snap.call.body-escaped-slash",
    ),
    (
        "\\uXXXX",
        lambda k: snap_sig(body=json.dumps(BODY, separators=(",", ":")).encode()),
        "snap.call.body-unicode-escaped",
    ),
    ("spaces stripped", lambda k: snap_sig(body=SENT.replace(b" ", b"")), "snap.call.body-spaces-stripped"),
    ("empty body hash", lambda k: snap_sig(body=b""), "snap.call.empty-body-hash"),
    ("query left out", lambda k: snap_sig(path="/api/v1.0/transfer-va/create-va"), "snap.call.query-left-out"),
    (
        "host included",
        lambda k: snap_sig(path=f"{BASE_URL}/nicepay/api/v1.0/transfer-va/create-va?channel=web"),
        "snap.call.host-included",
    ),
    ("/nicepay signed", lambda k: snap_sig(path="/nicepay" + NICEPAY_PATH), "snap.call.prefix-signed"),
    (
        "upper-case hex hash",
        lambda k: snap_sig(body_hash=hashlib.sha256(SENT).hexdigest().upper()),
        "snap.call.uppercase-body-hash",
    ),
    (
        "hex output",
        lambda k: hmac.new(
            CLIENT_SECRET.encode(), snap_string("POST", NICEPAY_PATH, TOKEN, SENT, SNAP_STAMP).encode(), hashlib.sha512
        ).hexdigest(),
        "snap.call.hex-signature",
    ),
    ("Bearer kept", lambda k: snap_sig(token="Bearer " + TOKEN), "snap.call.bearer-in-token"),
    ("the previous token", lambda k: snap_sig(token=OLD_TOKEN), "snap.call.other-token"),
    ("lower-case method", lambda k: snap_sig(method="post"), "snap.call.lowercase-method"),
    ("timestamp taken twice", lambda k: snap_sig(stamp="2024-12-31T10:11:42+07:00"), "snap.call.other-timestamp"),
    ("the same moment in UTC", lambda k: snap_sig(stamp="2024-12-31T03:11:40Z"), "snap.call.other-timestamp"),
    ("a stale UTC timestamp", lambda k: snap_sig(stamp="2024-12-31T03:04:10Z"), "snap.call.other-timestamp"),
    ("RSA key PEM as the secret", lambda k: snap_sig(key=k.pem), "snap.call.rsa-key-as-secret"),
    ("RSA key bare base64 as the secret", lambda k: snap_sig(key=_bare(k.pem)), "snap.call.rsa-key-as-secret"),
    ("client_id as the secret", lambda k: snap_sig(key=CLIENT_ID), "snap.call.client-id-as-secret"),
    ("letter case", lambda k: snap_sig().lower(), "letter-case"),
]


@pytest.mark.parametrize(("name", "make", "key"), SNAP_MISTAKES, ids=[row[0] for row in SNAP_MISTAKES])
def test_snap_call_mistake_is_named(keys: Keys, name: str, make: Callable[[Keys], str], key: str) -> None:
    profile = snap_profile(keys)
    found = compare(NICEPAY, profile, SNAP_CALL, make(keys), context(SNAP_STAMP, tokens=(OLD_TOKEN,)), SNAP_STAMP)
    assert_named(found, key)


def test_snap_call_right_signature_matches(keys: Keys) -> None:
    profile = snap_profile(keys)
    found = compare(NICEPAY, profile, SNAP_CALL, snap_sig(), context(SNAP_STAMP), SNAP_STAMP)
    assert found.matches and found.mistake is None


def test_snap_call_random_signature_names_nothing_and_says_what_was_checked(keys: Keys) -> None:
    profile = snap_profile(keys)
    random = b64(secrets.token_bytes(64))
    found = compare(NICEPAY, profile, SNAP_CALL, random, context(SNAP_STAMP, tokens=(OLD_TOKEN,)), SNAP_STAMP)
    assert_none_named(
        found,
        "the body hashed with other spacing",
        "the query string left out",
        "the /nicepay prefix signed",
        "client_id as the HMAC key",
        "other timestamps within 10 minutes",
        "another or an expired access token, or another client_secret",
        "••••" + OLD_TOKEN[-4:],  # the known tokens were tried, and are named masked
    )
    assert OLD_TOKEN not in "\n".join(found.findings)


def test_snap_call_unknown_token_cannot_be_named(keys: Keys) -> None:
    """An HMAC made with a token paytoken never saw reproduces nothing: it says so, and names no mistake."""
    profile = snap_profile(keys)
    found = compare(NICEPAY, profile, SNAP_CALL, snap_sig(token=UNKNOWN_TOKEN), context(SNAP_STAMP), SNAP_STAMP)
    assert_none_named(found, "an HMAC does not say which of its inputs differ", "another or an expired access token")
    assert found.hint and "token the call sends in Authorization" in found.hint


def test_snap_call_without_timestamp_searches_the_last_minutes(keys: Keys) -> None:
    """No --timestamp: a spaced body signed two minutes ago is still named; the right one matches, and says when."""
    profile = snap_profile(keys)
    now = datetime.now(UTC).replace(microsecond=0)
    then = (now - timedelta(minutes=2)).astimezone(JAKARTA).isoformat(timespec="seconds")
    search = context(None, now=now)
    spaced = snap_sig(body=json.dumps(BODY).encode(), stamp=then)
    assert_named(compare(NICEPAY, profile, SNAP_CALL, spaced, search, now), "snap.call.body-spacing")
    right = compare(NICEPAY, profile, SNAP_CALL, snap_sig(stamp=then), search, now)
    assert right.matches and right.matched == f"X-TIMESTAMP {then}, 2 minutes ago"


def test_snap_get_without_body_is_searched_too(keys: Keys) -> None:
    profile = profile_for(
        lookup("doku-snap"), {"client_id": CLIENT_ID, "private_key": keys.pem, "client_secret": CLIENT_SECRET}
    )
    call = Call("GET", "/v1.0/transfer-va/status?partnerServiceId=123", None, TOKEN, EXTERNAL_ID)
    provider = lookup("doku-snap")
    path = "/v1.0/transfer-va/status"
    wrong = snap_sig(method="GET", path=path, body=b"")
    assert_named(compare(provider, profile, call, wrong, context(SNAP_STAMP), SNAP_STAMP), "snap.call.query-left-out")
    lower = snap_sig(method="get", path=call.path, body=b"")
    assert_named(compare(provider, profile, call, lower, context(SNAP_STAMP), SNAP_STAMP), "snap.call.lowercase-method")


# --- SNAP presets: their own secret names and timestamp styles -------------------------------------------


def test_bni_call_searches_under_its_own_secret_name(keys: Keys) -> None:
    """BNI keys its call HMAC with api_secret: the search uses it, and says so in the fix."""
    provider = lookup("bni")
    profile = profile_for(provider, {"client_id": CLIENT_ID, "private_key": keys.pem, "api_secret": CLIENT_SECRET})
    call = Call("POST", "/v1.0/transfer-va/create-va", SENT, TOKEN, EXTERNAL_ID)
    path = call.path
    right = compare(provider, profile, call, snap_sig(path=path), context(SNAP_STAMP), SNAP_STAMP)
    assert right.matches, right
    found = compare(provider, profile, call, snap_sig(path=path, key=CLIENT_ID), context(SNAP_STAMP), SNAP_STAMP)
    assert_named(found, "snap.call.client-id-as-secret")
    assert "api_secret" in (found.hint or "") and "client_secret" not in (found.hint or "")


def test_bri_call_timestamp_taken_twice_milliseconds_apart(keys: Keys) -> None:
    """BRI writes X-TIMESTAMP with milliseconds: a second reading of the clock is found to the millisecond."""
    provider = lookup("bri")
    profile = profile_for(provider, {"client_id": CLIENT_ID, "private_key": keys.pem, "client_secret": CLIENT_SECRET})
    stamp = "2024-12-31T10:11:40.123+07:00"
    call = Call("POST", "/v1.0/transfer-va/create-va", SENT, TOKEN, EXTERNAL_ID)
    search = SearchContext.around(
        datetime.now(UTC), timestamp=stamp, signed_at=SIGNED_AT + timedelta(milliseconds=123), nonce=None
    )
    path = call.path
    assert compare(provider, profile, call, snap_sig(path=path, stamp=stamp), search, stamp).matches
    for other in ("2024-12-31T10:11:40.131+07:00", "2024-12-31T10:11:40+07:00"):
        found = compare(provider, profile, call, snap_sig(path=path, stamp=other), search, stamp)
        assert_named(found, "snap.call.other-timestamp")
        assert other in "\n".join(found.findings)


def test_dana_asymmetric_call_preset(keys: Keys) -> None:
    """DANA signs its calls with SHA256withRSA (type 2): the mistake search opens the signature with the key."""
    provider = lookup("dana")
    profile = profile_for(provider, {"client_id": CLIENT_ID, "private_key": keys.pem})
    call = Call("POST", "/v1.0/debit/payment-host-to-host.htm", SENT, None, EXTERNAL_ID)
    text = snap_string("POST", call.path, None, json.dumps(BODY).encode(), SNAP_STAMP)
    found = compare(provider, profile, call, openssl_sign(keys.file, text), context(SNAP_STAMP), SNAP_STAMP)
    assert not found.matches and found.mistake == "snap.call.body-spacing", found
    right = openssl_sign(keys.file, snap_string("POST", call.path, None, SENT, SNAP_STAMP))
    assert compare(provider, profile, call, right, context(SNAP_STAMP), SNAP_STAMP).matches


# --- SNAP, asymmetric (type 2: SHA256withRSA, no token), signed by openssl ------------------------------

ASYMMETRIC = replace(NICEPAY, call_signature="asymmetric")


def rsa_sig(keys: Keys, *, key_file: Path | None = None, **changed: Any) -> str:
    fields: dict[str, Any] = {"method": "POST", "path": NICEPAY_PATH, "body": SENT, "stamp": SNAP_STAMP, **changed}
    text = snap_string(
        fields["method"], fields["path"], None, fields["body"], fields["stamp"], body_hash=fields.get("body_hash", "")
    )
    return openssl_sign(key_file or keys.file, text)


RSA_MISTAKES: list[tuple[str, Callable[[Keys], str], str]] = [
    ("python json.dumps default", lambda k: rsa_sig(k, body=json.dumps(BODY).encode()), "snap.call.body-spacing"),
    ("php \\/", lambda k: rsa_sig(k, body=SENT.decode().replace("/", "\\/").encode()), "snap.call.body-escaped-slash"),
    (
        "\\uXXXX",
        lambda k: rsa_sig(k, body=json.dumps(BODY, separators=(",", ":")).encode()),
        "snap.call.body-unicode-escaped",
    ),
    ("spaces stripped", lambda k: rsa_sig(k, body=SENT.replace(b" ", b"")), "snap.call.body-spaces-stripped"),
    ("empty body hash", lambda k: rsa_sig(k, body=b""), "snap.call.empty-body-hash"),
    ("query left out", lambda k: rsa_sig(k, path="/api/v1.0/transfer-va/create-va"), "snap.call.query-left-out"),
    ("/nicepay signed", lambda k: rsa_sig(k, path="/nicepay" + NICEPAY_PATH), "snap.call.prefix-signed"),
    (
        "upper-case hex hash",
        lambda k: rsa_sig(k, body_hash=hashlib.sha256(SENT).hexdigest().upper()),
        "snap.call.uppercase-body-hash",
    ),
    ("lower-case method", lambda k: rsa_sig(k, method="post"), "snap.call.lowercase-method"),
    ("timestamp in UTC", lambda k: rsa_sig(k, stamp="2024-12-31T03:11:41Z"), "snap.call.other-timestamp"),
    ("hex output", lambda k: base64.b64decode(rsa_sig(k)).hex(), "encoding"),
    ("another key pair", lambda k: rsa_sig(k, key_file=k.other_file), "another-key"),
]


@pytest.mark.parametrize(("name", "make", "key"), RSA_MISTAKES, ids=[row[0] for row in RSA_MISTAKES])
def test_snap_asymmetric_call_mistake_is_named(keys: Keys, name: str, make: Callable[[Keys], str], key: str) -> None:
    profile = snap_profile(keys)
    call = replace(SNAP_CALL, token=None)
    found = SnapForensics(ASYMMETRIC).compare_call(
        profile, ASYMMETRIC.build_call(profile, call, SNAP_STAMP), call, make(keys), context(SNAP_STAMP)
    )
    assert not found.matches and found.mistake == key, found
    assert found.hint


def test_snap_asymmetric_call_right_and_unrelated(keys: Keys) -> None:
    profile = snap_profile(keys)
    call = replace(SNAP_CALL, token=None)
    request = ASYMMETRIC.build_call(profile, call, SNAP_STAMP)
    assert "Authorization" not in request.headers
    forensics = SnapForensics(ASYMMETRIC)
    assert forensics.compare_call(profile, request, call, rsa_sig(keys), context(SNAP_STAMP)).matches
    # Made with this key over bytes no mistake explains: says so and what it checked.
    other_bytes = rsa_sig(keys, path="/api/v1.0/somewhere-else")
    found = forensics.compare_call(profile, request, call, other_bytes, context(SNAP_STAMP))
    assert_none_named(found, "made with this profile's key, but over other bytes", "the body hashed with other spacing")


# --- DOKU (non-SNAP): HMAC-SHA256 over the component lines --------------------------------------------

DOKU_PATH = "/checkout/v1/payment?lang=id"
DOKU_CALL = Call("POST", DOKU_PATH, SENT, TOKEN, REQUEST_ID)

DOKU_MISTAKES: list[tuple[str, Callable[[], str], str]] = [
    (
        "python json.dumps default",
        lambda: doku_sig(target=DOKU_PATH, body=json.dumps(BODY).encode()),
        "doku.call.body-spacing",
    ),
    (
        "indent=2",
        lambda: doku_sig(target=DOKU_PATH, body=json.dumps(BODY, indent=2).encode()),
        "doku.call.body-spacing",
    ),
    (
        "php \\/",
        lambda: doku_sig(target=DOKU_PATH, body=SENT.decode().replace("/", "\\/").encode()),
        "doku.call.body-escaped-slash",
    ),
    (
        "\\uXXXX",
        lambda: doku_sig(target=DOKU_PATH, body=json.dumps(BODY, separators=(",", ":")).encode()),
        "doku.call.body-unicode-escaped",
    ),
    (
        "spaces stripped",
        lambda: doku_sig(target=DOKU_PATH, body=SENT.replace(b" ", b"")),
        "doku.call.body-spaces-stripped",
    ),
    (
        "digest of an empty body",
        lambda: doku_sig(target=DOKU_PATH, body=b"", with_digest=True),
        "doku.call.empty-body-digest",
    ),
    (
        "digest line left out",
        lambda: doku_sig(target=DOKU_PATH, body=SENT, with_digest=False),
        "doku.call.digest-left-out",
    ),
    (
        "digest as hex",
        lambda: doku_sig(target=DOKU_PATH, body=SENT, digest=hashlib.sha256(SENT).hexdigest()),
        "doku.digest-hex",
    ),
    ("query left out", lambda: doku_sig(target="/checkout/v1/payment", body=SENT), "doku.call.query-left-out"),
    ("host included", lambda: doku_sig(target=BASE_URL + DOKU_PATH, body=SENT), "doku.call.host-included"),
    (
        "no HMACSHA256= prefix",
        lambda: doku_sig(target=DOKU_PATH, body=SENT).removeprefix("HMACSHA256="),
        "doku.no-prefix",
    ),
    (
        "hex output",
        lambda: "HMACSHA256=" + base64.b64decode(doku_sig(target=DOKU_PATH, body=SENT)[11:]).hex(),
        "doku.hex-signature",
    ),
    (
        "secret with a line break",
        lambda: doku_sig(target=DOKU_PATH, body=SENT, key=DOKU_SECRET + "\n"),
        "doku.secret-newline",
    ),
    (
        "Client-Id as the key",
        lambda: doku_sig(target=DOKU_PATH, body=SENT, key=DOKU_CLIENT),
        "doku.call.client-id-as-key",
    ),
    (
        "Jakarta time",
        lambda: doku_sig(target=DOKU_PATH, body=SENT, stamp="2024-12-31T10:11:40+07:00"),
        "doku.timestamp-offset",
    ),
    (
        "timestamp taken twice",
        lambda: doku_sig(target=DOKU_PATH, body=SENT, stamp="2024-12-31T03:11:39Z"),
        "doku.call.other-timestamp",
    ),
    (
        "a stale Jakarta timestamp",
        lambda: doku_sig(target=DOKU_PATH, body=SENT, stamp="2024-12-31T10:03:00+07:00"),
        "doku.call.other-timestamp",
    ),
    ("letter case", lambda: doku_sig(target=DOKU_PATH, body=SENT).lower(), "letter-case"),
]


def doku_profile() -> Profile:
    return profile_for(lookup("doku"), {"client_id": DOKU_CLIENT, "secret_key": DOKU_SECRET})


@pytest.mark.parametrize(("name", "make", "key"), DOKU_MISTAKES, ids=[row[0] for row in DOKU_MISTAKES])
def test_doku_call_mistake_is_named(name: str, make: Callable[[], str], key: str) -> None:
    provider = lookup("doku")
    found = compare(provider, doku_profile(), DOKU_CALL, make(), context(DOKU_STAMP, nonce=REQUEST_ID), DOKU_STAMP)
    assert_named(found, key)


def test_doku_get_with_a_digest_line_is_named() -> None:
    provider = lookup("doku")
    call = Call("GET", "/orders/v1/status/INV-1", None, TOKEN, REQUEST_ID)
    search = context(DOKU_STAMP, nonce=REQUEST_ID)
    right = doku_sig(target=call.path, body=None)
    assert compare(provider, doku_profile(), call, right, search, DOKU_STAMP).matches
    digest = doku_sig(target=call.path, body=b"", with_digest=True)
    assert_named(compare(provider, doku_profile(), call, digest, search, DOKU_STAMP), "doku.call.digest-without-body")


def test_doku_call_right_random_and_unknown_request_id() -> None:
    provider = lookup("doku")
    search = context(DOKU_STAMP, nonce=REQUEST_ID)
    right = doku_sig(target=DOKU_PATH, body=SENT)
    assert compare(provider, doku_profile(), DOKU_CALL, right, search, DOKU_STAMP).matches
    random = "HMACSHA256=" + b64(secrets.token_bytes(32))
    found = compare(provider, doku_profile(), DOKU_CALL, random, search, DOKU_STAMP)
    assert_none_named(found, "the Digest line left out", "Client-Id as the HMAC key", "another secret_key")
    # The Request-Id is signed and random: without it, there is nothing to search, and it says why.
    blind = compare(provider, doku_profile(), DOKU_CALL, right.lower(), context(DOKU_STAMP), DOKU_STAMP)
    assert not blind.matches and blind.mistake is None
    assert any("Request-Id" in line for line in blind.findings) and "--external-id" in (blind.hint or "")


# --- Faspay SendMe: AES (opened with the profile's secret) and the HMAC form -----------------------------

FASPAY_PATH = "/account/api/transfer?mode=instant"
FASPAY_CALL = Call("POST", FASPAY_PATH, SENT, TOKEN)


def faspay_profile(method: str = "aes") -> Profile:
    return profile_for(lookup("faspay-sendme"), {**FASPAY, "signature_method": method})


def faspay(seal: Callable[[str], str] = faspay_aes, **changed: Any) -> str:
    fields: dict[str, Any] = {"method": "POST", "path": FASPAY_PATH, "stamp": FASPAY_STAMP, "token": TOKEN, **changed}
    return seal(faspay_text(fields["method"], fields["path"], fields["stamp"], fields["token"], fields.get("body", "")))


FASPAY_MISTAKES: list[tuple[str, Callable[[], str], str]] = [
    ("HMAC where AES is wanted", lambda: faspay(faspay_hmac), "faspay.other-signature-method"),
    ("token left out", lambda: faspay(token=None), "faspay.call.token-left-out"),
    # AES opens: the token inside the signature is read and named, though paytoken never saw it.
    ("a token paytoken never saw", lambda: faspay(token=UNKNOWN_TOKEN), "faspay.call.other-token"),
    ("Bearer kept", lambda: faspay(token="Bearer " + TOKEN), "faspay.call.bearer-in-token"),
    ("GET signed", lambda: faspay(method="GET"), "faspay.call.get-signed"),
    ("lower-case method", lambda: faspay(method="post"), "faspay.call.lowercase-method"),
    ("query left out", lambda: faspay(path="/account/api/transfer"), "faspay.call.query-left-out"),
    ("host included", lambda: faspay(path=BASE_URL + FASPAY_PATH), "faspay.call.host-included"),
    ("body signed", lambda: faspay(body=SENT.decode()), "faspay.call.body-signed"),
    (
        "no trailing colon",
        lambda: faspay_aes(faspay_text("POST", FASPAY_PATH, FASPAY_STAMP, TOKEN)[:-1]),
        "faspay.no-trailing-colon",
    ),
    (
        "client_secret as faspay_secret",
        lambda: faspay(lambda text: faspay_aes(text, secret=FASPAY["client_secret"])),
        "faspay.call.wrong-secret",
    ),
    ("ISO timestamp", lambda: faspay(stamp="2024-12-31T10:11:40"), "faspay.timestamp-format"),
    ("timestamp taken twice", lambda: faspay(stamp="2024-12-31 10:11:43"), "faspay.call.other-timestamp"),
]


@pytest.mark.parametrize(("name", "make", "key"), FASPAY_MISTAKES, ids=[row[0] for row in FASPAY_MISTAKES])
def test_faspay_call_mistake_is_named(name: str, make: Callable[[], str], key: str) -> None:
    found = compare(lookup("faspay-sendme"), faspay_profile(), FASPAY_CALL, make(), context(FASPAY_STAMP), FASPAY_STAMP)
    assert_named(found, key)


def test_faspay_unknown_token_is_read_out_of_the_aes_signature() -> None:
    found = compare(
        lookup("faspay-sendme"),
        faspay_profile(),
        FASPAY_CALL,
        faspay(token=UNKNOWN_TOKEN),
        context(FASPAY_STAMP),
        FASPAY_STAMP,
    )
    shown = "\n".join(found.findings)
    assert "read from the signature" in shown and "••••" + UNKNOWN_TOKEN[-4:] in shown
    assert UNKNOWN_TOKEN not in shown


def test_faspay_aes_right_random_and_two_mistakes_at_once() -> None:
    provider, profile = lookup("faspay-sendme"), faspay_profile()
    assert compare(provider, profile, FASPAY_CALL, faspay(), context(FASPAY_STAMP), FASPAY_STAMP).matches
    random = b64(secrets.token_bytes(96))
    found = compare(provider, profile, FASPAY_CALL, random, context(FASPAY_STAMP), FASPAY_STAMP)
    assert_none_named(found, "does not open with this profile's faspay_secret and iv", "the token left out")
    # No single mistake explains GET signed with another token; the opened string says what differs.
    two = faspay(method="GET", token=UNKNOWN_TOKEN)
    found = compare(provider, profile, FASPAY_CALL, two, context(FASPAY_STAMP), FASPAY_STAMP)
    assert_none_named(found, "the signature holds the method 'GET' where paytoken signs 'POST'", "another access token")


HMAC_MISTAKES: list[tuple[str, Callable[[], str], str]] = [
    ("AES where HMAC is wanted", lambda: faspay(faspay_aes), "faspay.other-signature-method"),
    ("the previous token", lambda: faspay(faspay_hmac, token=OLD_TOKEN), "faspay.call.other-token"),
    ("token left out", lambda: faspay(faspay_hmac, token=None), "faspay.call.token-left-out"),
    (
        "app_secret as faspay_secret",
        lambda: faspay(lambda text: faspay_hmac(text, secret=FASPAY["app_secret"])),
        "faspay.call.wrong-secret",
    ),
    ("timestamp taken twice", lambda: faspay(faspay_hmac, stamp="2024-12-31 10:11:39"), "faspay.call.other-timestamp"),
    ("letter case", lambda: faspay(faspay_hmac).upper(), "letter-case"),
]


@pytest.mark.parametrize(("name", "make", "key"), HMAC_MISTAKES, ids=[row[0] for row in HMAC_MISTAKES])
def test_faspay_hmac_call_mistake_is_named(name: str, make: Callable[[], str], key: str) -> None:
    search = context(FASPAY_STAMP, tokens=(OLD_TOKEN,))
    found = compare(lookup("faspay-sendme"), faspay_profile("hmac"), FASPAY_CALL, make(), search, FASPAY_STAMP)
    assert_named(found, key)


def test_faspay_hmac_unknown_token_cannot_be_named() -> None:
    found = compare(
        lookup("faspay-sendme"),
        faspay_profile("hmac"),
        FASPAY_CALL,
        faspay(faspay_hmac, token=UNKNOWN_TOKEN),
        context(FASPAY_STAMP),
        FASPAY_STAMP,
    )
    assert_none_named(found, "another or an expired access token")


# --- Finpay widget: sorted fields with tokenID, keyed with the secret's hex text -------------------------

WIDGET_FIELDS = {
    "transNumber": "TRX" + secrets.token_hex(5),
    "amount": "10000",
    "requestType": "topup",
    "reqDtime": "20241231101140",
    "phoneNumber": "081286288844",
}
WIDGET_CALL = Call("POST", "/apicobrand/widget/topup", json.dumps(WIDGET_FIELDS).encode(), TOKEN)
SIGNED_FIELDS = {**WIDGET_FIELDS, "tokenID": TOKEN}

FINPAY_MISTAKES: list[tuple[str, Callable[[], str], str]] = [
    ("raw secret as the key", lambda: finpay_sig(SIGNED_FIELDS, key=FINPAY_SECRET.encode()), "finpay.raw-secret-key"),
    (
        "upper-case key text",
        lambda: finpay_sig(SIGNED_FIELDS, key=FINPAY_SECRET.encode().hex().upper().encode()),
        "finpay.uppercase-key-text",
    ),
    ("tokenID left out", lambda: finpay_sig(WIDGET_FIELDS), "finpay.call.token-left-out"),
    ("the previous token", lambda: finpay_sig({**WIDGET_FIELDS, "tokenID": OLD_TOKEN}), "finpay.call.other-token"),
    ("Bearer kept", lambda: finpay_sig({**WIDGET_FIELDS, "tokenID": "Bearer " + TOKEN}), "finpay.call.bearer-in-token"),
    ("fields in body order", lambda: finpay_sig(SIGNED_FIELDS, order=list(SIGNED_FIELDS)), "finpay.unsorted-fields"),
    (
        "signature field joined",
        lambda: finpay_sig({**SIGNED_FIELDS, "signature": "null"}),
        "finpay.signature-field-included",
    ),
    (
        "reqDtime taken twice",
        lambda: finpay_sig({**SIGNED_FIELDS, "reqDtime": "20241231101141"}),
        "finpay.call.other-timestamp",
    ),
    ("letter case", lambda: finpay_sig(SIGNED_FIELDS).lower(), "letter-case"),
]


def finpay_profile() -> Profile:
    return profile_for(
        lookup("finpay-widget"),
        {"merchant_id": "M-0001", "merchant_password": "pw-" + secrets.token_hex(4), "secret_key": FINPAY_SECRET},
    )


@pytest.mark.parametrize(("name", "make", "key"), FINPAY_MISTAKES, ids=[row[0] for row in FINPAY_MISTAKES])
def test_finpay_widget_call_mistake_is_named(name: str, make: Callable[[], str], key: str) -> None:
    search = context(None, tokens=(OLD_TOKEN,))
    found = compare(lookup("finpay-widget"), finpay_profile(), WIDGET_CALL, make(), search, SIGNED_AT)
    assert_named(found, key)


def test_finpay_widget_call_right_and_random() -> None:
    provider, profile = lookup("finpay-widget"), finpay_profile()
    assert compare(provider, profile, WIDGET_CALL, finpay_sig(SIGNED_FIELDS), context(None), SIGNED_AT).matches
    random = secrets.token_hex(32).upper()
    found = compare(provider, profile, WIDGET_CALL, random, context(None), SIGNED_AT)
    assert_none_named(found, "tokenID left out of the signed fields", "another or an expired tokenID")


def test_finpay_widget_reqdtime_from_the_clock_is_searched_like_a_timestamp() -> None:
    """A body without reqDtime takes the clock's: searched over the last minutes, or near the --timestamp given."""
    provider, profile = lookup("finpay-widget"), finpay_profile()
    own = {name: value for name, value in WIDGET_FIELDS.items() if name != "reqDtime"}
    call = replace(WIDGET_CALL, body=json.dumps(own).encode())
    now = datetime.now(UTC).replace(microsecond=0)
    then = (now - timedelta(minutes=2)).astimezone(JAKARTA).strftime("%Y%m%d%H%M%S")
    right = compare(
        provider, profile, call, finpay_sig({**own, "reqDtime": then, "tokenID": TOKEN}), context(None, now=now), now
    )
    assert right.matches and right.matched == f"reqDtime {then}, 2 minutes ago", right
    no_token = finpay_sig({**own, "reqDtime": then})
    assert_named(compare(provider, profile, call, no_token, context(None, now=now), now), "finpay.call.token-left-out")
    given = "20241231101140"
    search = SearchContext.around(now, timestamp=given, signed_at=SIGNED_AT, nonce=None)
    off = finpay_sig({**own, "reqDtime": "20241231101138", "tokenID": TOKEN})
    assert_named(compare(provider, profile, call, off, search, given), "finpay.call.other-timestamp")


# --- replay: a captured call, taken apart and signed again -----------------------------------------------


def raw_http(method: str, target: str, headers: Mapping[str, str], body: bytes | None, newline: str) -> bytes:
    head = [f"{method} {target} HTTP/1.1", "Host: gw.example", *(f"{name}: {value}" for name, value in headers.items())]
    if body is not None:
        head.append(f"Content-Length: {len(body)}")
    return (newline.join(head) + newline + newline).encode() + (body or b"")


def replayed(provider: Provider, profile: Profile, capture: bytes, now: datetime) -> tuple[CallReplay, Comparison]:
    """The capture through the core `sign --request … --replay FILE` runs (inspection.replay_call)."""
    path = Path(f"capture-{secrets.token_hex(4)}.http")
    path.write_bytes(capture)

    def no_token() -> str:
        raise AssertionError("the capture carries its token: none is asked for")

    found = replay_call(provider, profile, path, token=no_token)
    assert found.replay is not None and found.comparison is not None, found
    assert found.request.signed_at is None or abs(found.request.signed_at - now) < timedelta(minutes=1)
    return found.replay, found.comparison


def snap_headers(signature: str, stamp: str, **extra: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {TOKEN}",
        "X-TIMESTAMP": stamp,
        "X-SIGNATURE": signature,
        "X-PARTNER-ID": CLIENT_ID,
        "X-EXTERNAL-ID": EXTERNAL_ID,
        "CHANNEL-ID": CLIENT_ID + "01",
        **extra,
    }


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_replay_of_a_snap_call(keys: Keys, newline: str) -> None:
    profile = snap_profile(keys)
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.astimezone(JAKARTA).isoformat(timespec="seconds")
    target = "/nicepay" + NICEPAY_PATH
    capture = raw_http("POST", target, snap_headers(snap_sig(stamp=stamp), stamp), SENT, newline)
    replay, found = replayed(NICEPAY, profile, capture, now)
    assert replay.call == Call("POST", target, SENT, TOKEN, EXTERNAL_ID)
    assert replay.timestamp == stamp and replay.problems == () and replay.cautions == ()
    assert found.matches, found
    # The same call, its signature made over the Python-default spelling of the body it sent.
    spaced = raw_http(
        "POST", target, snap_headers(snap_sig(body=json.dumps(BODY).encode(), stamp=stamp), stamp), SENT, newline
    )
    _, found = replayed(NICEPAY, profile, spaced, now)
    assert_named(found, "snap.call.body-spacing")


def test_replay_keeps_the_body_bytes_and_a_full_url_target(keys: Keys) -> None:
    """A pretty-printed body sent as is, to a full URL: the bytes hashed are the bytes captured, the host dropped."""
    profile = snap_profile(keys)
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.astimezone(JAKARTA).isoformat(timespec="seconds")
    pretty = json.dumps(BODY, indent=2, ensure_ascii=False).encode()
    signature = snap_sig(body=pretty, stamp=stamp)
    capture = raw_http("POST", BASE_URL + "/nicepay" + NICEPAY_PATH, snap_headers(signature, stamp), pretty, "\r\n")
    replay, found = replayed(NICEPAY, profile, capture, now)
    assert replay.call.body == pretty and replay.call.path == "/nicepay" + NICEPAY_PATH
    assert found.matches, found


def test_replay_says_what_the_gateway_will_object_to(keys: Keys) -> None:
    profile = snap_profile(keys)
    now = datetime.now(UTC).replace(microsecond=0)
    old = (now - timedelta(hours=2)).astimezone(JAKARTA).isoformat(timespec="seconds")
    headers = snap_headers(snap_sig(stamp=old), old, **{"X-PARTNER-ID": "SOMEONE-ELSE", "X-EXTERNAL-ID": "abc"})
    del headers["CHANNEL-ID"]
    del headers["Authorization"]
    capture = raw_http("POST", "/nicepay" + NICEPAY_PATH, headers, SENT, "\n")
    replay = forensics_for(NICEPAY).read_call_capture(profile, parse_capture(capture), now)
    problems = "\n".join(replay.problems)
    assert "missing headers: Authorization, CHANNEL-ID" in problems
    assert "X-PARTNER-ID 'SOMEONE-ELSE' differs" in problems
    assert "X-EXTERNAL-ID 'abc' is not 1 to 36 digits" in problems
    assert replay.call.call_id is None and replay.call.token is None
    assert any("2h00m behind" in caution for caution in replay.cautions), replay.cautions
    bad_stamp = raw_http("POST", "/nicepay" + NICEPAY_PATH, snap_headers("x", "2024-12-31 10:11:40"), SENT, "\n")
    replay = forensics_for(NICEPAY).read_call_capture(profile, parse_capture(bad_stamp), now)
    assert any("X-TIMESTAMP '2024-12-31 10:11:40' is not in the form" in problem for problem in replay.problems)


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_replay_of_a_doku_call(newline: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def capture(signature: str) -> bytes:
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {TOKEN}",
            "Client-Id": DOKU_CLIENT,
            "Request-Id": REQUEST_ID,
            "Request-Timestamp": stamp,
            "Signature": signature,
        }
        return raw_http("POST", DOKU_PATH, headers, SENT, newline)

    replay, found = replayed(
        lookup("doku"), doku_profile(), capture(doku_sig(target=DOKU_PATH, body=SENT, stamp=stamp)), now
    )
    assert replay.call == Call("POST", DOKU_PATH, SENT, TOKEN, REQUEST_ID) and replay.call_id_captured
    assert replay.problems == () and found.matches, (replay, found)
    stripped = doku_sig(target=DOKU_PATH, body=SENT.replace(b" ", b""), stamp=stamp)
    _, found = replayed(lookup("doku"), doku_profile(), capture(stripped), now)
    assert_named(found, "doku.call.body-spaces-stripped")


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_replay_of_a_faspay_call_reads_the_token_from_the_signature(newline: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M:%S")
    headers = {
        "faspay-key": FASPAY["faspay_key"],
        "faspay-timestamp": stamp,
        "faspay-authorization": faspay_aes(f"{FASPAY['app_key']}:{FASPAY['app_secret']}"),
        "faspay-signature": faspay(stamp=stamp, body=SENT.decode()),
        "Content-Type": "application/json",
    }
    replay, found = replayed(
        lookup("faspay-sendme"), faspay_profile(), raw_http("POST", FASPAY_PATH, headers, SENT, newline), now
    )
    assert replay.call.token == TOKEN and replay.call.path == FASPAY_PATH and replay.call.body == SENT
    assert replay.problems == () and any("read from faspay-signature" in line for line in replay.cautions)
    assert_named(found, "faspay.call.body-signed")


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_replay_of_a_finpay_widget_call(newline: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    fields = {**WIDGET_FIELDS, "reqDtime": now.astimezone(JAKARTA).strftime("%Y%m%d%H%M%S")}
    signed = {**fields, "tokenID": TOKEN}
    profile = finpay_profile()
    password = profile.require_text("merchant_password")
    headers = {"Content-Type": "application/json", "Authorization": "Basic " + b64(f"M-0001:{password}".encode())}

    def capture(signature: str) -> bytes:
        body = json.dumps({**signed, "signature": signature}, separators=(",", ":")).encode()
        return raw_http("POST", "/apicobrand/widget/topup", headers, body, newline)

    replay, found = replayed(lookup("finpay-widget"), profile, capture(finpay_sig(signed)), now)
    assert replay.call.token == TOKEN and json.loads(replay.call.body or b"") == fields
    assert replay.timestamp == fields["reqDtime"] and replay.problems == ()
    assert found.matches, found
    _, found = replayed(lookup("finpay-widget"), profile, capture(finpay_sig(fields)), now)
    assert_named(found, "finpay.call.token-left-out")


def test_replay_of_a_faspay_hmac_call_asks_for_the_token() -> None:
    """The HMAC form hides the token: the replay signs again with the one given (or cached), and says so."""
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M:%S")
    headers = {
        "faspay-key": FASPAY["faspay_key"],
        "faspay-timestamp": stamp,
        "faspay-authorization": faspay_aes(f"{FASPAY['app_key']}:{FASPAY['app_secret']}"),
        "faspay-signature": faspay(faspay_hmac, stamp=stamp),
    }
    path = Path("faspay-hmac.http")
    path.write_bytes(raw_http("POST", FASPAY_PATH, headers, SENT, "\r\n"))
    asked: list[str] = []

    def given() -> str:
        asked.append("token")
        return TOKEN

    found = replay_call(lookup("faspay-sendme"), faspay_profile("hmac"), path, token=given)
    assert asked == ["token"] and found.comparison is not None and found.comparison.matches, found
    assert found.replay is not None and any("does not say which access token" in line for line in found.replay.cautions)


def test_compare_call_core_tries_the_other_known_tokens(keys: Keys) -> None:
    """inspection.compare_call (what `sign --request --compare` runs): the cached token is tried, the call's is not
    offered as another."""
    profile = snap_profile(keys)
    request = NICEPAY.build_call(profile, SNAP_CALL, SNAP_STAMP)
    found = compare_call(
        NICEPAY,
        profile,
        request,
        SNAP_CALL,
        snap_sig(token=OLD_TOKEN),
        timestamp=SNAP_STAMP,
        call_id_given=False,
        tokens=[TOKEN, OLD_TOKEN],
    )
    assert_named(found, "snap.call.other-token")
    spaced = snap_sig(body=json.dumps(BODY).encode())
    found = compare_call(NICEPAY, profile, request, SNAP_CALL, spaced, timestamp=SNAP_STAMP, call_id_given=False)
    assert_named(found, "snap.call.body-spacing")


# --- what `sign` prints of the findings ---------------------------------------------------------------------


def test_pretty_findings_mask_secrets_in_disguise(isolated: Path) -> None:
    """A Faspay signed string holds base64(client_key:client_secret): the findings print it masked, as `sign`
    masks the string to sign itself (the token request's search had shown it whole)."""
    table = "\n".join(f"{name} = {json.dumps(value)}" for name, value in {**FASPAY, "base_url": BASE_URL}.items())
    (isolated / "profiles.toml").write_text(f"[faspay-sendme.default]\n{table}\n")
    (isolated / "profiles.toml").chmod(0o600)
    credentials = b64(f"{FASPAY['client_key']}:{FASPAY['client_secret']}".encode())
    text = f"GET:/account/api/tokens:{FASPAY_STAMP}:{credentials}"
    run = paytoken("sign", "faspay-sendme", "--timestamp", FASPAY_STAMP, f"--compare={faspay_aes(text)}")
    assert run.exit_code == 1, run.output
    assert "faspay.no-trailing-colon" not in run.stdout and "lacks its trailing colon" in run.stdout
    assert credentials not in run.output


# --- the CLI: `sign PROVIDER --request METHOD PATH … --compare SIG` and `--replay FILE` ---------------------

CLI_PATH = "/api/v1.0/transfer-va/create-va"


@pytest.fixture
def demo_profiles(workspace: Workspace, sandbox: Sandbox, isolated: Path) -> Path:
    """Every provider as profile `demo` aimed at the sandbox, NICEPAY's with this module's client_secret."""
    tables = workspace.write_profiles(sandbox.url, name="profiles.toml").read_text().split("\n\n")
    for index, table in enumerate(tables):
        if table.startswith("[nicepay.demo]\n"):
            lines = [line for line in table.splitlines() if not line.startswith("client_secret =")]
            tables[index] = "\n".join([*lines, f'client_secret = "{CLIENT_SECRET}"'])
    target = isolated / "profiles.toml"
    target.write_text("\n\n".join(tables) + "\n")
    target.chmod(0o600)
    return target


def sign_request(*extra: str, token: str = TOKEN) -> tuple[str, ...]:
    data = json.dumps(BODY, separators=(",", ":"), ensure_ascii=False)
    return ("sign", "nicepay", "-p", "demo", "--request", "POST", CLI_PATH, "--data", data, "--token", token, *extra)


def test_cli_compare_names_the_spacing_mistake_and_passes_the_right_signature(demo_profiles: Path) -> None:
    spaced = snap_sig(path=CLI_PATH, body=json.dumps(BODY).encode())
    pretty = paytoken(*sign_request("--timestamp", SNAP_STAMP, f"--compare={spaced}"))
    assert pretty.exit_code == 1, pretty.output
    shown = " ".join(pretty.stdout.split())
    assert "found the mistake: the body hash" in shown and "with other spacing than the bytes sent" in shown
    assert "fix: hash exactly the bytes you send" in shown
    assert TOKEN not in pretty.output  # the call's token is masked in pretty output, findings included
    assert_clean(pretty.output, [CLIENT_SECRET])
    document = json.loads(
        paytoken(*sign_request("--timestamp", SNAP_STAMP, f"--compare={spaced}", "-o", "json")).stdout
    )
    assert document["compare"]["mistake"] == "snap.call.body-spacing" and document["compare"]["fix"]
    right = paytoken(*sign_request("--timestamp", SNAP_STAMP, f"--compare={snap_sig(path=CLI_PATH)}"))
    assert right.exit_code == 0, right.output
    assert "the given signature matches" in right.stderr


def test_cli_compare_tries_the_cached_token(demo_profiles: Path) -> None:
    """--token signs with one token; the signature was made with the cached one: named, masked."""
    cached = paytoken("get", "nicepay", "-p", "demo", "-o", "token").stdout.strip()
    assert cached
    made = snap_sig(path=CLI_PATH, token=cached)
    run = paytoken(*sign_request("--timestamp", SNAP_STAMP, f"--compare={made}", "-o", "json"))
    assert run.exit_code == 1, run.output
    compare = json.loads(run.stdout)["compare"]
    assert compare["mistake"] == "snap.call.other-token", compare
    assert cached not in " ".join(compare["findings"]) and mask_of(cached) in " ".join(compare["findings"])


def mask_of(value: str) -> str:
    return "••••" + value[-4:]


def test_cli_replay_of_a_captured_call(demo_profiles: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.astimezone(JAKARTA).isoformat(timespec="seconds")
    client_id = "DEMO-NICEPAY-001"

    def capture(signature: str) -> Path:
        headers = {**snap_headers(signature, stamp), "X-PARTNER-ID": client_id, "CHANNEL-ID": client_id + "01"}
        path = Path(f"call-{secrets.token_hex(3)}.http")
        path.write_bytes(raw_http("POST", "/nicepay" + CLI_PATH, headers, SENT, "\r\n"))
        return path

    right = paytoken(
        "sign",
        "nicepay",
        "-p",
        "demo",
        "--request",
        "POST",
        CLI_PATH,
        "--replay",
        str(capture(snap_sig(path=CLI_PATH, stamp=stamp))),
    )
    assert right.exit_code == 0, right.output
    assert "the captured signature is right" in right.stderr
    spaced = capture(snap_sig(path=CLI_PATH, stamp=stamp, body=json.dumps(BODY, indent=2).encode()))
    run = paytoken(
        "sign", "nicepay", "-p", "demo", "--request", "POST", CLI_PATH, "--replay", str(spaced), "-o", "json"
    )
    assert run.exit_code == 1, run.output
    document = json.loads(run.stdout)
    assert document["compare"]["mistake"] == "snap.call.body-spacing"
    assert document["replay"]["problems"] == [] and document["body"] == SENT.decode()
    clash = paytoken(
        "sign", "nicepay", "-p", "demo", "--request", "POST", CLI_PATH, "--replay", str(spaced), "--compare", "x"
    )
    assert clash.exit_code == 2 and "--replay takes the call" in clash.stderr
