"""`paytoken demo`: every provider end to end against a private in-process sandbox."""

from __future__ import annotations

from typing import Any

import typer

from ..ui.output import error
from ..ui.session import current
from .base import err, guarded, out, single
from .help import examples

__all__ = ["command"]


@guarded
def demo() -> None:
    """Run every provider end to end against a private in-process sandbox: no network, no setup."""
    from ..clock import humanize_seconds
    from ..demo import run_demo
    from ..ui.render import table

    console = err()
    rows = run_demo(progress=lambda line: console.print(f"[dim]{line}[/]"))
    table(
        "paytoken demo: one token and one signed call per provider, from the local sandbox",
        ("provider", "token", "expires in", "signed call", "time"),
        [
            (
                row.provider,
                (row.token[:10] + "…" + row.token[-4:]) if row.token else "failed",
                humanize_seconds(row.expires_in) if row.expires_in is not None else "-",
                row.call or "-",
                f"{row.milliseconds:.0f} ms",
            )
            for row in rows
        ],
        out(),
    )
    failures = [row.failure for row in rows if row.failure is not None]
    for failure in failures:
        error(failure, current().redactor)
    if failures:
        raise typer.Exit(int(failures[0].exit_code))
    print(
        "every provider signed, verified and answered, token and call: "
        "`paytoken profiles init --help` starts your own profile"
    )


def command() -> Any:
    """The `demo` command, built when invoked."""
    return single("demo", demo, epilog=examples("paytoken demo", "paytoken demo 2>/dev/null"))
