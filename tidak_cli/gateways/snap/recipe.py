"""The Bank Indonesia SNAP B2B access token, shared by NICEPAY, Finpay, DOKU, SNAP banks and e-wallets.

Every registry entry of the family is an instance of one class that differs in data only: the seed gateways
(SPEC 1.1, SNAP "Standar Nasional Open API Pembayaran", access-token B2B) and the presets at the end of this
module, each a dozen lines of facts with the sources they come from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ...clock import expiry_moment, iso_moment, lifetime_seconds
from ...errors import ConfigError, GatewayError, RejectedError, UsageError
from ...profiles import Profile, Setting
from ...signing import b64, hmac_sha512, jakarta_iso, jakarta_iso_millis, sha256_hex, utc_z
from ..base import (
    Call,
    CallVerdict,
    CliOption,
    Provenance,
    SignedRequest,
    Token,
    call_headers,
    compact_json,
    parse_json_object,
    unexpected_answer,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


__all__ = [
    "DOKU_SNAP",
    "FINPAY_SNAP",
    "GENERIC_SNAP",
    "NICEPAY",
    "PRESETS",
    "SNAP_HINTS",
    "TIMESTAMP_EXAMPLES",
    "TIMESTAMP_FORMATS",
    "SnapProvider",
    "external_id",
    "snap_call_string",
    "snap_hint",
    "snap_symmetric_signature",
    "timestamp_matches",
]

TIMESTAMP_FORMATS: Mapping[str, Callable[[datetime], str]] = {
    "jakarta": jakarta_iso,
    "utc": utc_z,
    "jakarta-millis": jakarta_iso_millis,
}

# The shape of each format, for the sandbox and for reading a captured timestamp.
_TIMESTAMP_SHAPES: Mapping[str, str] = {
    "jakarta": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00",
    "utc": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
    "jakarta-millis": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00",
}


# Each format as people read it, for recipes, hints and the capture check.
TIMESTAMP_EXAMPLES: Mapping[str, str] = {
    "jakarta": "2024-12-31T10:11:40+07:00",
    "utc": "2024-12-31T03:11:40Z",
    "jakarta-millis": "2024-12-31T10:11:40.123+07:00",
}
_TIMESTAMP_WORDS: Mapping[str, str] = {
    "jakarta": "Jakarta time with offset",
    "utc": "UTC with a Z",
    "jakarta-millis": "Jakarta time with milliseconds and offset",
}

# The keys a token body may carry its grant under: SNAP's grantType, or OAuth's grant_type (Midtrans' PHP SDK).
_GRANT_KEYS = ("grantType", "grant_type")


def timestamp_matches(form: str, text: str) -> bool:
    """Tell whether text has the shape of a timestamp format (jakarta, utc, jakarta-millis)."""
    # re caches compiled patterns; compiling here, not at import, keeps a cache hit from paying for it.
    return re.fullmatch(_TIMESTAMP_SHAPES[form], text) is not None


_KEY_SETTINGS: tuple[Setting, ...] = (
    Setting("client_id", "the X-CLIENT-KEY the gateway issued (partner / merchant id)", "text", required=True),
    Setting("private_key", "RSA private key: PEM text, or base64 of DER", "secret"),
    Setting("private_key_file", "path to the RSA private key (PEM or DER)", "file", secret=True),
    Setting("private_key_passphrase", "passphrase of an encrypted private key", "secret"),
    Setting("public_key_file", "the public key you uploaded to the gateway (used by doctor)", "file"),
)


def _call_settings(provider: SnapProvider) -> tuple[Setting, ...]:
    """The profile keys of the calls after the token, under the names this gateway gives them."""
    secret = Setting(provider.call_secret, "the secret that signs the calls after the token (HMAC-SHA512)", "secret")
    partner = Setting(provider.partner_id_key, "X-PARTNER-ID of the calls [client_id]", "text")
    channel = "CHANNEL-ID of the calls" + (f" [{provider.default_channel_id}]" if provider.default_channel_id else "")
    return (*((secret,) if provider.call_needs_token else ()), partner, Setting("channel_id", channel, "text"))


_GENERIC_SETTINGS: tuple[Setting, ...] = (
    Setting("token_path", "access-token path on the gateway", "text"),
    Setting("timestamp_format", "X-TIMESTAMP style", "choice", default="jakarta", choices=tuple(TIMESTAMP_FORMATS)),
    Setting("body", "request body as a TOML table (replaces the default)", "table"),
    Setting("headers", "extra request headers as a TOML table", "headers"),
)

# Keys for the notifications the gateway sends to the merchant (SPEC 7, gateways/snap/notification.py).
_GATEWAY_KEY = Setting("gateway_public_key_file", "the gateway's public key, to verify its notifications", "file")
_NOTIFICATION_SETTINGS: Mapping[str, tuple[Setting, ...]] = {
    "nicepay": (
        Setting(
            "notification_public_key_file",
            "NICEPAY's notification public key (e-mailed by NICEPAY; not its transaction key)",
            "file",
        ),
    ),
    "snap": (_GATEWAY_KEY,),
    "doku-snap": (_GATEWAY_KEY,),  # and client_secret, for DOKU's HMAC-SHA512 notifications
}

_SIGNED_HEADERS = ("Content-Type", "X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE")

SNAP_HINTS: Mapping[str, str] = {
    "4007300": "the request is malformed: `paytoken sign {provider}` shows the exact headers and body sent",
    "4007301": "a field has the wrong format, usually X-TIMESTAMP, which {provider} wants like {example}",
    "4007302": "a mandatory header (X-TIMESTAMP, X-CLIENT-KEY, X-SIGNATURE) or grantType is missing",
    "4017300": "the gateway could not verify the request. Usual causes, most likely first: the public key "
    "registered with the gateway is not the pair of this private key; client_id is not the one issued "
    "for that key; this machine's clock is off (X-TIMESTAMP must be within minutes of the gateway's); "
    "a wrong X-TIMESTAMP format. `paytoken sign {provider}` with the same --profile shows every byte signed",
    "4017301": "the gateway says a token is invalid: get a fresh one",
    "4097300": "the gateway saw a conflicting or duplicate request: wait a second and retry",
    "4297300": "too many token requests: back off, and reuse the token until it expires",
    "5007300": "the gateway failed on its side: retry later",
    "5047300": "the gateway timed out on its side: retry later",
}


def snap_hint(code: str, provider: str, timestamp_style: str = "jakarta") -> str | None:
    """Return paytoken's advice for a SNAP response code, by exact code then by its HTTP class."""
    hint = SNAP_HINTS.get(code) or SNAP_HINTS.get(code[:3] + "7300" if len(code) == 7 else "")
    example = f"{TIMESTAMP_EXAMPLES[timestamp_style]} ({_TIMESTAMP_WORDS[timestamp_style]})"
    return hint.format(provider=provider, example=example) if hint else None


