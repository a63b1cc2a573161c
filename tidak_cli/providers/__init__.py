"""The provider registry: one lookup, used by the CLI, the sandbox and the library API alike.

Adding a provider is one module defining it plus one line in BUILT_IN.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import UsageError
from .base import CliOption, Comparison, Provider, SignedRequest, Token
from .doku import DokuProvider
from .faspay_sendme import FaspaySendMeProvider
from .finpay_widget import FinpayWidgetProvider
from .snap import SnapProvider

__all__ = ["PROVIDERS", "CliOption", "Comparison", "Provider", "SignedRequest", "Token", "lookup"]

_GRANT = {"grantType": "client_credentials"}

BUILT_IN: tuple[Provider, ...] = (
    SnapProvider(
        name="nicepay",
        title="NICEPAY SNAP B2B",
        token_path="/nicepay/v1.0/access-token/b2b",
        base_urls={"sandbox": "https://dev.nicepay.co.id", "production": "https://www.nicepay.co.id"},
        body={**_GRANT, "additionalInfo": {}},
        expires_in_as_string=True,
    ),
    SnapProvider(
        name="finpay-snap",
        title="Finpay PG SNAP B2B",
        token_path="/pg/snap/oauth/v1.0/access-token/b2b",
        base_urls={"sandbox": "https://devo.finnet.co.id", "production": "https://live.finnet.co.id"},
        body=_GRANT,
        expires_in_as_string=True,
    ),
    SnapProvider(
        name="doku-snap",
        title="DOKU SNAP B2B",
        token_path="/authorization/v1/access-token/b2b",
        base_urls={"sandbox": "https://api-sandbox.doku.com", "production": "https://api.doku.com"},
        body=_GRANT,
        accepted_timestamps=("jakarta", "utc"),
    ),
    SnapProvider(
        name="snap",
        title="SNAP B2B",
        token_path="/v1.0/access-token/b2b",
        base_urls={},
        body={**_GRANT, "additionalInfo": {}},
        accepted_timestamps=("jakarta", "utc", "jakarta-millis"),
        configurable=True,
    ),
    DokuProvider(),
    FinpayWidgetProvider(),
    FaspaySendMeProvider(),
)

PROVIDERS: Mapping[str, Provider] = {provider.name: provider for provider in BUILT_IN}


def lookup(name: str) -> Provider:
    """Return the provider called name, or fail listing the known ones."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise UsageError(
            f"unknown provider {name!r}",
            hint=f"known providers: {', '.join(PROVIDERS)}",
        ) from None
