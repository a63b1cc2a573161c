"""`paytoken exec PROVIDER -- COMMAND …`: run a command with the token in its environment, as `aws-vault exec`
and `op run` do: the token goes from paytoken to the child's environment, never through a shell or a file.
"""

from __future__ import annotations

import inspect
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from ..errors import CommandNotExecutable, CommandNotFound, UsageError
from ..gateways import lookup
from ..getting import GetRequest, check_get, env_assignments, obtain
from ..ui.session import current, load
from .base import guarded, single
from .help import option_lines, page
from .options import EXEC
from .params import ProviderArgument, parameters

__all__ = ["command"]

_SUMMARY = (
    "Run COMMAND with the token in its environment: PAYTOKEN_ACCESS_TOKEN, PAYTOKEN_TOKEN_TYPE and "
    "PAYTOKEN_EXPIRES_AT (the token from the cache as `get` takes it). Nothing is printed and no file written; "
    "stdin, stdout and stderr are the command's own. Exits with the command's code (128+N for signal N; 127 "
    "not found, 126 not executable), or paytoken's own before the command runs."
)
_EXAMPLES = (
    "paytoken exec nicepay --profile dev -- ./create-va.sh",
    "paytoken exec doku -p dev -- python pay.py",
    "paytoken exec nicepay -p dev --env-prefix NICEPAY_ -- npm test",
    "paytoken exec finpay-snap -p prod --min-ttl 600 -- ./batch.sh",
)


class _ExecCommand(TyperCommand):
    def format_help(self, ctx: Any, formatter: Any) -> None:
        usage = f"{ctx.command_path} PROVIDER [OPTIONS] -- COMMAND [ARG]..."
        formatter.write(page(usage, _SUMMARY, [(None, option_lines(EXEC))], _EXAMPLES))


def _exec(
    provider_name: str, command: list[str] | None, profile: str | None, profiles_file: Path | None, **values: Any
) -> None:
    """Get the token as `get` does, then run the command with it in its environment."""
    if not command:
        raise UsageError(
            "exec needs a command to run",
            hint=f"paytoken exec {provider_name} --profile NAME -- COMMAND [ARG]...",
        )
    request = GetRequest(
        provider=provider_name,
        profile=profile,
        profiles_file=profiles_file,
        timestamp=None,
        base_url=None,
        output=None,
        dry_run=False,
        env_prefix=values["env_prefix"],
        verbose=False,
        no_cache=False,
        refresh=values["refresh"],
        min_ttl=values["min_ttl"],
        dotenv=None,
        debug=False,
    )
    check_get(request)
    provider = lookup(provider_name)
    program = _program(command[0])  # before the token: a mistyped command costs no gateway request
    run = current()
    resolved = load(provider, profile, profiles_file, {}, run)

    def open_transport() -> Any:
        from ..transport import Transport

        return Transport(redactor=run.redactor)

    result = obtain(provider, resolved, request, None, warn=run.warn, open_transport=open_transport)
    environment = {**os.environ, **dict(env_assignments(result, values["env_prefix"]))}
    raise typer.Exit(_run(program, command, environment))


def _program(name: str) -> str:
    """The executable a command names (a path, or a name looked up in PATH), or exit 127 as a shell does."""
    found = name if os.sep in name or (os.altsep and os.altsep in name) else shutil.which(name)
    if found is None or not Path(found).exists():
        raise CommandNotFound(
            f"{name}: command not found",
            hint="check its name, or give its path" if found is None else "check the path",
        )
    return found


def _run(program: str, command: list[str], environment: dict[str, str]) -> int:
    """Run the command with stdin, stdout and stderr inherited; its exit code, 128 + N for signal N."""
    try:
        child = subprocess.Popen([program, *command[1:]], env=environment)  # noqa: S603 (the user's own command)
    except OSError as failure:  # not executable, a directory, a bad interpreter line
        raise CommandNotExecutable(
            f"{command[0]}: cannot run it: {failure.strerror or failure}",
            hint="check that it is an executable file (chmod +x) or a script with a #! line",
        ) from None
    # Ctrl-C reaches the child from the terminal; paytoken waits for it to decide, as a shell does. A SIGTERM sent
    # to paytoken alone (a supervisor stopping it) is passed on, so that the child is not left running.
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    previous_term = signal.signal(signal.SIGTERM, lambda number, _frame: child.send_signal(number))
    try:
        code = child.wait()
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)
    return 128 - code if code < 0 else code


def _exec_command() -> Callable[..., None]:
    """exec's Typer function: PROVIDER, the command after --, and the EXEC table's options."""
    arguments = [
        inspect.Parameter("provider_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=ProviderArgument),
        inspect.Parameter(
            "command",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=None,
            annotation=Annotated[
                list[str] | None,
                typer.Argument(metavar="-- COMMAND [ARG]...", show_default=False, help="The command to run, after --."),
            ],
        ),
    ]
    params = [*arguments, *parameters(EXEC)]

    def exec_command(**values: Any) -> None:
        """Run COMMAND with the token in its environment: PREFIX + ACCESS_TOKEN, TOKEN_TYPE, EXPIRES_AT."""
        _exec(**values)

    exec_command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    exec_command.__annotations__ = {param.name: param.annotation for param in params}
    return guarded(exec_command)


def command() -> Any:
    """The `exec` command, built when invoked."""
    return single("exec", _exec_command(), cls=_ExecCommand)