# X-EXTERNAL-ID: "numeric, at most 36 digits, unique per day" (SNAP; SPEC 6.2).
_EXTERNAL_ID = re.compile(r"[0-9]{1,36}")


def external_id(value: str | None) -> str:
    """The X-EXTERNAL-ID a call signs: given (1 to 36 digits) or a UsageError."""
    if value is None or not _EXTERNAL_ID.fullmatch(value):
        raise UsageError(
            f"X-EXTERNAL-ID must be 1 to 36 digits, not {value!r}",
            hint="leave --external-id out to get a fresh one (unique per day)",
        )
    return value


def snap_call_string(method: str, signed_path: str, token: str | None, body: bytes, x_timestamp: str) -> str:
    """SNAP's string to sign for a call: METHOD:path:token:lowerhex(SHA-256(body)):X-TIMESTAMP; no token field
    in the asymmetric form (signature type 2)."""
    fields = (method, signed_path, *((token,) if token is not None else ()), sha256_hex(body), x_timestamp)
    return ":".join(fields)


def snap_symmetric_signature(client_secret: str, string_to_sign: str) -> str:
    """base64(HMAC-SHA512(key = client_secret as UTF-8, string to sign))."""
    return b64(hmac_sha512(client_secret.encode("utf-8"), string_to_sign.encode("utf-8")))


def _call_snap_code(code: str) -> bool:
    # responseCode is HTTP status (3) + service code (2) + case (2); 2xx answers start 200 or 202.
    return code.startswith(("200", "202"))


