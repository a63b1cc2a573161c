"""-o env, env-no-export, fish and powershell: each sets the variables in its shell's own syntax."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support import paytoken

from tidak_cli.export import shell_lines
from tidak_cli.sandbox import Sandbox

AWKWARD = [("A", "it's"), ("B", "back\\slash"), ("C", '$(touch PWNED) `x` "q"')]


@pytest.mark.parametrize("shell", ["env", "env-no-export"])
def test_posix_formats_read_back_the_same_in_sh(shell: str, profiles: Path, sandbox: Sandbox) -> None:
    token = paytoken("get", "nicepay", "-p", "demo", "-o", "token").stdout.strip()
    lines = paytoken("get", "nicepay", "-p", "demo", "-o", shell)
    assert lines.exit_code == 0 and lines.plain
    script = lines.stdout + 'printf "%s\\n" "$PAYTOKEN_ACCESS_TOKEN" "$PAYTOKEN_TOKEN_TYPE"\n'
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == f"{token}\nBearer\n"
    exported = "export " in lines.stdout
    assert exported == (shell == "env")


def test_awkward_values_cannot_break_out_of_sh_quotes(tmp_path: Path) -> None:
    script = shell_lines(AWKWARD, "env") + 'printf "%s|" "$A" "$B" "$C"'
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout == 'it\'s|back\\slash|$(touch PWNED) `x` "q"|'
    assert not (tmp_path / "PWNED").exists()


def test_fish_and_powershell_quote_as_their_shells_read() -> None:
    # fish: inside '…' only \\ and \' are escapes; PowerShell: inside '…' only '' is.
    assert shell_lines(AWKWARD[:2], "fish") == "set -gx A 'it\\'s'\nset -gx B 'back\\\\slash'\n"
    assert shell_lines(AWKWARD[:2], "powershell") == "$Env:A = 'it''s'\n$Env:B = 'back\\slash'\n"


@pytest.mark.parametrize("shell", ["fish", "powershell"])
def test_every_shell_format_is_a_plain_get(shell: str, profiles: Path, sandbox: Sandbox) -> None:
    run = paytoken("get", "doku", "-p", "demo", "-o", shell, "--env-prefix", "DOKU_")
    assert run.exit_code == 0 and run.plain
    assert run.stdout.count("DOKU_") == 3
