"""`paytoken get` end to end: the CLI, the real sandbox over loopback HTTP, every output format."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import assert_clean, key_secrets, paytoken, requests_to

from tidak_cli.demo import Workspace
from tidak_cli.gateways import PROVIDERS
from tidak_cli.sandbox import Sandbox

SNAP = ["nicepay", "finpay-snap", "doku-snap", "snap"]


@pytest.mark.parametrize("provider", SNAP)
def test_token_output_is_the_bare_token(provider: str, profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", provider, "--profile", "demo", "-o", "token")
    assert run.exit_code == 0, run.output
    token = run.stdout.strip()
    assert run.stdout == token + "\n" and len(token) >= 32 and " " not in token
    assert requests_to(sandbox, provider) == 1


@pytest.mark.parametrize("provider", SNAP)
def test_json_output_has_every_field(provider: str, profiles: Path, sandbox: Sandbox) -> None:
    before = datetime.now(UTC)
    run = paytoken("get", provider, "--profile", "demo", "-o", "json")
    assert run.exit_code == 0, run.output
    document = json.loads(run.stdout)
    assert set(document) == {
        "provider",
        "profile",
        "access_token",
        "token_type",
        "expires_in",
        "expires_at",
        "cached",
        "response",
    }
    assert document["provider"] == provider and document["profile"] == "demo"
    assert document["token_type"] == "Bearer" and document["cached"] is False
    assert document["response"]["accessToken"] == document["access_token"]
    assert document["response"]["responseCode"] == "2007300"
    assert 890 <= document["expires_in"] <= 900
    expires_at = datetime.fromisoformat(document["expires_at"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=890) <= expires_at <= datetime.now(UTC) + timedelta(seconds=901)


@pytest.mark.parametrize("output", ["pretty", "token", "json", "env", "header"])
@pytest.mark.parametrize("provider", SNAP)
def test_every_provider_in_every_format(provider: str, output: str, profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", provider, "--profile", "demo", "-o", output)
    assert run.exit_code == 0, run.output
    again = json.loads(paytoken("get", provider, "-p", "demo", "-o", "json").stdout)
    assert len(again["access_token"]) >= 32
    # The second call is served from the cache: the format only changes how the token is shown.
    assert again["cached"] is True
    if output in ("token", "header", "env", "json"):
        assert again["access_token"] in run.stdout
    expected_start = {
        "token": "",
        "header": "Authorization: Bearer ",
        "env": "export PAYTOKEN_ACCESS_TOKEN='",
        "json": "{",
        "pretty": "╭",
    }[output]
    assert run.stdout.startswith(expected_start)
    assert requests_to(sandbox, provider) == 1


def test_expires_in_is_read_as_string_and_as_integer(profiles: Path, sandbox: Sandbox) -> None:
    # NICEPAY sends "900", DOKU SNAP sends 900: both must give a number of seconds.
    nicepay = json.loads(paytoken("get", "nicepay", "-p", "demo", "-o", "json").stdout)
    doku = json.loads(paytoken("get", "doku-snap", "-p", "demo", "-o", "json").stdout)
    assert nicepay["response"]["expiresIn"] == "900" and doku["response"]["expiresIn"] == 900
    assert isinstance(nicepay["expires_in"], int) and isinstance(doku["expires_in"], int)


def test_env_output_is_shell_quoted_and_prefixable(profiles: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "env", "--env-prefix", "NICEPAY_")
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "export NICEPAY_ACCESS_TOKEN",
        "export NICEPAY_TOKEN_TYPE",
        "export NICEPAY_EXPIRES_AT",
    ]
    values = {line.split("=", 1)[0][7:]: shlex.split(line.split("=", 1)[1])[0] for line in lines}
    assert values["NICEPAY_TOKEN_TYPE"] == "Bearer"
    assert values["NICEPAY_EXPIRES_AT"].endswith("Z")
    default = paytoken("get", "nicepay", "-p", "demo", "-o", "env")
    assert default.stdout.startswith("export PAYTOKEN_ACCESS_TOKEN='")


def test_env_output_evaluates_in_a_real_shell(profiles: Path, sandbox: Sandbox) -> None:
    import subprocess

    run = paytoken("get", "doku-snap", "-p", "demo", "-o", "env")
    shell = subprocess.run(
        ["sh", "-c", run.stdout + 'printf %s "$PAYTOKEN_ACCESS_TOKEN"'], capture_output=True, text=True, check=True
    )
    assert len(shell.stdout) >= 32


def test_header_output(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", "finpay-snap", "-p", "demo", "-o", "header")
    assert run.exit_code == 0
    assert run.stdout.startswith("Authorization: Bearer ") and run.stdout.endswith("\n")


def test_pretty_output_names_provider_profile_and_expiry(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", "-o", "pretty")
    assert run.exit_code == 0, run.output
    for text in ("nicepay", "demo", "Bearer", "in 15 min", "no, fresh from the gateway"):
        assert text in run.stdout


def test_default_output_off_a_terminal_is_the_bare_token(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", "nicepay", "-p", "demo")
    assert run.exit_code == 0
    assert len(run.stdout.strip().splitlines()) == 1


def test_dry_run_sends_nothing(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", "--dry-run")
    assert run.exit_code == 0, run.output
    assert "dry run, nothing sent" in run.stdout and "X-SIGNATURE" in run.stdout
    as_json = paytoken("get", "nicepay", "-p", "demo", "--dry-run", "-o", "json")
    assert json.loads(as_json.stdout)["method"] == "POST"
    assert requests_to(sandbox, "nicepay") == 0


def test_verbose_shows_the_exchange_on_stderr_with_secrets_masked(
    profiles: Path, sandbox: Sandbox, workspace: Workspace
) -> None:
    run = paytoken("get", "nicepay", "-p", "demo", "-v", "-o", "token")
    assert run.exit_code == 0
    token = run.stdout.strip()
    assert "> POST http://127.0.0.1" in run.stderr and "< HTTP 200" in run.stderr
    assert "> X-SIGNATURE: " in run.stderr and '"grantType":"client_credentials"' in run.stderr
    # The token goes to stdout only; the trace shows its last four characters.
    assert token not in run.stderr and "••••" + token[-4:] in run.stderr
    assert_clean(run.output, key_secrets(workspace))


def test_base_url_flag_overrides_the_profile(profiles: Path, sandbox: Sandbox) -> None:
    profiles.write_text(profiles.read_text().replace(sandbox.url, "http://127.0.0.1:9"))
    assert paytoken("get", "nicepay", "-p", "demo", "--base-url", sandbox.url).exit_code == 0


def test_profile_defaults_to_the_environment_variable(
    profiles: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYTOKEN_PROFILE", "demo")
    assert paytoken("get", "snap").exit_code == 0


def test_every_provider_is_a_subcommand_of_get_and_sign() -> None:
    for group in ("get", "sign"):
        listed = paytoken(group, "--help").stdout
        providers = listed.split("Providers")[1].split("\n\n")[0].split(":", 1)[1]
        assert [name.strip() for name in providers.split(",")] == list(PROVIDERS), group
        for name in PROVIDERS:
            run = paytoken(group, name, "--help")
            assert run.exit_code == 0 and f" {group} {name} [OPTIONS]" in run.stdout, run.output


def test_unknown_provider_is_a_usage_error() -> None:
    run = paytoken("get", "nicepai")
    assert run.exit_code == 2
    assert "nicepay" in run.output
