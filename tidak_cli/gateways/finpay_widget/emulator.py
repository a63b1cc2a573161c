"""Finpay Money widget `getToken`: Basic authorization, then the sorted-values HMAC, answered in statusCode.

Finpay answers failures with HTTP 200 and a statusCode other than 000. Its published codes are only
seen, not documented; the sandbox uses A1001 (bad field), A1003 (merchant credentials), A1004 (signature,
with the expected one in the answer, as Finpay's staging server does) and A1005 (reqDtime out of range).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...clock import JAKARTA, jakarta_moment
from ...profiles import Profile
from ..base import parse_json_object
from ..emulation import (
    Client,
    Incoming,
    Ledger,
    Reply,
    SandboxConfig,
    new_token,
    require_secrets,
    secrets_client,
    within_skew,
)
from .recipe import MAX_TRANS_NUMBER, FinpayWidgetProvider, finpay_signature

__all__ = ["FinpayGateway"]

_SECRETS = ("merchant_password", "secret_key")
_REQ_DTIME = re.compile(r"\d{14}")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def token_expiry_text(moment: datetime) -> str:
    """Write `24-AUG-24 16:23:30` in Jakarta time, independent of the locale."""
    local = moment.astimezone(JAKARTA)
    return f"{local:%d}-{_MONTHS[local.month - 1]}-{local:%y %H:%M:%S}"


@dataclass(frozen=True)
class FinpayGateway:
    provider: FinpayWidgetProvider

    def client_from(self, profile: Profile) -> Client:
        return secrets_client(profile, self.provider.identity_key, _SECRETS)

    def check_client(self, client: Client, where: str) -> None:
        require_secrets(client, _SECRETS, where)

    @staticmethod
    def _status(code: str, description: str, **extra: object) -> Reply:
        return Reply.json(200, {"statusCode": code, "statusDesc": description, **extra})

    def failure(self, status: int) -> Reply:
        return Reply.json(status, {"statusCode": "E500", "statusDesc": "General Error"})

    def _merchant(self, request: Incoming, config: SandboxConfig) -> Client | None:
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
        client = config.client(self.provider.name, user)
        if scheme != "Basic" or client is None:
            return None
        known = client.secrets["merchant_password"].encode()
        return client if hmac.compare_digest(known, password.encode()) else None

    def handle(self, request: Incoming, config: SandboxConfig, now: datetime) -> Reply:
        if request.method != "POST":
            return Reply.json(405, {"statusCode": "A1000", "statusDesc": "Method Not Allowed"})
        client = self._merchant(request, config)
        if client is None:
            return self._status("A1003", "Invalid merchant credentials")
        fields = parse_json_object(request.body)
        if fields is None:
            return self._status("A1001", "Invalid request body")
        for name in ("reqDtime", "requestType", "transNumber", "signature"):
            if not isinstance(fields.get(name), str) or not fields[name]:
                return self._status("A1001", f"Invalid field {name}")
        req_dtime, trans_number, signature = (str(fields[name]) for name in ("reqDtime", "transNumber", "signature"))
        if fields["requestType"] != "getToken" or len(trans_number) > MAX_TRANS_NUMBER:
            return self._status("A1001", "Invalid field requestType or transNumber")
        if not _REQ_DTIME.fullmatch(req_dtime):
            return self._status("A1001", "Invalid field reqDtime")
        stamp = jakarta_moment(req_dtime, "%Y%m%d%H%M%S")
        if stamp is None:
            return self._status("A1001", "Invalid field reqDtime")
        if not within_skew(stamp, now):
            return self._status("A1005", "reqDtime is not within 5 minutes of server time (Jakarta)")
        _, expected = finpay_signature({key: str(value) for key, value in fields.items()}, client.secrets["secret_key"])
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return self._status("A1004", "Invalid Signature", signature=expected)
        expiry = now + timedelta(seconds=config.token_ttl)
        return Reply.json(
            200,
            {
                "statusCode": "000",
                "statusDesc": "Success",
                "tokenID": new_token(),
                "tokenExpiry": token_expiry_text(expiry),
                "processingTime": "0.012",
            },
            issued=True,
        )

    def handle_call(self, request: Incoming, config: SandboxConfig, now: datetime, ledger: Ledger) -> Reply | None:
        return None  # the calls of SPEC 6.5 for this gateway: being built (signed-calls issue)
