"""The `paytoken` command: the root options, and each command module loaded when its command is invoked."""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ..errors import UsageError
from ..ui.output import error, write_output
from ..ui.session import start
from ..version import __version__
from .base import guarded
from .help import page

__all__ = ["app", "main"]

# Each command lives in the module of its name, which builds it with command(): a run pays for one.
COMMANDS = {
    "get": "get a token: print it, or export it for a script",
    "call": "sign an API call with the token, send it once, show the answer",
    "sign": "sign the token request (or --request a call), send nothing",
    "exec": "run a command with the token in its environment",
    "doctor": "check a profile end to end: keys, clock, one real request",
    "providers": "the built-in providers, and what each needs",
    "profiles": "list profiles, or show one with its secrets masked",
    "cache": "list or clear cached tokens",
    "keygen": "a new RSA key pair for the SNAP gateways",
    "sandbox": "the local gateway emulator, for every provider",
    "verify": "check a notification the gateway sent: authentic or why not",
    "notify": "send your webhook a notification signed as the gateway would",
    "demo": "every provider end to end, offline: start here",
}
_SUMMARY = "Get access tokens from Indonesian payment gateways, and debug their signatures."
_EXAMPLES = (
    "paytoken demo",
    "paytoken get nicepay --profile dev",
    "paytoken call nicepay POST /api/v1.0/transfer-va/create-va -p dev -d @va.json",
    'paytoken sign nicepay -p dev --compare "$SIGNATURE"',
    "paytoken doctor nicepay -p dev",
)


class _LazyRoot(TyperGroup):
    def format_help(self, ctx: Any, formatter: Any) -> None:
        commands = [f"  {name:<11}{summary}" for name, summary in COMMANDS.items()]
        options = [
            "      --version           print the version",
            "      --debug             tracebacks, secrets masked",
            "      --install-completion, --show-completion",
            "                          completion for the shell it runs in: bash, zsh, fish",
            "  -h, --help              this page; COMMAND --help for a command's",
        ]
        sections = [("Commands:", commands), ("Options:", options)]
        formatter.write(page(f"{ctx.command_path} COMMAND [OPTIONS]", _SUMMARY, sections, _EXAMPLES))

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **settings: Any,
    ) -> Any:
        """Run the CLI; a usage error is one `error: … hint: …` message with exit 2, as every other error is."""
        try:
            result = super().main(args, prog_name, complete_var, False, windows_expand_args, **settings)
        except typer.Abort:
            print("paytoken: aborted", file=sys.stderr)
            result = 1
        except Exception as failure:
            # Click's usage errors (vendored by Typer, so not named here) carry their code and message.
            code, message = getattr(failure, "exit_code", None), getattr(failure, "format_message", None)
            if not isinstance(code, int) or message is None:
                raise
            if type(failure).__name__ == "NoArgsIsHelpError":  # `paytoken get` alone: its help, as asked
                print(message(), file=sys.stderr)
                return self._end(code, standalone_mode)
            where = getattr(getattr(failure, "ctx", None), "command_path", None) or "paytoken"
            usage_error(message(), f"see `{where} --help`")
            result = code
        return self._end(result, standalone_mode)

    @staticmethod
    def _end(result: Any, standalone_mode: bool) -> Any:
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and args[0] not in COMMANDS:
            close = difflib.get_close_matches(args[0], list(COMMANDS), n=1)
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
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=_LazyRoot,
)


def usage_error(message: str, hint: str) -> None:
    """Print a usage error in paytoken's one error style."""
    error(UsageError(message[:1].lower() + message[1:], hint=hint), start().redactor)


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
    app(prog_name="paytoken")
