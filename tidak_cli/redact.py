"""The one redactor: every path that shows a request, a profile or an error goes through it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from .profiles import ProfileSchema, secret_keys

if TYPE_CHECKING:
    from .profiles import Profile

__all__ = ["SECRET_HEADERS", "TOKEN_FIELDS", "Redactor", "SecretSource", "mask", "mask_url_passwords"]

SECRET_HEADERS = frozenset({"authorization", "faspay-authorization"})
# Where gateways put the token in their answers.
TOKEN_FIELDS = frozenset({"accessToken", "access_token", "token", "tokenID", "refreshToken"})
_BULLETS = "••••"
# Below this length the last four characters are too much of the secret to show.
_SHOW_TAIL_FROM = 12
# From this length a secret is masked even inside a longer word (see Redactor).
_MASK_INSIDE_WORDS_FROM = 12


# scheme://user:password@ in any text; the password runs to the authority's last @ (it may hold an unescaped @).
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:)([^\s/]*)@")


def mask_url_passwords(text: str) -> str:
    """Mask the password of every URL written with credentials (https://user:password@host), whatever its length."""
    return _URL_PASSWORD.sub(lambda match: match.group(1) + _BULLETS + "@", text) if "://" in text else text


class SecretSource(ProfileSchema, Protocol):
    """What the redactor asks of a provider (a gateways Provider is one): its keys, and its secrets' disguises."""

    def derived_secrets(self, profile: Profile) -> list[str]: ...


def mask(value: str) -> str:
    """Show a secret as `••••` plus its last 4 characters (only the bullets when it is short)."""
    value = value.strip()
    return _BULLETS + value[-4:] if len(value) >= _SHOW_TAIL_FROM else _BULLETS


class Redactor:
    """Mask known secret values where they occur as values, plus secret headers and token fields by name.

    Two kinds of text, two rules, so that a secret that is also a common word ("secret", "sandbox", "wrong")
    is neither spelt out by the gap it leaves in paytoken's own words nor shown where it stands as a value:

    - text(): text from outside (bodies, headers, URLs, a string to sign, a gateway's or a library's words).
      A short secret is masked where it stands as a value: a whole field between delimiters (quotes, spaces,
      `: = , ; | & @`, brackets, a sentence's full stop), as in `{"key":"sandbox"}`, `user:sandbox@host`,
      `key=sandbox&`, `Invalid key: sandbox.`; not inside a longer word, a path, a host or a JSON key, where it
      is not the value (`secret_key`, `/v1.0/token`, `sandbox.local`, `{"token": …}`). A long secret (12
      characters or more) is masked anywhere, even inside a word: nothing is that secret by chance, and a
      signed string may glue it to other characters.
    - sentence(): one of paytoken's own sentences (an error, a hint, a warning), with the outside values it
      quotes, which the error carries separately (PaytokenError.quoted). Those values are masked as text();
      the rest of the sentence is paytoken's words, where only long secrets are masked. A short secret in an
      outside value that an error did not declare is shown: every error that quotes gateway text, a capture,
      a URL or a library's message declares it.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        found = sorted({secret for secret in secrets if len(secret) >= 4}, key=len, reverse=True)
        self._secrets = tuple(found)
        self._long = [secret for secret in found if len(secret) >= _MASK_INSIDE_WORDS_FROM]
        self._short = [
            re.compile(_FIELD_BEFORE + re.escape(secret) + _FIELD_AFTER)
            for secret in found
            if len(secret) < _MASK_INSIDE_WORDS_FROM
        ]

    @classmethod
    def for_profile(cls, profile: Profile | None, provider: SecretSource | None = None) -> Redactor:
        """Mask this profile's secrets, and the values that are secrets in disguise (base64 or hex of them)."""
        if profile is None or provider is None:
            return cls()
        values = [profile.values.get(key) for key in secret_keys(provider)]
        secrets = [value for value in values if isinstance(value, str)]
        secrets += _url_password(profile.values.get("base_url"))
        secrets += provider.derived_secrets(profile)
        # A PEM's lines are secret one by one too: a traceback may show any of them.
        secrets += [line for value in secrets for line in value.splitlines() if len(line) >= 16]
        secrets += [
            line
            for key, data in profile.files.items()
            if key in secret_keys(provider)
            for line in data.decode("utf-8", errors="replace").splitlines()
            if len(line) >= 16 and "-----" not in line
        ]
        return cls(secrets)

    def adding(self, *secrets: str) -> Redactor:
        """This redactor and more secrets (a token a command signs with but exists not to print)."""
        return Redactor((*self._secrets, *secrets))

    def text(self, text: str) -> str:
        """Text from outside: every secret masked where it stands as a value (see the class)."""
        text = self._mask_long(mask_url_passwords(text))
        for pattern in self._short:
            text = pattern.sub(_masked_field, text)
        return text

    def sentence(self, text: str, quoted: Iterable[str] = ()) -> str:
        """One of paytoken's sentences: secrets masked in the outside values it quotes, long ones anywhere."""
        for value in sorted({value for value in quoted if value}, key=len, reverse=True):
            masked = self.text(value)
            if masked != value:
                text = text.replace(value, masked)
        # A URL's password has a shape of its own: masked wherever a URL with credentials stands.
        return self._mask_long(mask_url_passwords(text))

    def _mask_long(self, text: str) -> str:
        for secret in self._long:
            if secret in text:
                text = text.replace(secret, mask(secret))
        return text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: _mask_credentials(value) if name.lower() in SECRET_HEADERS else self.text(value)
            for name, value in headers.items()
        }

    def body(self, body: bytes | None) -> str:
        """Show a body as received, with secrets and token values masked in place."""
        if not body:
            return ""
        text = self.text(body.decode("utf-8", errors="replace"))
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return mask_token_fields(text)
        for token in sorted(set(_token_values(data)), key=len, reverse=True):
            text = text.replace(token, mask(token))
        return text


