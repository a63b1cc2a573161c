"""Shared fixtures: an isolated user directory for every test, one real sandbox on loopback per session."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tidak_cli.demo import Workspace
from tidak_cli.sandbox import Sandbox, load_config

# Property tests take their example count from a profile, loaded here before any test module builds its
# settings: `ci` draws the full 500 (on Hypothesis's own CI profile: derandomized, no database), `dev` a quick
# 50 for local runs. Each example writes files or parses whole answers, so no per-example deadline in either.
# HYPOTHESIS_PROFILE chooses; else CI set (as `.ci/run` has it) means `ci`, as Hypothesis itself decides.
settings.register_profile("ci", settings.get_profile("ci"), max_examples=500, deadline=None)
settings.register_profile("dev", max_examples=50, deadline=None)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if "CI" in os.environ else "dev")
settings.load_profile(HYPOTHESIS_PROFILE)

# A shell without job control starts `python -m pytest &` with SIGINT ignored, and an ignored signal stays
# ignored across exec: the CLI children of the Ctrl-C tests would never see theirs. Handle SIGINT as a
# foreground Python does, so every child starts with the default disposition however pytest was started.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_report_header() -> str:
    """Say which Hypothesis profile this run draws from, and how to choose the other."""
    examples = settings().max_examples
    return (
        f"hypothesis profile {HYPOTHESIS_PROFILE!r}: {examples} examples per property test (HYPOTHESIS_PROFILE=ci|dev)"
    )


PAYTOKEN_VARIABLES = ("PAYTOKEN_PROFILES", "PAYTOKEN_PROFILE", "PAYTOKEN_DEBUG", "PAYTOKEN_CACHE_DIR")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each test in its own empty directory with its own config and cache directories."""
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    for name in PAYTOKEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("PAYTOKEN_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(work)
    return work


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Throwaway keys and secrets for every provider (the same generator `paytoken demo` uses)."""
    return Workspace(tmp_path_factory.mktemp("credentials"))


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_output(workspace: Workspace) -> Iterator[None]:
    """After every test of the session: grep all that the CLI printed for the workspace's secrets."""
    from support import OUTPUTS, workspace_secrets

    yield
    secrets = workspace_secrets(workspace)
    leaks = {secret[:6] + "…" for output in OUTPUTS for secret in secrets if secret in output}
    assert not leaks, f"secrets printed by some test's command: {sorted(leaks)}"


@pytest.fixture(scope="session")
def sandbox_server(workspace: Workspace) -> Iterator[Sandbox]:
    with Sandbox(load_config(workspace.sandbox_config)).start() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    """The session's sandbox with its counts and fault switches reset."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def profiles(workspace: Workspace, sandbox: Sandbox, isolated: Path) -> Path:
    """A profiles file in the current directory: every provider as profile `demo`, aimed at the sandbox."""
    path = workspace.write_profiles(sandbox.url, name="profiles.toml")
    target = isolated / "profiles.toml"
    target.write_text(path.read_text())
    target.chmod(0o600)
    return target