@dataclass(frozen=True)
class SnapProvider:
    """A SNAP B2B access-token endpoint: RSA-signed `client_id|X-TIMESTAMP`."""

    name: str
    title: str
    token_path: str
    base_urls: Mapping[str, str]
    body: Mapping[str, object]
    # X-TIMESTAMP as paytoken writes it for this gateway (a TIMESTAMP_FORMATS key); `snap` reads the profile's.
    timestamp_style: str = "jakarta"
    # Headers the token request carries besides SNAP's four (DANA's X-PARTNER-ID): name -> value, where
    # {client_id} and {partner_id} are replaced.
    token_headers: Mapping[str, str] = field(default_factory=dict)
    # What the real gateway does, which the sandbox mirrors (kept apart from what paytoken sends, so that a
    # wrong quirk shows as a rejection): the X-TIMESTAMP forms it accepts, the body keys it reads the grant
    # from, how it writes `expiresIn` ("number" 900, "text" "900", "date-time": the expiry itself) and tokenType.
    accepted_timestamps: tuple[str, ...] = ("jakarta",)
    accepted_grant_keys: tuple[str, ...] = ("grantType",)
    accepted_grants: tuple[str, ...] = ("client_credentials",)
    expires_in_form: str = "number"
    token_type: str = "Bearer"
    # The generic `snap` provider reads its path, timestamp style, body and headers from the profile.
    configurable: bool = False
    # Where the facts come from (presets), for `paytoken providers`.
    provenance: Provenance = field(default_factory=Provenance)
    # The calls after the token (SPEC 6.2). NICEPAY serves them under a /nicepay prefix it does not sign.
    call_prefix: str = ""
    # The profile key whose value keys the call HMAC.
    call_secret: str = "client_secret"
    # The profile key that gives X-PARTNER-ID (client_id when it is not set).
    partner_id_key: str = "partner_id"
    # CHANNEL-ID when the profile has no channel_id; "{client_id}" is replaced (NICEPAY's SDKs: client_id + "01").
    default_channel_id: str | None = None
    # "symmetric": HMAC-SHA512 with the token (type 1); "asymmetric": SHA256withRSA, no token (type 2).
    call_signature: str = "symmetric"
    algorithm: str = "SHA256withRSA"
    identity_key: str = "client_id"
    one_of: tuple[tuple[str, ...], ...] = (("private_key", "private_key_file"),)
    settings: tuple[Setting, ...] = field(init=False)
    options: tuple[CliOption, ...] = field(init=False)

    def __post_init__(self) -> None:
        extra = _GENERIC_SETTINGS if self.configurable else ()
        options = (CliOption("--token-path", "token_path", "access-token path, overriding the profile", "PATH"),)
        settings = _KEY_SETTINGS + _call_settings(self) + extra
        named = {setting.name for setting in settings}
        notification = tuple(item for item in _NOTIFICATION_SETTINGS.get(self.name, ()) if item.name not in named)
        object.__setattr__(self, "settings", settings + notification)
        object.__setattr__(self, "options", options if self.configurable else ())

    @property
    def recipe(self) -> tuple[str, ...]:
        extra = "".join(f", {name}" for name in self.token_headers)
        return (
            f"POST {{base_url}}{self.token_path}" + (" (profile token_path overrides)" if self.configurable else ""),
            f"headers: Content-Type: application/json, X-TIMESTAMP, X-CLIENT-KEY = client_id, X-SIGNATURE{extra}",
            f"X-TIMESTAMP: {_TIMESTAMP_WORDS[self.timestamp_style]}, {TIMESTAMP_EXAMPLES[self.timestamp_style]}"
            + (" (timestamp_format: jakarta, utc, jakarta-millis)" if self.configurable else ""),
            'string to sign: client_id + "|" + X-TIMESTAMP (UTF-8)',
            "signature: base64(RSASSA-PKCS1-v1_5 SHA-256 with the private key)",
            "body: " + compact_json(self.body).decode() + (" (profile body overrides)" if self.configurable else ""),
        )

    @property
    def quirks(self) -> tuple[str, ...]:
        """Where this gateway departs from SNAP as the seed gateways run it, one line each."""
        found = []
        if self.timestamp_style != "jakarta" and not self.configurable:
            found.append(f"X-TIMESTAMP with milliseconds ({TIMESTAMP_EXAMPLES[self.timestamp_style]})")
        if tuple(self.accepted_timestamps) == ("jakarta-millis",):
            found.append("its gateway refuses an X-TIMESTAMP to the second")
        if "additionalInfo" in self.body and not self.configurable:
            found.append('token body carries "additionalInfo":{}')
        grant_key = next((key for key in _GRANT_KEYS if key in self.body), "grantType")
        if grant_key != "grantType":
            found.append(f'token body says "{grant_key}" (snake case); its gateway reads grantType too')
        if self.body.get(grant_key) != "client_credentials":
            found.append(f"grant {self.body.get(grant_key)} (its documentation's example), not client_credentials")
        for name, value in self.token_headers.items():
            found.append(f"token request also carries {name}: {value.strip('{}')}")
        forms = {"text": 'expiresIn as text ("900")', "date-time": "expiresIn is the expiry date-time, not seconds"}
        if self.expires_in_form in forms:
            found.append(forms[self.expires_in_form])
        if self.token_type != "Bearer":
            found.append(f"tokenType {self.token_type}; calls and -o header still say Bearer")
        if self.call_prefix:
            found.append(f"calls under {self.call_prefix}, which is not signed")
        if self.call_needs_token and self.call_secret != "client_secret":
            found.append(f"calls' HMAC keyed with {self.call_secret}, not client_secret")
        if self.partner_id_key != "partner_id":
            found.append(f"calls' X-PARTNER-ID is {self.partner_id_key}")
        if self.default_channel_id:
            channel = self.default_channel_id.replace("{client_id}", "client_id + ")
            found.append(f"calls' CHANNEL-ID defaults to {channel}")
        if not self.call_needs_token:
            found.append("calls signed SHA256withRSA without the token (SNAP signature type 2)")
        return tuple(found)

    # --- what the profile decides ----------------------------------------------------------------

    def path(self, profile: Profile) -> str:
        path = (self.configurable and profile.text("token_path")) or self.token_path
        if not path.startswith("/"):
            where = profile.origins.get("token_path", "token_path")
            raise ConfigError(
                f"token_path {path!r} ({where}) must start with /",
                hint=f"write it like /{path.lstrip('/')}",
            )
        return path

    def timestamp_format(self, profile: Profile) -> str:
        return (self.configurable and profile.text("timestamp_format")) or self.timestamp_style

    def partner_id(self, profile: Profile) -> str:
        """X-PARTNER-ID: the profile's partner id under this gateway's name for it, else client_id."""
        return profile.text(self.partner_id_key) or profile.require_text("client_id")

    def token_request_headers(self, profile: Profile) -> dict[str, str]:
        """The headers a token request carries besides SNAP's four (none for most gateways)."""
        if not self.token_headers:
            return {}
        values = {"client_id": profile.require_text("client_id"), "partner_id": self.partner_id(profile)}
        return {name: template.format(**values) for name, template in self.token_headers.items()}

    def request_body(self, profile: Profile) -> bytes:
        custom = profile.get("body") if self.configurable else None
        return compact_json(custom if isinstance(custom, dict) else self.body)

    def private_key(self, profile: Profile) -> RSAPrivateKey:
        """Load the profile's RSA private key from whichever key holds it."""
        from ...keys import load_private_key

        passphrase = profile.text("private_key_passphrase")
        inline = profile.text("private_key")
        if inline is not None:
            return load_private_key(inline.encode(), passphrase=passphrase, source=f"private_key in {profile.where}")
        path = profile.get("private_key_file")
        return load_private_key(
            profile.files["private_key_file"], passphrase=passphrase, source=f"private_key_file {path}"
        )

    def extra_headers(self, profile: Profile) -> dict[str, str]:
        headers = profile.get("headers") if self.configurable else None
        if not isinstance(headers, dict):
            return {}
        signed = {name.lower() for name in _SIGNED_HEADERS}
        clashes = [name for name in headers if name.lower() in signed]
        if clashes:
            raise ConfigError(
                f"headers in {profile.where} sets {clashes[0]}, which paytoken computes",
                hint=f"remove {clashes[0]} from the headers table",
            )
        return {str(name): str(value) for name, value in headers.items()}

    # --- the two pure functions ------------------------------------------------------------------

    def new_nonce(self) -> str | None:
        return None

    def build(
        self, profile: Profile, when: datetime | str, nonce: str | None, body: bytes | None = None
    ) -> SignedRequest:
        from ...signing import rsa_sha256_b64

        client_id = profile.require_text("client_id")
        x_timestamp = when if isinstance(when, str) else TIMESTAMP_FORMATS[self.timestamp_format(profile)](when)
        string_to_sign = f"{client_id}|{x_timestamp}"
        signature = rsa_sha256_b64(self.private_key(profile), string_to_sign.encode("utf-8"))
        headers = {
            "Content-Type": "application/json",
            "X-TIMESTAMP": x_timestamp,
            "X-CLIENT-KEY": client_id,
            "X-SIGNATURE": signature,
            **self.token_request_headers(profile),
            **self.extra_headers(profile),
        }
        return SignedRequest(
            provider=self.name,
            method="POST",
            url=profile.base_url + self.path(profile),
            headers=headers,
            body=self.request_body(profile) if body is None else body,
            string_to_sign=string_to_sign,
            signature=signature,
            algorithm=self.algorithm,
            signed_at=iso_moment(x_timestamp),
        )

    def parse(self, status: int, body: bytes) -> Token:
        data = parse_json_object(body)
        if data is None or "responseCode" not in data:
            raise unexpected_answer(status, body, self.title, "a SNAP JSON answer")
        code = str(data.get("responseCode") or "")
        message = str(data.get("responseMessage") or "")
        token = data.get("accessToken")
        if 200 <= status < 300 and code.startswith("200"):
            if not isinstance(token, str) or not token:
                raise GatewayError(
                    f"{self.title} answered {code} {message} but sent no accessToken",
                    quoted=[code, message],
                    hint="the gateway's answer is incomplete; retry, and report it to the gateway if it persists",
                )
            token_type = data.get("tokenType")
            # Durianpay answers "BearerToken" for a token that its calls take as `Authorization: Bearer`.
            if not isinstance(token_type, str) or not token_type or token_type.lower() == "bearertoken":
                token_type = "Bearer"
            expires_in = data.get("expiresIn")
            # Seconds (900 or "900"), or the expiry itself as a date-time (Durianpay: Go's time.String()).
            lifetime = lifetime_seconds(expires_in)
            return Token(
                access_token=token,
                token_type=token_type,
                expires_in=lifetime,
                expires_at=None if lifetime is not None else expiry_moment(expires_in),
                response=data,
            )
        verbatim = f"{code} {message}".strip() or "no responseCode"
        if status >= 500 or code.startswith("5"):
            raise GatewayError(
                f"{self.title} failed with HTTP {status}: {verbatim}",
                quoted=[verbatim],
                hint=snap_hint(code, self.name, self.timestamp_style) or "the gateway failed on its side: retry later",
            )
        raise RejectedError(
            f"{self.title} rejected the token request: {verbatim}",
            status=status,
            code=code or None,
            gateway_message=message or None,
            details=[f"HTTP {status}"],
            hint=snap_hint(code, self.name, self.timestamp_style),
        )

    def derived_secrets(self, profile: Profile) -> list[str]:
        return []

    # --- the calls after the token (SPEC 6.2) ----------------------------------------------------

    @property
    def call_needs_token(self) -> bool:
        return self.call_signature == "symmetric"

    @property
    def call_recipe(self) -> tuple[str, ...]:
        prefix = f" (URL under {self.call_prefix}, signed without it)" if self.call_prefix else ""
        if self.call_needs_token:
            signed = "METHOD:path:access_token:lowerhex(SHA-256(body)):X-TIMESTAMP"
            signature = f"X-SIGNATURE: base64(HMAC-SHA512(key = {self.call_secret}, string to sign))"
            auth = "Authorization: Bearer <token>, "
        else:
            signed = "METHOD:path:lowerhex(SHA-256(body)):X-TIMESTAMP (no token)"
            signature = "X-SIGNATURE: base64(SHA256withRSA with the private key)"
            auth = ""
        channel = f" [{self.default_channel_id}]" if self.default_channel_id else ""
        return (
            f"METHOD {{base_url}}PATH{prefix}; the body hashed and sent as the same bytes",
            f"string to sign: {signed}",
            signature,
            f"headers: Content-Type, {auth}X-TIMESTAMP, X-SIGNATURE, X-PARTNER-ID = {self.partner_id_key} "
            f"[client_id], X-EXTERNAL-ID (digits, unique per day), CHANNEL-ID = channel_id{channel}",
            "success: HTTP 2xx and responseCode 200xxxx or 202xxxx"
            + ("; 401xx01 is a refused token" if self.call_needs_token else ""),
        )

    def new_call_id(self) -> str | None:
        import secrets
        import time

        # Unique per day across machines too: nanoseconds since the epoch plus five random digits.
        return f"{time.time_ns()}{secrets.randbelow(100_000):05d}"

    def call_paths(self, path: str) -> tuple[str, str]:
        """The path in the URL and the path signed: NICEPAY adds its /nicepay prefix to the URL only."""
        if not path.startswith("/"):
            raise UsageError(f"the call's PATH {path!r} must start with /", hint=f"write /{path}")
        if not self.call_prefix:
            return path, path
        prefix = self.call_prefix
        if path == prefix or path.startswith(prefix + "/"):
            return path, path[len(prefix) :] or "/"
        return prefix + path, path

    def build_call(self, profile: Profile, call: Call, when: datetime | str) -> SignedRequest:
        method = call.method.upper()
        url_path, signed_path = self.call_paths(call.path)
        client_id = profile.require_text("client_id")
        x_timestamp = when if isinstance(when, str) else TIMESTAMP_FORMATS[self.timestamp_format(profile)](when)
        body = call.body if call.body is not None else b""
        string_to_sign = snap_call_string(
            method, signed_path, call.token if self.call_needs_token else None, body, x_timestamp
        )
        if self.call_needs_token:
            if not call.token:
                raise UsageError(f"a {self.name} call is signed with the access token, and there is none")
            secret = profile.require_text(self.call_secret)
            signature = snap_symmetric_signature(secret, string_to_sign)
            algorithm = "HMAC-SHA512"
            key_fact = f"{self.call_secret} as UTF-8 text ({len(secret.encode('utf-8'))} bytes)"
        else:
            from ...signing import rsa_sha256_b64

            signature = rsa_sha256_b64(self.private_key(profile), string_to_sign.encode("utf-8"))
            algorithm = "SHA256withRSA"
            key_fact = "the private key (the same pair as the token request)"
        channel = profile.text("channel_id") or (self.default_channel_id or "").format(client_id=client_id)
        computed = {
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {call.token}"} if self.call_needs_token else {}),
            "X-TIMESTAMP": x_timestamp,
            "X-SIGNATURE": signature,
            "X-PARTNER-ID": profile.text(self.partner_id_key) or client_id,
            "X-EXTERNAL-ID": external_id(call.call_id),
            **({"CHANNEL-ID": channel} if channel else {}),
        }
        derivation = [
            ("Body bytes", f"{len(body)} bytes, hashed and sent as the same bytes"),
            ("Body hash", f"{sha256_hex(body)}  (lowercase hex SHA-256)"),
            (
                "Signed path",
                signed_path
                + (
                    f"  (the URL's {self.call_prefix} is not signed)"
                    if url_path != signed_path
                    else "  (path and query as sent, no host)"
                ),
            ),
            ("Key", key_fact),
        ]
        return SignedRequest(
            provider=self.name,
            method=method,
            url=profile.base_url + url_path,
            headers=call_headers(computed, profile, call),
            body=call.body,
            string_to_sign=string_to_sign,
            signature=signature,
            algorithm=algorithm,
            derivation=tuple(derivation),
            signed_at=iso_moment(x_timestamp),
        )

    def judge_call(self, status: int, body: bytes) -> CallVerdict:
        data = parse_json_object(body)
        code = data.get("responseCode") if data is not None else None
        message = data.get("responseMessage") if data is not None else None
        code_text = str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None
        message_text = message if isinstance(message, str) else None
        ok = 200 <= status < 300 and (code_text is None or _call_snap_code(code_text))
        refused_token = status == 401 and code_text is not None and re.fullmatch(r"401\d\d01", code_text) is not None
        return CallVerdict(ok, code_text, message_text, invalid_token=refused_token)


