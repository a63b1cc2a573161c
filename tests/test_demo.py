"""`paytoken demo`: all providers, offline, exit 0, nothing left behind."""

from __future__ import annotations

from pathlib import Path

from support import paytoken_process

from tidak_cli.gateways import PROVIDERS


def test_demo_gets_a_token_from_every_provider_and_cleans_up(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    process = paytoken_process("demo", env={"TMPDIR": str(scratch), "COLUMNS": "200"})
    assert process.returncode == 0, process.stderr
    rows = {line.split()[0] for line in process.stdout.splitlines() if line.strip()}
    assert set(PROVIDERS) <= rows, process.stdout
    assert "failed" not in process.stdout
    # One signed call per provider after its token, accepted by the sandbox (SNAP 2002700, Finpay 000, …).
    calls = [line for line in process.stdout.splitlines() if line.split()[:1] and line.split()[0] in PROVIDERS]
    assert len(calls) == len(PROVIDERS)
    assert all(": " in line and ("Success" in line or "HTTP 200" in line) for line in calls), process.stdout
    assert list(scratch.iterdir()) == []
    assert "Traceback" not in process.stderr
