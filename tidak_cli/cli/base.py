"""What the command modules share: the error boundary for Typer, consoles, and provider subcommands."""

from __future__ import annotations

import functools
import inspect
import textwrap
from collections.abc import Callable
from typing import Any, TypeVar

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from ..errors import UsageError
from ..gateways import PROVIDERS, lookup
from ..gateways.base import Provider
from ..ui.session import current, guarded_call
from .help import EXAMPLES, example_values, option_lines, page
from .options import Option, provider_options
from .params import ProviderArgument, parameters

__all__ = ["err", "guarded", "out", "provider_group", "single", "table_command"]

F = TypeVar("F", bound=Callable[..., Any])


def err() -> Any:
    """A Rich console on stderr."""
    from ..ui.render import console

    return console(stderr=True)


def out() -> Any:
    """A Rich console on stdout."""
    from ..ui.render import console

    return console()


def guarded(command: F) -> F:
    """Run a Typer command inside the one error boundary (ui.session.guarded_call); exit with its code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ended: list[BaseException] = []

        def call() -> None:
            try:
                command(*args, **kwargs)
            except (typer.Exit, typer.Abort) as ending:  # a command's own chosen ending, not a failure
                ended.append(ending)

        code = guarded_call(call, current())
        if ended:
            raise ended[0]
        if code:
            raise typer.Exit(code)

    return wrapper  # type: ignore[return-value]


def single(name: str, function: Callable[..., Any], **settings: Any) -> Any:
    """The click command Typer makes of one function (settings: Typer's command settings, cls included)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
    app.command(name, **settings)(function)
    command = typer.main.get_command(app)
    command.name = name
    return command


def table_command(
    name: str, run: Callable[..., None], options: tuple[Option, ...], summary: str, examples: tuple[str, ...]
) -> Any:
    """`paytoken NAME PROVIDER [OPTIONS]` with the table's options; run(provider_name, **values) inside the error
    boundary; its help page written from the table (cli/help.py), the required options in the usage line."""
    required = "".join(f" {option.flags[0]} {option.metavar}" for option in options if option.required)

    class TableCommand(TyperCommand):
        def format_help(self, ctx: Any, formatter: Any) -> None:
            usage = f"{ctx.command_path} PROVIDER{required} [OPTIONS]"
            formatter.write(page(usage, summary, [(None, option_lines(options))], examples))

    provider = inspect.Parameter("provider_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=ProviderArgument)
    params = [provider, *parameters(options)]

    def command(**values: Any) -> None:
        if values.pop("debug", False):
            current().debug = True
        run(**values)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {param.name: param.annotation for param in params}
    command.__name__ = name
    command.__doc__ = summary
    return single(name, guarded(command), cls=TableCommand)


def provider_group(
    command: str, options: tuple[Option, ...], run: Callable[..., None], summary: str
) -> type[TyperGroup]:
    """A click group class whose subcommands are the providers, each built when first asked for.

    Building all fourteen provider commands costs more than a run needs; it needs one. Its help pages are
    written from the option table (cli/help.py), the group's listing the providers and the shared options.
    """

    class ProviderCommand(TyperCommand):
        def format_help(self, ctx: Any, formatter: Any) -> None:
            provider = PROVIDERS[self.name or ""]
            arguments = "".join(f" {option.metavar}" for option in options if option.kind == "argument")
            formatter.write(
                page(
                    f"{ctx.parent.command_path} {provider.name}{arguments} [OPTIONS]" if ctx.parent else provider.name,
                    self.help or "",
                    [(None, option_lines((*options, *provider_options(provider))))],
                    [example.format(**example_values(provider.name)) for example in EXAMPLES[command]],
                )
            )

    class ProviderGroup(TyperGroup):
        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            # `get -p dev nicepay` as `get nicepay -p dev`: options written before the provider are its options.
            return super().parse_args(ctx, _provider_first(args, options))

        def format_help(self, ctx: Any, formatter: Any) -> None:
            names = textwrap.wrap(", ".join(PROVIDERS), 80, initial_indent="  ", subsequent_indent="  ")
            arguments = "".join(f" {option.metavar}" for option in options if option.kind == "argument")
            formatter.write(
                page(
                    f"{ctx.command_path} PROVIDER{arguments} [OPTIONS]",
                    summary,
                    [
                        ("Providers (`paytoken providers` says what each needs):", names),
                        (None, option_lines(options)),
                        (None, [f"A provider's own flags: {ctx.command_path} PROVIDER --help"]),
                    ],
                    [example.format(**example_values("nicepay")) for example in EXAMPLES[command]],
                )
            )

        def list_commands(self, ctx: Any) -> list[str]:
            return list(PROVIDERS)

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            name = cmd_name.lower()  # provider names are case-insensitive
            if name not in PROVIDERS:
                return None
            if name not in self.commands:
                provider = PROVIDERS[name]
                self.commands[name] = single(
                    provider.name,
                    guarded(_provider_command(provider, options, run)),
                    cls=ProviderCommand,
                    help=f"{summary.split(':')[0]} from {provider.title} ({provider.algorithm}).",
                )
            return self.commands[name]

        def resolve_command(self, ctx: Any, args: list[str]) -> Any:
            if args and not args[0].startswith("-") and args[0].lower() not in PROVIDERS:
                try:
                    lookup(args[0])
                except UsageError as error:
                    ctx.fail(f"{error.message}; {error.hint}")
            return super().resolve_command(ctx, args)

    return ProviderGroup


def _provider_first(args: list[str], options: tuple[Option, ...]) -> list[str]:
    """args with the first provider name moved to the front, when options come before it."""
    if not args or not args[0].startswith("-"):
        return args
    takes_value = {flag: 1 for option in options if option.kind != "switch" for flag in option.flags}
    takes_value |= {flag: 2 for option in options if option.kind == "pair" for flag in option.flags}
    takes_value |= {option.flag: 1 for provider in PROVIDERS.values() for option in provider.options}
    index = 0
    while index < len(args):
        word = args[index]
        if word == "--":
            return args
        if word in takes_value:
            index += 1 + takes_value[word]
            continue
        if not word.startswith("-"):
            if word.lower() in PROVIDERS:
                return [word, *args[:index], *args[index + 1 :]]
            return args
        index += 1
    return args


def _provider_command(provider: Provider, options: tuple[Option, ...], run: Callable[..., None]) -> Callable[..., None]:
    own = provider_options(provider)
    params = parameters((*options, *own))
    extra_names = {option.name for option in own}

    def command(**values: Any) -> None:
        if values.get("debug"):
            current().debug = True
        extras = {name: values.pop(name) for name in extra_names}
        run(provider, extras, **values)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {param.name: param.annotation for param in params}
    command.__name__ = f"{run.__name__}_{provider.name}"
    return command
