"""Hostile input never crashes paytoken: every parser of untrusted bytes returns a value or raises paytoken's own error.

Profiles, keys, gateway answers, captured requests (`sign --replay`), the sandbox's config and cache files are
all written by someone else. Each property feeds arbitrary bytes and structures to one parser and accepts
exactly two outcomes: a value of the documented type, or the documented PaytokenError subclass. Anything else
(a KeyError, a RecursionError, an OverflowError...) reaches the user as "internal error", which is the bug.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import shlex
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support import paytoken_process

from tidak_cli.cache import CacheEntry
from tidak_cli.capture import Captured, parse_capture
from tidak_cli.demo import Workspace
from tidak_cli.errors import ConfigError, PaytokenError, UsageError
from tidak_cli.gateways import PROVIDERS, SignedRequest, Token, forensics_for
from tidak_cli.profiles import (
    COMMON_SETTINGS,
    Profile,
    load_profile,
    profile_names,
    read_profiles_file,
    resolve_profile,
)
from tidak_cli.redact import Redactor
from tidak_cli.sandbox import Fault, Sandbox, SandboxConfig, load_config

EXAMPLES = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROVIDER_NAMES = list(PROVIDERS)
NOW = datetime(2024, 8, 21, 7, 27, 50, tzinfo=UTC)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of the module's own for the files the properties write (profiles, sandbox configs)."""
    directory = tmp_path_factory.mktemp("hostile")
    public = (
        rsa_key().public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    (directory / "pub.pem").write_bytes(public)
    (directory / "private.pem").write_bytes(private_forms()[0])
    (directory / "private.pem").chmod(0o600)
    return directory


# --- shared strategies -----------------------------------------------------------------------------

INTERESTING_TEXT = [
    "",
    " ",
    "\x00",
    "${SET}",
    "${UNSET}",
    "${",
    "~",
    "~nobody-such-user/x",
    ".",
    "/",
    "pub.pem",
    "private.pem",
    "http://127.0.0.1:1",
    "https://[::1]:443",
    "ftp://example",
    "sandbox",
    "production",
    "true",
    "false",
    "30",
    "-1",
    "0",
    "1e309",
    "nan",
    "inf",
    "jakarta",
    "utc",
    "aes",
    "hmac",
    "POST",
    "GET",
    "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
]

texts = st.text(max_size=40) | st.sampled_from(INTERESTING_TEXT)
scalars = (
    texts
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.datetimes()
    | st.datetimes(timezones=st.timezones())
    | st.dates()
    | st.times()
)
toml_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)


def setting_names(provider_name: str) -> list[str]:
    return [setting.name for setting in (*COMMON_SETTINGS, *PROVIDERS[provider_name].settings)]


ALL_SETTING_NAMES = sorted({name for provider in PROVIDER_NAMES for name in setting_names(provider)})


def expect(outcome: Callable[[], object], *allowed: type[BaseException]) -> object:
    """Run outcome; a value or one of the allowed errors passes, anything else fails the property."""
    try:
        value = outcome()
    except allowed as error:
        event(f"refused: {type(error).__name__}")
        return None
    event(f"accepted: {type(value).__name__}")
    return value


def complete_table(provider_name: str) -> dict[str, object]:
    """A table that resolves: every required key, the SNAP key from the scratch directory."""
    provider = PROVIDERS[provider_name]
    table: dict[str, object] = {"base_url": "http://127.0.0.1:9"}
    for setting in provider.settings:
        if setting.required:
            table[setting.name] = f"{setting.name}-value-0123456789"
    for group in provider.one_of:
        table[group[0]] = "private.pem" if group[0].endswith("_file") else private_forms()[0].decode()
    return table


@st.composite
def provider_tables(draw: st.DrawFn) -> tuple[str, dict[str, object], dict[str, object]]:
    """A provider's table: arbitrary, or a complete one with a few keys changed, added or removed."""
    provider_name = draw(st.sampled_from(PROVIDER_NAMES))
    keys = st.sampled_from(setting_names(provider_name)) | texts
    if draw(st.booleans()):
        table = draw(st.dictionaries(keys, toml_values, max_size=10))
    else:
        table = complete_table(provider_name)
        for _ in range(draw(st.integers(1, 4))):
            key = draw(keys)
            if draw(st.integers(0, 3)) == 0:
                table.pop(key, None)
            else:
                table[key] = draw(toml_values)
    overrides = draw(st.dictionaries(st.sampled_from(["base_url"]), texts | st.none(), max_size=1))
    return provider_name, table, overrides


