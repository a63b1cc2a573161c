"""The provider registry: one lookup, used by the CLI, the sandbox and the library API alike.

Adding a provider is one module defining it plus one line in _BUILT_IN. A provider's module is imported
when the provider is first looked up, so that a command about one gateway loads only that gateway.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping

from ..errors import UsageError
from .base import CliOption, Comparison, Provider, SignedRequest, Token

__all__ = ["PROVIDERS", "CliOption", "Comparison", "Provider", "SignedRequest", "Token", "lookup"]

# name -> (module in this package, attribute holding the provider)
_BUILT_IN: dict[str, tuple[str, str]] = {
    "nicepay": ("snap.recipe", "NICEPAY"),
    "finpay-snap": ("snap.recipe", "FINPAY_SNAP"),
    "doku-snap": ("snap.recipe", "DOKU_SNAP"),
    "snap": ("snap.recipe", "GENERIC_SNAP"),
    "doku": ("doku.recipe", "DOKU"),
    "finpay-widget": ("finpay_widget.recipe", "FINPAY_WIDGET"),
    "faspay-sendme": ("faspay_sendme.recipe", "FASPAY_SENDME"),
}


class _Registry(Mapping[str, Provider]):
    """Provider names in registration order; the provider objects are loaded on first access."""

    def __init__(self, entries: Mapping[str, tuple[str, str]]) -> None:
        self._entries = entries
        self._loaded: dict[str, Provider] = {}

    def __getitem__(self, name: str) -> Provider:
        if name not in self._loaded:
            module, attribute = self._entries[name]
            self._loaded[name] = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries


PROVIDERS: Mapping[str, Provider] = _Registry(_BUILT_IN)


def lookup(name: str) -> Provider:
    """Return the provider called name, or fail listing the known ones."""
    if name not in PROVIDERS:
        close = difflib.get_close_matches(name, list(PROVIDERS), n=1)
        raise UsageError(
            f"unknown provider {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
            hint=f"known providers: {', '.join(PROVIDERS)}",
        )
    return PROVIDERS[name]
