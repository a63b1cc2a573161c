"""`paytoken profiles`: list the profiles file's tables, or show one profile resolved, secrets masked."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..errors import ConfigError, UsageError
from ..gateways import PROVIDERS, lookup
from ..ui.output import write_json
from ..ui.session import current, load
from .base import guarded, out
from .params import ListingFormat, ListingOption, ProfileOption, ProfilesFileOption

__all__ = ["command"]

profiles_app = typer.Typer(
    help="List profiles, or show one with its secrets masked.",
    no_args_is_help=True,
    epilog="Example: paytoken profiles show nicepay.dev",
)


@profiles_app.command(
    "list", epilog="Examples:  paytoken profiles list;  paytoken profiles list -o json | jq -r '.[].profile'"
)
@guarded
def profiles_list(profiles_file: ProfilesFileOption = None, output: ListingOption = ListingFormat.table) -> None:
    """List every [PROVIDER.PROFILE] table in the profiles file."""
    from ..profiles import find_profiles_file, load_dotenv_file, profiles_overview, read_profiles_file
    from ..ui.render import table

    load_dotenv_file()
    path = find_profiles_file(profiles_file)
    document, notes = read_profiles_file(path)
    for note in notes:
        current().warn(note)
    overview = profiles_overview(document, PROVIDERS)
    if not overview:
        raise ConfigError(
            f"{path} has no [PROVIDER.PROFILE] tables", hint="profiles.example.toml shows one table per provider"
        )
    if output == "json":
        write_json([{"file": str(path), **row._asdict()} for row in overview])
        return
    rows = [
        (
            row.provider if row.known else f"{row.provider} (unknown provider)",
            row.name,
            row.identity,
            row.environment,
            row.base_url,
        )
        for row in overview
    ]
    table(f"profiles in {path}", ("provider", "profile", "client", "environment", "base URL"), rows, out())


@profiles_app.command(
    "show",
    epilog="Examples:  paytoken profiles show nicepay.dev;  paytoken profiles show doku --profile dev -o json",
)
@guarded
def profiles_show(
    name: Annotated[str, typer.Argument(metavar="PROVIDER[.PROFILE]", help="e.g. nicepay.dev, or nicepay -p dev")],
    profile: ProfileOption = None,
    profiles_file: ProfilesFileOption = None,
    output: ListingOption = ListingFormat.table,
) -> None:
    """Show one profile's resolved values and where each came from; secrets masked."""
    from ..profiles import secret_keys
    from ..redact import mask
    from ..ui.render import table

    provider_name, _, profile_name = name.partition(".")
    if profile_name and profile and profile_name != profile:
        raise UsageError(
            f"{name} and --profile {profile} name two profiles", hint="give the profile once: nicepay.dev or -p dev"
        )
    provider = lookup(provider_name)
    resolved = load(provider, profile_name or profile, profiles_file, {}, current())
    hidden = set(secret_keys(provider))
    rows = []
    for key, value in resolved.values.items():
        if key in hidden and isinstance(value, str):
            shown = f"•••• ({len(value.splitlines())} lines)" if "\n" in value.strip() else mask(value)
        elif isinstance(value, bool):
            shown = "true" if value else "false"  # as TOML writes it
        else:
            shown = str(value)
        rows.append((key, shown, resolved.origins.get(key, "")))
    if output == "json":
        values = {key: {"value": shown, "from": origin} for key, shown, origin in rows}
        write_json({"provider": provider.name, "profile": resolved.name, "where": resolved.where, "values": values})
        return
    table(f"{resolved.where}", ("key", "value", "from"), rows, out())


def command() -> Any:
    """The `profiles` group, built when invoked."""
    return typer.main.get_group(profiles_app)
