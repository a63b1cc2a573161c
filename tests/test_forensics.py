"""`sign --compare`: the variant search names each known mistake, and says so in plain words with the fix.

Every mistaken signature here is made in the test with hashlib, hmac, base64 and cryptography directly, the
way a user's own code would have made it; tidak_cli only ever sees it through the CLI, pasted after --compare.
The helpers are first checked against SPEC.md's known-answer vectors, so that a mistake built here is the
mistake it claims to be.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as block_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from support import Run, faspay_credentials, paytoken, paytoken_process

from tidak_cli.forensics import SearchContext
from tidak_cli.signing import utc_z

BASE_URL = "https://gw.example"
JAKARTA = ZoneInfo("Asia/Jakarta")

# Fresh credentials for every run of this module.
SNAP_CLIENT = "PARTNER-" + secrets.token_hex(4).upper()
DOKU_CLIENT = "BRN-0001-" + "".join(secrets.choice("0123456789") for _ in range(14))
DOKU_SECRET = "SK-" + secrets.token_urlsafe(24)
REQUEST_ID = str(uuid.uuid4())
# "fs-" keeps a letter (the "-" is 0x2d) in the key's hex text, so that its uppercase spelling differs.
FINPAY_SECRET = "fs-" + secrets.token_urlsafe(18)
FINPAY_HEX_SECRET = secrets.token_hex(16)  # valid hex: the "decoded key bytes" mistake applies
TRANS_NUMBER = "TKN" + "".join(secrets.choice("0123456789") for _ in range(18))
FASPAY = faspay_credentials()

SNAP_STAMP = "2024-12-31T10:11:40+07:00"
DOKU_STAMP = "2020-08-11T08:45:42Z"
DOKU_PATH = "/adv-core-api/partner/v1.0/token"
DOKU_BODY = b'{"grant_type":"client_credentials","valid_time":"360"}'
FINPAY_STAMP = "20240821142750"
FASPAY_STAMP = "2018-10-09 14:24:00"
FASPAY_PATH = "/account/api/tokens"

SNAP_ARGS = ("snap", "--timestamp", SNAP_STAMP)
DOKU_ARGS = ("doku", "--timestamp", DOKU_STAMP, "--request-id", REQUEST_ID)
FINPAY_ARGS = ("finpay-widget", "--timestamp", FINPAY_STAMP, "--trans-number", TRANS_NUMBER)
FINPAY_HEX_ARGS = (*FINPAY_ARGS, "-p", "hexkey")
FASPAY_ARGS = ("faspay-sendme", "--timestamp", FASPAY_STAMP)
FASPAY_HMAC_ARGS = (*FASPAY_ARGS, "-p", "hmac")


# --- independent implementations of the recipes (SPEC 1.1 to 1.4) ------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def rsa_raw(key: rsa.RSAPrivateKey, text: str) -> bytes:
    return key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())


def rsa_b64(key: rsa.RSAPrivateKey, text: str) -> str:
    return b64(rsa_raw(key, text))


def snap_text(stamp: str = SNAP_STAMP, client_id: str = SNAP_CLIENT, separator: str = "|") -> str:
    return f"{client_id}{separator}{stamp}"


def doku_component(
    *,
    client_id: str = DOKU_CLIENT,
    request_id: str = REQUEST_ID,
    stamp: str = DOKU_STAMP,
    target: str = DOKU_PATH,
    body: bytes = DOKU_BODY,
    digest: str | None = None,
) -> str:
    digest = digest if digest is not None else b64(hashlib.sha256(body).digest())
    return "\n".join(
        (
            f"Client-Id:{client_id}",
            f"Request-Id:{request_id}",
            f"Request-Timestamp:{stamp}",
            f"Request-Target:{target}",
            f"Digest:{digest}",
        )
    )


def doku_mac(text: str, secret: str = DOKU_SECRET) -> bytes:
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()


def doku_sig(secret: str = DOKU_SECRET, **component: object) -> str:
    return "HMACSHA256=" + b64(doku_mac(doku_component(**component), secret))  # type: ignore[arg-type]


def finpay_fields(stamp: str = FINPAY_STAMP) -> dict[str, str]:
    return {"reqDtime": stamp, "requestType": "getToken", "transNumber": TRANS_NUMBER}


def finpay_joined(fields: Mapping[str, str], order: Sequence[str] | None = None) -> str:
    return "".join(fields[name] for name in (order if order is not None else sorted(fields)))


def finpay_key(secret: str) -> bytes:
    return secret.encode("ascii").hex().encode("ascii")


def finpay_mac(key: bytes, joined: str) -> str:
    return hmac.new(key, joined.encode("utf-8"), hashlib.sha256).hexdigest().upper()


FASPAY_CREDENTIALS = b64(f"{FASPAY['client_key']}:{FASPAY['client_secret']}".encode())


def faspay_text(
    stamp: str = FASPAY_STAMP, *, method: str = "GET", creds: Mapping[str, str] = FASPAY, trailing: bool = True
) -> str:
    signed_credentials = b64(f"{creds['client_key']}:{creds['client_secret']}".encode())
    text = f"{method}:{FASPAY_PATH}:{stamp}:{signed_credentials}:"
    return text if trailing else text[:-1]


def faspay_aes(text: str, creds: Mapping[str, str] = FASPAY) -> str:
    secret = creds["faspay_secret"]
    key = hashlib.sha256(secret.encode("utf-8")).digest()
    iv = hashlib.md5((secret + creds["iv"]).encode("utf-8")).hexdigest()[-16:].encode("ascii")
    padder = block_padding.PKCS7(128).padder()
    plain = padder.update(text.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return b64(encryptor.update(plain) + encryptor.finalize())


def faspay_hmac(text: str, creds: Mapping[str, str] = FASPAY) -> str:
    return hmac.new(creds["faspay_secret"].encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def test_independent_helpers_reproduce_the_spec_vectors() -> None:
    doku = doku_sig(
        "SK-EXAMPLE-SECRET",
        client_id="BRN-0001-10791114622547",
        request_id="fdb69f47-96da-499d-acec-7cdc318ab2fe",
        stamp="2020-08-11T08:45:42Z",
    )
    assert b64(hashlib.sha256(DOKU_BODY).digest()) == "23kYsU7yk6vZ/exEcBe1UAFmjn17wuk165Oc+E3Cb8Y="
    assert doku == "HMACSHA256=0sLUiPJP4lo5X2JbvywDRqdMjJ0e7+iMkMgcvMehEZA="
    fields = {"reqDtime": "20240821142750", "requestType": "getToken", "transNumber": "TKN212418241627519329"}
    assert finpay_mac(finpay_key("e4siErApPs2020"), finpay_joined(fields)) == (
        "02580ADCB95AABF2CBBA78B53CE45182F5B429EA30154C259A45CAECF532E7AE"
    )
    example = {
        "faspay_secret": "FASPAY_SECRET_EXAMPLE",
        "iv": "IV_EXAMPLE",
        "client_key": "CLIENTKEY_EXAMPLE",
        "client_secret": "CLIENTSECRET_EXAMPLE",
    }
    text = faspay_text("2018-10-09 14:24:00", creds=example)
    assert text == "GET:/account/api/tokens:2018-10-09 14:24:00:Q0xJRU5US0VZX0VYQU1QTEU6Q0xJRU5UU0VDUkVUX0VYQU1QTEU=:"
    assert faspay_aes(text, example) == (
        "jPzOaPI1YK2ReoMELrv2mN9r2YNV6Qp4sex6k2llN8LRR7bMc1BnkolPHWA16q8MQiOlnrVx6CmnaK1SSBjfccpYcriT+h3aEfAyEqk+5lHD"
        "vsrYD5sz/K4wyyu89F8wE4MMa7LJKPoM2URhrHS5hw=="
    )
    assert faspay_hmac(text, example) == "9eb29b19de5f163a937279f5f91f4445103de8736ea1d66b5bf2abb9b9c7a8ad"


# --- profiles -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    right: rsa.RSAPrivateKey  # the profile's key
    other: rsa.RSAPrivateKey  # a stranger's key


@pytest.fixture(scope="module")
def keys() -> Keys:
    def make() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    return Keys(make(), make())


def toml_value(value: object) -> str:
    # A JSON string is a valid TOML basic string (\t, \n, \uXXXX, \" and \\ mean the same).
    return str(value) if isinstance(value, int) else json.dumps(value)


def write_profiles(tables: Mapping[str, Mapping[str, object]]) -> None:
    lines: list[str] = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
        lines.append("")
    path = Path("profiles.toml")
    path.write_text("\n".join(lines), encoding="utf-8")
    path.chmod(0o600)


def snap_table(key: rsa.RSAPrivateKey, client_id: str = SNAP_CLIENT) -> dict[str, object]:
    pem = Path("snap-private.pem")
    pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pem.chmod(0o600)
    return {"client_id": client_id, "private_key_file": str(pem.resolve()), "base_url": BASE_URL}


def doku_table(client_id: str = DOKU_CLIENT) -> dict[str, object]:
    return {"client_id": client_id, "secret_key": DOKU_SECRET, "valid_time": 360, "base_url": BASE_URL}


def finpay_table(secret: str) -> dict[str, object]:
    return {
        "merchant_id": "M-0001",
        "merchant_password": "pw-" + secrets.token_hex(4),
        "secret_key": secret,
        "base_url": BASE_URL,
    }


@pytest.fixture(autouse=True)
def profiles(keys: Keys, isolated: Path) -> Path:
    """./profiles.toml with every provider under test as profile `default` (and a few others)."""
    write_profiles(
        {
            "snap.default": snap_table(keys.right),
            "doku.default": doku_table(),
            "finpay-widget.default": finpay_table(FINPAY_SECRET),
            "finpay-widget.hexkey": finpay_table(FINPAY_HEX_SECRET),
            "faspay-sendme.default": {**FASPAY, "base_url": BASE_URL},
            "faspay-sendme.hmac": {**FASPAY, "signature_method": "hmac", "base_url": BASE_URL},
        }
    )
    return isolated / "profiles.toml"


# --- running --compare --------------------------------------------------------------------------------


def flat(text: str) -> str:
    """Whitespace collapsed, so that a wrapped line still contains its words."""
    return " ".join(text.split())


@dataclass
class Outcome:
    compare: dict[str, object]
    document: dict[str, object]
    json_run: Run
    pretty_run: Run


def compare(args: Sequence[str], signature: str) -> Outcome:
    # --compare=SIG: a URL-safe base64 signature may start with "-".
    command = ("sign", *args, f"--compare={signature}")
    json_run = paytoken(*command, "-o", "json")
    pretty_run = paytoken(*command)
    assert "Traceback" not in json_run.output + pretty_run.output
    document = json.loads(json_run.stdout)
    return Outcome(document["compare"], document, json_run, pretty_run)


def assert_named(outcome: Outcome, mistake: str, words: Sequence[str]) -> None:
    """Exit 1 in both views; json names the mistake; pretty says it in words and gives the fix."""
    assert outcome.json_run.exit_code == 1, outcome.json_run.output
    assert outcome.pretty_run.exit_code == 1, outcome.pretty_run.output
    assert outcome.compare["matches"] is False
    assert outcome.compare["mistake"] == mistake, outcome.compare
    assert outcome.compare["fix"], outcome.compare
    shown = flat(outcome.pretty_run.stdout)
    assert "the given signature differs" in shown
    for word in words:
        assert flat(word) in shown, f"{word!r} not in: {shown[-1500:]}"
    assert "fix:" in shown


# --- every listed variant, with the exact timestamp and request id given --------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    args: tuple[str, ...]
    make: Callable[[Keys], str]
    mistake: str
    words: tuple[str, ...]


def snap(name: str, text: str, mistake: str, *words: str) -> Variant:
    return Variant(name, SNAP_ARGS, lambda k: rsa_b64(k.right, text), mistake, words)


SNAP_VARIANTS = [
    snap("utc-z", snap_text("2024-12-31T03:11:40Z"), "snap.utc-z", "UTC with a Z", "instead of Jakarta time"),
    # This machine's zone is tried, and UTC always: UTC wall time with a literal +07:00 is 7 hours behind.
    snap(
        "local-literal-utc",
        snap_text("2024-12-31T03:11:40+07:00"),
        "snap.local-time-literal-offset",
        "local time (UTC) with a literal +07:00 appended",
        "7 hours behind Jakarta time",
    ),
    snap("millis-123", snap_text("2024-12-31T10:11:40.123+07:00"), "snap.milliseconds", "with milliseconds"),
    snap("millis-000", snap_text("2024-12-31T10:11:40.000+07:00"), "snap.milliseconds", "with milliseconds"),
    snap("millis-999", snap_text("2024-12-31T10:11:40.999+07:00"), "snap.milliseconds", "with milliseconds"),
    snap(
        "to-iso-string",
        snap_text("2024-12-31T03:11:40.057Z"),
        "snap.utc-milliseconds-z",
        "toISOString()",
        "2024-12-31T03:11:40.057Z",
    ),
    snap("no-offset", snap_text("2024-12-31T10:11:40"), "snap.no-offset", "without its +07:00 offset"),
    *(
        snap(f"separator-{label}", snap_text(separator=sep), "snap.separator", "another separator than |")
        for label, sep in (("colon", ":"), ("none", ""), ("space", " "), ("comma", ","), ("semicolon", ";"))
    ),
    snap("reversed", f"{SNAP_STAMP}|{SNAP_CLIENT}", "snap.reversed", "timestamp first, then client id"),
    *(
        snap(f"client-id-{label}", snap_text(client_id=padded), "snap.client-id-whitespace", "spaces or a line break")
        for label, padded in (
            ("leading-space", f" {SNAP_CLIENT}"),
            ("trailing-space", f"{SNAP_CLIENT} "),
            ("both-spaces", f" {SNAP_CLIENT} "),
            ("trailing-newline", f"{SNAP_CLIENT}\n"),
        )
    ),
    Variant("hex", SNAP_ARGS, lambda k: rsa_raw(k.right, snap_text()).hex(), "encoding", ("hex instead of base64",)),
    Variant(
        "hex-uppercase",
        SNAP_ARGS,
        lambda k: rsa_raw(k.right, snap_text()).hex().upper(),
        "encoding",
        ("hex instead of base64",),
    ),
    Variant(
        "url-safe-base64",
        SNAP_ARGS,
        lambda k: base64.urlsafe_b64encode(rsa_raw(k.right, snap_text())).decode(),
        "encoding",
        ("URL-safe base64",),
    ),
    Variant(
        "url-safe-base64-unpadded",
        SNAP_ARGS,
        lambda k: base64.urlsafe_b64encode(rsa_raw(k.right, snap_text())).decode().rstrip("="),
        "encoding",
        ("URL-safe base64",),
    ),
    # Two slips at once: the encoding is said, and the mistake in the string is still found.
    Variant(
        "hex-of-utc-z",
        SNAP_ARGS,
        lambda k: rsa_raw(k.right, snap_text("2024-12-31T03:11:40Z")).hex(),
        "snap.utc-z",
        ("hex instead of base64", "UTC with a Z"),
    ),
]


def doku(name: str, mistake: str, words: tuple[str, ...], **component: object) -> Variant:
    secret = str(component.pop("secret", DOKU_SECRET))
    return Variant(name, DOKU_ARGS, lambda _k: doku_sig(secret, **component), mistake, words)


DOKU_FIELDS = {"grant_type": "client_credentials", "valid_time": "360"}
DOKU_VARIANTS = [
    *(
        doku(
            f"pretty-body-indent-{indent}",
            "doku.pretty-body",
            ("pretty-printed body",),
            body=json.dumps(DOKU_FIELDS, indent=indent).encode(),
        )
        for indent in (2, 4)
    ),
    doku(
        "json-dumps-default",
        "doku.default-dumps",
        ("json.dumps with its default spacing",),
        body=json.dumps(DOKU_FIELDS).encode(),
    ),
    doku(
        "keys-reordered",
        "doku.reordered-body",
        ("keys in another order",),
        body=b'{"valid_time":"360","grant_type":"client_credentials"}',
    ),
    doku(
        "valid-time-number",
        "doku.valid-time-number",
        ("valid_time was a number",),
        body=b'{"grant_type":"client_credentials","valid_time":360}',
    ),
    doku(
        "digest-hex", "doku.digest-hex", ("SHA-256 as hex, not base64",), digest=hashlib.sha256(DOKU_BODY).hexdigest()
    ),
    doku(
        "target-full-url",
        "doku.request-target",
        ("Request-Target was not the path alone", "Request-Target:" + BASE_URL + DOKU_PATH),
        target=BASE_URL + DOKU_PATH,
    ),
    doku(
        "target-with-query",
        "doku.request-target",
        ("Request-Target was not the path alone", "Request-Target:" + DOKU_PATH + "?"),
        target=DOKU_PATH + "?",
    ),
    doku(
        "target-trailing-slash",
        "doku.request-target",
        ("Request-Target was not the path alone", "Request-Target:" + DOKU_PATH + "/"),
        target=DOKU_PATH + "/",
    ),
    doku(
        "target-no-leading-slash",
        "doku.request-target",
        ("Request-Target was not the path alone", "Request-Target:" + DOKU_PATH.lstrip("/")),
        target=DOKU_PATH.lstrip("/"),
    ),
    doku(
        "timestamp-jakarta",
        "doku.timestamp-offset",
        ("Jakarta time with +07:00", "UTC with a Z"),
        stamp="2020-08-11T15:45:42+07:00",
    ),
    doku("secret-trailing-newline", "doku.secret-newline", ("trailing line break",), secret=DOKU_SECRET + "\n"),
    doku("secret-trailing-crlf", "doku.secret-newline", ("trailing line break",), secret=DOKU_SECRET + "\r\n"),
    Variant(
        "no-prefix",
        DOKU_ARGS,
        lambda _k: b64(doku_mac(doku_component())),
        "doku.no-prefix",
        ("without the HMACSHA256= prefix",),
    ),
    Variant(
        "hex-signature",
        DOKU_ARGS,
        lambda _k: "HMACSHA256=" + doku_mac(doku_component()).hex(),
        "doku.hex-signature",
        ("HMAC was written as hex",),
    ),
]


def finpay(name: str, args: tuple[str, ...], key: bytes, joined: str, mistake: str, *words: str) -> Variant:
    return Variant(name, args, lambda _k: finpay_mac(key, joined), mistake, words)


FINPAY_JOINED = finpay_joined(finpay_fields())
FINPAY_VARIANTS = [
    finpay(
        "raw-secret-key",
        FINPAY_ARGS,
        FINPAY_SECRET.encode(),
        FINPAY_JOINED,
        "finpay.raw-secret-key",
        "keyed with the raw secret",
    ),
    finpay(
        "raw-secret-key-hex-secret",
        FINPAY_HEX_ARGS,
        FINPAY_HEX_SECRET.encode(),
        FINPAY_JOINED,
        "finpay.raw-secret-key",
        "keyed with the raw secret",
    ),
    finpay(
        "uppercase-key-text",
        FINPAY_ARGS,
        finpay_key(FINPAY_SECRET).upper(),
        FINPAY_JOINED,
        "finpay.uppercase-key-text",
        "key text was uppercase hex",
    ),
    finpay(
        "decoded-key-bytes",
        FINPAY_HEX_ARGS,
        bytes.fromhex(FINPAY_HEX_SECRET),
        FINPAY_JOINED,
        "finpay.decoded-key",
        "decoded from hex into bytes",
    ),
    *(
        finpay(
            f"unsorted-{'-'.join(order)}",
            FINPAY_ARGS,
            finpay_key(FINPAY_SECRET),
            finpay_joined(finpay_fields(), order),
            "finpay.unsorted-fields",
            "another order than sorted by key",
        )
        for order in (("transNumber", "reqDtime", "requestType"), ("requestType", "reqDtime", "transNumber"))
    ),
    *(
        finpay(
            f"signature-field-{placeholder}",
            FINPAY_ARGS,
            finpay_key(FINPAY_SECRET),
            finpay_joined({**finpay_fields(), "signature": placeholder}),
            "finpay.signature-field-included",
            "the signature field itself",
        )
        for placeholder in ("None", "null")
    ),
]


def faspay(name: str, args: tuple[str, ...], sign: Callable[[str], str], text: str, mistake: str) -> Variant:
    words = {
        "faspay.other-signature-method": "made with the other method",
        "faspay.no-trailing-colon": "lacks its trailing colon",
        "faspay.post-signed": "POST was signed",
        "faspay.timestamp-format": "timestamp in the string to sign was in another format",
    }
    return Variant(name, args, lambda _k: sign(text), mistake, (words[mistake],))


FASPAY_VARIANTS = [
    faspay("hmac-where-aes", FASPAY_ARGS, faspay_hmac, faspay_text(), "faspay.other-signature-method"),
    faspay("aes-where-hmac", FASPAY_HMAC_ARGS, faspay_aes, faspay_text(), "faspay.other-signature-method"),
    faspay("no-trailing-colon", FASPAY_ARGS, faspay_aes, faspay_text(trailing=False), "faspay.no-trailing-colon"),
    faspay(
        "no-trailing-colon-hmac", FASPAY_HMAC_ARGS, faspay_hmac, faspay_text(trailing=False), "faspay.no-trailing-colon"
    ),
    faspay("post-signed", FASPAY_ARGS, faspay_aes, faspay_text(method="POST"), "faspay.post-signed"),
    *(
        faspay(f"timestamp-{label}", FASPAY_ARGS, faspay_aes, faspay_text(stamp), "faspay.timestamp-format")
        for label, stamp in (
            ("iso-t", "2018-10-09T14:24:00"),
            ("iso-offset", "2018-10-09T14:24:00+07:00"),
            ("utc-spaced", "2018-10-09 07:24:00"),
            ("compact", "20181009142400"),
        )
    ),
]

VARIANTS = [
    *(pytest.param(v, id=f"snap-{v.name}") for v in SNAP_VARIANTS),
    *(pytest.param(v, id=f"doku-{v.name}") for v in DOKU_VARIANTS),
    *(pytest.param(v, id=f"finpay-{v.name}") for v in FINPAY_VARIANTS),
    *(pytest.param(v, id=f"faspay-{v.name}") for v in FASPAY_VARIANTS),
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_compare_names_the_variant(variant: Variant, keys: Keys) -> None:
    assert_named(compare(variant.args, variant.make(keys)), variant.mistake, variant.words)


RIGHT = [
    pytest.param(SNAP_ARGS, lambda k: rsa_b64(k.right, snap_text()), id="snap"),
    pytest.param(DOKU_ARGS, lambda _k: doku_sig(), id="doku"),
    pytest.param(FINPAY_ARGS, lambda _k: finpay_mac(finpay_key(FINPAY_SECRET), FINPAY_JOINED), id="finpay"),
    pytest.param(
        FINPAY_HEX_ARGS, lambda _k: finpay_mac(finpay_key(FINPAY_HEX_SECRET), FINPAY_JOINED), id="finpay-hex-secret"
    ),
    pytest.param(FASPAY_ARGS, lambda _k: faspay_aes(faspay_text()), id="faspay-aes"),
    pytest.param(FASPAY_HMAC_ARGS, lambda _k: faspay_hmac(faspay_text()), id="faspay-hmac"),
]


@pytest.mark.parametrize(("args", "make"), RIGHT)
def test_right_signature_exits_0(args: tuple[str, ...], make: Callable[[Keys], str], keys: Keys) -> None:
    outcome = compare(args, make(keys))
    assert outcome.json_run.exit_code == 0, outcome.json_run.output
    assert outcome.pretty_run.exit_code == 0, outcome.pretty_run.output
    assert outcome.compare["matches"] is True
    assert outcome.compare["mistake"] is None
    assert "the given signature matches" in outcome.pretty_run.stderr
    assert "found the mistake" not in outcome.pretty_run.stdout


def test_finpay_lowercase_hex_has_one_name_with_or_without_timestamp() -> None:
    """Lowercase hex output is one mistake: its key must not depend on whether --timestamp was given."""
    exact = compare(FINPAY_ARGS, finpay_mac(finpay_key(FINPAY_SECRET), FINPAY_JOINED).lower())
    earlier = datetime.now(JAKARTA) - timedelta(seconds=30)
    joined = finpay_joined(finpay_fields(earlier.strftime("%Y%m%d%H%M%S")))
    searched = compare(
        ("finpay-widget", "--trans-number", TRANS_NUMBER), finpay_mac(finpay_key(FINPAY_SECRET), joined).lower()
    )
    for outcome in (exact, searched):
        assert outcome.json_run.exit_code == outcome.pretty_run.exit_code == 1
        assert outcome.compare["mistake"] in ("finpay.lowercase-hex", "letter-case"), outcome.compare
        assert "lowercase hex" in flat(outcome.pretty_run.stdout)
        assert "fix:" in outcome.pretty_run.stdout
    assert exact.compare["mistake"] == searched.compare["mistake"]


# --- without --timestamp: the last ten minutes are searched, second by second ----------------------------


def test_snap_utc_z_found_without_timestamp(keys: Keys) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_named(compare(("snap",), rsa_b64(keys.right, snap_text(stamp))), "snap.utc-z", ("UTC with a Z",))


@pytest.mark.parametrize(
    ("minutes_ago", "write", "mistake"),
    [
        (0, lambda moment: moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "snap.utc-milliseconds-z"),
        (9, lambda moment: moment.astimezone(JAKARTA).isoformat(timespec="milliseconds"), "snap.milliseconds"),
    ],
    ids=["toISOString-now", "jakarta-millis-9-minutes-ago"],
)
def test_snap_milliseconds_found_without_timestamp(
    minutes_ago: int, write: Callable[[datetime], str], mistake: str, keys: Keys
) -> None:
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    stamp = write(moment)
    assert re.search(r"\.\d{3}(Z|\+07:00)$", stamp), stamp
    outcome = compare(("snap",), rsa_b64(keys.right, snap_text(stamp)))
    assert_named(outcome, mistake, (stamp,))


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_snap_local_literal_found_in_the_machines_zone(zone: str, keys: Keys) -> None:
    """The NICEPAY SDK's bug: wall time of the machine's zone with +07:00 appended (run where TZ=zone)."""
    wall = datetime.now(ZoneInfo(zone))
    literal = wall.strftime("%Y-%m-%dT%H:%M:%S") + "+07:00"
    signature = rsa_b64(keys.right, snap_text(literal))
    command = ("sign", "snap", f"--compare={signature}")
    json_run = paytoken_process(*command, "-o", "json", env={"TZ": zone})
    pretty_run = paytoken_process(*command, env={"TZ": zone})
    assert json_run.returncode == 1, json_run.stdout + json_run.stderr
    assert pretty_run.returncode == 1, pretty_run.stdout + pretty_run.stderr
    found = json.loads(json_run.stdout)["compare"]
    assert found["mistake"] == "snap.local-time-literal-offset", found
    offset = wall.utcoffset()
    assert offset is not None
    behind = 7 - offset.total_seconds() / 3600  # UTC: 7; New York: 12 (EST) or 11 (EDT)
    shown = flat(pretty_run.stdout)
    assert f"local time ({wall.tzname()}) with a literal +07:00 appended" in shown, shown
    assert f"{behind:g} hours behind Jakarta time" in shown, shown
    assert literal in shown
    assert "fix:" in shown
    assert "Traceback" not in pretty_run.stderr + json_run.stderr


def test_faspay_missing_colon_found_without_timestamp() -> None:
    stamp = datetime.now(JAKARTA).strftime("%Y-%m-%d %H:%M:%S")
    outcome = compare(("faspay-sendme",), faspay_aes(faspay_text(stamp, trailing=False)))
    assert_named(outcome, "faspay.no-trailing-colon", ("lacks its trailing colon",))


def test_doku_default_dumps_found_without_timestamp() -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = doku_sig(stamp=stamp, body=json.dumps(DOKU_FIELDS).encode())
    outcome = compare(("doku", "--request-id", REQUEST_ID), signature)
    assert_named(outcome, "doku.default-dumps", ("json.dumps with its default spacing",))


def fresh_second() -> datetime:
    """Now, early in a second: a signature made now and the CLI's own clock then fall in the same second."""
    fraction = time.time() % 1
    if fraction > 0.3:
        time.sleep(1.02 - fraction)
    return datetime.now(UTC)


