"""`paytoken cache`: list or clear cached tokens (the tokens themselves are never shown)."""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated, Any

import typer

from ..errors import PaytokenError
from ..gateways import lookup
from ..ui.output import shown, write_json
from ..ui.session import current
from .base import guarded, out
from .help import examples
from .params import CacheUrlOption, ListingFormat, ListingOption

__all__ = ["command"]

cache_app = typer.Typer(
    help="List or clear cached tokens (the tokens themselves are never shown).",
    no_args_is_help=True,
    epilog=examples("paytoken cache list", "paytoken cache clear nicepay --profile dev", "paytoken cache clear"),
)


def _open_store(cache_url: str | None) -> Any:
    from ..cache import cache_directory, configured_url
    from ..tokens import open_cache

    # Asked about the shared cache, list and clear say when it is down rather than work on the files instead.
    return open_cache(configured_url(explicit=cache_url), cache_directory(), warn=current().warn, fall_back=False)


@cache_app.command(
    "list",
    epilog=examples(
        "paytoken cache list",
        "paytoken cache list -o json | jq '.[] | select(.expires_in and .expires_in < 120)'",
        "paytoken cache list --cache-url rediss://cache.internal:6380/0",
    ),
)
@guarded
def cache_list(cache_url: CacheUrlOption = None, output: ListingOption = ListingFormat.table) -> None:
    """List cached tokens: provider, profile, client id, base URL, time left."""
    from ..clock import humanize_seconds, utc_now
    from ..export import iso_utc
    from ..ui.render import table

    store = _open_store(cache_url)
    now = utc_now()
    if output == "json":
        write_json(
            [
                {"key": key, "damaged": True, "where": store.where(key)}
                if entry is None
                else {
                    "key": key,
                    "provider": entry.provider,
                    "profile": entry.profile,
                    "client_id": entry.client_id,
                    "base_url": entry.base_url,
                    "expires_at": iso_utc(entry.expires_at),
                    "expires_in": max(0, int(entry.seconds_left(now))),
                }
                for key, entry in store.entries()
            ]
        )
        return
    rows = []
    for key, entry in store.entries():
        if entry is None:
            rows.append(
                ("?", "?", "?", "?", f"unreadable (damaged, or older): {store.where(key)} (cache clear removes it)")
            )
            continue
        left = entry.seconds_left(now)
        rows.append(
            (
                entry.provider,
                entry.profile,
                entry.client_id,
                entry.base_url,
                f"{humanize_seconds(left)}" if left > 0 else "expired",
            )
        )
    if not rows:
        print(f"no cached tokens in {shown(store.location)}", file=sys.stderr)
        return
    table(
        f"cached tokens in {store.location}",
        ("provider", "profile", "client id", "base URL", "expires in"),
        rows,
        out(),
    )


@cache_app.command(
    "clear",
    epilog=examples("paytoken cache clear", "paytoken cache clear doku", "paytoken cache clear nicepay --profile dev"),
)
@guarded
def cache_clear(
    provider: Annotated[str | None, typer.Argument(help="Only this provider's tokens.", show_default=False)] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", metavar="NAME", help="Only tokens stored by this profile.")
    ] = None,
    cache_url: CacheUrlOption = None,
) -> None:
    """Remove cached tokens: all of them, one provider's, or one profile's."""
    from ..cache import cache_key, clear_entries
    from ..profiles import load_profile, read_dotenv_file
    from ..tokens import cache_identity

    keys: set[str] = set()
    if provider is not None:
        gateway = lookup(provider)
        if profile is not None:
            # The entry this profile would be served, whoever stored it (provider, URL, client id, credential).
            with contextlib.suppress(PaytokenError):
                read_dotenv_file()
                resolved = load_profile(gateway, profile)
                keys.add(cache_key(*cache_identity(gateway, resolved)))
    store = _open_store(cache_url)
    removed = clear_entries(store, provider, profile, keys)
    print(f"removed {removed} cached token{'s' if removed != 1 else ''} from {shown(store.location)}", file=sys.stderr)


def command() -> Any:
    """The `cache` group, built when invoked."""
    return typer.main.get_group(cache_app)
