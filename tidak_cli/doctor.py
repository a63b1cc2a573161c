"""`paytoken doctor`: check a profile from the file to the gateway, and say what to fix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from .clock import SKEW_WORTH_SAYING, clock_skew, describe_skew, humanize_seconds
from .errors import ExitCode, PaytokenError
from .gateways import family_of
from .gateways.base import Provider
from .profiles import Profile

if TYPE_CHECKING:
    from .transport import Transport

__all__ = ["Check", "diagnose", "exit_code"]

Status = Literal["ok", "warning", "failure"]

MINIMUM_RSA_BITS = 2048


@dataclass(frozen=True)
class Check:
    """One thing doctor looked at: its verdict, what it saw, and the fix."""

    name: str
    status: Status
    detail: str
    fix: str | None = None
    code: ExitCode | None = None  # for a failure: the exit code it stands for
    quoted: tuple[str, ...] = ()  # the outside values detail and fix quote (see PaytokenError.quoted)


def exit_code(checks: list[Check]) -> int:
    """0 when nothing failed, else the first failure's code."""
    failures = [check for check in checks if check.status == "failure"]
    return int(failures[0].code or ExitCode.REJECTED) if failures else 0


def diagnose(
    provider: Provider,
    profile: Profile,
    *,
    open_transport: Callable[[], Transport],
    clock: Callable[[], datetime],
) -> Iterator[Check]:
    """Run every check for a loaded profile, in order; each yields as soon as it is known."""
    yield Check("profile", "ok", f"{profile.where} has every key {provider.name} needs")
    for warning in profile.warnings:
        yield Check("profile", "warning", warning)
    yield from _key_checks(provider, profile)
    yield _environment_check(provider, profile)
    with open_transport() as transport:
        yield _clock_check(profile, transport, clock)
        yield _token_check(provider, profile, transport, clock)


def _key_checks(provider: Provider, profile: Profile) -> Iterator[Check]:
    load_private_key = family_of(provider.name).private_key
    if load_private_key is None:
        return
    from .keys import describe, fingerprint, load_public_key

    try:
        key = load_private_key(provider, profile)
    except PaytokenError as error:
        yield Check("private key", "failure", error.message, error.hint, error.exit_code, error.quoted)
        return
    if key.key_size < MINIMUM_RSA_BITS:
        yield Check(
            "private key",
            "failure",
            f"{describe(key)}: gateways require RSA keys of {MINIMUM_RSA_BITS} bits or more",
            "make a new pair with `paytoken keygen --bits 2048` and register its public.pem with the gateway",
            ExitCode.CONFIG,
        )
    else:
        yield Check("private key", "ok", f"{describe(key)}, public key SHA-256 {fingerprint(key)[:23]}…")
    if "public_key_file" not in profile.files:
        yield Check(
            "key pair",
            "warning",
            "public_key_file is not set, so the pair cannot be checked against what the gateway has",
            "set public_key_file to the public key you uploaded",
        )
        return
    try:
        public = load_public_key(
            profile.files["public_key_file"], source=f"public_key_file {profile.get('public_key_file')}"
        )
    except PaytokenError as error:
        yield Check("key pair", "failure", error.message, error.hint, error.exit_code, error.quoted)
        return
    if public.public_numbers() == key.public_key().public_numbers():
        yield Check("key pair", "ok", "private_key matches public_key_file")
    else:
        yield Check(
            "key pair",
            "failure",
            f"private_key is not the pair of public_key_file (its SHA-256 {fingerprint(public)[:23]}…)",
            "the gateway verifies with the key you uploaded: upload the public half of this private key, or "
            "point private_key_file at the private half of the uploaded one",
            ExitCode.CONFIG,
        )


def _environment_check(provider: Provider, profile: Profile) -> Check:
    environment = str(profile.get("environment") or "sandbox")
    host = urlsplit(profile.base_url).hostname or ""
    hosts = {name: urlsplit(url).hostname for name, url in provider.base_urls.items()}
    if profile.origins.get("base_url", "").startswith("built-in"):
        return Check("environment", "ok", f"{environment}: {profile.base_url}", quoted=(profile.base_url,))
    other = next((name for name, known in hosts.items() if known == host and name != environment), None)
    if other is not None:
        return Check(
            "environment",
            "warning",
            f"environment is {environment}, but base_url {profile.base_url} is {provider.name}'s {other} host",
            f'set environment = "{other}", or fix base_url',
            quoted=(profile.base_url,),
        )
    return Check(
        "environment",
        "ok",
        f"base_url {profile.base_url} (set explicitly; environment = {environment})",
        quoted=(profile.base_url,),
    )


def _clock_check(profile: Profile, transport: Transport, clock: Callable[[], datetime]) -> Check:
    try:
        response = transport.probe(profile.base_url + "/", timeout=profile.timeout, verify=profile.tls_verify)
    except PaytokenError as error:
        return Check(
            "clock", "failure", f"cannot reach the gateway: {error.message}", error.hint, error.exit_code, error.quoted
        )
    skew = clock_skew(response.date, clock())
    if skew is None:
        sent = response.headers.get("Date") or response.headers.get("date")
        said = f"a Date header that is not one date with a time zone ({sent!r})" if sent else "no Date header"
        return Check(
            "clock", "warning", f"the gateway sends {said}, so its clock cannot be compared", quoted=(sent or "",)
        )
    if abs(skew) > SKEW_WORTH_SAYING:
        return Check(
            "clock",
            "failure",
            f"this machine's clock is {describe_skew(skew)} the gateway's (its Date header: "
            f"{response.headers.get('Date') or response.headers.get('date')})",
            "sync the clock (timedatectl set-ntp true; on Windows w32tm /resync): gateways refuse timestamps "
            "more than a few minutes off",
            ExitCode.REJECTED,
        )
    return Check("clock", "ok", f"within {abs(skew):.0f} s of the gateway's")


def _token_check(provider: Provider, profile: Profile, transport: Transport, clock: Callable[[], datetime]) -> Check:
    from .tokens import fetch

    try:
        result = fetch(provider, profile, transport=transport, clock=clock)
    except PaytokenError as error:
        details = "; ".join(error.details)
        return Check(
            "token request",
            "failure",
            error.message + (f" ({details})" if details else ""),
            error.hint,
            error.exit_code,
            error.quoted,
        )
    left = result.token.expires_in
    lifetime = f", expires in {humanize_seconds(left)}" if left is not None else ", expiry not given"
    return Check("token request", "ok", f"the gateway issued a {result.token.token_type} token{lifetime}")