NOW_RIGHT = [
    pytest.param(
        ("snap",),
        "X-TIMESTAMP",
        lambda k, now: rsa_b64(k.right, snap_text(now.astimezone(JAKARTA).isoformat(timespec="seconds"))),
        lambda now: now.astimezone(JAKARTA).isoformat(timespec="seconds"),
        id="snap",
    ),
    pytest.param(
        ("faspay-sendme",),
        "faspay-timestamp",
        lambda _k, now: faspay_aes(faspay_text(now.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M:%S"))),
        lambda now: now.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M:%S"),
        id="faspay",
    ),
]


@pytest.mark.realtime
@pytest.mark.parametrize(("args", "header", "make", "stamp"), NOW_RIGHT)
def test_right_signature_made_now_exits_0_without_timestamp(
    args: tuple[str, ...],
    header: str,
    make: Callable[[Keys, datetime], str],
    stamp: Callable[[datetime], str],
    keys: Keys,
) -> None:
    for _attempt in range(3):
        now = fresh_second()
        run = paytoken("sign", *args, "-o", "json", f"--compare={make(keys, now)}")
        document = json.loads(run.stdout)
        if document["headers"][header] == stamp(now):  # else the CLI's clock ticked over: try again
            break
    assert document["headers"][header] == stamp(now)
    assert run.exit_code == 0, run.output
    assert document["compare"]["matches"] is True
    assert "the given signature matches" in run.stderr


def test_right_recipe_at_an_earlier_second_says_so(keys: Keys) -> None:
    # Seven minutes ago: searched (ten minutes back), but outside the 5 minutes a gateway accepts: not a match.
    earlier = (datetime.now(UTC) - timedelta(minutes=7)).astimezone(JAKARTA).isoformat(timespec="seconds")
    outcome = compare(("snap",), rsa_b64(keys.right, snap_text(earlier)))
    assert outcome.json_run.exit_code == outcome.pretty_run.exit_code == 1
    assert outcome.compare["mistake"] is None
    shown = flat(outcome.pretty_run.stdout)
    assert "the recipe is right, but for other inputs" in shown
    assert earlier in shown
    assert "--timestamp" in shown


# --- a signature made a moment ago by the right recipe is a match, not a mistake --------------------------------


def two_minutes_ago() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=120)


@pytest.mark.parametrize("tool", ["cryptography", "openssl"])
def test_snap_signature_from_two_minutes_ago_matches_and_says_when(tool: str, keys: Keys) -> None:
    """Signed 120 s ago, outside paytoken: the gateway still takes it, so --compare says so and exits 0."""
    stamp = two_minutes_ago().astimezone(JAKARTA).isoformat(timespec="seconds")
    if tool == "openssl":
        import shutil
        import subprocess

        if shutil.which("openssl") is None:
            pytest.skip("no openssl")
        signed = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", "snap-private.pem"],
            input=snap_text(stamp).encode(),
            capture_output=True,
            check=True,
        ).stdout
        signature = b64(signed)
    else:
        signature = rsa_b64(keys.right, snap_text(stamp))
    outcome = compare(("snap",), signature)
    assert outcome.json_run.exit_code == outcome.pretty_run.exit_code == 0, outcome.pretty_run.output
    assert outcome.compare["matches"] is True and outcome.compare["mistake"] is None
    said = f"matches X-TIMESTAMP {stamp}, 2 minutes ago"
    assert said in outcome.compare["findings"]  # type: ignore[operator]
    assert f"the given signature {said}" in outcome.pretty_run.stderr, outcome.pretty_run.stderr
    assert "differs" not in outcome.pretty_run.output and "error:" not in outcome.pretty_run.stderr


