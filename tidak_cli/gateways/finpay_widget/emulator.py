"""Finpay Money widget `getToken` and the widget calls after it: Basic authorization, then the sorted-values
HMAC, answered in statusCode.

Finpay answers failures with HTTP 200 and a statusCode other than 000. Its published codes are only
seen, not documented; the sandbox uses A1001 (bad field), A1002 (tokenID unknown, another merchant's, or
expired), A1003 (merchant credentials), A1004 (signature, with the expected one in the answer, as Finpay's
staging server does) and A1005 (reqDtime out of range).

A call (SPEC 6.3, 6.5) is a POST to `/apicobrand/widget/…`: the same Basic credentials, a body of fields with
`reqDtime` (Jakarta time, within 5 minutes), the `tokenID` getToken gave this merchant, and `signature` = the
getToken recipe over every other field, tokenID included.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime

from ...clock import JAKARTA, jakarta_moment
from ..base import parse_json_object
from ..emulation import (
    Client,
    Incoming,
    Ledger,
    Reply,
    SandboxConfig,
    SharedSecrets,
    echoed,
    expiry,
    new_token,
    within_skew,
)
from .recipe import MAX_TRANS_NUMBER, FinpayWidgetProvider, finpay_signature

__all__ = ["FinpayGateway"]

_SECRETS = ("merchant_password", "secret_key")
_REQ_DTIME = re.compile(r"\d{14}")
_CALL_PREFIX = "/apicobrand/widget/"
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def token_expiry_text(moment: datetime) -> str:
    """Write `24-AUG-24 16:23:30` in Jakarta time, independent of the locale."""
    local = moment.astimezone(JAKARTA)
    return f"{local:%d}-{_MONTHS[local.month - 1]}-{local:%y %H:%M:%S}"


@dataclass(frozen=True)
class FinpayGateway(SharedSecrets):
    secret_keys = _SECRETS
    provider: FinpayWidgetProvider

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

    def _posted(self, request: Incoming, config: SandboxConfig) -> tuple[Client, dict[str, object]] | Reply:
        """The merchant and the JSON body of a POST with its Basic credentials, or the refusal, as every
        widget request (getToken and the calls after it) is checked first."""
        if request.method != "POST":
            return Reply.json(405, {"statusCode": "A1000", "statusDesc": "Method Not Allowed"})
        client = self._merchant(request, config)
        if client is None:
            return self._status("A1003", "Invalid merchant credentials")
        fields = parse_json_object(request.body)
        if fields is None:
            return self._status("A1001", "Invalid request body")
        return client, fields

    def handle(self, request: Incoming, config: SandboxConfig, now: datetime) -> Reply:
        posted = self._posted(request, config)
        if isinstance(posted, Reply):
            return posted
        client, fields = posted
        for name in ("reqDtime", "requestType", "transNumber", "signature"):
            if not isinstance(fields.get(name), str) or not fields[name]:
                return self._status("A1001", f"Invalid field {name}")
        trans_number = str(fields["transNumber"])
        if fields["requestType"] != "getToken" or len(trans_number) > MAX_TRANS_NUMBER:
            return self._status("A1001", "Invalid field requestType or transNumber")
        problem = self._req_dtime_problem(str(fields["reqDtime"]), now)
        if problem is not None:
            return problem
        problem = self._signature_problem({key: str(value) for key, value in fields.items()}, client)
        if problem is not None:
            return problem
        expires_at = expiry(now, config.token_ttl)
        token = new_token()
        return Reply.json(
            200,
            {
                "statusCode": "000",
                "statusDesc": "Success",
                "tokenID": token,
                "tokenExpiry": token_expiry_text(expires_at),
                "processingTime": "0.012",
            },
            issued=True,
            token=token,
            client_id=client.client_id,
            expires_at=expires_at,  # the ledger ends it when tokenExpiry says, not a few instants later
        )

    def _req_dtime_problem(self, req_dtime: str, now: datetime) -> Reply | None:
        if not _REQ_DTIME.fullmatch(req_dtime):
            return self._status("A1001", "Invalid field reqDtime")
        stamp = jakarta_moment(req_dtime, "%Y%m%d%H%M%S")
        if stamp is None:
            return self._status("A1001", "Invalid field reqDtime")
        if not within_skew(stamp, now):
            return self._status("A1005", "reqDtime is not within 5 minutes of server time (Jakarta)")
        return None

    def _signature_problem(self, fields: dict[str, str], client: Client) -> Reply | None:
        _, expected = finpay_signature(fields, client.secrets["secret_key"])
        if not hmac.compare_digest(expected.encode(), fields.get("signature", "").encode()):
            return self._status("A1004", "Invalid Signature", signature=expected)
        return None

    # --- the calls after the token (SPEC 6.3, 6.5) -----------------------------------------------

    def handle_call(self, request: Incoming, config: SandboxConfig, now: datetime, ledger: Ledger) -> Reply | None:
        if not request.path.startswith(_CALL_PREFIX):
            return None
        posted = self._posted(request, config)
        if isinstance(posted, Reply):
            return posted
        client, data = posted
        fields: dict[str, str] = {}
        for key, value in data.items():
            # Every field is signed as its text: a string as is, a number as JSON writes it (as build_call does).
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                return self._status("A1001", f"Invalid field {key}")
            fields[key] = value if isinstance(value, str) else json.dumps(value)
        for name in ("reqDtime", "tokenID", "signature"):
            if not fields.get(name):
                return self._status("A1001", f"Invalid field {name}")
        problem = self._req_dtime_problem(fields["reqDtime"], now)
        if problem is not None:
            return problem
        issued = ledger.record(fields["tokenID"])
        if issued is None or issued.provider != self.provider.name or issued.client_id != client.client_id:
            return self._status("A1002", "Invalid tokenID")
        if now >= issued.expires_at:
            return self._status("A1002", "tokenID has expired")
        problem = self._signature_problem(fields, client)
        if problem is not None:
            return problem
        return Reply.json(
            200,
            {"statusCode": "000", "statusDesc": "Success", "request": echoed(request), "processingTime": "0.012"},
            accepted=True,
        )