# --- (1) the profiles file ---------------------------------------------------------------------------


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(key)} = {toml_value(item)}" for key, item in value.items()) + "}"
    return str(value)  # dates and times: TOML writes them as ISO 8601, bare


def toml_document(document: dict[str, object]) -> str:
    return "\n".join(f"{json.dumps(key, ensure_ascii=False)} = {toml_value(value)}" for key, value in document.items())


profile_tables = st.dictionaries(st.sampled_from(ALL_SETTING_NAMES) | texts, toml_values, max_size=10)
profiles_documents = st.dictionaries(
    st.sampled_from(PROVIDER_NAMES) | texts,
    st.dictionaries(st.sampled_from(["demo", "default"]) | texts, profile_tables, max_size=3) | toml_values,
    max_size=4,
) | st.lists(provider_tables(), max_size=3).map(
    lambda cases: {provider_name: {"demo": table} for provider_name, table, _ in cases}
)
profiles_bytes = (
    st.binary(max_size=400)
    | texts.map(lambda text: text.encode("utf-8"))
    | profiles_documents.map(lambda document: toml_document(document).encode("utf-8"))
    | st.tuples(profiles_documents, st.binary(max_size=8), st.integers(0, 400)).map(
        lambda parts: toml_document(parts[0]).encode("utf-8")[: parts[2]] + parts[1]
    )
)


@EXAMPLES
@given(data=profiles_bytes)
def test_profiles_file_reader_returns_tables_or_config_error(data: bytes, scratch: Path) -> None:
    path = scratch / "profiles.toml"
    path.write_bytes(data)
    path.chmod(0o600)
    read = expect(lambda: read_profiles_file(path), ConfigError)
    if read is None:
        return
    document, warnings = read  # type: ignore[misc]
    assert isinstance(document, dict) and isinstance(warnings, tuple)
    # What `get` does next with every table a known provider owns.
    for provider_name, profile_name in profile_names(document):
        if provider_name in PROVIDERS:
            table = document[provider_name][profile_name]  # type: ignore[index]
            resolved = expect(
                lambda table=table, provider_name=provider_name, profile_name=profile_name: resolve_profile(
                    PROVIDERS[provider_name], profile_name, table, path=path, environ={"SET": "value"}
                ),
                ConfigError,
            )
            assert resolved is None or isinstance(resolved, Profile)


# --- (2) resolving one table ---------------------------------------------------------------------------


@EXAMPLES
@given(case=provider_tables())
def test_resolve_profile_returns_a_profile_or_config_or_usage_error(
    case: tuple[str, dict[str, object], dict[str, object]], scratch: Path
) -> None:
    provider_name, table, overrides = case
    provider = PROVIDERS[provider_name]
    profile = expect(
        lambda: resolve_profile(
            provider, "fuzz", table, path=scratch / "profiles.toml", overrides=overrides, environ={"SET": "value"}
        ),
        ConfigError,
        UsageError,
    )
    if profile is None:
        return
    assert isinstance(profile, Profile)
    # What the CLI does with a profile before anything else: the redactor, the URL, the timeout, TLS.
    Redactor.for_profile(profile, provider)
    assert profile.base_url.startswith(("http://", "https://"))
    assert profile.timeout > 0
    assert profile.tls_verify is True or profile.tls_verify is False or isinstance(profile.tls_verify, str)


@EXAMPLES
@given(case=provider_tables())
def test_building_a_request_from_any_resolved_profile_never_crashes(
    case: tuple[str, dict[str, object], dict[str, object]], scratch: Path
) -> None:
    provider_name, table, overrides = case
    provider = PROVIDERS[provider_name]
    try:
        profile = resolve_profile(
            provider, "fuzz", table, path=scratch / "profiles.toml", overrides=overrides, environ={"SET": "value"}
        )
    except (ConfigError, UsageError):
        event("no profile to build from")
        return
    request = expect(lambda: provider.build(profile, NOW, provider.new_nonce()), PaytokenError)
    assert request is None or isinstance(request, SignedRequest)