@pytest.mark.parametrize("provider", ["doku", "faspay"])
def test_hmac_signature_from_two_minutes_ago_matches_and_says_when(provider: str) -> None:
    moment = two_minutes_ago()
    if provider == "doku":
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        args: tuple[str, ...] = ("doku", "--request-id", REQUEST_ID)
        signature, header = doku_sig(stamp=stamp, body=DOKU_BODY), "Request-Timestamp"
    else:
        stamp = moment.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M:%S")
        args, signature, header = ("faspay-sendme",), faspay_aes(faspay_text(stamp)), "faspay-timestamp"
    outcome = compare(args, signature)
    assert outcome.json_run.exit_code == outcome.pretty_run.exit_code == 0, outcome.pretty_run.output
    assert f"the given signature matches {header} {stamp}, 2 minutes ago" in outcome.pretty_run.stderr


def test_a_mistake_two_minutes_ago_is_still_a_mismatch(keys: Keys) -> None:
    """Only the right recipe is a match: the same moment written in UTC with a Z is the mistake it is."""
    moment = two_minutes_ago()
    outcome = compare(("snap",), rsa_b64(keys.right, snap_text(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))))
    assert_named(outcome, "snap.utc-z", ("UTC with a Z",))
    assert "matches" not in outcome.pretty_run.stderr