_GRANT: Mapping[str, object] = {"grantType": "client_credentials"}

NICEPAY = SnapProvider(
    name="nicepay",
    title="NICEPAY SNAP B2B",
    token_path="/nicepay/v1.0/access-token/b2b",
    base_urls={"sandbox": "https://dev.nicepay.co.id", "production": "https://www.nicepay.co.id"},
    body={**_GRANT, "additionalInfo": {}},
    expires_in_form="text",
    call_prefix="/nicepay",
    default_channel_id="{client_id}01",
)
FINPAY_SNAP = SnapProvider(
    name="finpay-snap",
    title="Finpay PG SNAP B2B",
    token_path="/pg/snap/oauth/v1.0/access-token/b2b",
    base_urls={"sandbox": "https://devo.finnet.co.id", "production": "https://live.finnet.co.id"},
    body=_GRANT,
    expires_in_form="text",
)
DOKU_SNAP = SnapProvider(
    name="doku-snap",
    title="DOKU SNAP B2B",
    token_path="/authorization/v1/access-token/b2b",
    base_urls={"sandbox": "https://api-sandbox.doku.com", "production": "https://api.doku.com"},
    body=_GRANT,
    accepted_timestamps=("jakarta", "utc"),
)
GENERIC_SNAP = SnapProvider(
    name="snap",
    title="SNAP B2B",
    token_path="/v1.0/access-token/b2b",
    base_urls={},
    body={**_GRANT, "additionalInfo": {}},
    accepted_timestamps=("jakarta", "utc", "jakarta-millis"),
    configurable=True,
)


