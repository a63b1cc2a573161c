"""The sandbox as a gateway (SPEC 1.1 and 4), spoken to over HTTP with requests signed here, not by tidak_cli.

Every SNAP request in this file is built by the test itself: the Jakarta timestamp from `datetime`, the
signature with `cryptography` over `client_id|X-TIMESTAMP`. A bug in the providers' `build` therefore
cannot make the sandbox look right.
"""

from __future__ import annotations

import base64
import functools
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from support import paytoken, requests_to, set_fault, stats

from tidak_cli.demo import Workspace
from tidak_cli.errors import ConfigError
from tidak_cli.sandbox import Sandbox, from_profiles, load_config

PATHS = {
    "nicepay": "/nicepay/v1.0/access-token/b2b",
    "finpay-snap": "/pg/snap/oauth/v1.0/access-token/b2b",
    "doku-snap": "/authorization/v1/access-token/b2b",
    "snap": "/v1.0/access-token/b2b",
}
SNAP = list(PATHS)
BODIES = {
    "nicepay": b'{"grantType":"client_credentials","additionalInfo":{}}',
    "finpay-snap": b'{"grantType":"client_credentials"}',
    "doku-snap": b'{"grantType":"client_credentials"}',
    "snap": b'{"grantType":"client_credentials","additionalInfo":{}}',
}
# NICEPAY and Finpay send expiresIn as the string "900", the others as the integer 900 (SPEC 1.1).
EXPIRES_AS_STRING = {"nicepay", "finpay-snap"}
SIGNED_HEADERS = ("X-TIMESTAMP", "X-CLIENT-KEY", "X-SIGNATURE")
TIMEOUT = 10


# --- an independent SNAP client ------------------------------------------------------------------


def jakarta_timestamp(shift: timedelta = timedelta(0)) -> str:
    """`2024-12-31T10:11:40+07:00`: UTC now plus seven hours, written with the +07:00 offset."""
    wall_clock = datetime.now(UTC) + shift + timedelta(hours=7)
    return wall_clock.strftime("%Y-%m-%dT%H:%M:%S") + "+07:00"


def jakarta_millis_timestamp() -> str:
    wall_clock = datetime.now(UTC) + timedelta(hours=7)
    return wall_clock.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+07:00"