# --- a fix is said once, with the user's own timestamp as its example ----------------------------------------


def test_the_fix_is_said_once_not_again_as_the_hint(keys: Keys) -> None:
    outcome = compare(SNAP_ARGS, rsa_b64(keys.right, snap_text(separator=":")))
    fix = str(outcome.compare["fix"])
    run = outcome.pretty_run
    assert run.exit_code == 1
    assert flat(run.output).count(flat(fix)) == 1, run.output
    assert f"fix: {fix}" in flat(run.stdout)
    assert run.stderr.strip() == "error: the given signature differs from the one paytoken computes", run.stderr
    assert outcome.json_run.stderr.count(fix) == 0 and "hint:" not in outcome.json_run.stderr
    # With -o curl the findings are not on stdout: the error carries them, and the fix once, as its hint.
    curl = paytoken("sign", *SNAP_ARGS, f"--compare={rsa_b64(keys.right, snap_text(separator=':'))}", "-o", "curl")
    assert curl.exit_code == 1 and flat(curl.stderr).count(flat(fix)) == 1 and "hint:" in curl.stderr


def test_a_fix_s_example_timestamp_is_the_user_s_own(keys: Keys) -> None:
    # Searched: the UTC moment they signed, written as SNAP wants it.
    moment = (datetime.now(UTC) - timedelta(minutes=3)).replace(microsecond=0)
    searched = compare(("snap",), rsa_b64(keys.right, snap_text(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))))
    assert searched.compare["mistake"] == "snap.utc-z"
    right = moment.astimezone(JAKARTA).isoformat(timespec="seconds")
    assert searched.compare["fix"] == f"send Jakarta time with its offset: {right}"
    assert f"fix: send Jakarta time with its offset: {right}" in flat(searched.pretty_run.stdout)
    # Given: DOKU signed in Jakarta time; the fix is their --timestamp in UTC, not the documentation's example.
    given = "2026-03-04T05:06:07Z"
    jakarta = "2026-03-04T12:06:07+07:00"
    doku = compare(("doku", "--timestamp", given, "--request-id", REQUEST_ID), doku_sig(stamp=jakarta, body=DOKU_BODY))
    assert doku.compare["mistake"] == "doku.timestamp-offset", doku.compare
    assert doku.compare["fix"] == f"send UTC: {given}"
    assert f"fix: send UTC: {given}" in flat(doku.pretty_run.stdout)


