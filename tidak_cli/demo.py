"""`paytoken demo`: throwaway credentials, the sandbox in-process, one token and one signed call per provider,
nothing left behind."""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import tokens
from .calling import CallRequest, judged, read_body, send_call
from .errors import PaytokenError
from .gateways import PROVIDERS, family_of, grouped, provenance
from .gateways.base import Provider
from .profiles import Profile, load_profile
from .sandbox import Sandbox, load_config
from .transport import Transport

if TYPE_CHECKING:
    from .keys import KeyPair

__all__ = ["DemoRow", "Workspace", "run_demo"]


@dataclass(frozen=True)
class DemoRow:
    provider: str
    client_id: str
    token: str | None
    expires_in: int | None
    milliseconds: float
    failure: PaytokenError | None = None
    # The signed call made with the token: the gateway's words for it ("2002700 Successful"), or None.
    call: str | None = None


# The call each family's demo makes with its token: method, path, body (SPEC 6.5's sandbox serves them). A SNAP
# provider's is the standard virtual-account creation; NICEPAY's path is its own (its /nicepay prefix is added).
_VIRTUAL_ACCOUNT = (
    '{"partnerServiceId":"  888994","customerNo":"00000000000000000001","virtualAccountNo":"  888994000000000000'
    '00000001","virtualAccountName":"Demo Customer","trxId":"INV-DEMO-1","totalAmount":{"value":"10000.00",'
    '"currency":"IDR"}}'
)
_DEMO_CALLS: dict[str, tuple[str, str, str | None]] = {
    "nicepay": ("POST", "/api/v1.0/transfer-va/create-va", _VIRTUAL_ACCOUNT),
    "doku": ("GET", "/orders/v1/status/INV-DEMO-1", None),
    "faspay-sendme": ("POST", "/account/api/transfer", '{"beneficiary_account":"1234567890","amount":"10000"}'),
    "finpay-widget": ("POST", "/apicobrand/widget/topup", '{"amount":"10000","phoneNumber":"081286288844"}'),
}
_SNAP_CALL = ("POST", "/v1.0/transfer-va/create-va", _VIRTUAL_ACCOUNT)


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Workspace:
    """Throwaway credentials for every provider in a directory: the sandbox's half and the profiles' half."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._profiles: list[str] = []
        self._pairs: dict[Path, KeyPair] = {}
        sandbox: list[str] = []
        for index, provider in enumerate(PROVIDERS.values(), start=1):
            make = self._key_pair if family_of(provider.name).private_key else self._shared_secrets
            profile_table, sandbox_table = make(provider, index)
            self._profiles.append(profile_table)
            sandbox.append(sandbox_table)
        self.sandbox_config = directory / "sandbox.toml"
        self.sandbox_config.write_text("\n".join(sandbox), encoding="utf-8")

    def _key_pair(self, provider: Provider, index: int) -> tuple[str, str]:
        from .keys import generate, write_key_pair

        client_id = f"DEMO-{provider.name.upper()}-{index:03d}"
        # The SNAP presets share one pair (a partner may register one public key with many gateways): a 2048-bit
        # key costs tens of milliseconds, and the demo runs every provider.
        shared = provenance(provider).group != "seed"
        folder = self.directory / ("snap-presets" if shared else provider.name)
        pair = self._pairs.get(folder) or write_key_pair(generate(2048), folder)
        self._pairs[folder] = pair
        # The secret that signs the calls after the token, under the gateway's own name for it (BNI: api_secret);
        # a gateway whose calls are signed with the RSA key (DANA) has none.
        secret_key = getattr(provider, "call_secret", "client_secret") if provider.call_needs_token else None
        call_secret = f"{secret_key} = {_toml_string(secrets.token_urlsafe(24))}\n" if secret_key else ""
        profile = (
            f"[{provider.name}.demo]\n"
            f"{provider.identity_key} = {_toml_string(client_id)}\n"
            f"private_key_file = {_toml_string(str(pair.private_path))}\n" + call_secret
        )
        sandbox = (
            f"[{provider.name}]\n"
            f"{provider.identity_key} = {_toml_string(client_id)}\n"
            f"public_key_file = {_toml_string(str(pair.public_path))}\n" + call_secret
        )
        return profile, sandbox

    @staticmethod
    def _shared_secrets(provider: Provider, index: int) -> tuple[str, str]:
        # Both halves hold the same values, as partner and gateway do after onboarding.
        values = {
            setting.name: secrets.token_urlsafe(24)
            if setting.is_secret
            else f"DEMO-{provider.name.upper()}-{setting.name.upper().replace('_', '-')}-{index:03d}"
            for setting in provider.settings
            if setting.required
        }
        lines = "".join(f"{key} = {_toml_string(value)}\n" for key, value in values.items())
        return f"[{provider.name}.demo]\n{lines}", f"[{provider.name}]\n{lines}"

    def write_profiles(self, base_url: str, name: str = "profiles.toml") -> Path:
        """Write the profiles file (each table named `demo`) pointing every provider at base_url."""
        path = self.directory / name
        tables = [table + f"base_url = {_toml_string(base_url)}\n" for table in self._profiles]
        path.write_text("\n".join(tables), encoding="utf-8")
        path.chmod(0o600)
        return path


def run_demo(progress: Callable[[str], None] = lambda _line: None) -> list[DemoRow]:
    """Run every provider end to end against a private sandbox; return one row per provider."""
    with tempfile.TemporaryDirectory(prefix="paytoken-demo-") as temporary:
        progress("generating throwaway RSA keys and secrets")
        workspace = Workspace(Path(temporary))
        with Sandbox(load_config(workspace.sandbox_config)).start() as sandbox:
            progress(f"sandbox listening on {sandbox.url}")
            profiles_path = workspace.write_profiles(sandbox.url)
            with Transport() as transport:
                return [_one(provider, profiles_path, transport) for provider in grouped()]


def _one(provider: Provider, profiles_path: Path, transport: Transport) -> DemoRow:
    started = time.perf_counter()
    client_id = ""
    try:
        profile = load_profile(provider, "demo", profiles_file=profiles_path)
        client_id = profile.text(provider.identity_key) or ""
        result = tokens.fetch(provider, profile, transport=transport)
    except PaytokenError as failure:
        return DemoRow(provider.name, client_id, None, None, (time.perf_counter() - started) * 1000, failure)
    said, refused = _call(provider, profile, result.token.access_token)
    return DemoRow(
        provider.name,
        client_id,
        result.token.access_token,
        result.token.expires_in,
        (time.perf_counter() - started) * 1000,
        refused,
        said,
    )


def _call(provider: Provider, profile: Profile, token: str) -> tuple[str, PaytokenError | None]:
    """Make provider's demo call with token through the `call` core; the gateway's words, or the failure."""
    method, path, data = _DEMO_CALLS.get(provider.name, _SNAP_CALL)
    request = CallRequest(provider.name, method, path, data=data, token=token if provider.call_needs_token else None)
    try:
        outcome = send_call(
            provider,
            profile,
            request,
            read_body(data, raw_body=False),
            warn=lambda _line: None,
            notice=lambda _line: None,
            open_transport=Transport,
        )
    except PaytokenError as failure:
        return "failed", failure
    words = outcome.verdict.words or f"HTTP {outcome.response.status}"
    return f"{method} {path.rsplit('/', 1)[-1]}: {words}", judged(provider, outcome)
