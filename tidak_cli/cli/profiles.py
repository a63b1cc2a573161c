"""`paytoken profiles`: list the profiles file's tables, or show one profile resolved, secrets masked."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigError, UsageError
from ..gateways import PROVIDERS, lookup
from ..ui.output import write_json
from ..ui.session import current, load
from .base import guarded, out
from .help import examples
from .params import ListingFormat, ListingOption, ProfileOption, ProfilesFileOption, ProviderArgument

__all__ = ["command"]

profiles_app = typer.Typer(
    help="List profiles, or show one with its secrets masked.",
    no_args_is_help=True,
    epilog=examples(
        "paytoken profiles init nicepay --profile dev", "paytoken profiles list", "paytoken profiles show nicepay.dev"
    ),
)


@profiles_app.command(
    "list",
    epilog=examples(
        "paytoken profiles list",
        "paytoken profiles list --profiles-file ~/.config/paytoken/profiles.toml",
        "paytoken profiles list -o json | jq -r '.[].name'",
    ),
)
@guarded
def profiles_list(profiles_file: ProfilesFileOption = None, output: ListingOption = ListingFormat.table) -> None:
    """List every [PROVIDER.PROFILE] table in the profiles file."""
    from ..profiles import find_profiles_file, profiles_overview, read_dotenv_file, read_profiles_file
    from ..redact import mask_url_passwords
    from ..ui.render import table

    read_dotenv_file()
    path = find_profiles_file(profiles_file)
    document, notes = read_profiles_file(path)
    for note in notes:
        current().warn(note)
    # Raw tables, no profile loaded: no redactor knows a base URL's password, so mask it here for every format.
    overview = [
        row._replace(base_url=mask_url_passwords(row.base_url)) for row in profiles_overview(document, PROVIDERS)
    ]
    if not overview:
        raise ConfigError(
            f"{path} has no [PROVIDER.PROFILE] tables",
            hint="add one with `paytoken profiles init PROVIDER --profile NAME`",
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
    epilog=examples(
        "paytoken profiles show nicepay.dev",
        "paytoken profiles show doku --profile dev",
        "paytoken profiles show snap.bank -o json | jq .values",
    ),
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
    run = current()
    resolved = load(provider, profile_name or profile, profiles_file, {}, run)
    hidden = set(secret_keys(provider))
    rows = []
    for key, value in resolved.values.items():
        if key in hidden and isinstance(value, str):
            shown = f"•••• ({len(value.splitlines())} lines)" if "\n" in value.strip() else mask(value)
        elif isinstance(value, bool):
            shown = "true" if value else "false"  # as TOML writes it
        else:
            shown = run.redactor.text(str(value))  # e.g. a base_url written with user:password@
        rows.append((key, shown, resolved.origins.get(key, "")))
    if output == "json":
        values = {key: {"value": shown, "from": origin} for key, shown, origin in rows}
        write_json({"provider": provider.name, "profile": resolved.name, "where": resolved.where, "values": values})
        return
    table(f"{resolved.where}", ("key", "value", "from"), rows, out())


@profiles_app.command(
    "init",
    epilog=examples(
        "paytoken profiles init nicepay --profile dev",
        "paytoken profiles init doku -p sandbox --set client_id=BRN-0001 --set base_url=http://127.0.0.1:8787",
        "paytoken profiles init snap -p bank --profiles-file ~/.config/paytoken/profiles.toml",
    ),
)
@guarded
def profiles_init(
    provider_name: ProviderArgument,
    profile: ProfileOption = None,
    profiles_file: Annotated[
        Path | None,
        typer.Option(
            "--profiles-file",
            metavar="FILE",
            show_default=False,
            help="Where to write (default: $PAYTOKEN_PROFILES, else ./profiles.toml).",
        ),
    ] = None,
    values: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            show_default=False,
            help="Write this value for KEY (repeatable); secrets are better left as ${VARIABLE}.",
        ),
    ] = None,
) -> None:
    """Write a [PROVIDER.PROFILE] table with every key the provider reads, commented; never overwrite one."""
    import os

    from ..files import CONFIG_LIMIT, read_local
    from ..profiles import COMMON_SETTINGS, default_profile_name, profile_names, profile_template, read_profiles_file

    provider = lookup(provider_name)
    name = profile or default_profile_name()
    known = {setting.name for setting in (*provider.settings, *COMMON_SETTINGS)}
    given: dict[str, str] = {}
    for pair in values or []:
        key, equals, value = pair.partition("=")
        if not equals or key.strip() not in known:
            raise UsageError(
                f"--set {pair!r} is not KEY=VALUE with a key {provider.name} reads",
                hint=f"keys: {', '.join(sorted(known))}",
            )
        given[key.strip()] = value
    path = profiles_file or Path(os.environ.get("PAYTOKEN_PROFILES") or "profiles.toml")
    existing = ""
    if path.exists():
        document, _ = read_profiles_file(path)
        if (provider.name, name) in profile_names(document):
            raise ConfigError(
                f"{path} already has [{provider.name}.{name}]; paytoken does not overwrite it",
                hint=f"edit it, or choose another name: --profile {name}2",
            )
        # Through the local-file edge, as read_profiles_file just read it (so it is UTF-8 of a sane size).
        existing = read_local(path, CONFIG_LIMIT, "profiles file").decode("utf-8")
    text = profile_template(provider, name, given)
    separator = "" if not existing else ("\n" if existing.endswith("\n") else "\n\n")
    try:
        if existing:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(separator + text)
        else:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror}", hint="choose a writable --profiles-file") from None
    print(f"wrote [{provider.name}.{name}] to {path}", file=sys.stderr)
    for key, file in re.findall(r'^(\w+_file) = "([^"]+)"$', text, flags=re.MULTILINE):
        if key not in given and not (path.parent / Path(file).expanduser()).exists():
            folder = Path(file).parent
            print(
                f"note: {key} {file} does not exist yet: `paytoken keygen --out {folder}` makes it there "
                f"(or point {key} in {path} at your key)",
                file=sys.stderr,
            )
    placeholders = any("${" in line for line in text.splitlines() if not line.startswith("#"))
    fill = "set its ${…} variables (in the environment or ./.env) or write the values in, then " if placeholders else ""
    print(f"next: {fill}`paytoken doctor {provider.name} --profile {name}`", file=sys.stderr)


def command() -> Any:
    """The `profiles` group, built when invoked."""
    return typer.main.get_group(profiles_app)