# --- RSA: another key is said as such, never as a variant --------------------------------------------------


ANOTHER_KEY = [
    pytest.param(lambda k: rsa_b64(k.other, snap_text()), id="right-string"),
    pytest.param(lambda k: rsa_b64(k.other, snap_text("2024-12-31T03:11:40Z")), id="utc-z-string"),
    pytest.param(lambda k: rsa_b64(k.other, snap_text("2024-12-31T03:11:40+07:00")), id="local-literal-string"),
    pytest.param(lambda k: rsa_b64(k.other, snap_text(separator=":")), id="colon-string"),
    pytest.param(lambda k: rsa_raw(k.other, snap_text()).hex(), id="hex"),
    pytest.param(lambda k: base64.urlsafe_b64encode(rsa_raw(k.other, snap_text())).decode(), id="url-safe"),
]


@pytest.mark.parametrize("timestamp", [True, False], ids=["with-timestamp", "searching"])
@pytest.mark.parametrize("make", ANOTHER_KEY)
def test_signature_by_another_key_is_never_a_variant(make: Callable[[Keys], str], timestamp: bool, keys: Keys) -> None:
    outcome = compare(SNAP_ARGS if timestamp else ("snap",), make(keys))
    assert outcome.json_run.exit_code == outcome.pretty_run.exit_code == 1
    assert outcome.compare["mistake"] == "another-key", outcome.compare
    shown = flat(outcome.pretty_run.stdout)
    assert "signed with another key" in shown
    assert "found the mistake" not in shown
    assert not any("found the mistake" in str(line) for line in outcome.compare["findings"])  # type: ignore[attr-defined]
    assert "fix:" in shown