# --- (3) keys ----------------------------------------------------------------------------------------


@functools.cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def private_forms() -> tuple[bytes, ...]:
    key = rsa_key()
    pem = serialization.Encoding.PEM
    der = serialization.Encoding.DER
    pkcs8, traditional = serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL
    plain = serialization.NoEncryption()
    locked = serialization.BestAvailableEncryption(b"secret")
    der_pkcs8 = key.private_bytes(der, pkcs8, plain)
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(pem, pkcs8, plain)
    return (
        key.private_bytes(pem, pkcs8, plain),
        key.private_bytes(pem, traditional, plain),
        key.private_bytes(pem, pkcs8, locked),
        key.private_bytes(pem, traditional, locked),
        der_pkcs8,
        key.private_bytes(der, pkcs8, locked),
        base64.b64encode(der_pkcs8),
        base64.urlsafe_b64encode(der_pkcs8).rstrip(b"="),
        key.private_bytes(pem, pkcs8, plain).replace(b"\n", b"\\n"),
        other,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, plain),
    )


@functools.cache
def public_forms() -> tuple[bytes, ...]:
    key = rsa_key()
    public = key.public_key()
    pem, der = serialization.Encoding.PEM, serialization.Encoding.DER
    spki, pkcs1 = serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(1)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2034, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    return (
        public.public_bytes(pem, spki),
        public.public_bytes(pem, pkcs1),
        public.public_bytes(der, spki),
        base64.b64encode(public.public_bytes(der, spki)),
        certificate.public_bytes(pem),
        certificate.public_bytes(der),
        ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(pem, spki),
        private_forms()[0],
    )


@st.composite
def mutated(draw: st.DrawFn, originals: Callable[[], tuple[bytes, ...]]) -> bytes:
    """A valid key in one of its forms, then damaged: bytes flipped, cut, inserted or removed."""
    data = bytearray(draw(st.sampled_from(originals())))
    for _ in range(draw(st.integers(0, 4))):
        if not data:
            break
        where = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete", "replace"]))
        if action == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[where:]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[where : where + draw(st.integers(1, 64))]
        else:
            data[where] = draw(st.integers(0, 255))
    return bytes(data)


key_inputs_private = st.binary(max_size=300) | texts.map(str.encode) | mutated(private_forms)
key_inputs_public = st.binary(max_size=300) | texts.map(str.encode) | mutated(public_forms)
passphrases = st.none() | st.sampled_from(["", "secret", "wrong"]) | st.text(max_size=10)


@EXAMPLES
@given(data=key_inputs_private, passphrase=passphrases)
def test_private_key_loader_returns_an_rsa_key_or_config_error(data: bytes, passphrase: str | None) -> None:
    from tidak_cli.keys import load_private_key

    key = expect(lambda: load_private_key(data, passphrase=passphrase, source="private_key in [fuzz]"), ConfigError)
    assert key is None or isinstance(key, rsa.RSAPrivateKey)


@EXAMPLES
@given(data=key_inputs_public)
def test_public_key_loader_returns_an_rsa_key_or_config_error(data: bytes) -> None:
    from tidak_cli.keys import load_public_key

    key = expect(lambda: load_public_key(data, source="public_key_file fuzz.pem"), ConfigError)
    assert key is None or isinstance(key, rsa.RSAPublicKey)


def test_the_undamaged_key_forms_load() -> None:
    # The mutations start from these: make sure they are what they claim to be.
    from tidak_cli.keys import load_private_key, load_public_key

    forms = private_forms()
    for data in (forms[0], forms[1], forms[4], forms[6], forms[7], forms[8]):
        assert isinstance(load_private_key(data, passphrase=None, source="k"), rsa.RSAPrivateKey)
    assert isinstance(load_private_key(forms[2], passphrase="secret", source="k"), rsa.RSAPrivateKey)
    with pytest.raises(ConfigError, match="not an RSA key"):
        load_private_key(forms[9], passphrase=None, source="k")
    for data in public_forms()[:6]:
        assert isinstance(load_public_key(data, source="k"), rsa.RSAPublicKey)


