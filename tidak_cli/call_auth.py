"""Sign any HTTP call with a profile: the library face of `paytoken call` (SPEC 6), for requests and httpx.

The token comes from the token cache exactly as `paytoken get` takes it (getting.obtain: cache first, the
gateway on a miss), and the call is signed by the provider's own `build_call`. Nothing here resends a call:
payments are not idempotent, so an answer that refuses the token (SNAP 401xx01) is the caller's to act on.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit

from .clock import Clock, utc_now
from .errors import UsageError
from .gateways import lookup
from .gateways.base import Call
from .getting import GetRequest, obtain
from .profiles import load_profile

if TYPE_CHECKING:
    from requests import PreparedRequest

    from .gateways.base import Provider, SignedRequest
    from .profiles import Profile
    from .transport import Transport

__all__ = ["CallSigner", "RequestsAuth", "SignerAuth", "relative_target"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or _DEFAULT_PORTS.get(scheme)


def _warn(text: str) -> None:
    warnings.warn(f"paytoken: {text}", stacklevel=3)


def _open_transport() -> Transport:
    from .transport import Transport

    return Transport()


def relative_target(base_url: str, url: str) -> str:
    """The path and query of url under base_url (what a call signs), or a UsageError if url is elsewhere.

    A signed call carries the token: it goes to the profile's gateway and nowhere else.
    """
    base, target = urlsplit(base_url), urlsplit(url)

    base_path = base.path.rstrip("/")
    path = target.path or "/"
    if _origin(base) != _origin(target) or not (path == base_path or path.startswith(base_path + "/")):
        raise UsageError(
            f"the call goes to {target.scheme}://{target.netloc}{path}, which is not under the profile's "
            f"base_url {base_url}",
            hint="a signed call carries the access token: send it to the profile's gateway, or use the profile "
            "of the gateway it is for",
        )
    relative = path[len(base_path) :] or "/"
    return relative + (f"?{target.query}" if target.query else "")


class CallSigner:
    """Sign calls with one profile: the token as `paytoken get` takes it, the provider's call recipe."""

    def __init__(
        self,
        provider: str,
        profile: str = "default",
        *,
        profiles_file: Path | None = None,
        min_ttl: float = 60,
        clock: Clock = utc_now,
    ) -> None:
        self.provider: Provider = lookup(provider)
        # Loaded now, so that a missing profile or key is said where the auth object is made.
        self.profile: Profile = load_profile(self.provider, profile, profiles_file=profiles_file)
        self._min_ttl = min_ttl
        self._clock = clock

    def token(self, *, refresh: bool = False) -> str:
        """The access token: from the token cache while it has min_ttl seconds left, else a new one."""
        request = GetRequest(
            provider=self.provider.name,
            profile=self.profile.name,
            profiles_file=None,
            timestamp=None,
            base_url=None,
            output=None,
            dry_run=False,
            env_prefix="PAYTOKEN_",
            verbose=False,
            no_cache=False,
            refresh=refresh,
            min_ttl=self._min_ttl,
            dotenv=None,
            debug=False,
        )
        result = obtain(self.provider, self.profile, request, None, warn=_warn, open_transport=_open_transport)
        return result.token.access_token

    def refresh(self) -> None:
        """Get a new token now, replacing the cached one (after an answer that refused the token)."""
        if self.provider.call_needs_token:
            self.token(refresh=True)

    def sign(self, method: str, url: str, body: bytes | None) -> SignedRequest:
        """Sign one call: a fresh call id and timestamp, the token if the recipe signs one."""
        token = self.token() if self.provider.call_needs_token else None
        call = Call(method, relative_target(self.profile.base_url, url), body, token, self.provider.new_call_id())
        return self.provider.build_call(self.profile, call, self._clock())


def unstreamed(body: object, library: str) -> bytes | None:
    """The body as the bytes that will be sent, or a UsageError for a body that is streamed."""
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    raise UsageError(
        f"a {library} call with a streamed body ({type(body).__name__}) cannot be signed: its bytes are hashed "
        "into the signature before it is sent",
        hint="give the body as bytes or text (requests: data=…, httpx: content=…) or as json=…",
    )


class SignerAuth:
    """What the requests and httpx auth objects share: the signer, where its calls go, and a token refresh."""

    def __init__(self, signer: CallSigner) -> None:
        self.signer = signer

    @property
    def base_url(self) -> str:
        """The profile's base URL: where its calls go."""
        return self.signer.profile.base_url

    def refresh(self) -> None:
        """Get a new token now, replacing the cached one."""
        self.signer.refresh()


class RequestsAuth(SignerAuth):
    """A requests auth object: `requests.post(url, json=…, auth=tidak_cli.auth("nicepay", profile="dev"))`.

    Each request gets a fresh timestamp, call id and signature; none is sent twice. An answer that refuses the
    token (SNAP 401xx01) means: call `.refresh()`, then send the request again yourself.
    """

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        # requests sends a str body as UTF-8 only if told: encode it here so that the bytes hashed are the bytes sent
        # (requests recomputes Content-Length after the auth object ran).
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        data = unstreamed(body, "requests")
        signed = self.signer.sign(request.method or "GET", request.url or "", data or None)
        request.body = data
        request.url = signed.url
        for name, value in signed.headers.items():
            request.headers[name] = value
        return request
