"""The `paytoken` command: the root options, and each command module loaded when its command is invoked."""

from __future__ import annotations

import difflib
import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ..ui.output import write_output
from ..ui.session import start
from ..version import __version__
from .base import guarded

__all__ = ["app", "main"]

# Each command lives in the module of its name, which builds it with command(): a run pays for one.
COMMANDS = ("get", "sign", "providers", "profiles", "cache", "doctor", "keygen", "sandbox", "demo")


class _LazyRoot(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and args[0] not in COMMANDS:
            close = difflib.get_close_matches(args[0], COMMANDS, n=1)
            suggestion = f" (did you mean {close[0]!r}?)" if close else ""
            ctx.fail(f"no command {args[0]!r}{suggestion}; commands: {', '.join(COMMANDS)}")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            command = importlib.import_module(f"{__package__}.{cmd_name}").command()
            command.name = cmd_name
            self.commands[cmd_name] = command
        return self.commands[cmd_name]


app = typer.Typer(
    name="paytoken",
    help="Get access tokens from Indonesian payment gateways, and debug their signatures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Start with: paytoken demo    Docs: README.md",
    cls=_LazyRoot,
)


@guarded
def _version(value: bool) -> None:
    if value:
        write_output(f"paytoken {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (secrets masked).")] = False,
) -> None:
    """Get access tokens from Indonesian payment gateways, and debug their signatures."""
    del version  # handled by its eager callback
    start(debug=debug)


def main() -> None:
    """Run the full CLI (the console script reads a plain `get` first: see launch.py)."""
    app()
