"""Load RSA keys in every form partners keep them; generate key pairs; fingerprints."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from .errors import ConfigError

__all__ = [
    "KeyPair",
    "describe",
    "fingerprint",
    "generate",
    "load_private_key",
    "load_public_key",
    "public_pem",
    "write_key_pair",
]

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_PUBLIC_LABELS = {b"PUBLIC KEY", b"RSA PUBLIC KEY"}
_CERTIFICATE_LABELS = {b"CERTIFICATE", b"TRUSTED CERTIFICATE"}


def _normalise(data: bytes) -> bytes:
    if data[:1] == b"\x30":
        # Binary DER (an ASN.1 SEQUENCE): its last byte may be 0x0a or 0x20, which strip() would cut.
        return data
    data = data.strip()
    # A PEM pasted into an environment variable often arrives with literal "\n" sequences.
    if b"-----BEGIN" in data and b"\n" not in data and b"\\n" in data:
        data = data.replace(b"\\r\\n", b"\n").replace(b"\\n", b"\n")
    return data


def _pem_label(data: bytes) -> bytes | None:
    match = _PEM_LABEL.search(data)
    return match.group(1) if match else None


def _kind_name(key: PrivateKeyTypes | PublicKeyTypes) -> str:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519

    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"an EC ({key.curve.name}) key"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "an Ed25519 key"
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "an Ed448 key"
    if isinstance(key, dsa.DSAPrivateKey | dsa.DSAPublicKey):
        return "a DSA key"
    return f"a {type(key).__name__}"


def _require_rsa_private(key: PrivateKeyTypes, source: str) -> rsa.RSAPrivateKey:
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    raise ConfigError(
        f"{source} is {_kind_name(key)}, not an RSA key",
        hint="SNAP signatures are SHA256withRSA: generate an RSA pair with `paytoken keygen` "
        "and register its public.pem with the gateway",
    )


def _public_key_error(source: str, what: str) -> ConfigError:
    return ConfigError(
        f"{source} holds {what}, not a private key",
        hint="point the profile at the private half (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`); "
        "the public half is what you upload to the gateway",
    )


def _decode_base64_der(data: bytes) -> bytes | None:
    compact = re.sub(rb"\s+", b"", data)
    if not re.fullmatch(rb"[A-Za-z0-9+/_-]+={0,2}", compact):
        return None
    padded = compact + b"=" * (-len(compact) % 4)
    try:
        der = base64.urlsafe_b64decode(padded) if re.search(rb"[-_]", compact) else base64.b64decode(padded)
    except (binascii.Error, ValueError):
        return None
    # A DER key is an ASN.1 SEQUENCE: anything else is words that happen to be base64 letters.
    return der if der[:1] == b"\x30" else None


def _load_pem_private(data: bytes, password: bytes | None, source: str) -> PrivateKeyTypes:
    label = _pem_label(data) or b""
    if label in _PUBLIC_LABELS:
        raise _public_key_error(source, "a public key")
    if label in _CERTIFICATE_LABELS:
        raise _public_key_error(source, "a certificate (public)")
    if label == b"OPENSSH PRIVATE KEY":
        return serialization.load_ssh_private_key(data, password)
    encrypted = label == b"ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in data
    if encrypted and password is None:
        raise _no_passphrase(source)
    try:
        # A passphrase set for a key that is not encrypted is ignored, as openssl does.
        return serialization.load_pem_private_key(data, password if encrypted else None)
    except ValueError as error:
        if encrypted:
            raise _wrong_passphrase(source) from None
        raise _unreadable(source, error) from None


def _load_der_private(der: bytes, password: bytes | None, source: str) -> PrivateKeyTypes:
    try:
        return serialization.load_der_private_key(der, password)
    except TypeError:
        # Either a passphrase for an unencrypted key (use none), or none for an encrypted one.
        if password is None:
            raise _no_passphrase(source) from None
        try:
            return serialization.load_der_private_key(der, None)
        except TypeError:
            raise _wrong_passphrase(source) from None
        except ValueError as error:
            raise _unreadable(source, error) from None
    except ValueError as error:
        if password is not None and _der_is_encrypted(der):
            raise _wrong_passphrase(source) from None
        if _der_is_public(der):
            raise _public_key_error(source, "a public key or certificate") from None
        raise _unreadable(source, error) from None


def _der_is_encrypted(der: bytes) -> bool:
    try:
        serialization.load_der_private_key(der, None)
    except TypeError:
        return True
    except ValueError:
        return False
    return False


def _der_is_public(der: bytes) -> bool:
    from cryptography.x509 import load_der_x509_certificate  # here: signing a token never reads a certificate

    for load_public in (serialization.load_der_public_key, load_der_x509_certificate):
        try:
            load_public(der)
        except ValueError:
            continue
        return True
    return False


def _no_passphrase(source: str) -> ConfigError:
    return ConfigError(
        f"{source} is an encrypted private key and no passphrase is set",
        hint="add private_key_passphrase to the profile (write it as ${VAR} to keep it in the environment)",
    )


def _wrong_passphrase(source: str) -> ConfigError:
    return ConfigError(
        f"wrong passphrase for {source}",
        details=["the key is encrypted and private_key_passphrase does not decrypt it"],
        hint="check private_key_passphrase (and the variable it refers to)",
    )


def _unreadable(source: str, error: Exception) -> ConfigError:
    return ConfigError(
        f"{source} is not a readable private key",
        details=[_short(error)],
        quoted=[_short(error)],
        hint="check that the whole key was copied, BEGIN and END lines included; "
        "`openssl pkey -in KEY -noout` tells whether openssl can read it",
    )


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


def load_private_key(data: bytes, *, passphrase: str | None, source: str) -> rsa.RSAPrivateKey:
    """Load an RSA private key from PEM (PKCS#8, PKCS#1, encrypted), DER, or bare base64 DER.

    `source` names where the bytes came from, for error messages.
    """
    data = _normalise(data)
    password = passphrase.encode() if passphrase else None
    if not data:
        raise ConfigError(f"{source} is empty", hint="paste the private key PEM, or point private_key_file at it")
    try:
        if _pem_label(data):
            key = _load_pem_private(data, password, source)
        else:
            der = data if data[:1] == b"\x30" else _decode_base64_der(data)
            if der is None:
                raise ConfigError(
                    f"{source} is not a key: neither PEM, DER, nor base64 of DER",
                    hint="a PEM key starts with `-----BEGIN PRIVATE KEY-----`; `paytoken keygen` writes one",
                )
            key = _load_der_private(der, password, source)
    except ConfigError:
        raise
    except Exception as error:  # cryptography raises assorted types for corrupt input
        raise _unreadable(source, error) from None
    return _require_rsa_private(key, source)


def load_public_key(data: bytes, *, source: str) -> rsa.RSAPublicKey:
    """Load an RSA public key from PEM (SubjectPublicKeyInfo or PKCS#1), a certificate, DER, or base64 DER."""
    from cryptography.x509 import load_der_x509_certificate, load_pem_x509_certificate

    data = _normalise(data)
    label = _pem_label(data)
    key: PublicKeyTypes
    try:
        if label in _CERTIFICATE_LABELS:
            key = load_pem_x509_certificate(data).public_key()
        elif label is not None and b"PRIVATE" in label:
            raise ConfigError(
                f"{source} holds a private key, where a public key is expected",
                hint="give the public half: `openssl pkey -in private.pem -pubout -out public.pem`",
            )
        elif label is not None:
            key = serialization.load_pem_public_key(data)
        else:
            der = data if data[:1] == b"\x30" else _decode_base64_der(data)
            if der is None:
                raise ConfigError(f"{source} is not a public key: neither PEM, DER, nor base64 of DER")
            try:
                key = serialization.load_der_public_key(der)
            except ValueError:
                key = load_der_x509_certificate(der).public_key()
    except ConfigError:
        raise
    except Exception as error:  # cryptography raises assorted types for corrupt input
        raise ConfigError(
            f"{source} is not a readable public key", details=[_short(error)], quoted=[_short(error)]
        ) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigError(f"{source} is {_kind_name(key)}, not an RSA key")
    return key


def describe(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """Say what the key is, e.g. `RSA 2048-bit`."""
    return f"RSA {key.key_size}-bit"


def public_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> bytes:
    """Return the public half as SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`), as gateways want it."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """Return the SHA-256 of the public key's DER, as colon-separated hex (OpenSSL's style)."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def generate(bits: int = 2048) -> rsa.RSAPrivateKey:
    """Generate a fresh RSA private key (public exponent 65537)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public_path: Path
    fingerprint: str


def write_key_pair(key: rsa.RSAPrivateKey, directory: Path, *, passphrase: str | None = None) -> KeyPair:
    """Write private.pem (PKCS#8, 0600) and public.pem into directory; never overwrite either."""
    private_path, public_path = directory / "private.pem", directory / "public.pem"
    existing = [path for path in (private_path, public_path) if path.exists()]
    if existing:
        raise ConfigError(
            f"{existing[0]} already exists; paytoken keygen never overwrites a key",
            hint="choose another directory with --out, or move the old keys away first",
        )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    private_bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _write_new(private_path, private_bytes, 0o600)
        _write_new(public_path, public_pem(key), 0o644)
    except FileExistsError as error:
        raise ConfigError(f"{error.filename} already exists; paytoken keygen never overwrites a key") from None
    except OSError as error:
        raise ConfigError(
            f"cannot write the key pair into {directory}: {error.strerror}",
            hint="choose a writable directory with --out",
        ) from None
    return KeyPair(private_path, public_path, fingerprint(key))


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL closes the race between the exists() check and the write; the mode is set at creation
    # so the private key is never readable by others, not even for an instant.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    path.chmod(mode)  # the umask may have narrowed it; public.pem should stay world-readable