# A short secret counts as a value only as a whole field: not preceded or followed by a character that makes
# it part of a word, a path, a host name or a number, and not followed by a full stop that goes on.
_FIELD_BEFORE = r"(?<![A-Za-z0-9_/.+~%\-])"
_FIELD_AFTER = r"(?![A-Za-z0-9_/+~%\-])(?!\.[A-Za-z0-9_])"
_JSON_KEY_AFTER = re.compile(r'"\s*:')


def _masked_field(found: re.Match[str]) -> str:
    text, start, end = found.string, found.start(), found.end()
    if start and text[start - 1] == '"' and _JSON_KEY_AFTER.match(text, end):
        return found.group()  # a JSON object's key names a field; it is not the secret's value
    return _BULLETS


def _url_password(url: object) -> list[str]:
    """The password of a base URL written with credentials (https://user:password@host): a secret too."""
    from urllib.parse import unquote, urlsplit

    if not isinstance(url, str):
        return []
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


def _mask_credentials(value: str) -> str:
    # "Basic dXNlcjpwYXNz" keeps its scheme: which kind of credential was sent is worth seeing.
    scheme, space, credentials = value.partition(" ")
    if space and scheme.isalpha() and credentials:
        return f"{scheme} {mask(credentials)}"
    return mask(value)


_TOKEN_FIELD = r'("(?:' + "|".join(sorted(TOKEN_FIELDS)) + r')"\s*:\s*")([^"]*)'


def mask_token_fields(text: str) -> str:
    """Mask token values in JSON-looking text that may not parse (cut off, or broken)."""
    return re.sub(_TOKEN_FIELD, lambda match: match.group(1) + mask(match.group(2)), text)


def _token_values(value: object) -> Iterable[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in TOKEN_FIELDS and isinstance(item, str) and len(item) >= 4:
                yield item
            else:
                yield from _token_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _token_values(item)
