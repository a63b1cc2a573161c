"""`paytoken providers`: the built-in providers, and what one needs in its profile."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..gateways import PROVIDERS, lookup
from ..gateways.base import Provider
from ..profiles import Setting
from ..ui.output import write_json
from .base import guarded, out
from .help import examples
from .params import ListingFormat, ListingOption

__all__ = ["command"]

providers_app = typer.Typer(help="List the built-in providers, or show what one needs.")


@providers_app.callback(
    invoke_without_command=True,
    epilog=examples(
        "paytoken providers", "paytoken providers -o json | jq -r '.[].name'", "paytoken providers show doku"
    ),
)
@guarded
def providers_list(ctx: typer.Context, output: ListingOption = ListingFormat.table) -> None:
    """List the built-in providers."""
    if ctx.invoked_subcommand is not None:
        return
    from ..ui.render import table

    if output == "json":
        write_json([_summary(provider) for provider in PROVIDERS.values()])
        return
    rows = [(p.name, p.title, p.algorithm, p.token_path) for p in PROVIDERS.values()]
    table(None, ("provider", "gateway", "signature", "token path"), rows, out())


def _summary(provider: Provider) -> dict[str, object]:
    return {
        "name": provider.name,
        "title": provider.title,
        "algorithm": provider.algorithm,
        "token_path": provider.token_path,
        "base_urls": dict(provider.base_urls),
    }


@providers_app.command(
    "show",
    epilog=examples(
        "paytoken providers show nicepay",
        "paytoken providers show faspay-sendme",
        "paytoken providers show doku -o json | jq -r '.settings[].key'",
    ),
)
@guarded
def providers_show(
    name: Annotated[str, typer.Argument(help="Provider name, e.g. nicepay.")],
    output: ListingOption = ListingFormat.table,
) -> None:
    """Show what a provider needs in its profile and what it signs."""
    from rich.markup import escape

    from ..profiles import COMMON_SETTINGS
    from ..ui.render import table

    provider = lookup(name)
    groups = {key for group in provider.one_of for key in group}

    def need(setting: Setting) -> str:
        return "required" if setting.required else ("one of" if setting.name in groups else "optional")

    if output == "json":
        write_json(
            {
                **_summary(provider),
                "recipe": list(provider.recipe),
                "call_recipe": list(provider.call_recipe),
                "settings": [
                    {"key": setting.name, "need": need(setting), "meaning": setting.help, "default": setting.default}
                    for setting in (*provider.settings, *COMMON_SETTINGS)
                ],
                "options": [{"flag": option.flag, "meaning": option.help} for option in provider.options],
            }
        )
        return
    console = out()
    console.print(f"[bold]{provider.name}[/]: {escape(provider.title)} ({provider.algorithm})")
    for line in provider.recipe:
        console.print(f"  {escape(line)}")
    console.print("  [bold]calls after the token[/] (paytoken call):")
    for line in provider.call_recipe:
        console.print(f"    {escape(line)}")
    urls = ", ".join(f"{env} {url}" for env, url in provider.base_urls.items()) or "none: base_url is required"
    console.print(f"  built-in base URLs: {escape(urls)}")
    rows = []
    for setting in (*provider.settings, *COMMON_SETTINGS):
        default = "" if setting.default is None else f" (default {setting.default})"
        rows.append((setting.name, need(setting), setting.help + default))
    table("profile keys", ("key", "", "meaning"), rows, console)
    if provider.options:
        table("options of get/sign", ("flag", "meaning"), [(o.flag, o.help) for o in provider.options], console)


def command() -> Any:
    """The `providers` group, built when invoked."""
    return typer.main.get_group(providers_app)
