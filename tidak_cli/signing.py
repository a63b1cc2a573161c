"""Signing primitives and timestamp formats, shared by the providers and the sandbox.

Pure functions: no clock, no randomness, no I/O. `cryptography` is imported inside the RSA
functions so that importing this module stays cheap.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .clock import JAKARTA

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = [
    "JAKARTA",
    "aes256_cbc_b64",
    "aes256_cbc_open",
    "b64",
    "hmac_sha256",
    "hmac_sha512",
    "jakarta_compact",
    "jakarta_iso",
    "jakarta_iso_millis",
    "jakarta_spaced",
    "rsa_sha256_b64",
    "rsa_sha256_verify",
    "rsa_signed_digest",
    "sha256_b64",
    "sha256_hex",
    "utc_z",
]


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        # A naive time is the NICEPAY SDK's bug: local time with "+07:00" glued on.
        raise ValueError("timestamps are computed from an aware datetime, never from local naive time")
    return now


def jakarta_iso(now: datetime) -> str:
    """Format as SNAP's X-TIMESTAMP: `2024-12-31T10:11:40+07:00`."""
    return _aware(now).astimezone(JAKARTA).isoformat(timespec="seconds")


def jakarta_iso_millis(now: datetime) -> str:
    """Format as `2024-05-13T14:53:06.991+07:00` (some SNAP banks want milliseconds)."""
    return _aware(now).astimezone(JAKARTA).isoformat(timespec="milliseconds")


def jakarta_compact(now: datetime) -> str:
    """Format as Jakarta `yyyyMMddHHmmss`: `20240821142750` (Finpay's reqDtime)."""
    return _aware(now).astimezone(JAKARTA).strftime("%Y%m%d%H%M%S")


def jakarta_spaced(now: datetime) -> str:
    """Format as Jakarta `2018-10-09 14:24:00` (Faspay's faspay-timestamp)."""
    return _aware(now).astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M:%S")


def utc_z(now: datetime) -> str:
    """Format as UTC with a `Z`: `2020-08-11T08:45:42Z`."""
    return _aware(now).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64(data: bytes) -> str:
    """Encode as standard base64 with padding and no line breaks."""
    return base64.b64encode(data).decode("ascii")


def sha256_b64(data: bytes) -> str:
    """Return base64(SHA-256(data))."""
    return b64(hashlib.sha256(data).digest())


def sha256_hex(data: bytes) -> str:
    """Return lowercase hex SHA-256(data) (SNAP's body hash)."""
    return hashlib.sha256(data).hexdigest()


def hmac_sha512(key: bytes, message: bytes) -> bytes:
    """Return the raw HMAC-SHA512 of message under key (SNAP's symmetric signature)."""
    return hmac.new(key, message, hashlib.sha512).digest()


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """Return the raw HMAC-SHA256 of message under key."""
    return hmac.new(key, message, hashlib.sha256).digest()


def aes256_cbc_b64(key: bytes, iv: bytes, plaintext: str) -> str:
    """Encrypt UTF-8 plaintext with AES-256-CBC and PKCS#7 padding; return standard base64."""
    from cryptography.hazmat.primitives import padding as symmetric_padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = symmetric_padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return b64(encryptor.update(padded) + encryptor.finalize())


def aes256_cbc_open(key: bytes, iv: bytes, ciphertext: bytes) -> bytes | None:
    """Decrypt AES-256-CBC with PKCS#7 padding; None when it does not open (another key or IV, or not AES)."""
    from cryptography.hazmat.primitives import padding as symmetric_padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if not ciphertext or len(ciphertext) % 16:
        return None
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = symmetric_padding.PKCS7(algorithms.AES.block_size).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        return None


def rsa_sha256_b64(key: RSAPrivateKey, message: bytes) -> str:
    """Sign with RSASSA-PKCS1-v1_5 over SHA-256 and encode as standard base64."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return b64(key.sign(message, padding.PKCS1v15(), hashes.SHA256()))


def rsa_sha256_verify(key: RSAPublicKey, signature: bytes, message: bytes) -> bool:
    """Tell whether signature is a valid RSASSA-PKCS1-v1_5/SHA-256 signature of message."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


# DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017, section 9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def rsa_signed_digest(key: RSAPublicKey, signature: bytes) -> bytes | None:
    """Return the SHA-256 digest that signature commits to under key, or None if key did not make it.

    PKCS#1 v1.5 signatures can be opened with the public key: a valid padding proves the signature
    came from this key pair whatever the message, and the digest inside says which bytes were signed.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        recovered = key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
    except (InvalidSignature, ValueError):
        return None
    if not recovered.startswith(_SHA256_DIGEST_INFO) or len(recovered) != len(_SHA256_DIGEST_INFO) + 32:
        return None
    return recovered[len(_SHA256_DIGEST_INFO) :]
