"""Each gateway in one place: a family package plus one registry line, forensics optional.

tests/toy_gateway is a whole HMAC-style gateway (recipe and sandbox emulator, no mistake search); these
tests register it with one line and use it as a user would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import assert_clean, paytoken

from tidak_cli.errors import ExitCode, UsageError
from tidak_cli.gateways import FAMILIES, PROVIDERS, emulator_for, forensics_for
from tidak_cli.sandbox import Sandbox, from_profiles

SECRET = "toy-secret-0123456789"


@pytest.fixture
def toy_profiles(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> Path:
    """Register the toy family (the one registry line) and write a profile for it."""
    monkeypatch.setitem(FAMILIES, "toy_gateway", ("toy-hmac",))
    path = isolated / "profiles.toml"
    path.write_text(f'[toy-hmac.demo]\nclient_id = "TOY-1"\nsecret_key = "{SECRET}"\nbase_url = "http://127.0.0.1:9"\n')
    path.chmod(0o600)
    return path


def test_a_registered_family_is_listed_and_gets_tokens_from_its_emulator(toy_profiles: Path) -> None:
    assert "toy-hmac" in PROVIDERS and list(PROVIDERS)[-1] == "toy-hmac"
    with Sandbox(from_profiles(toy_profiles)).start() as sandbox:
        run = paytoken(
            "get", "toy-hmac", "--profile", "demo", "--profiles-file", str(toy_profiles), "--base-url", sandbox.url,
            "-o", "json",
        )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["access_token"]
    assert_clean(run.output, [SECRET])


def test_a_registered_family_makes_signed_calls_through_the_same_core(toy_profiles: Path) -> None:
    # `call` and the sandbox's call routing ask the family only through the protocols (build_call, judge_call,
    # handle_call): no name of a built-in family is needed for a new one to sign and send calls.
    with Sandbox(from_profiles(toy_profiles)).start() as sandbox:
        common = ("--profile", "demo", "--profiles-file", str(toy_profiles), "--base-url", sandbox.url)
        run = paytoken("call", "toy-hmac", "POST", "/toy/orders", *common, "--no-cache", "-d", '{"n":1}', "-o", "json")
        wrong = paytoken("call", "toy-hmac", "POST", "/toy/orders", *common, "--token", "not-issued-here")
        counted = sandbox.stats()["providers"]["toy-hmac"]
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["status"] == 200
    assert wrong.exit_code == 4, wrong.output
    assert counted["calls"] == 1 and counted["issued"] == 1
    assert_clean(run.output, [SECRET])


def test_sign_works_without_forensics_but_compare_and_replay_say_there_is_no_mistake_search(
    toy_profiles: Path, isolated: Path
) -> None:
    base = ("sign", "toy-hmac", "--profile", "demo", "--profiles-file", str(toy_profiles))
    signed = paytoken(*base, "--timestamp", "2024-12-31T03:11:40Z", "-o", "json")
    assert signed.exit_code == 0, signed.output
    assert json.loads(signed.stdout)["string_to_sign"] == "TOY-1|2024-12-31T03:11:40Z"
    capture = isolated / "capture.txt"
    capture.write_text("POST /toy/token HTTP/1.1\nX-Client-Id: TOY-1\nX-Signature: abc\n\n")
    for extra in (("--compare", "abc"), ("--replay", str(capture))):
        run = paytoken(*base, *extra)
        assert run.exit_code == ExitCode.USAGE, run.output
        assert "toy-hmac has no mistake search: --compare and --replay are not available for it" in run.stderr
        assert_clean(run.output, [SECRET])


def test_the_registry_hands_out_emulators_and_only_the_forensics_that_exist(toy_profiles: Path) -> None:
    toy = PROVIDERS["toy-hmac"]
    assert type(emulator_for(toy)).__name__ == "ToyGateway"
    with pytest.raises(UsageError, match="no mistake search"):
        forensics_for(toy)
    for name in FAMILIES[".snap"] + FAMILIES[".doku"] + FAMILIES[".finpay_widget"] + FAMILIES[".faspay_sendme"]:
        assert forensics_for(PROVIDERS[name]) is not None
        assert emulator_for(PROVIDERS[name]).provider is PROVIDERS[name]