@pytest.mark.parametrize("timestamp", [True, False], ids=["with-timestamp", "searching"])
def test_right_key_over_unknown_bytes_is_other_bytes(timestamp: bool, keys: Keys) -> None:
    unknown = secrets.token_urlsafe(20)
    outcome = compare(SNAP_ARGS if timestamp else ("snap",), rsa_b64(keys.right, unknown))
    assert outcome.json_run.exit_code == outcome.pretty_run.exit_code == 1
    assert outcome.compare["mistake"] is None
    assert any("over other bytes" in str(line) for line in outcome.compare["findings"])  # type: ignore[attr-defined]
    shown = flat(outcome.pretty_run.stdout)
    assert "made with this profile's key, but over other bytes" in shown
    assert "another key" not in shown
    assert "fix:" in shown
    if timestamp:  # the digests shown are the ones a user can check with sha256sum
        signed = hashlib.sha256(snap_text().encode()).hexdigest()
        assert f"SHA-256 of string to sign: {signed}" in outcome.compare["findings"]  # type: ignore[operator]
        assert f"SHA-256 it signed: {hashlib.sha256(unknown.encode()).hexdigest()}" in shown


# --- keyed signatures over a random id need that id ---------------------------------------------------------


def test_doku_without_request_id_says_it_is_needed() -> None:
    signature = doku_sig(body=json.dumps(DOKU_FIELDS, indent=2).encode())
    outcome = compare(("doku", "--timestamp", DOKU_STAMP), signature)
    assert outcome.json_run.exit_code == outcome.pretty_run.exit_code == 1
    assert outcome.compare["mistake"] is None
    shown = flat(outcome.pretty_run.stdout)
    assert "covers the Request-Id" in shown
    assert "--request-id" in shown
    assert "fix:" in shown


