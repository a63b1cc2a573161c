"""The httpx face of call_auth: `httpx.Client(auth=tidak_cli.httpx_auth("nicepay", profile="dev"))`.

Its own module because it subclasses httpx.Auth: only a program that asks for it imports httpx.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from .call_auth import SignerAuth, unstreamed

__all__ = ["HttpxAuth"]


class HttpxAuth(httpx.Auth, SignerAuth):
    """Sign each request with the profile; never send one twice.

    An answer that refuses the token (SNAP 401xx01) means: call `.refresh()`, then send the request again
    yourself. In an AsyncClient, a token missing from the cache is fetched synchronously.
    """

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        try:
            body: object = request.content
        except httpx.RequestNotRead:  # a generator or file: its bytes are known only as they are sent
            body = request.stream
        signed = self.signer.sign(request.method, str(request.url), unstreamed(body, "httpx") or None)
        if signed.url != str(request.url):
            request.url = httpx.URL(signed.url)
        for name, value in signed.headers.items():
            request.headers[name] = value
        yield request
