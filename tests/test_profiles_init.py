"""`paytoken profiles init`: a commented table with every key, written 0600, never over an existing one."""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support import paytoken

from tidak_cli.gateways import PROVIDERS
from tidak_cli.profiles import EXAMPLE, read_profiles_file


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_provider_gets_a_table_listing_every_key_it_reads(provider: str, isolated: Path) -> None:
    run = paytoken("profiles", "init", provider, "--profile", "dev")
    assert run.exit_code == 0, run.output
    path = isolated / "profiles.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document, _ = read_profiles_file(path)
    assert f"[{provider}.dev]" in path.read_text()
    written = path.read_text()
    for setting in PROVIDERS[provider].settings:
        assert f"{setting.name} = " in written, setting.name
    required = {setting.name for setting in PROVIDERS[provider].settings if setting.required}
    assert required <= set(document[provider]["dev"])  # type: ignore[index]


def test_a_table_that_exists_is_never_overwritten(isolated: Path) -> None:
    assert paytoken("profiles", "init", "doku", "-p", "dev", "--set", "client_id=FIRST").exit_code == 0
    before = (isolated / "profiles.toml").read_text()
    run = paytoken("profiles", "init", "doku", "-p", "dev", "--set", "client_id=SECOND")
    assert run.exit_code == 3 and "already has [doku.dev]" in run.stderr
    assert (isolated / "profiles.toml").read_text() == before
    assert paytoken("profiles", "init", "nicepay", "-p", "dev").exit_code == 0  # another table is added
    document, _ = read_profiles_file(isolated / "profiles.toml")
    assert document["doku"]["dev"]["client_id"] == "FIRST" and "dev" in document["nicepay"]  # type: ignore[index]


def test_a_key_the_provider_does_not_read_is_a_usage_error(isolated: Path) -> None:
    run = paytoken("profiles", "init", "nicepay", "--set", "clientid=X")
    assert run.exit_code == 2 and "client_id" in run.stderr
    assert not (isolated / "profiles.toml").exists()


def test_a_newcomer_gets_a_sandbox_token_in_four_commands(isolated: Path) -> None:
    # The README's quick loop: keygen, profiles init, sandbox, get.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert paytoken("keygen", "--out", "keys/nicepay").exit_code == 0
    init = paytoken(
        "profiles", "init", "nicepay", "-p", "dev", "--set", "client_id=MY-CLIENT", "--set",
        f"base_url=http://127.0.0.1:{port}",
    )  # fmt: skip
    assert init.exit_code == 0, init.output
    server = subprocess.Popen(
        [sys.executable, "-m", "tidak_cli", "sandbox", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        while "listening" not in (line := server.stderr.readline()):
            assert line, "the sandbox did not start"
        run = paytoken("get", "nicepay", "-p", "dev", "-o", "token")
        assert run.exit_code == 0, run.output
        assert len(run.stdout.strip()) > 20
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_example_file_ships_inside_the_package_and_parses() -> None:
    document, _ = read_profiles_file(EXAMPLE)
    assert set(PROVIDERS) <= set(document)


def test_a_key_file_that_does_not_exist_yet_is_pointed_out(isolated: Path) -> None:
    run = paytoken("profiles", "init", "snap", "-p", "dev", "--set", "client_id=X", "--set", "base_url=http://h")
    assert run.exit_code == 0
    assert "private_key_file keys/snap/private.pem does not exist yet" in run.stderr
    assert "paytoken keygen --out keys/snap" in run.stderr
    (isolated / "keys" / "bank").mkdir(parents=True)
    (isolated / "keys" / "bank" / "private.pem").write_text("x")
    run = paytoken(
        "profiles",
        "init",
        "snap",
        "-p",
        "dev2",
        "--set",
        "client_id=X",
        "--set",
        "private_key_file=keys/bank/private.pem",
    )
    assert run.exit_code == 0
    assert "does not exist" not in run.stderr
