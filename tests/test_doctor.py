"""`paytoken doctor PROVIDER`: every check through the CLI against the real sandbox, and exit codes.

The clock is skewed with the sandbox's switch (`POST /_sandbox/clock`), key sizes are tested against a
second sandbox that registers the test's own keys, and the environment check, the one that would need the
gateway's real host, is run through `tidak_cli.doctor.diagnose` and stopped before anything is sent.
"""

from __future__ import annotations

import json
import re
import socket
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from support import Run, assert_clean, key_secrets, paytoken, requests_to

from tidak_cli.clock import utc_now
from tidak_cli.demo import Workspace
from tidak_cli.doctor import Check, diagnose, exit_code
from tidak_cli.errors import ExitCode
from tidak_cli.gateways import PROVIDERS
from tidak_cli.profiles import resolve_profile
from tidak_cli.sandbox import Sandbox, load_config
from tidak_cli.transport import Transport

TWO_HOURS = 7200


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


def write_profile(provider: str, table: dict[str, str], path: Path = Path("profiles.toml")) -> Path:
    lines = [f"[{provider}.demo]", *(f"{key} = {toml_string(value)}" for key, value in table.items())]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def nicepay_table(workspace: Workspace, base_url: str, **extra: str) -> dict[str, str]:
    client_id = tomllib.loads(workspace.sandbox_config.read_text())["nicepay"]["client_id"]
    return {
        "client_id": client_id,
        "private_key_file": str(workspace.directory / "nicepay" / "private.pem"),
        "base_url": base_url,
        **extra,
    }


def secrets_of(workspace: Workspace) -> list[str]:
    document = tomllib.loads(workspace.sandbox_config.read_text())
    shared = [
        value
        for table in document.values()
        for name, value in table.items()
        if name in ("secret_key", "merchant_password", "faspay_secret", "app_secret", "client_secret")
    ]
    return shared + key_secrets(workspace)


def lines_of(run: Run) -> dict[str, list[str]]:
    """The check lines, by check name: `✓ ok       clock: …` → {"clock": ["ok …"]}."""
    checks: dict[str, list[str]] = {}
    for line in run.stdout.splitlines():
        found = re.match(r"^[✓!✗] (ok|warning|failure)\s+([a-z ]+): (.*)$", line)
        if found:
            checks.setdefault(found.group(2), []).append(f"{found.group(1)} {found.group(3)}")
    return checks


def statuses(run: Run) -> dict[str, str]:
    return {name: found[-1].split(" ", 1)[0] for name, found in lines_of(run).items()}


def set_clock(sandbox: Sandbox, offset: float) -> None:
    body = json.dumps({"offset": offset}).encode()
    request = urllib.request.Request(f"{sandbox.url}/_sandbox/clock", data=body, method="POST")
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200


