"""`paytoken get PROVIDER`: Typer reads the options; cli/run_get.py does the rest, as for the plain path."""

from __future__ import annotations

from typing import Any

import typer

from ..gateways.base import Provider
from ..getting import GetRequest
from ..ui.session import current
from .base import provider_group
from .options import GET
from .run_get import run_get

__all__ = ["command", "get_app"]


def _get(provider: Provider, extras: dict[str, Any], **values: Any) -> None:
    output = values.pop("output")
    request = GetRequest(
        provider=provider.name, output=None if output is None else str(output.value), extras=extras, **values
    )
    run_get(request, current())


_SUMMARY = "Get an access token: from the token cache while it is fresh, else from the gateway; print it or export it."
get_app = typer.Typer(help=_SUMMARY, no_args_is_help=True, cls=provider_group("get", GET, _get, _SUMMARY))


def command() -> Any:
    """The `get` group, built when invoked."""
    return typer.main.get_group(get_app)