def test_finpay_without_trans_number_says_it_is_needed() -> None:
    outcome = compare(("finpay-widget", "--timestamp", FINPAY_STAMP), finpay_mac(FINPAY_SECRET.encode(), FINPAY_JOINED))
    assert outcome.json_run.exit_code == outcome.pretty_run.exit_code == 1
    shown = flat(outcome.pretty_run.stdout)
    assert "covers the transNumber" in shown
    assert "--trans-number" in shown


# --- the pretty view of the string to sign -------------------------------------------------------------------


def string_header(text: str) -> str:
    data = text.encode("utf-8")
    return f"String to sign ({len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()})"


def signed_lines(stdout: str) -> list[str]:
    """The indented lines right under `String to sign (...)`."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("String to sign ("))
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        block.append(line[2:])
    return block


EVERY_PROVIDER = [
    pytest.param(SNAP_ARGS, [snap_text()], snap_text(), id="snap"),
    pytest.param(
        DOKU_ARGS,
        [line + "\\n" for line in doku_component().split("\n")[:-1]] + [doku_component().split("\n")[-1]],
        doku_component(),
        id="doku",
    ),
    pytest.param(FINPAY_ARGS, [FINPAY_JOINED], FINPAY_JOINED, id="finpay"),
    # base64(client_key:client_secret) is the secret in another spelling: shown masked (SPEC 5), while the
    # length and SHA-256 are still those of the real bytes.
    pytest.param(
        FASPAY_ARGS,
        [faspay_text().removesuffix(FASPAY_CREDENTIALS + ":") + "••••" + FASPAY_CREDENTIALS[-4:] + ":"],
        faspay_text(),
        id="faspay",
    ),
]


@pytest.mark.parametrize(("args", "shown", "text"), EVERY_PROVIDER)
def test_pretty_shows_string_to_sign_with_length_and_sha256(args: tuple[str, ...], shown: list[str], text: str) -> None:
    run = paytoken("sign", *args)
    assert run.exit_code == 0, run.output
    assert string_header(text) in run.stdout
    assert signed_lines(run.stdout) == shown


WEIRD_CLIENT = "BRN-1\tcafé "  # a tab, a non-ASCII letter, a trailing space


def test_pretty_makes_tab_and_non_ascii_visible_snap(keys: Keys) -> None:
    write_profiles({"snap.default": snap_table(keys.right, WEIRD_CLIENT)})
    text = snap_text(client_id=WEIRD_CLIENT)
    run = paytoken("sign", *SNAP_ARGS)
    assert run.exit_code == 0, run.output
    assert string_header(text) in run.stdout  # 15 characters of client id, 16 UTF-8 bytes
    assert signed_lines(run.stdout) == [f"BRN-1\\tcaf\\u00e9 |{SNAP_STAMP}"]


def test_pretty_marks_trailing_space_before_a_line_break_doku() -> None:
    write_profiles({"doku.default": doku_table(WEIRD_CLIENT)})
    text = doku_component(client_id=WEIRD_CLIENT)
    run = paytoken("sign", *DOKU_ARGS)
    assert run.exit_code == 0, run.output
    assert string_header(text) in run.stdout
    first = signed_lines(run.stdout)[0]
    assert "\\t" in first
    assert "\\u00e9" in first
    # The space ends the Client-Id line: it is a trailing space and must be marked.
    assert first == "Client-Id:BRN-1\\tcaf\\u00e9·\\n", first


def test_pretty_marks_trailing_space_at_the_end_finpay() -> None:
    run = paytoken("sign", "finpay-widget", "--timestamp", FINPAY_STAMP, "--trans-number", "TKN1 ")
    assert run.exit_code == 0, run.output
    assert string_header(f"{FINPAY_STAMP}getTokenTKN1 ") in run.stdout
    assert signed_lines(run.stdout) == [f"{FINPAY_STAMP}getTokenTKN1·"]


HEX_LINE = re.compile(r"([0-9a-f]{8})  ([0-9a-f ]{47})  (.{1,16})")


def test_hex_dump_is_the_utf8_bytes_snap(keys: Keys) -> None:
    write_profiles({"snap.default": snap_table(keys.right, WEIRD_CLIENT)})
    data = snap_text(client_id=WEIRD_CLIENT).encode("utf-8")
    run = paytoken("sign", *SNAP_ARGS, "--hex")
    assert run.exit_code == 0, run.output
    dump = [match for line in signed_lines(run.stdout) if (match := HEX_LINE.fullmatch(line))]
    assert len(dump) == (len(data) + 15) // 16
    assert [int(match[1], 16) for match in dump] == list(range(0, len(data), 16))
    assert b"".join(bytes.fromhex(match[2]) for match in dump) == data
    ascii_column = "".join(match[3] for match in dump)
    assert ascii_column == "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in data)
    assert data.startswith(b"BRN-1\tcaf\xc3\xa9 |")
    assert dump[0][2].startswith("42 52 4e 2d 31 09 63 61 66 c3 a9 20 7c")


def test_a_known_timestamp_is_searched_once_not_again_as_its_moment() -> None:
    moment = datetime(2020, 8, 11, 8, 45, 42, tzinfo=UTC)
    known = SearchContext((moment,), timestamp="2020-08-11T08:45:42Z")
    assert known.stamps(utc_z) == ["2020-08-11T08:45:42Z"]
    other_form = SearchContext((moment,), timestamp="2020-08-11T15:45:42+07:00")
    assert other_form.stamps(utc_z) == ["2020-08-11T15:45:42+07:00", "2020-08-11T08:45:42Z"]
    assert SearchContext((moment, moment + timedelta(seconds=1))).stamps(utc_z) == [
        "2020-08-11T08:45:42Z",
        "2020-08-11T08:45:43Z",
    ]
