"""Signing primitives, checked against known answers and against the openssl command line."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tidak_cli.signing import (
    hmac_sha256,
    jakarta_iso,
    jakarta_iso_millis,
    rsa_sha256_b64,
    rsa_signed_digest,
    sha256_b64,
    utc_z,
)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def openssl_verifies(public_key: rsa.RSAPublicKey, signature: bytes, data: bytes, directory: Path) -> bool:
    (directory / "public.pem").write_bytes(
        public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    (directory / "sig.bin").write_bytes(signature)
    (directory / "data.bin").write_bytes(data)
    result = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", "public.pem", "-signature", "sig.bin", "data.bin"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and "Verified OK" in result.stdout


def test_jakarta_timestamp_from_any_aware_clock() -> None:
    moment = datetime(2024, 12, 31, 3, 11, 40, 123456, tzinfo=UTC)
    assert jakarta_iso(moment) == "2024-12-31T10:11:40+07:00"
    assert len(jakarta_iso(moment)) == 25
    new_york = moment.astimezone(timezone(timedelta(hours=-5)))
    assert jakarta_iso(new_york) == "2024-12-31T10:11:40+07:00"
    assert jakarta_iso_millis(moment) == "2024-12-31T10:11:40.123+07:00"
    assert utc_z(new_york) == "2024-12-31T03:11:40Z"


def test_jakarta_crosses_midnight() -> None:
    assert jakarta_iso(datetime(2024, 12, 31, 20, 0, 0, tzinfo=UTC)) == "2025-01-01T03:00:00+07:00"


def test_naive_time_is_refused() -> None:
    # Local time with "+07:00" glued on is the NICEPAY SDK's 7-hour bug on UTC servers.
    with pytest.raises(ValueError, match="aware"):
        jakarta_iso(datetime(2024, 1, 1, 12, 0, 0))


def test_rsa_signature_verifies_with_openssl(key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    data = b"IONPAYTEST|2024-12-31T10:11:40+07:00"
    signature = rsa_sha256_b64(key, data)
    assert "\n" not in signature and len(signature) == 344  # standard base64 of 256 bytes, padded
    assert openssl_verifies(key.public_key(), base64.b64decode(signature), data, tmp_path)
    assert not openssl_verifies(key.public_key(), base64.b64decode(signature), data + b" ", tmp_path)


def test_rsa_signature_is_what_openssl_itself_signs(key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    # PKCS#1 v1.5 is deterministic: openssl's own signature must be byte-identical.
    (tmp_path / "private.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    data = b"BRN-0001|2020-09-22T01:51:00Z"
    (tmp_path / "data.bin").write_bytes(data)
    subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", "private.pem", "-out", "sig.bin", "data.bin"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    assert rsa_sha256_b64(key, data) == base64.b64encode((tmp_path / "sig.bin").read_bytes()).decode()


def test_hmac_matches_openssl() -> None:
    key, message = b"SK-EXAMPLE-SECRET", b"Client-Id:BRN-0001\nRequest-Id:abc"
    result = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", key.decode()], input=message, capture_output=True, check=True
    )
    assert hmac_sha256(key, message).hex() == result.stdout.decode().split("= ")[-1].strip()


def test_doku_vector_through_the_primitives() -> None:
    body = b'{"grant_type":"client_credentials","valid_time":"360"}'
    digest = sha256_b64(body)
    assert digest == "23kYsU7yk6vZ/exEcBe1UAFmjn17wuk165Oc+E3Cb8Y="
    component = (
        "Client-Id:BRN-0001-10791114622547\n"
        "Request-Id:fdb69f47-96da-499d-acec-7cdc318ab2fe\n"
        "Request-Timestamp:2020-08-11T08:45:42Z\n"
        "Request-Target:/adv-core-api/partner/v1.0/token\n"
        f"Digest:{digest}"
    )
    signature = base64.b64encode(hmac_sha256(b"SK-EXAMPLE-SECRET", component.encode())).decode()
    assert signature == "0sLUiPJP4lo5X2JbvywDRqdMjJ0e7+iMkMgcvMehEZA="


def test_signed_digest_opens_only_with_the_right_key(key: rsa.RSAPrivateKey) -> None:
    data = b"client|2024-01-01T00:00:00+07:00"
    signature = base64.b64decode(rsa_sha256_b64(key, data))
    assert rsa_signed_digest(key.public_key(), signature) == hashlib.sha256(data).digest()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert rsa_signed_digest(other.public_key(), signature) is None
    assert rsa_signed_digest(key.public_key(), b"\x00" * 256) is None