def utc_z_timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def naive_timestamp() -> str:
    return (datetime.now(UTC) + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%S")


@functools.cache
def _private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def private_key(workspace: Workspace, provider: str) -> rsa.RSAPrivateKey:
    return _private_key(workspace.directory / provider / "private.pem")


def client_id_of(workspace: Workspace, provider: str) -> str:
    document = tomllib.loads(workspace.sandbox_config.read_text(encoding="utf-8"))
    client_id = document[provider]["client_id"]
    assert isinstance(client_id, str) and client_id
    return client_id


def sign(key: rsa.RSAPrivateKey, string_to_sign: str) -> str:
    raw = key.sign(string_to_sign.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def snap_headers(
    workspace: Workspace,
    provider: str,
    *,
    x_timestamp: str | None = None,
    client_id: str | None = None,
    key_of: str | None = None,
    signed_timestamp: str | None = None,
) -> dict[str, str]:
    """Headers of a correct request, unless one of the overrides makes it wrong on purpose."""
    x_timestamp = x_timestamp if x_timestamp is not None else jakarta_timestamp()
    client_id = client_id if client_id is not None else client_id_of(workspace, provider)
    key = private_key(workspace, key_of or provider)
    signed = signed_timestamp if signed_timestamp is not None else x_timestamp
    return {
        "Content-Type": "application/json",
        "X-TIMESTAMP": x_timestamp,
        "X-CLIENT-KEY": client_id,
        "X-SIGNATURE": sign(key, f"{client_id}|{signed}"),
    }


def post(base_url: str, provider: str, headers: dict[str, str], body: bytes | None = None) -> requests.Response:
    return requests.post(
        base_url + PATHS[provider], headers=headers, data=BODIES[provider] if body is None else body, timeout=TIMEOUT
    )


def token_request(sandbox: Sandbox, workspace: Workspace, provider: str, **overrides: str) -> requests.Response:
    return post(sandbox.url, provider, snap_headers(workspace, provider, **overrides))


def assert_snap_error(response: requests.Response, status: int, code: str, *message_parts: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    answer = response.json()
    assert answer["responseCode"] == code, answer
    assert isinstance(answer["responseMessage"], str) and answer["responseMessage"]
    for part in message_parts:
        assert part in answer["responseMessage"], answer
    assert "accessToken" not in answer
    return answer  # type: ignore[no-any-return]


def provider_counts(sandbox: Sandbox, provider: str) -> dict[str, int]:
    return stats(sandbox)["providers"][provider]  # type: ignore[index,no-any-return]


# --- success -------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", SNAP)
def test_a_correct_request_gets_a_bearer_token(provider: str, sandbox: Sandbox, workspace: Workspace) -> None:
    response = token_request(sandbox, workspace, provider)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    answer = response.json()
    assert answer["responseCode"] == "2007300"
    assert isinstance(answer["accessToken"], str) and answer["accessToken"].strip()
    assert answer["tokenType"] == "Bearer"
    if provider in EXPIRES_AS_STRING:
        assert answer["expiresIn"] == "900"
    else:
        assert type(answer["expiresIn"]) is int and answer["expiresIn"] == 900


@pytest.mark.parametrize("provider", SNAP)
def test_every_token_is_new(provider: str, sandbox: Sandbox, workspace: Workspace) -> None:
    first = token_request(sandbox, workspace, provider).json()["accessToken"]
    second = token_request(sandbox, workspace, provider).json()["accessToken"]
    assert first != second


def test_header_names_are_case_insensitive(sandbox: Sandbox, workspace: Workspace) -> None:
    headers = {name.lower(): value for name, value in snap_headers(workspace, "nicepay").items()}
    assert post(sandbox.url, "nicepay", headers).status_code == 200


def test_content_type_may_carry_a_charset(sandbox: Sandbox, workspace: Workspace) -> None:
    headers = {**snap_headers(workspace, "doku-snap"), "Content-Type": "application/json; charset=utf-8"}
    assert post(sandbox.url, "doku-snap", headers).status_code == 200


def test_a_timestamp_within_five_minutes_is_accepted(sandbox: Sandbox, workspace: Workspace) -> None:
    for minutes in (-4, 4):
        response = token_request(sandbox, workspace, "snap", x_timestamp=jakarta_timestamp(timedelta(minutes=minutes)))
        assert response.status_code == 200, (minutes, response.text)


# --- missing and malformed headers ---------------------------------------------------------------


@pytest.mark.parametrize("header", SIGNED_HEADERS)
@pytest.mark.parametrize("provider", SNAP)
def test_a_missing_header_is_named(provider: str, header: str, sandbox: Sandbox, workspace: Workspace) -> None:
    headers = snap_headers(workspace, provider)
    del headers[header]
    assert_snap_error(post(sandbox.url, provider, headers), 400, "4007302", header)


@pytest.mark.parametrize("header", SIGNED_HEADERS)
def test_an_empty_header_counts_as_missing(header: str, sandbox: Sandbox, workspace: Workspace) -> None:
    headers = {**snap_headers(workspace, "finpay-snap"), header: ""}
    assert_snap_error(post(sandbox.url, "finpay-snap", headers), 400, "4007302", header)


MALFORMED_TIMESTAMPS = [
    *[(provider, "no offset", naive_timestamp) for provider in SNAP],
    ("nicepay", "UTC Z", utc_z_timestamp),
    ("finpay-snap", "UTC Z", utc_z_timestamp),
    ("nicepay", "milliseconds", jakarta_millis_timestamp),
    ("finpay-snap", "milliseconds", jakarta_millis_timestamp),
    ("doku-snap", "milliseconds", jakarta_millis_timestamp),
    ("nicepay", "space for T", lambda: jakarta_timestamp().replace("T", " ")),
    ("nicepay", "offset without colon", lambda: jakarta_timestamp().replace("+07:00", "+0700")),
    ("snap", "date only", lambda: jakarta_timestamp()[:10]),
    ("snap", "epoch seconds", lambda: str(int(time.time()))),
    # The right shape, but no such day or time: the gateway must still answer 4007301.
    ("nicepay", "impossible date", lambda: "2024-13-45T25:61:61+07:00"),
    ("doku-snap", "impossible date", lambda: "2024-02-30T10:11:40Z"),
]


@pytest.mark.parametrize(
    ("provider", "make_timestamp"),
    [pytest.param(provider, make, id=f"{provider}-{label}") for provider, label, make in MALFORMED_TIMESTAMPS],
)
def test_a_malformed_timestamp_is_an_invalid_field_format(
    provider: str, make_timestamp: object, sandbox: Sandbox, workspace: Workspace
) -> None:
    assert callable(make_timestamp)
    x_timestamp = make_timestamp()
    response = token_request(sandbox, workspace, provider, x_timestamp=x_timestamp)
    assert_snap_error(response, 400, "4007301", "X-TIMESTAMP")
    assert requests_to(sandbox, provider) == 1


@pytest.mark.parametrize(
    ("provider", "make_timestamp"),
    [
        pytest.param("doku-snap", utc_z_timestamp, id="doku-snap-Z"),
        pytest.param("snap", utc_z_timestamp, id="snap-Z"),
        pytest.param("snap", jakarta_millis_timestamp, id="snap-millis"),
    ],
)
def test_other_timestamp_forms_where_the_gateway_accepts_them(
    provider: str, make_timestamp: object, sandbox: Sandbox, workspace: Workspace
) -> None:
    assert callable(make_timestamp)
    response = token_request(sandbox, workspace, provider, x_timestamp=make_timestamp())
    assert response.status_code == 200, response.text
    assert response.json()["responseCode"] == "2007300"


@pytest.mark.parametrize("minutes", [-10, 10])
@pytest.mark.parametrize("provider", SNAP)
def test_a_timestamp_ten_minutes_off_is_unauthorized(
    provider: str, minutes: int, sandbox: Sandbox, workspace: Workspace
) -> None:
    x_timestamp = jakarta_timestamp(timedelta(minutes=minutes))
    assert_snap_error(token_request(sandbox, workspace, provider, x_timestamp=x_timestamp), 401, "4017300")


def test_utc_wall_clock_with_a_literal_jakarta_offset_is_unauthorized(sandbox: Sandbox, workspace: Workspace) -> None:
    # The NICEPAY SDK's bug on a UTC server: local time with "+07:00" glued on is seven hours off.
    x_timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "+07:00"
    assert_snap_error(token_request(sandbox, workspace, "nicepay", x_timestamp=x_timestamp), 401, "4017300")


# --- signatures and clients ----------------------------------------------------------------------


def other_provider(provider: str) -> str:
    return SNAP[(SNAP.index(provider) + 1) % len(SNAP)]


@pytest.mark.parametrize("provider", SNAP)
def test_a_signature_over_other_bytes_is_an_invalid_signature(
    provider: str, sandbox: Sandbox, workspace: Workspace
) -> None:
    other_second = jakarta_timestamp(timedelta(seconds=-1))
    response = token_request(sandbox, workspace, provider, signed_timestamp=other_second)
    assert_snap_error(response, 401, "4017300", "Invalid Signature")


@pytest.mark.parametrize("provider", SNAP)
def test_a_signature_by_another_key_is_an_invalid_signature(
    provider: str, sandbox: Sandbox, workspace: Workspace
) -> None:
    response = token_request(sandbox, workspace, provider, key_of=other_provider(provider))
    assert_snap_error(response, 401, "4017300", "Invalid Signature")


@pytest.mark.parametrize(
    "signature",
    [
        base64.b64encode(bytes(range(256))).decode(),
        "not base64 at all!",
        "",
        base64.urlsafe_b64encode(b"\xfb\xff" * 128).decode(),
    ],
    ids=["random-bytes", "not-base64", "empty", "urlsafe"],
)
def test_a_garbage_signature_is_rejected(signature: str, sandbox: Sandbox, workspace: Workspace) -> None:
    headers = {**snap_headers(workspace, "snap"), "X-SIGNATURE": signature}
    response = post(sandbox.url, "snap", headers)
    if signature:
        assert_snap_error(response, 401, "4017300", "Invalid Signature")
    else:
        assert_snap_error(response, 400, "4007302", "X-SIGNATURE")


def test_a_line_wrapped_signature_is_rejected(sandbox: Sandbox, workspace: Workspace) -> None:
    headers = snap_headers(workspace, "nicepay")
    signature = headers["X-SIGNATURE"]
    headers["X-SIGNATURE"] = signature[:64] + " " + signature[64:]
    assert_snap_error(post(sandbox.url, "nicepay", headers), 401, "4017300", "Invalid Signature")


@pytest.mark.parametrize("provider", SNAP)
def test_an_unknown_client_id_is_unauthorized(provider: str, sandbox: Sandbox, workspace: Workspace) -> None:
    response = token_request(sandbox, workspace, provider, client_id="NOBODY-000")
    assert_snap_error(response, 401, "4017300")


@pytest.mark.parametrize("provider", SNAP)
def test_another_providers_client_id_is_unauthorized(provider: str, sandbox: Sandbox, workspace: Workspace) -> None:
    # The other provider's client, signed with the other provider's key: valid there, unknown here.
    other = other_provider(provider)
    headers = snap_headers(workspace, provider, client_id=client_id_of(workspace, other), key_of=other)
    assert_snap_error(post(sandbox.url, provider, headers), 401, "4017300")


# --- body, content type, method ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "mentions"),
    [
        pytest.param(b"{}", "4007302", "grantType", id="no-grantType"),
        pytest.param(b'{"additionalInfo":{}}', "4007302", "grantType", id="no-grantType-with-info"),
        pytest.param(b'{"grantType":"password"}', "4007301", "grantType", id="wrong-grantType"),
        pytest.param(b'{"grantType":"CLIENT_CREDENTIALS"}', "4007301", "grantType", id="grantType-case"),
        pytest.param(b"grantType=client_credentials", "4007300", "", id="form-encoded"),
        pytest.param(b"", "4007300", "", id="empty"),
        pytest.param(b'["grantType"]', "4007300", "", id="json-list"),
        pytest.param(b"\xff\xfe{}", "4007300", "", id="not-utf8"),
    ],
)
@pytest.mark.parametrize("provider", SNAP)
def test_a_wrong_body_is_a_bad_request(
    provider: str, body: bytes, code: str, mentions: str, sandbox: Sandbox, workspace: Workspace
) -> None:
    response = post(sandbox.url, provider, snap_headers(workspace, provider), body)
    assert_snap_error(response, 400, code, mentions)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
@pytest.mark.parametrize("provider", SNAP)
def test_a_wrong_content_type_is_a_bad_request(
    provider: str, content_type: str | None, sandbox: Sandbox, workspace: Workspace
) -> None:
    headers = snap_headers(workspace, provider)
    del headers["Content-Type"]
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = post(sandbox.url, provider, headers)
    assert response.status_code == 400
    assert response.json()["responseCode"].startswith("400")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("provider", SNAP)
def test_other_methods_are_not_allowed(provider: str, method: str, sandbox: Sandbox, workspace: Workspace) -> None:
    response = requests.request(
        method, sandbox.url + PATHS[provider], headers=snap_headers(workspace, provider), timeout=TIMEOUT
    )
    assert response.status_code == 405
    assert "accessToken" not in response.text


def test_an_unknown_path_is_404_listing_the_token_paths(sandbox: Sandbox, workspace: Workspace) -> None:
    response = requests.post(
        sandbox.url + "/v1.0/access-token/b2c",
        headers=snap_headers(workspace, "snap"),
        data=BODIES["snap"],
        timeout=TIMEOUT,
    )
    assert response.status_code == 404
    answer = response.json()
    assert set(PATHS.values()) <= set(answer["paths"].values())
    assert answer["paths"] == {**answer["paths"], **PATHS}
    assert stats(sandbox)["requests"] == 0


def test_a_query_string_does_not_hide_the_token_path(sandbox: Sandbox, workspace: Workspace) -> None:
    response = requests.post(
        sandbox.url + PATHS["nicepay"] + "?trace=1",
        headers=snap_headers(workspace, "nicepay"),
        data=BODIES["nicepay"],
        timeout=TIMEOUT,
    )
    assert response.status_code == 200


# --- stats ---------------------------------------------------------------------------------------


def test_stats_count_requests_issued_and_rejected_per_provider(sandbox: Sandbox, workspace: Workspace) -> None:
    assert stats(sandbox)["requests"] == 0
    assert token_request(sandbox, workspace, "nicepay").status_code == 200
    assert token_request(sandbox, workspace, "nicepay", client_id="NOBODY").status_code == 401
    assert post(sandbox.url, "nicepay", snap_headers(workspace, "nicepay"), b"{}").status_code == 400
    assert token_request(sandbox, workspace, "doku-snap").status_code == 200
    requests.get(sandbox.url + "/nowhere", timeout=TIMEOUT)

    counts = stats(sandbox)
    assert counts["requests"] == 4
    providers = counts["providers"]
    assert isinstance(providers, dict)
    assert providers["nicepay"] | {"requests": 3, "issued": 1, "rejected": 2} == providers["nicepay"]
    assert providers["doku-snap"] | {"requests": 1, "issued": 1, "rejected": 0} == providers["doku-snap"]
    for idle in ("finpay-snap", "snap"):
        assert providers[idle] | {"requests": 0, "issued": 0, "rejected": 0} == providers[idle]
    assert requests_to(sandbox, "nicepay") == 3


def test_stats_count_faulted_requests_as_requests(sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, "finpay-snap", status=503)
    assert token_request(sandbox, workspace, "finpay-snap").status_code == 503
    counts = provider_counts(sandbox, "finpay-snap")
    assert counts["requests"] == 1 and counts["issued"] == 0


def test_reset_zeroes_the_stats_and_clears_faults(sandbox: Sandbox, workspace: Workspace) -> None:
    token_request(sandbox, workspace, "snap")
    set_fault(sandbox, "snap", status=503)
    assert requests_to(sandbox, "snap") == 1
    reset = requests.post(sandbox.url + "/_sandbox/reset", timeout=TIMEOUT)
    assert reset.status_code == 200
    assert stats(sandbox)["requests"] == 0
    for provider in SNAP:
        counts = provider_counts(sandbox, provider)
        assert (counts["requests"], counts["issued"], counts["rejected"]) == (0, 0, 0)
    assert token_request(sandbox, workspace, "snap").status_code == 200


# --- faults --------------------------------------------------------------------------------------


@pytest.mark.realtime
@pytest.mark.parametrize("provider", SNAP)
def test_a_delay_fault_delays_a_normal_answer(provider: str, sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, provider, delay=0.3)
    started = time.monotonic()
    response = token_request(sandbox, workspace, provider)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200 and response.json()["responseCode"] == "2007300"


@pytest.mark.parametrize(("status", "code"), [(503, "5037300"), (500, "5007300"), (504, "5047300")])
@pytest.mark.parametrize("provider", SNAP)
def test_a_status_fault_answers_in_the_snap_shape(
    provider: str, status: int, code: str, sandbox: Sandbox, workspace: Workspace
) -> None:
    set_fault(sandbox, provider, status=status)
    assert_snap_error(token_request(sandbox, workspace, provider), status, code)


@pytest.mark.parametrize("provider", SNAP)
def test_an_html_fault_answers_a_page(provider: str, sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, provider, html=True, status=502)
    response = token_request(sandbox, workspace, provider)
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().lower().startswith(("<!doctype html", "<html"))
    with pytest.raises(ValueError):
        response.json()


def test_an_html_fault_without_a_status_is_still_html(sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, "nicepay", html=True)
    response = token_request(sandbox, workspace, "nicepay")
    assert response.headers["Content-Type"].startswith("text/html")
    assert "accessToken" not in response.text


@pytest.mark.parametrize("provider", SNAP)
def test_a_drop_fault_drops_the_connection(provider: str, sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, provider, drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        token_request(sandbox, workspace, provider)
    assert requests_to(sandbox, provider) == 1


def test_a_fault_touches_only_its_provider(sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, "nicepay", status=503)
    for provider in ("finpay-snap", "doku-snap", "snap"):
        assert token_request(sandbox, workspace, provider).status_code == 200
    assert token_request(sandbox, workspace, "nicepay").status_code == 503


def test_a_fault_for_two_times_then_normal_answers(sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, "doku-snap", status=503, times=2)
    statuses = [token_request(sandbox, workspace, "doku-snap").status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]


def test_a_dropped_connection_for_one_time_then_a_token(sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, "snap", drop=True, times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        token_request(sandbox, workspace, "snap")
    assert token_request(sandbox, workspace, "snap").status_code == 200


def test_deleting_faults_clears_them(sandbox: Sandbox, workspace: Workspace) -> None:
    set_fault(sandbox, "nicepay", status=503)
    set_fault(sandbox, "snap", drop=True)
    cleared = requests.delete(sandbox.url + "/_sandbox/faults", timeout=TIMEOUT)
    assert cleared.status_code == 200
    assert token_request(sandbox, workspace, "nicepay").status_code == 200
    assert token_request(sandbox, workspace, "snap").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b"[]", id="list"),
        pytest.param(b'{"status": 503}', id="no-provider"),
        pytest.param(b'{"provider": "nicepai", "status": 503}', id="unknown-provider"),
        pytest.param(b'{"provider": ["nicepay"], "status": 503}', id="provider-list"),
        pytest.param(b'{"provider": "nicepay", "colour": "red"}', id="unknown-switch"),
        pytest.param(b'{"provider": "nicepay", "delay": -1}', id="negative-delay"),
        pytest.param(b'{"provider": "nicepay", "delay": "1"}', id="delay-text"),
        pytest.param(b'{"provider": "nicepay", "delay": NaN}', id="delay-nan"),
        pytest.param(b'{"provider": "nicepay", "delay": Infinity}', id="delay-infinity"),
        pytest.param(b'{"provider": "nicepay", "status": 99}', id="status-99"),
        pytest.param(b'{"provider": "nicepay", "status": 600}', id="status-600"),
        pytest.param(b'{"provider": "nicepay", "status": "503"}', id="status-text"),
        pytest.param(b'{"provider": "nicepay", "status": true}', id="status-bool"),
        pytest.param(b'{"provider": "nicepay", "status": 503, "times": 0}', id="times-0"),
        pytest.param(b'{"provider": "nicepay", "status": 503, "times": 1.5}', id="times-float"),
    ],
)
def test_a_bad_fault_request_is_refused(body: bytes, sandbox: Sandbox, workspace: Workspace) -> None:
    response = requests.post(sandbox.url + "/_sandbox/faults", data=body, timeout=TIMEOUT)
    assert response.status_code == 400, response.text
    assert "error" in response.json()
    assert token_request(sandbox, workspace, "nicepay").status_code == 200


def test_an_unknown_control_is_404(sandbox: Sandbox) -> None:
    assert requests.get(sandbox.url + "/_sandbox/nothing", timeout=TIMEOUT).status_code == 404
    assert requests.post(sandbox.url + "/_sandbox/stats", timeout=TIMEOUT).status_code == 404


# --- a sandbox of our own ------------------------------------------------------------------------


def test_the_sandbox_starts_and_answers_stats(workspace: Workspace) -> None:
    with Sandbox(load_config(workspace.sandbox_config)) as server:
        url = server.url
        response = requests.get(url + "/_sandbox/stats", timeout=TIMEOUT)
        assert response.status_code == 200
        counts = response.json()
        assert counts["requests"] == 0
        assert set(SNAP) <= set(counts["providers"])
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url + "/_sandbox/stats", timeout=TIMEOUT)


