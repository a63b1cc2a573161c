"""Key material (SPEC 1.1) and `paytoken keygen` (SPEC 3), checked against the `openssl` command line."""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from support import Run, assert_clean, paytoken

from tidak_cli.errors import ConfigError, ExitCode
from tidak_cli.keys import load_private_key

CLIENT_ID = "IONPAYTEST"
X_TIMESTAMP = "2024-12-31T10:11:40+07:00"
PASSPHRASE = "correct horse battery staple"
WRONG_PASSPHRASE = "wrong-passphrase-1234"
KEY_FILE = "key.pem"

Encoding = serialization.Encoding
PrivateFormat = serialization.PrivateFormat


# --- key material, generated once ----------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


@pytest.fixture(scope="module")
def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("the openssl command line is needed as the independent implementation")
    return path


def private_bytes(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | dsa.DSAPrivateKey,
    encoding: serialization.Encoding,
    fmt: serialization.PrivateFormat,
    passphrase: str | None = None,
) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(encoding, fmt, encryption)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def certificate_pem(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "paytoken test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.PEM)


def secret_lines(data: bytes | None) -> list[str]:
    """The body lines of a key: none may ever be printed."""
    if not data:
        return []
    text = data.decode("ascii", errors="ignore").replace("\\n", "\n")
    return [line.strip() for line in text.splitlines() if "-----" not in line and len(line.strip()) >= 16]


# --- the profile and the CLI ---------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """Key material and how the profile holds it."""

    data: bytes
    storage: str  # file | inline | multiline | env | literal
    passphrase: str | None = None


def write_profile(directory: Path, stored: Stored | None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Write profiles.toml with [nicepay.p] holding the key as `stored` says (None: a file that is not there)."""
    lines = [
        "[nicepay.p]",
        f'client_id = "{CLIENT_ID}"',
        'base_url = "http://127.0.0.1:9"',
    ]
    key_file = directory / KEY_FILE
    if stored is None:
        key_file.unlink(missing_ok=True)
        lines.append(f'private_key_file = "{KEY_FILE}"')
    elif stored.storage == "file":
        key_file.unlink(missing_ok=True)
        key_file.write_bytes(stored.data)
        key_file.chmod(0o600)
        lines.append(f'private_key_file = "{KEY_FILE}"')
    elif stored.storage == "inline":
        lines.append(f'private_key = "{stored.data.decode()}"')
    elif stored.storage == "multiline":
        lines.append(f'private_key = """\n{stored.data.decode()}"""')
    elif stored.storage == "env":
        monkeypatch.setenv("TEST_PRIVATE_KEY", stored.data.decode())
        lines.append('private_key = "${TEST_PRIVATE_KEY}"')
    elif stored.storage == "literal":
        # A TOML literal string keeps `\n` as two characters, as a pasted environment variable would.
        lines.append(f"private_key = '{stored.data.decode()}'")
    else:
        raise AssertionError(stored.storage)
    if stored is not None and stored.passphrase is not None:
        lines.append(f'private_key_passphrase = "{stored.passphrase}"')
    path = directory / "profiles.toml"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def sign(profiles_file: Path) -> Run:
    return paytoken(
        "sign", "nicepay", "--profile", "p", "--profiles-file", str(profiles_file),
        "--timestamp", X_TIMESTAMP, "-o", "json",
    )  # fmt: skip


def error_message(run: Run) -> str:
    """The `error:` headline, with Rich's line wrapping undone."""
    match = re.search(r"^error: (.*?)(?:\n  |\Z)", run.stderr, re.MULTILINE | re.DOTALL)
    assert match, f"no error line in: {run.output!r}"
    return " ".join(match.group(1).split())


def flat(text: str) -> str:
    return " ".join(text.split())


def openssl_verify(openssl: str, public: bytes, data: bytes, signature_b64: str, directory: Path) -> bool:
    """Verify a SHA256withRSA signature with `openssl dgst`, the independent implementation."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "public.pem").write_bytes(public)
    (directory / "sig.bin").write_bytes(base64.b64decode(signature_b64, validate=True))
    (directory / "data.bin").write_bytes(data)
    result = subprocess.run(
        [openssl, "dgst", "-sha256", "-verify", "public.pem", "-signature", "sig.bin", "data.bin"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == "Verified OK"


# --- 1. every accepted form ----------------------------------------------------------------------

GOOD_FORMS = [
    "pem-pkcs8",
    "pem-pkcs1",
    "pem-pkcs8-encrypted",
    "pem-pkcs1-encrypted-traditional",
    "pem-crlf",
    "der-pkcs8-file",
    "der-pkcs1-file",
    "der-pkcs8-encrypted-file",
    "base64-der-inline",
    "base64-der-file",
    "base64-der-wrapped-file",
    "base64-der-pkcs1-inline",
    "pem-inline-toml-multiline",
    "pem-literal-backslash-n-env",
    "pem-literal-backslash-n-toml",
]


def good_form(key: rsa.RSAPrivateKey, form: str) -> Stored:
    pkcs8 = private_bytes(key, Encoding.PEM, PrivateFormat.PKCS8)
    der = private_bytes(key, Encoding.DER, PrivateFormat.PKCS8)
    b64 = base64.b64encode(der)
    forms = {
        "pem-pkcs8": lambda: Stored(pkcs8, "file"),
        "pem-pkcs1": lambda: Stored(private_bytes(key, Encoding.PEM, PrivateFormat.TraditionalOpenSSL), "file"),
        "pem-pkcs8-encrypted": lambda: Stored(
            private_bytes(key, Encoding.PEM, PrivateFormat.PKCS8, PASSPHRASE), "file", PASSPHRASE
        ),
        "pem-pkcs1-encrypted-traditional": lambda: Stored(
            private_bytes(key, Encoding.PEM, PrivateFormat.TraditionalOpenSSL, PASSPHRASE), "file", PASSPHRASE
        ),
        "pem-crlf": lambda: Stored(pkcs8.replace(b"\n", b"\r\n"), "file"),
        "der-pkcs8-file": lambda: Stored(der, "file"),
        "der-pkcs1-file": lambda: Stored(private_bytes(key, Encoding.DER, PrivateFormat.TraditionalOpenSSL), "file"),
        "der-pkcs8-encrypted-file": lambda: Stored(
            private_bytes(key, Encoding.DER, PrivateFormat.PKCS8, PASSPHRASE), "file", PASSPHRASE
        ),
        "base64-der-inline": lambda: Stored(b64, "inline"),
        "base64-der-file": lambda: Stored(b64 + b"\n", "file"),
        "base64-der-wrapped-file": lambda: Stored(base64.encodebytes(der), "file"),
        "base64-der-pkcs1-inline": lambda: Stored(
            base64.b64encode(private_bytes(key, Encoding.DER, PrivateFormat.TraditionalOpenSSL)), "inline"
        ),
        "pem-inline-toml-multiline": lambda: Stored(pkcs8, "multiline"),
        "pem-literal-backslash-n-env": lambda: Stored(pkcs8.strip().replace(b"\n", b"\\n"), "env"),
        "pem-literal-backslash-n-toml": lambda: Stored(pkcs8.strip().replace(b"\n", b"\\n"), "literal"),
    }
    return forms[form]()


def test_forms_cover_the_spec(rsa_key: rsa.RSAPrivateKey) -> None:
    # Guard against the fixtures drifting: each named form really is what its name says.
    assert good_form(rsa_key, "pem-pkcs8").data.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert good_form(rsa_key, "pem-pkcs1").data.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    assert good_form(rsa_key, "pem-pkcs8-encrypted").data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    traditional = good_form(rsa_key, "pem-pkcs1-encrypted-traditional").data
    assert traditional.startswith(b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n")
    assert good_form(rsa_key, "der-pkcs8-file").data[:1] == b"\x30"
    assert good_form(rsa_key, "base64-der-inline").data.startswith(b"MII")
    literal = good_form(rsa_key, "pem-literal-backslash-n-env").data
    assert b"\n" not in literal and b"-----BEGIN PRIVATE KEY-----\\nMII" in literal
    assert len({good_form(rsa_key, form) for form in GOOD_FORMS}) == len(GOOD_FORMS)


@pytest.mark.parametrize("form", GOOD_FORMS)
def test_form_loads_through_the_library(form: str, rsa_key: rsa.RSAPrivateKey) -> None:
    stored = good_form(rsa_key, form)
    loaded = load_private_key(stored.data, passphrase=stored.passphrase, source="test key")
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.private_numbers() == rsa_key.private_numbers()


@pytest.mark.parametrize("form", GOOD_FORMS)
def test_form_signs_through_the_cli_and_openssl_verifies(
    form: str,
    rsa_key: rsa.RSAPrivateKey,
    openssl: str,
    isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = good_form(rsa_key, form)
    run = sign(write_profile(isolated, stored, monkeypatch))
    assert run.exit_code == 0, run.output
    assert_clean(run.output, [*secret_lines(stored.data), PASSPHRASE])
    document = json.loads(run.stdout)
    assert document["algorithm"] == "SHA256withRSA"
    assert document["string_to_sign"] == f"{CLIENT_ID}|{X_TIMESTAMP}"
    assert document["headers"]["X-SIGNATURE"] == document["signature"]
    assert document["headers"]["X-TIMESTAMP"] == X_TIMESTAMP
    assert re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", document["signature"])
    assert len(base64.b64decode(document["signature"])) == rsa_key.key_size // 8
    assert openssl_verify(
        openssl, public_pem(rsa_key), document["string_to_sign"].encode(), document["signature"], tmp_path / "ossl"
    )


def test_openssl_check_rejects_other_key_and_other_bytes(
    rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey, openssl: str, tmp_path: Path
) -> None:
    # The verification above must be able to fail: another key or other bytes are refused.
    data = f"{CLIENT_ID}|{X_TIMESTAMP}".encode()
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = base64.b64encode(rsa_key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()
    assert openssl_verify(openssl, public_pem(rsa_key), data, signature, tmp_path / "good")
    assert not openssl_verify(openssl, public_pem(other_rsa_key), data, signature, tmp_path / "other-key")
    assert not openssl_verify(openssl, public_pem(rsa_key), data + b" ", signature, tmp_path / "other-bytes")


def test_private_key_file_expands_tilde(
    rsa_key: rsa.RSAPrivateKey, openssl: str, isolated: Path, tmp_path: Path
) -> None:
    keys = Path.home() / "keys"
    keys.mkdir()
    (keys / "nicepay.pem").write_bytes(private_bytes(rsa_key, Encoding.PEM, PrivateFormat.PKCS8))
    (keys / "nicepay.pem").chmod(0o600)
    profiles = isolated / "profiles.toml"
    profiles.write_text(
        f'[nicepay.p]\nclient_id = "{CLIENT_ID}"\nbase_url = "http://127.0.0.1:9"\n'
        'private_key_file = "~/keys/nicepay.pem"\n'
    )
    run = sign(profiles)
    assert run.exit_code == 0, run.output
    document = json.loads(run.stdout)
    assert openssl_verify(
        openssl, public_pem(rsa_key), document["string_to_sign"].encode(), document["signature"], tmp_path / "ossl"
    )


def test_key_file_readable_by_others_warns(
    rsa_key: rsa.RSAPrivateKey, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles = write_profile(
        isolated, Stored(private_bytes(rsa_key, Encoding.PEM, PrivateFormat.PKCS8), "file"), monkeypatch
    )
    quiet = sign(profiles)
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr, quiet.output
    (isolated / KEY_FILE).chmod(0o644)
    loud = sign(profiles)
    assert loud.exit_code == 0, loud.output
    assert "warning:" in loud.stderr and "chmod 600" in loud.stderr and KEY_FILE in loud.stderr
    assert json.loads(loud.stdout)["signature"] == json.loads(quiet.stdout)["signature"]


# --- 3. a passphrase for a key that is not encrypted ---------------------------------------------

UNENCRYPTED_FORMS = ["pem-pkcs8", "pem-pkcs1", "der-pkcs8-file", "base64-der-inline", "pem-inline-toml-multiline"]


@pytest.mark.parametrize("form", UNENCRYPTED_FORMS)
def test_passphrase_for_unencrypted_key_is_ignored(
    form: str,
    rsa_key: rsa.RSAPrivateKey,
    openssl: str,
    isolated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = good_form(rsa_key, form)
    stored = Stored(plain.data, plain.storage, PASSPHRASE)
    loaded = load_private_key(stored.data, passphrase=PASSPHRASE, source="test key")
    assert loaded.private_numbers() == rsa_key.private_numbers()
    run = sign(write_profile(isolated, stored, monkeypatch))
    assert run.exit_code == 0, run.output
    assert_clean(run.output, [*secret_lines(stored.data), PASSPHRASE])
    document = json.loads(run.stdout)
    assert openssl_verify(
        openssl, public_pem(rsa_key), document["string_to_sign"].encode(), document["signature"], tmp_path / "ossl"
    )


# --- 2. every bad form: exit 3, its own message, no traceback, no secret ------------------------


@dataclass(frozen=True)
class Bad:
    stored: Stored | None  # None: the key file does not exist
    message: str  # a regex the error headline must match; {path} is the key file's absolute path


def bad_form(key: rsa.RSAPrivateKey, form: str) -> Bad:
    pkcs8 = private_bytes(key, Encoding.PEM, PrivateFormat.PKCS8)
    encrypted = private_bytes(key, Encoding.PEM, PrivateFormat.PKCS8, PASSPHRASE)
    lines = pkcs8.splitlines(keepends=True)
    source = r"private_key_file {path}"
    forms = {
        "public-key": lambda: Bad(
            Stored(public_pem(key), "file"), rf"^{source} holds a public key, not a private key$"
        ),
        "certificate": lambda: Bad(
            Stored(certificate_pem(key), "file"), rf"^{source} holds a certificate \(public\), not a private key$"
        ),
        "ec-key": lambda: Bad(
            Stored(private_bytes(ec.generate_private_key(ec.SECP256R1()), Encoding.PEM, PrivateFormat.PKCS8), "file"),
            rf"^{source} is an EC \(secp256r1\) key, not an RSA key$",
        ),
        "ed25519-key": lambda: Bad(
            Stored(private_bytes(ed25519.Ed25519PrivateKey.generate(), Encoding.PEM, PrivateFormat.PKCS8), "file"),
            rf"^{source} is an Ed25519 key, not an RSA key$",
        ),
        "wrong-passphrase": lambda: Bad(
            Stored(encrypted, "file", WRONG_PASSPHRASE), rf"^wrong passphrase for {source}$"
        ),
        "passphrase-missing": lambda: Bad(
            Stored(encrypted, "file"), rf"^{source} is an encrypted private key and no passphrase is set$"
        ),
        "garbage": lambda: Bad(
            Stored(b"garbage: this is not a key!\n", "file"),
            rf"^{source} is not a key: neither PEM, DER, nor base64 of DER$",
        ),
        "empty-file": lambda: Bad(Stored(b"", "file"), rf"^{source} is empty$"),
        "missing-file": lambda: Bad(None, rf"^{source} does not exist \(set in .*\)$"),
        "truncated-pem": lambda: Bad(
            Stored(b"".join(lines[: len(lines) // 2]) + lines[-1], "file"),
            rf"^{source} is not a readable private key$",
        ),
    }
    return forms[form]()


BAD_FORMS = [
    "public-key",
    "certificate",
    "ec-key",
    "ed25519-key",
    "wrong-passphrase",
    "passphrase-missing",
    "garbage",
    "empty-file",
    "missing-file",
    "truncated-pem",
]

# What the user must be able to read in the whole error output (message, details, hint), per form.
BAD_FORM_WORDS = {
    "public-key": ["public key", "not a private key", "BEGIN PRIVATE KEY"],
    "certificate": ["certificate", "not a private key"],
    "ec-key": ["EC", "not an RSA key", "keygen"],
    "ed25519-key": ["Ed25519", "not an RSA key", "keygen"],
    "wrong-passphrase": ["wrong passphrase", "private_key_passphrase"],
    "passphrase-missing": ["encrypted", "no passphrase", "private_key_passphrase"],
    "garbage": ["not a key"],
    "empty-file": ["empty"],
    "missing-file": ["does not exist"],
    "truncated-pem": ["not a readable private key", "whole key was copied"],
}


def run_bad(form: str, key: rsa.RSAPrivateKey, directory: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Run, Bad]:
    bad = bad_form(key, form)
    run = sign(write_profile(directory, bad.stored, monkeypatch))
    return run, bad


def expected_headline(bad: Bad, directory: Path) -> str:
    return bad.message.replace("{path}", re.escape(str(directory / KEY_FILE)))


@pytest.mark.parametrize("form", BAD_FORMS)
def test_bad_form_is_a_configuration_error(
    form: str, rsa_key: rsa.RSAPrivateKey, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, bad = run_bad(form, rsa_key, isolated, monkeypatch)
    assert run.exit_code == ExitCode.CONFIG == 3, run.output
    assert run.stdout == ""
    secrets = [*secret_lines(bad.stored.data if bad.stored else None), PASSPHRASE, WRONG_PASSPHRASE]
    assert_clean(run.output, secrets)
    headline = error_message(run)
    assert re.search(expected_headline(bad, isolated), headline), headline
    for words in BAD_FORM_WORDS[form]:
        assert words in flat(run.stderr), (words, run.stderr)
    if form == "missing-file":
        assert str(isolated / KEY_FILE) in headline


def test_bad_forms_have_distinct_messages(
    rsa_key: rsa.RSAPrivateKey, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Same directory, same file name for each: only what is wrong may change the message.
    headlines = {}
    for form in BAD_FORMS:
        run, _ = run_bad(form, rsa_key, isolated, monkeypatch)
        assert run.exit_code == 3, (form, run.output)
        headlines[form] = error_message(run)
    for (first, one), (second, other) in itertools.combinations(headlines.items(), 2):
        assert one != other, f"{first} and {second} both say: {one}"


@pytest.mark.parametrize("form", [form for form in BAD_FORMS if form != "missing-file"])
def test_bad_form_through_the_library(form: str, rsa_key: rsa.RSAPrivateKey) -> None:
    bad = bad_form(rsa_key, form)
    assert bad.stored is not None
    with pytest.raises(ConfigError) as caught:
        load_private_key(bad.stored.data, passphrase=bad.stored.passphrase, source="private_key_file {path}")
    assert caught.value.exit_code == 3
    assert re.search(bad.message.replace("{path}", r"\{path\}"), caught.value.message), caught.value.message


def _bad_other_encodings(key: rsa.RSAPrivateKey) -> dict[str, tuple[bytes, str | None, str]]:
    public_der = key.public_key().public_bytes(Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    encrypted_der = private_bytes(key, Encoding.DER, PrivateFormat.PKCS8, PASSPHRASE)
    traditional = private_bytes(key, Encoding.PEM, PrivateFormat.TraditionalOpenSSL, PASSPHRASE)
    pkcs1_public = key.public_key().public_bytes(Encoding.PEM, serialization.PublicFormat.PKCS1)
    dsa_key = dsa.generate_private_key(key_size=1024)
    pkcs8 = private_bytes(key, Encoding.PEM, PrivateFormat.PKCS8)
    return {
        "base64-public-der": (base64.b64encode(public_der), None, "public key"),
        "der-public": (public_der, None, "public key"),
        "pem-rsa-public-pkcs1": (pkcs1_public, None, "holds a public key"),
        "der-ec": (private_bytes(ec_key, Encoding.DER, PrivateFormat.PKCS8), None, "EC (secp256r1) key, not an RSA"),
        "pem-ec-traditional": (
            private_bytes(ec_key, Encoding.PEM, PrivateFormat.TraditionalOpenSSL),
            None,
            "EC (secp256r1) key, not an RSA",
        ),
        "pem-dsa": (private_bytes(dsa_key, Encoding.PEM, PrivateFormat.PKCS8), None, "DSA key, not an RSA"),
        "der-encrypted-wrong-passphrase": (encrypted_der, WRONG_PASSPHRASE, "wrong passphrase"),
        "der-encrypted-no-passphrase": (encrypted_der, None, "no passphrase is set"),
        "traditional-wrong-passphrase": (traditional, WRONG_PASSPHRASE, "wrong passphrase"),
        "traditional-no-passphrase": (traditional, None, "no passphrase is set"),
        "pem-end-line-lost": (b"".join(pkcs8.splitlines(keepends=True)[:-1]), None, "not a readable private key"),
        "whitespace-only": (b"  \n\t\n", None, "is empty"),
    }


BAD_OTHER_ENCODINGS = [
    "base64-public-der",
    "der-public",
    "pem-rsa-public-pkcs1",
    "der-ec",
    "pem-ec-traditional",
    "pem-dsa",
    "der-encrypted-wrong-passphrase",
    "der-encrypted-no-passphrase",
    "traditional-wrong-passphrase",
    "traditional-no-passphrase",
    "pem-end-line-lost",
    "whitespace-only",
]


@pytest.mark.parametrize("form", BAD_OTHER_ENCODINGS)
def test_bad_form_in_other_encodings_says_which(form: str, rsa_key: rsa.RSAPrivateKey) -> None:
    data, passphrase, words = _bad_other_encodings(rsa_key)[form]
    with pytest.raises(ConfigError) as caught:
        load_private_key(data, passphrase=passphrase, source="the key")
    assert caught.value.message.startswith("the key ") or caught.value.message.startswith("wrong passphrase")
    assert words in caught.value.message, caught.value.message
    shown = " ".join([caught.value.message, *caught.value.details, caught.value.hint or ""])
    for secret in [*secret_lines(data), PASSPHRASE, WRONG_PASSPHRASE]:
        assert secret not in shown


# Letters without spaces: 13 (passes today), 10, 12, 16 and 4 (each is valid base64 once padded).
@pytest.mark.parametrize(
    "text", ["this is not a key", "hello world", "not a key at all", "paste your key here", "TODO"]
)
def test_plain_words_are_not_a_key(text: str, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Words are made of base64 letters; they must still get the "not a key" message, not the one for a
    # damaged key (whose hint says to copy the whole key again), whatever their length modulo 4.
    with pytest.raises(ConfigError) as caught:
        load_private_key(text.encode(), passphrase=None, source="the key")
    assert caught.value.message == "the key is not a key: neither PEM, DER, nor base64 of DER"
    run = sign(write_profile(isolated, Stored(text.encode(), "inline"), monkeypatch))
    assert run.exit_code == 3, run.output
    assert "is not a key: neither PEM, DER, nor base64 of DER" in error_message(run)


# --- 4. paytoken keygen --------------------------------------------------------------------------


def keygen(directory: Path, *extra: str, input: str | None = None) -> Run:
    return paytoken("keygen", "--out", str(directory), *extra, input=input)


def printed_fingerprint(run: Run) -> str:
    match = re.search(r"SHA-256 fingerprint: ([0-9A-Fa-f:]+)", run.stdout)
    assert match, run.output
    return match.group(1).replace(":", "").lower()


def openssl_fingerprint(openssl: str, public: Path) -> str:
    der = subprocess.run(
        [openssl, "pkey", "-pubin", "-in", str(public), "-outform", "DER"], capture_output=True, check=True
    ).stdout
    digest = subprocess.run([openssl, "dgst", "-sha256"], input=der, capture_output=True, check=True).stdout
    match = re.search(rb"= ?([0-9a-f]{64})\s*$", digest)
    assert match, digest
    return match.group(1).decode()


def openssl_key_bits(openssl: str, private: Path, *passin: str) -> int:
    text = subprocess.run(
        [openssl, "pkey", "-in", str(private), *passin, "-noout", "-text"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"Private-Key: \((\d+) bit", text)
    assert match, text
    return int(match.group(1))


def test_keygen_writes_a_pkcs8_pair_with_openssls_fingerprint(openssl: str, isolated: Path) -> None:
    directory = isolated / "keys" / "nicepay"  # parents are created
    run = keygen(directory)
    assert run.exit_code == 0, run.output
    private, public = directory / "private.pem", directory / "public.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    private_text, public_text = private.read_text(), public.read_text()
    assert private_text.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert private_text.rstrip().endswith("-----END PRIVATE KEY-----")
    assert public_text.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert public_text.rstrip().endswith("-----END PUBLIC KEY-----")
    assert_clean(run.output, secret_lines(private.read_bytes()))
    assert printed_fingerprint(run) == openssl_fingerprint(openssl, public)
    assert openssl_key_bits(openssl, private) == 2048
    derived = subprocess.run(
        [openssl, "pkey", "-in", str(private), "-pubout"], capture_output=True, text=True, check=True
    ).stdout
    assert derived == public_text


def test_keygen_fingerprints_differ_between_runs(isolated: Path) -> None:
    first, second = keygen(isolated / "a"), keygen(isolated / "b")
    assert first.exit_code == second.exit_code == 0
    assert printed_fingerprint(first) != printed_fingerprint(second)


def test_keygen_honours_bits(openssl: str, isolated: Path) -> None:
    run = keygen(isolated / "k", "--bits", "3072")
    assert run.exit_code == 0, run.output
    assert openssl_key_bits(openssl, isolated / "k" / "private.pem") == 3072


def test_keygen_refuses_to_overwrite(isolated: Path) -> None:
    directory = isolated / "keys"
    assert keygen(directory).exit_code == 0
    before = {name: (directory / name).read_bytes() for name in ("private.pem", "public.pem")}
    modes = {name: (directory / name).stat().st_mode for name in before}
    again = keygen(directory)
    assert again.exit_code == 3, again.output
    assert_clean(again.output, secret_lines(before["private.pem"]))
    assert "already exists" in error_message(again) and "private.pem" in error_message(again)
    assert {name: (directory / name).read_bytes() for name in before} == before
    assert {name: (directory / name).stat().st_mode for name in before} == modes


@pytest.mark.parametrize("existing", ["private.pem", "public.pem"])
def test_keygen_refuses_when_either_file_exists(existing: str, isolated: Path) -> None:
    directory = isolated / "keys"
    directory.mkdir()
    (directory / existing).write_text("the user's own file\n")
    run = keygen(directory)
    assert run.exit_code == 3, run.output
    assert existing in error_message(run) and "already exists" in error_message(run)
    assert (directory / existing).read_text() == "the user's own file\n"
    assert sorted(path.name for path in directory.iterdir()) == [existing]


def test_keygen_rejects_small_keys_as_usage_error(isolated: Path) -> None:
    run = keygen(isolated / "small", "--bits", "1024")
    assert run.exit_code == 2, run.output
    assert "--bits" in run.output and "Traceback" not in run.output
    assert not (isolated / "small").exists()


def test_keygen_passphrase_encrypts_the_private_key(openssl: str, isolated: Path) -> None:
    directory = isolated / "keys"
    run = keygen(directory, "--passphrase", input="pw\npw\n")
    assert run.exit_code == 0, run.output
    private = directory / "private.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    data = private.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert "encrypted" in run.stdout
    loaded = load_private_key(data, passphrase="pw", source="private.pem")
    assert loaded.key_size == 2048
    assert public_pem(loaded) == (directory / "public.pem").read_bytes()
    with pytest.raises(ConfigError, match="no passphrase is set"):
        load_private_key(data, passphrase=None, source="private.pem")
    with pytest.raises(ConfigError, match="wrong passphrase"):
        load_private_key(data, passphrase="pW", source="private.pem")
    assert openssl_key_bits(openssl, private, "-passin", "pass:pw") == 2048
    refused = subprocess.run(
        [openssl, "pkey", "-in", str(private), "-passin", "pass:nope", "-noout"], capture_output=True, check=False
    )
    assert refused.returncode != 0


def test_keygen_passphrase_from_a_pipe_is_its_first_line_and_prompts_nothing(openssl: str, isolated: Path) -> None:
    # No terminal: a script pipes the passphrase in, once; no getpass warnings about echo.
    done = subprocess.run(
        [sys.executable, "-m", "tidak_cli", "keygen", "--passphrase", "--out", "keys"],
        input="pass phrase 1\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert openssl_key_bits(openssl, isolated / "keys" / "private.pem", "-passin", "pass:pass phrase 1") == 2048


@pytest.mark.parametrize("given", ["", "\n"], ids=["nothing", "an empty line"])
def test_keygen_with_an_empty_passphrase_is_a_usage_error_and_writes_nothing(given: str, isolated: Path) -> None:
    run = keygen(isolated / "keys", "--passphrase", input=given)
    assert run.exit_code == 2, run.output
    assert error_message(run).startswith("the passphrase is empty")
    assert not (isolated / "keys").exists()


def test_keygen_reads_a_piped_passphrase_through_the_bounded_reader(isolated: Path) -> None:
    run = keygen(isolated / "keys", "--passphrase", input="a" * 10_000)
    assert run.exit_code == 2, run.output
    assert "the passphrase on standard input is larger than 4 KiB" in error_message(run)
    assert not (isolated / "keys").exists()


@pytest.mark.parametrize("passphrase", [None, "pw"])
def test_keygen_pair_works_end_to_end(passphrase: str | None, openssl: str, isolated: Path, tmp_path: Path) -> None:
    directory = isolated / "keys"
    extra = ("--passphrase",) if passphrase else ()
    made = keygen(directory, *extra, input=f"{passphrase}\n{passphrase}\n" if passphrase else None)
    assert made.exit_code == 0, made.output
    # The profile line keygen prints is the one to paste.
    match = re.search(r'^profile: (private_key_file = "[^"]+")', made.stdout, re.MULTILINE)
    assert match, made.stdout
    profiles = isolated / "profiles.toml"
    profiles.write_text(
        f'[nicepay.p]\nclient_id = "{CLIENT_ID}"\nbase_url = "http://127.0.0.1:9"\n{match.group(1)}\n'
        + (f'private_key_passphrase = "{passphrase}"\n' if passphrase else "")
    )
    profiles.chmod(0o600)
    run = sign(profiles)
    assert run.exit_code == 0, run.output
    document = json.loads(run.stdout)
    public = (directory / "public.pem").read_bytes()
    data = document["string_to_sign"].encode()
    assert data == f"{CLIENT_ID}|{X_TIMESTAMP}".encode()
    assert len(base64.b64decode(document["signature"])) == 256
    assert openssl_verify(openssl, public, data, document["signature"], tmp_path / "ossl")