# --- (4) every provider's answer parser ---------------------------------------------------------------

ANSWER_FIELDS = [
    "responseCode",
    "responseMessage",
    "accessToken",
    "tokenType",
    "expiresIn",
    "additionalInfo",
    "token",
    "statusCode",
    "statusDesc",
    "tokenID",
    "tokenExpiry",
    "processingTime",
    "status",
    "response_code",
    "access_token",
    "expired_in",
    "message",
    "response_desc",
    "signature",
]
ANSWER_TEXT = [
    "2007300",
    "2007301",
    "4017300",
    "5007300",
    "200",
    "000",
    "A1003",
    "2",
    "9",
    "00",
    "900",
    "-1",
    "99999999999999999999",
    "Bearer",
    "24-AUG-24 16:23:30",
    "31-FEB-24 25:61:61",
    "01-JAN-00 00:00:00",
    "5D20E985B6DABE15AB0BD55B52C31D020A8161EE0D02ADA3EC1C2F7BF70B7ABC",
]


def jwt(payload: object) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2ln"


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(ANSWER_TEXT)
    | st.dictionaries(st.sampled_from(["exp", "iat"]) | st.text(max_size=5), st.integers() | st.floats() | texts).map(
        jwt
    )
    # JSON may carry a lone surrogate as an escape (\ud800); st.text never generates one.
    | st.lists(st.characters(codec="utf-8") | st.characters(categories=["Cs"]), max_size=8).map("".join)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
answers = st.dictionaries(st.sampled_from(ANSWER_FIELDS) | st.text(max_size=8), json_values, max_size=8)
# Each gateway's success answer, for mutating one field at a time: most mutants still reach the token.
SUCCESS_ANSWERS: dict[str, dict[str, object]] = {
    "snap": {
        "responseCode": "2007300",
        "responseMessage": "Successful",
        "accessToken": "tok",
        "tokenType": "Bearer",
        "expiresIn": "900",
    },
    "doku": {"token": jwt({"exp": 1724225270})},
    "finpay-widget": {
        "statusCode": "000",
        "statusDesc": "Success",
        "tokenID": "tok",
        "tokenExpiry": "24-AUG-24 16:23:30",
        "processingTime": "0.012",
    },
    "faspay-sendme": {
        "status": "2",
        "response_code": "00",
        "access_token": "tok",
        "expired_in": "36000",
        "message": "Success",
        "response_desc": "Success",
    },
}


def success_answer(provider_name: str) -> dict[str, object]:
    return dict(SUCCESS_ANSWERS.get(provider_name, SUCCESS_ANSWERS["snap"]))


@st.composite
def mutated_answers(draw: st.DrawFn, provider_name: str) -> bytes:
    answer = success_answer(provider_name)
    for _ in range(draw(st.integers(0, 3))):
        field = draw(st.sampled_from(sorted(answer) or ANSWER_FIELDS) | st.sampled_from(ANSWER_FIELDS))
        if draw(st.integers(0, 4)) == 0:
            answer.pop(field, None)
        else:
            answer[field] = draw(json_values)
    return json.dumps(answer).encode()


