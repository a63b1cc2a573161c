"""`paytoken providers`: the built-in providers, and what one needs in its profile."""

from __future__ import annotations

import textwrap
from typing import Annotated, Any

import typer

from ..gateways import GROUPS, PROVIDERS, lookup, provenance, quirks
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
    columns = ("provider", "gateway", "signature", "source")
    rows: dict[str, list[tuple[str, str, str, str]]] = {group: [] for group in GROUPS}
    for provider in PROVIDERS.values():
        rows[provenance(provider).group].append(
            (provider.name, provider.title, provider.algorithm, provenance(provider).confidence)
        )
    # One table per group, their columns as wide as the widest cell of any, so that they line up.
    cells = [columns, *(row for group in rows.values() for row in group)]
    widths = [max(len(row[index]) for row in cells) for index in range(len(columns))]
    console = out()
    for group, heading in GROUPS.items():
        if rows[group]:
            table(heading, columns, rows[group], console, widths)
    console.print("`paytoken providers show NAME`: its recipe, quirks and sources")


def _summary(provider: Provider) -> dict[str, object]:
    source = provenance(provider)
    return {
        "name": provider.name,
        "title": provider.title,
        "algorithm": provider.algorithm,
        "token_path": provider.token_path,
        "base_urls": dict(provider.base_urls),
        "group": source.group,
        "confidence": source.confidence,
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

    source = provenance(provider)
    if output == "json":
        write_json(
            {
                **_summary(provider),
                "recipe": list(provider.recipe),
                "quirks": list(quirks(provider)),
                "call_recipe": list(provider.call_recipe),
                "sources": list(source.sources),
                "notes": list(source.notes),
                "settings": [
                    {"key": setting.name, "need": need(setting), "meaning": setting.help, "default": setting.default}
                    for setting in (*provider.settings, *COMMON_SETTINGS)
                ],
                "options": [{"flag": option.flag, "meaning": option.help} for option in provider.options],
            }
        )
        return
    console = out()

    def item(line: str) -> None:
        # A reference page, read like --help: 80 columns, each item's continuation indented under it.
        for part in textwrap.wrap(line, 80, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False):
            console.print(escape(part))

    console.print(f"[bold]{provider.name}[/]: {escape(provider.title)} ({provider.algorithm})")
    for line in provider.recipe:
        item(line)
    urls = ", ".join(f"{env} {url}" for env, url in provider.base_urls.items()) or "none: base_url is required"
    item(f"built-in base URLs: {urls}")
    for heading, lines in (("quirks", quirks(provider)), ("calls after the token", provider.call_recipe)):
        if lines:
            console.print(f"{heading}:")
            for line in lines:
                item(line)
    said = "from community code — check with your sandbox" if source.community_only else source.confidence
    console.print(f"source: {escape(said)}")
    for line in (*source.sources, *(f"note: {note}" for note in source.notes)):
        item(line)
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