def test_faults_from_the_config_file(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text(
        workspace.sandbox_config.read_text(encoding="utf-8")
        + "\n[faults.nicepay]\nstatus = 503\ntimes = 1\n"
        + "\n[faults.doku-snap]\nhtml = true\nstatus = 502\n"
        + "\n[faults.finpay-snap]\ndelay = 0.2\n",
        encoding="utf-8",
    )
    server = Sandbox(load_config(path)).start(port=0)
    try:
        nicepay = post(server.url, "nicepay", snap_headers(workspace, "nicepay"))
        assert_snap_error(nicepay, 503, "5037300")
        assert post(server.url, "nicepay", snap_headers(workspace, "nicepay")).status_code == 200

        doku = post(server.url, "doku-snap", snap_headers(workspace, "doku-snap"))
        assert doku.status_code == 502 and doku.headers["Content-Type"].startswith("text/html")

        started = time.monotonic()
        finpay = post(server.url, "finpay-snap", snap_headers(workspace, "finpay-snap"))
        assert time.monotonic() - started >= 0.2 and finpay.status_code == 200

        assert post(server.url, "snap", snap_headers(workspace, "snap")).status_code == 200
        assert requests.delete(server.url + "/_sandbox/faults", timeout=TIMEOUT).status_code == 200
        assert post(server.url, "doku-snap", snap_headers(workspace, "doku-snap")).status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize(
    "table",
    [
        '[faults.nicepay]\ncolour = "red"\n',
        "[faults.nicepai]\nstatus = 503\n",
        "[faults.nicepay]\nstatus = 700\n",
        "[faults.nicepay]\ndelay = -2\n",
        "[faults]\nnicepay = 503\n",
    ],
    ids=["unknown-switch", "unknown-provider", "status-700", "negative-delay", "not-a-table"],
)
def test_a_bad_fault_table_is_a_config_error(table: str, workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text(workspace.sandbox_config.read_text(encoding="utf-8") + "\n" + table, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path)


def test_from_profiles_accepts_the_profiles_clients(profiles: Path, workspace: Workspace) -> None:
    warnings: list[str] = []
    config = from_profiles(profiles, warn=warnings)
    assert warnings == []
    for provider in SNAP:
        client = config.client(provider, client_id_of(workspace, provider))
        assert client is not None and client.public_key is not None
    with Sandbox(config) as server:
        for provider in SNAP:
            response = post(server.url, provider, snap_headers(workspace, provider))
            assert response.status_code == 200, (provider, response.text)
            assert response.json()["accessToken"]
        stranger = post(server.url, "nicepay", snap_headers(workspace, "nicepay", client_id="NOBODY"))
        assert_snap_error(stranger, 401, "4017300")
        wrong_key = post(server.url, "snap", snap_headers(workspace, "snap", key_of="nicepay"))
        assert_snap_error(wrong_key, 401, "4017300", "Invalid Signature")


def test_the_sandbox_follows_an_edited_profiles_file(profiles: Path, sandbox: Sandbox) -> None:
    from test_cache import add_profile

    served = profiles.with_name("served.toml")  # the file the sandbox reads its clients from
    served.write_text(profiles.read_text())
    with Sandbox(from_profiles(served), follow=(served, lambda: from_profiles(served))).start() as own:
        profiles.write_text(profiles.read_text().replace(sandbox.url, own.url))
        assert paytoken("get", "doku", "-p", "demo", "-o", "token").exit_code == 0
        for path in (served, profiles):
            add_profile(path, "doku", "second", client_id="A-CLIENT-ADDED-LATER")
        run = paytoken("get", "doku", "-p", "second", "-o", "token")
        assert run.exit_code == 0, run.output  # accepted without a restart
        served.write_text("not toml [")
        again = paytoken("get", "doku", "-p", "second", "-o", "token", "--refresh")
        assert again.exit_code == 0, again.output  # a broken edit keeps the clients it had
        assert requests_to(own, "doku") == 3
