"""The `paytoken` console script: a plain `get` runs without Typer, anything else through the full CLI.

Scripts call `paytoken get` in loops, and most of a short run used to go into importing Typer. So a
`get PROVIDER` whose arguments the option table (cli/options.py) reads as Click would is run here, by the
same function the Typer `get` command calls (cli/run_get.py), cache hit or miss; only the pretty view loads
Rich. Anything else (another command, --help, an option the table does not read plainly) declines before
doing anything and runs the full CLI in cli/app.py, which reports usage errors its own way.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .ui.output import ClosedStdout, interrupted

__all__ = ["main", "run_plain"]


def main() -> None:
    """Entry point of the `paytoken` console script."""
    if sys.stdout is None:
        sys.stdout = ClosedStdout()
    if sys.stderr is None:
        # stderr closed (`2>&-`): print(file=None) would write warnings and traces into stdout, the token's place.
        sys.stderr = Path(os.devnull).open("w")  # noqa: SIM115 - open for the whole run
    try:
        code = run_plain(sys.argv[1:])
        if code is None:
            from .cli.app import main as full_cli

            full_cli()
    except KeyboardInterrupt:  # before the commands' own handling starts, e.g. while Typer is imported
        raise SystemExit(interrupted()) from None
    raise SystemExit(code)


def run_plain(argv: list[str]) -> int | None:
    """Run a plain `paytoken get` and return its exit status; None, having done nothing, for anything else."""
    if len(argv) < 2 or argv[0] != "get":
        return None
    from .cli.options import plain_get
    from .gateways import PROVIDERS

    if argv[1].lower() not in PROVIDERS:
        return None
    request = plain_get(argv, PROVIDERS[argv[1].lower()])
    if request is None:
        return None
    from .cli.run_get import run_get
    from .ui.session import guarded_call, start

    run = start(debug=request.debug)
    return guarded_call(lambda: run_get(request, run), run)