answer_bodies = (
    st.binary(max_size=300)
    | answers.map(lambda answer: json.dumps(answer).encode())
    | json_values.map(lambda value: json.dumps(value).encode())
    | answers.map(lambda answer: json.dumps(answer).encode()[: len(json.dumps(answer)) // 2])
    | st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth)
    | st.integers(1, 5000).map(lambda depth: b'{"token":' * depth)
)
statuses = st.just(200) | st.sampled_from([201, 204, 400, 401, 403, 404, 429, 500, 502, 503]) | st.integers(0, 999)


@EXAMPLES
@given(provider_name=st.sampled_from(PROVIDER_NAMES), status=statuses, data=st.data())
def test_every_answer_parser_returns_a_token_or_paytoken_error(
    provider_name: str, status: int, data: st.DataObject
) -> None:
    provider = PROVIDERS[provider_name]
    if data.draw(st.booleans(), label="start from a success answer"):
        body = data.draw(mutated_answers(provider_name), label="body")
        status = data.draw(st.just(200) | statuses, label="status")
    else:
        body = data.draw(answer_bodies, label="body")
    token = expect(lambda: provider.parse(status, body), PaytokenError)
    if token is None:
        return
    assert isinstance(token, Token)
    assert isinstance(token.access_token, str) and token.access_token
    # fetch() anchors the expiry at once: that must not fail either.
    anchored = token.anchored(NOW)
    assert anchored.expires_in is None or anchored.expires_in >= 0


@EXAMPLES
@given(provider_name=st.sampled_from(PROVIDER_NAMES), data=st.data())
def test_a_parsed_token_can_be_printed_and_cached(provider_name: str, data: st.DataObject) -> None:
    body = data.draw(mutated_answers(provider_name), label="body")
    # A token goes to stdout (UTF-8) and into the cache file (JSON, UTF-8): a parser that accepts an answer
    # must hand back text that both can take, or refuse the answer with its own error.
    token = expect(lambda: PROVIDERS[provider_name].parse(200, body), PaytokenError)
    if token is None:
        return
    assert isinstance(token, Token)
    token.access_token.encode("utf-8")
    token.token_type.encode("utf-8")
    json.dumps(dict(token.response), ensure_ascii=False).encode("utf-8")


@EXAMPLES
@given(body=answer_bodies)
def test_the_verbose_trace_shows_any_answer(body: bytes) -> None:
    # -v prints every answer through the redactor, before any parser has looked at it.
    shown = Redactor(["s3cret-value"]).body(body)
    assert isinstance(shown, str)


# --- (5) captured requests (sign --replay) ------------------------------------------------------------

METHODS = ["POST", "GET", "PUT", "HEAD", "post", "X", "VERYLONGMETHODNAME"]
HEADER_NAMES = [
    "X-TIMESTAMP",
    "X-CLIENT-KEY",
    "X-SIGNATURE",
    "Content-Type",
    "Client-Id",
    "Request-Id",
    "Request-Timestamp",
    "Signature",
    "Authorization",
    "faspay-key",
    "faspay-timestamp",
    "faspay-authorization",
    "faspay-signature",
]
HEADER_VALUES = [
    "2024-12-31T10:11:40+07:00",
    "2020-08-11T08:45:42Z",
    "2018-10-09 14:24:00",
    "HMACSHA256=0sLUiPJP4lo5X2JbvywDRqdMjJ0e7+iMkMgcvMehEZA=",
    "Basic REVNTzpwYXNz",
    "Basic !!!",
    "application/json",
    "DEMO-NICEPAY-001",
]
header_values = st.sampled_from(HEADER_VALUES) | st.text(max_size=30)
TARGETS = [
    "/nicepay/v1.0/access-token/b2b",
    "/adv-core-api/partner/v1.0/token",
    "/apicobrand/security/getToken",
    "/account/api/tokens",
    "http://127.0.0.1:9/v1.0/access-token/b2b?x=1",
    "http://[::1",
    "//",
]
targets = st.sampled_from(TARGETS) | st.text(max_size=20)


@st.composite
def raw_requests(draw: st.DrawFn) -> bytes:
    prefix = draw(st.sampled_from(["", "> ", "\ufeff", "\n\n"]))
    line = f"{draw(st.sampled_from(METHODS) | st.text(max_size=6))} {draw(targets)}"
    line += draw(st.sampled_from(["", " HTTP/1.1", " HTTP/2", " HTTP/x"]))
    headers = draw(
        st.lists(
            st.tuples(st.sampled_from(HEADER_NAMES) | st.text(max_size=10), header_values).map(
                lambda pair: f"{pair[0]}: {pair[1]}"
            )
            | st.text(max_size=20),
            max_size=8,
        )
    )
    body = draw(st.sampled_from(["", '{"grantType":"client_credentials"}']) | st.text(max_size=60))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    noise = draw(st.lists(st.sampled_from(["* Connected", "< HTTP/1.1 200 OK", "{ [5 bytes data]"]), max_size=2))
    text = newline.join([*noise, prefix + line, *(prefix + header for header in headers), "", body])
    return text.encode("utf-8", errors="surrogatepass")


CURL_FLAGS = [
    "-X",
    "--request",
    "-H",
    "--header",
    "-u",
    "--user",
    "--url",
    "-d",
    "--data",
    "--data-raw",
    "--data-binary",
    "--json",
    "--data=",
    "--header=",
    "-sS",
    "-v",
    "--compressed",
    "-o",
    "\\\n",
]


@st.composite
def curl_commands(draw: st.DrawFn) -> bytes:
    words = [draw(st.sampled_from(["curl", "/usr/bin/curl", "curl.exe"]))]
    for _ in range(draw(st.integers(0, 10))):
        flag = draw(st.sampled_from(CURL_FLAGS) | st.text(max_size=8))
        value = draw(
            header_values | targets | st.sampled_from([f"{name}: {v}" for name in HEADER_NAMES[:3] for v in ["x"]])
        )
        quote = draw(st.sampled_from(["shlex", "raw", "single", "double"]))
        quoted = {"shlex": shlex.quote(value), "raw": value, "single": f"'{value}", "double": f'"{value}"'}[quote]
        words += [flag, quoted] if draw(st.booleans()) else [flag + quoted]
    return " ".join(words).encode("utf-8", errors="surrogatepass")


capture_inputs = st.binary(max_size=400) | st.text(max_size=200).map(str.encode) | raw_requests() | curl_commands()


@EXAMPLES
@given(data=capture_inputs)
def test_capture_parser_returns_a_capture_or_usage_error(data: bytes) -> None:
    captured = expect(lambda: parse_capture(data, source="capture.txt"), UsageError)
    if captured is None:
        return
    assert isinstance(captured, Captured)
    assert isinstance(captured.path, str)
    assert captured.body is None or isinstance(captured.body, bytes)


@pytest.fixture(scope="module")
def demo_profiles(workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Profile]:
    path = workspace.write_profiles("http://127.0.0.1:9", name="hostile-profiles.toml")
    return {name: load_profile(PROVIDERS[name], "demo", profiles_file=path) for name in PROVIDER_NAMES}


@EXAMPLES
@given(data=raw_requests() | curl_commands(), provider_name=st.sampled_from(PROVIDER_NAMES))
def test_replaying_any_capture_never_crashes(
    data: bytes, provider_name: str, demo_profiles: dict[str, Profile]
) -> None:
    # The rest of `sign --replay`: take the signed inputs out of the capture and check them against the profile.
    captured = expect(lambda: parse_capture(data), UsageError)
    if captured is None:
        return
    assert isinstance(captured, Captured)
    provider = PROVIDERS[provider_name]
    expect(lambda: forensics_for(provider).read_capture(demo_profiles[provider_name], captured, NOW), PaytokenError)


# --- (6) the sandbox's config --------------------------------------------------------------------------

FAULT_SWITCHES = [switch.name for switch in fields(Fault)]
CLIENT_KEYS = [
    "client_id",
    "merchant_id",
    "faspay_key",
    "public_key",
    "public_key_file",
    "token_path",
    "secret_key",
    "merchant_password",
    "faspay_secret",
    "app_key",
    "app_secret",
    "client_key",
    "client_secret",
    "iv",
]
client_values = (
    texts
    | st.sampled_from(["pub.pem", "private.pem", "/v1.0/access-token/b2b", "/custom/token"])
    | st.sampled_from(public_forms()[:2]).map(bytes.decode)
    | toml_values
)
client_tables = st.dictionaries(st.sampled_from(CLIENT_KEYS) | texts, client_values, max_size=8)
fault_tables = st.dictionaries(
    st.sampled_from([*FAULT_SWITCHES, "provider"]) | texts,
    st.integers(-5, 700) | st.floats() | st.booleans() | texts,
    max_size=5,
)
sandbox_documents = st.dictionaries(
    st.sampled_from([*PROVIDER_NAMES, "faults", "token_ttl", "clock_offset"]) | texts,
    client_tables
    | st.lists(client_tables, max_size=3)
    | st.dictionaries(st.sampled_from(PROVIDER_NAMES) | texts, fault_tables | toml_values, max_size=3)
    | toml_values,
    max_size=6,
)
sandbox_texts = (
    st.text(max_size=300)
    | sandbox_documents.map(toml_document)
    | st.tuples(sandbox_documents, st.integers(0, 300)).map(lambda parts: toml_document(parts[0])[: parts[1]])
)


@EXAMPLES
@given(text=sandbox_texts)
def test_sandbox_config_loader_returns_a_config_or_config_error(text: str, scratch: Path) -> None:
    path = scratch / "sandbox.toml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    config = expect(lambda: load_config(path), ConfigError)
    if config is None:
        return
    assert isinstance(config, SandboxConfig)
    Sandbox(config)  # what `paytoken sandbox --config` does next (without binding a port)


# --- (7) cache files ----------------------------------------------------------------------------------

CACHE_FIELDS = [
    "version",
    "provider",
    "profile",
    "base_url",
    "client_id",
    "credential",
    "access_token",
    "token_type",
    "expires_at",
    "stored_at",
    "response",
]
moments = (
    st.datetimes(timezones=st.none() | st.timezones()).map(datetime.isoformat)
    | st.sampled_from(["2024-08-21T07:27:50+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "Z"])
    | texts
)
cache_values = st.just(1) | moments | texts | json_values
cache_documents = st.dictionaries(st.sampled_from(CACHE_FIELDS) | texts, cache_values, max_size=12)


@st.composite
def nearly_valid_entries(draw: st.DrawFn) -> str:
    document: dict[str, object] = {
        "version": 2,
        "provider": "nicepay",
        "profile": "demo",
        "base_url": "http://127.0.0.1:9",
        "client_id": "DEMO",
        "credential": "0123456789abcdef0123456789abcdef",
        "access_token": "tok",
        "token_type": "Bearer",
        "expires_at": "2024-08-21T07:27:50+00:00",
        "stored_at": "2024-08-21T07:12:50+00:00",
        "response": {},
    }
    for key in draw(st.lists(st.sampled_from(CACHE_FIELDS), max_size=3)):
        if draw(st.booleans()):
            document.pop(key, None)
        else:
            document[key] = draw(cache_values)
    return json.dumps(document)


cache_texts = (
    st.text(max_size=200)
    | cache_documents.map(json.dumps)
    | nearly_valid_entries()
    | st.integers(1, 5000).map(lambda depth: '{"version": 1, "response": ' + "[" * depth + "]" * depth + "}")
)


@EXAMPLES
@given(text=cache_texts)
def test_cache_entry_reader_returns_an_entry_or_value_error(text: str) -> None:
    entry = expect(lambda: CacheEntry.from_json(text), ValueError)
    if entry is None:
        return
    assert isinstance(entry, CacheEntry)
    entry.seconds_left(NOW)  # what a cache read does next


# --- end to end: one hostile answer through the real CLI ---------------------------------------------


@contextmanager
def answering(body: bytes) -> Iterator[str]:
    """A loopback server that answers every request with HTTP 200 and body."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection, suppress(OSError):
                connection.settimeout(5)
                received = b""
                while b"\r\n\r\n" not in received:
                    received += connection.recv(65536)
                head, _, rest = received.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(rest) < length:
                    rest += connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize(
    "body",
    [
        b'{"responseCode":"2007300","responseMessage":"ok","accessToken":"ab\\ud800cd","expiresIn":900}',
        b'{"responseCode":"2007300","responseMessage":"\\udfff","accessToken":"abcd","expiresIn":900}',
    ],
    ids=["surrogate-in-token", "surrogate-in-message"],
)
@pytest.mark.parametrize("output", ["token", "json"])
def test_a_token_answer_with_a_lone_surrogate_does_not_crash(
    body: bytes, output: str, workspace: Workspace, isolated: Path
) -> None:
    with answering(body) as url:
        profiles = workspace.write_profiles(url, name="surrogate-profiles.toml")
        process = paytoken_process(
            *("get", "nicepay", "-p", "demo", "--profiles-file", str(profiles), "-o", output),
            env={"PYTHONIOENCODING": "utf-8"},
            cwd=isolated,
        )
    assert "internal error" not in process.stderr, process.stderr
    assert process.returncode in (0, 6), process.stderr