# --- presets ----------------------------------------------------------------------------------------
# Each is what its gateway's own documentation or SDK says (the source, first in `sources`); where only
# community code was found, `providers show` says so. Production hosts a gateway gives only on onboarding
# are left out: such a profile sets base_url.

_BANK, _WALLET = "bank", "wallet"

BRI = SnapProvider(
    name="bri",
    title="BRI SNAP B2B",
    token_path="/snap/v1.0/access-token/b2b",
    base_urls={"sandbox": "https://sandbox.partner.api.bri.co.id"},
    body=_GRANT,
    # "Waktu lokal klien saat ini yyyy-MM-ddTHH:mm:ss.SSSTZD format" (BRI's Oauth SNAP BI page).
    timestamp_style="jakarta-millis",
    accepted_timestamps=("jakarta-millis",),
    provenance=Provenance(_BANK, "official docs", ("https://developers.bri.co.id/en/snap-bi/apidocs-oauth-snap-bi",)),
)
BNI = SnapProvider(
    name="bni",
    title="BNI SNAP B2B",
    token_path="/snap/v1/access-token/b2b",
    base_urls={"sandbox": "https://sandbox.bni.co.id", "production": "https://api.bni.co.id"},
    # BNI's SDK: tokenRequestSnapBI sends additionalInfo; its calls are keyed with the app's apiSecret and
    # name the app by its apiKey in X-PARTNER-ID (generateSignatureServiceSnapBI, requestSnapBI).
    body={**_GRANT, "additionalInfo": {}},
    call_secret="api_secret",
    partner_id_key="api_key",
    provenance=Provenance(_BANK, "official SDK", ("https://github.com/bni-api/bni-nodejs src/lib/net/httpClient.js",)),
)
MANDIRI = SnapProvider(
    name="mandiri",
    title="Bank Mandiri SNAP B2B",
    token_path="/openapi/auth/v2.0/access-token/b2b",
    base_urls={"sandbox": "https://sandbox.bankmandiri.co.id", "production": "https://api.bankmandiri.co.id"},
    body=_GRANT,
    timestamp_style="jakarta-millis",
    accepted_timestamps=("jakarta", "jakarta-millis"),
    provenance=Provenance(
        _BANK,
        "community",
        ("https://github.com/iotanesia/snap_link_aja app/ApiHelper.php getDateNow, app/Patners/Mandiri.php",),
        ("community code sends milliseconds (and seconds elsewhere): paytoken does, its sandbox takes both",),
    ),
)
BCA = SnapProvider(
    name="bca",
    title="BCA SNAP B2B",
    token_path="/openapi/v1.0/access-token/b2b",
    base_urls={"sandbox": "https://sandbox.bca.co.id"},
    body=_GRANT,
    default_channel_id="95051",
    provenance=Provenance(_BANK, "community", ("a BCA_SNAP Python client", "github.com/purwaren/bca-api ChannelID")),
)
DANA = SnapProvider(
    name="dana",
    title="DANA SNAP B2B",
    token_path="/v1.0/access-token/b2b.htm",
    base_urls={"sandbox": "https://api.sandbox.dana.id", "production": "https://api.saas.dana.id"},
    body=_GRANT,
    token_headers={"X-PARTNER-ID": "{partner_id}"},
    # DANA's SDK signs every call SHA256withRSA over METHOD:path:hash:X-TIMESTAMP, no token, CHANNEL-ID 95221.
    call_signature="asymmetric",
    default_channel_id="95221",
    provenance=Provenance(
        _WALLET,
        "SDK+community",
        ("https://github.com/dana-id/dana-python dana/utils/snap_header.py", "DANA Apply Token docs (X-PARTNER-ID)"),
        ("production is api.saas.dana.id (DANA's SDKs), not api.dana.id",),
    ),
)
MIDTRANS = SnapProvider(
    name="midtrans",
    title="Midtrans SNAP B2B",
    token_path="/v1.0/access-token/b2b",
    base_urls={"sandbox": "https://merchants.sbx.midtrans.com", "production": "https://merchants.midtrans.com"},
    # Midtrans' PHP SDK (SnapBi::getAccessToken) sends grant_type; its docs show grantType: it takes both.
    body={"grant_type": "client_credentials"},
    accepted_grant_keys=("grantType", "grant_type"),
    default_channel_id="95221",
    provenance=Provenance(_WALLET, "official SDK", ("https://github.com/Midtrans/midtrans-php SnapBi/SnapBi.php",)),
)
IFORTEPAY = SnapProvider(
    name="ifortepay",
    title="iFortepay SNAP B2B",
    token_path="/auth/merchants/v1.0/access-token/b2b",
    base_urls={"sandbox": "https://kronos-stage.ifortepay.id", "production": "https://kronos.ifortepay.id"},
    body={**_GRANT, "additionalInfo": {}},
    # "Asymmetric signature without get token ... such as create payment, inquiry" (signature-security page).
    call_signature="asymmetric",
    provenance=Provenance(
        _WALLET,
        "official docs",
        ("https://developer.ifortepay.id/snap/auth/access-token-b2b", "…/snap/auth/signature-security"),
        ('its token page writes client_ID + ":" + X-TIMESTAMP, SNAP and its B2B2C page "|": paytoken signs "|"',),
    ),
)
PAYDIA = SnapProvider(
    name="paydia",
    title="Paydia SNAP B2B",
    token_path="/snap/v1.0/access-token/b2b",
    base_urls={},
    body=_GRANT,
    provenance=Provenance(_WALLET, "official docs", ("https://snap-docs.paydia.id/snap-api/access-token-b2b/v1.0.0",)),
)
PAYCLOUD = SnapProvider(
    name="paycloud",
    title="PayCloud SNAP B2B",
    token_path="/ordersnap/api/v1.0/access-token/b2b",
    base_urls={},
    body={**_GRANT, "additionalInfo": {}},
    expires_in_form="text",
    provenance=Provenance(_WALLET, "official docs", ("https://paycloud.readme.io/reference/access-token-b2b",)),
)
DURIANPAY = SnapProvider(
    name="durianpay",
    title="Durianpay SNAP B2B",
    token_path="/v1.0/access-token/b2b",
    base_urls={"sandbox": "https://api-sandbox.durianpay.id", "production": "https://api.durianpay.id"},
    # Its example: X-TIMESTAMP 2024-05-13T15:32:36.422+07:00, grantType AUTHORIZATION_CODE; the answer's
    # tokenType "BearerToken" and expiresIn "2024-05-13 08:47:36.452492159 +0000 UTC".
    body={"grantType": "AUTHORIZATION_CODE"},
    timestamp_style="jakarta-millis",
    accepted_timestamps=("jakarta-millis",),
    accepted_grants=("AUTHORIZATION_CODE",),
    expires_in_form="date-time",
    token_type="BearerToken",
    provenance=Provenance(
        _WALLET,
        "official docs",
        ("https://docs.durianpay.id/integration/snap/authentication/generate-access-token/", "…/api/snap/sandbox/"),
        (
            "sandbox host api-sandbox.durianpay.id (its SNAP sandbox page)",
            "grant AUTHORIZATION_CODE as its example has it; should it want client_credentials, use `snap`",
        ),
    ),
)

PRESETS = (BRI, BNI, MANDIRI, BCA, DANA, MIDTRANS, IFORTEPAY, PAYDIA, PAYCLOUD, DURIANPAY)