@pytest.fixture
def skewed(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, for a test that moves its clock; put back whatever the test does."""
    yield sandbox
    sandbox.reset()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rsa_key(bits: int, directory: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    directory.mkdir()
    private = directory / "private.pem"
    public = directory / "public.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    private.chmod(0o600)
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


# --- all well -----------------------------------------------------------------------------------------------


def test_nicepay_all_ok(profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == 0, run.output
    found = statuses(run)
    for name in ("profile", "private key", "environment", "clock", "token request"):
        assert found[name] == "ok", run.stdout
    # public_key_file is not set in the demo profile: a warning, which does not change the exit code.
    assert found["key pair"] == "warning"
    assert "failure" not in run.stdout
    assert "RSA 2048-bit" in lines_of(run)["private key"][0]
    assert "within" in lines_of(run)["clock"][0]
    assert "Bearer token" in lines_of(run)["token request"][0]
    assert requests_to(sandbox, "nicepay") == 1  # one real token request, no more


def test_the_key_pair_matches_public_key_file(workspace: Workspace, sandbox: Sandbox) -> None:
    public = str(workspace.directory / "nicepay" / "public.pem")
    write_profile("nicepay", nicepay_table(workspace, sandbox.url, public_key_file=public))
    run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == 0, run.output
    assert lines_of(run)["key pair"] == ["ok private_key matches public_key_file"]
    assert "warning" not in run.stdout and "failure" not in run.stdout


def test_a_public_key_file_of_another_pair_fails(workspace: Workspace, sandbox: Sandbox) -> None:
    other = str(workspace.directory / "finpay-snap" / "public.pem")
    write_profile("nicepay", nicepay_table(workspace, sandbox.url, public_key_file=other))
    run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == 3, run.output
    assert statuses(run)["key pair"] == "failure"
    assert "is not the pair of public_key_file" in lines_of(run)["key pair"][0]
    assert "fix:" in run.stdout and "upload the public half" in run.stdout
    # The key pair is what the sandbox knows, so the token request itself still works.
    assert statuses(run)["token request"] == "ok"
    assert_clean(run.output, secrets_of(workspace))


def test_a_public_key_file_that_holds_no_public_key_fails(workspace: Workspace, sandbox: Sandbox) -> None:
    Path("not-a-key.pem").write_text("hello\n")
    write_profile("nicepay", nicepay_table(workspace, sandbox.url, public_key_file="not-a-key.pem"))
    run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == 3, run.output
    assert "Traceback" not in run.output
    assert_clean(run.output, secrets_of(workspace))


@pytest.mark.parametrize(("bits", "code"), [(1024, 3), (2048, 0)])
def test_the_private_key_must_have_2048_bits(bits: int, code: int, tmp_path: Path, workspace: Workspace) -> None:
    # A sandbox of its own that registers this key, so that only the key size can fail.
    private, public = rsa_key(bits, tmp_path / f"key{bits}")
    config = tmp_path / "sandbox.toml"
    config.write_text(f'[nicepay]\nclient_id = "SMALL-KEY-001"\npublic_key_file = {toml_string(str(public))}\n')
    with Sandbox(load_config(config)).start() as own:
        table = {
            "client_id": "SMALL-KEY-001",
            "private_key_file": str(private),
            "public_key_file": str(public),
            "base_url": own.url,
        }
        write_profile("nicepay", table)
        run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == code, run.output
    found = statuses(run)
    assert found["key pair"] == "ok"
    assert f"RSA {bits}-bit" in lines_of(run)["private key"][0]
    if bits < 2048:
        assert found["private key"] == "failure"
        assert "2048" in lines_of(run)["private key"][0]
        assert "paytoken keygen" in run.stdout
    else:
        assert found["private key"] == "ok"
    assert_clean(run.output, [line for line in private.read_text().splitlines() if "-----" not in line])


def test_a_1024_bit_key_against_the_main_sandbox(tmp_path: Path, workspace: Workspace, sandbox: Sandbox) -> None:
    # The sandbox holds another public key: the key size fails first, and its code is the exit code.
    private, _ = rsa_key(1024, tmp_path / "small")
    write_profile("nicepay", {**nicepay_table(workspace, sandbox.url), "private_key_file": str(private)})
    run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == 3, run.output
    assert statuses(run)["private key"] == "failure"
    assert statuses(run)["token request"] == "failure"
    assert "4017300" in lines_of(run)["token request"][0]
    assert_clean(run.output, [line for line in private.read_text().splitlines() if "-----" not in line])


# --- the clock ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("offset", "direction"), [(TWO_HOURS, "behind"), (-TWO_HOURS, "ahead of")])
def test_a_skewed_gateway_clock_fails_the_clock_check(
    offset: int, direction: str, profiles: Path, skewed: Sandbox, workspace: Workspace
) -> None:
    set_clock(skewed, offset)
    run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == 4, run.output
    found = statuses(run)
    assert found["clock"] == "failure"
    clock = lines_of(run)["clock"][0]
    # The Date header has whole seconds, so two hours may read as 1h59m.
    assert re.search(rf"this machine's clock is (2h00m|1h59m) {direction} the gateway's", clock), clock
    assert "Date header" in clock
    assert "sync the clock" in run.stdout
    # The token request fails for the same reason, and says so.
    assert found["token request"] == "failure"
    token = lines_of(run)["token request"][0]
    assert "4017300" in token and "clock" in token
    assert "fix the time first" in run.stdout
    assert_clean(run.output, secrets_of(workspace))


def test_a_small_skew_is_within_tolerance(profiles: Path, skewed: Sandbox) -> None:
    set_clock(skewed, 20)
    run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == 0, run.output
    assert statuses(run)["clock"] == "ok"


def test_a_skew_beyond_a_minute_fails_even_if_the_gateway_accepts_the_token_request(
    profiles: Path, skewed: Sandbox
) -> None:
    set_clock(skewed, 150)  # past doctor's 60 s, within the gateway's 5 minutes
    run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == 4, run.output
    assert statuses(run)["clock"] == "failure"
    assert statuses(run)["token request"] == "ok"


@pytest.mark.parametrize("provider", ["doku", "finpay-widget", "faspay-sendme"])
def test_a_skewed_clock_fails_the_shared_secret_providers_without_leaking(
    provider: str, profiles: Path, skewed: Sandbox, workspace: Workspace
) -> None:
    set_clock(skewed, TWO_HOURS)
    run = paytoken("doctor", provider, "-p", "demo")
    assert run.exit_code == 4, run.output
    assert statuses(run)["clock"] == "failure"
    assert_clean(run.output, secrets_of(workspace))


# --- the sandbox down ---------------------------------------------------------------------------------------


@pytest.mark.realtime
def test_an_unreachable_gateway_fails_the_clock_check_with_exit_5(workspace: Workspace) -> None:
    write_profile("nicepay", nicepay_table(workspace, f"http://127.0.0.1:{closed_port()}"))
    run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == 5, run.output
    found = statuses(run)
    assert found["private key"] == "ok"
    assert found["clock"] == "failure"
    assert "cannot reach the gateway" in lines_of(run)["clock"][0]
    assert "refused" in lines_of(run)["clock"][0]
    assert found["token request"] == "failure"
    assert_clean(run.output, secrets_of(workspace))


# --- the other providers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["doku", "finpay-widget", "faspay-sendme", "finpay-snap", "doku-snap", "snap"])
def test_the_other_providers_pass_against_the_sandbox(provider: str, profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("doctor", provider, "-p", "demo")
    assert run.exit_code == 0, run.output
    found = statuses(run)
    assert found["profile"] == found["environment"] == found["clock"] == found["token request"] == "ok"
    assert "failure" not in run.stdout
    if provider in ("doku", "finpay-widget", "faspay-sendme"):
        assert "private key" not in found and "key pair" not in found
    assert requests_to(sandbox, provider) == 1


def test_a_missing_profile_is_one_failure_with_exit_3(profiles: Path, workspace: Workspace) -> None:
    run = paytoken("doctor", "nicepay", "-p", "nope")
    assert run.exit_code == 3, run.output
    assert statuses(run) == {"profile": "failure"}
    assert_clean(run.output, secrets_of(workspace))


def test_a_gateway_rejection_is_explained(workspace: Workspace, sandbox: Sandbox) -> None:
    # A client id the sandbox does not know: the token request fails with the SNAP code and paytoken's hint.
    write_profile("nicepay", {**nicepay_table(workspace, sandbox.url), "client_id": "NOT-REGISTERED"})
    run = paytoken("doctor", "nicepay", "-p", "demo")
    assert run.exit_code == 4, run.output
    assert statuses(run)["token request"] == "failure"
    assert "401" in lines_of(run)["token request"][0]
    assert "fix:" in run.stdout
    assert_clean(run.output, secrets_of(workspace))


# --- the environment check, without sending anything --------------------------------------------------------


def checks_until_network(provider: str, table: dict[str, str]) -> list[Check]:
    """doctor's checks up to the first that would use the network; nothing is sent (the transport is never opened)."""

    def no_network() -> Transport:
        raise AssertionError("the environment check must come before anything is sent")

    profile = resolve_profile(PROVIDERS[provider], "demo", table, path=None)
    checks: list[Check] = []
    for check in diagnose(PROVIDERS[provider], profile, open_transport=no_network, clock=utc_now):
        checks.append(check)
        if check.name == "environment":
            return checks
    raise AssertionError("doctor has no environment check")


@pytest.mark.parametrize(
    ("environment", "base_url", "status", "words"),
    [
        ("production", "https://dev.nicepay.co.id", "warning", "nicepay's sandbox host"),
        ("sandbox", "https://www.nicepay.co.id", "warning", "nicepay's production host"),
        ("production", "https://www.nicepay.co.id", "ok", "set explicitly"),
        ("sandbox", "http://127.0.0.1:8787", "ok", "set explicitly"),
    ],
)
def test_environment_against_the_base_url_host(
    environment: str, base_url: str, status: str, words: str, workspace: Workspace
) -> None:
    table = {**nicepay_table(workspace, base_url), "environment": environment}
    environment_check = checks_until_network("nicepay", table)[-1]
    assert environment_check.status == status, environment_check
    assert words in environment_check.detail
    if status == "warning":
        other = "sandbox" if environment == "production" else "production"
        assert environment_check.fix is not None and f'environment = "{other}"' in environment_check.fix


@pytest.mark.parametrize("environment", ["sandbox", "production"])
def test_a_built_in_base_url_is_the_environments_own(environment: str, workspace: Workspace) -> None:
    table = {key: value for key, value in nicepay_table(workspace, "").items() if key != "base_url"}
    environment_check = checks_until_network("nicepay", {**table, "environment": environment})[-1]
    assert environment_check.status == "ok"
    expected = {"sandbox": "https://dev.nicepay.co.id", "production": "https://www.nicepay.co.id"}[environment]
    assert expected in environment_check.detail


def test_a_warning_does_not_change_the_exit_code() -> None:
    ok = Check("clock", "ok", "within 0 s")
    warning = Check("environment", "warning", "environment is production, but …")
    failure = Check("key pair", "failure", "not the pair", code=ExitCode.CONFIG)
    network = Check("clock", "failure", "cannot reach", code=ExitCode.NETWORK)
    assert exit_code([ok, warning]) == 0
    assert exit_code([ok, warning, failure, network]) == 3
    assert exit_code([network, failure]) == 5
