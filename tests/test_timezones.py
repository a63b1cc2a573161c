"""X-TIMESTAMP is Jakarta time whatever the machine's time zone (the NICEPAY SDK's 7-hour bug)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import paytoken_process, requests_to

from tidak_cli.sandbox import Sandbox


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_x_timestamp_is_jakarta_time_in_any_zone(zone: str, profiles: Path) -> None:
    before = datetime.now(UTC)
    process = paytoken_process("sign", "nicepay", "-p", "demo", "-o", "json", env={"TZ": zone})
    after = datetime.now(UTC)
    assert process.returncode == 0, process.stderr
    stamp = json.loads(process.stdout)["headers"]["X-TIMESTAMP"]
    assert len(stamp) == 25 and stamp.endswith("+07:00")
    moment = datetime.fromisoformat(stamp)
    assert before - timedelta(seconds=1) <= moment <= after + timedelta(seconds=1)
    # The wall-clock digits are Jakarta's: UTC plus seven hours.
    expected = (before + timedelta(hours=7)).strftime("%Y-%m-%dT%H")
    assert stamp.startswith((expected, (after + timedelta(hours=7)).strftime("%Y-%m-%dT%H")))


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_get_succeeds_from_another_zone(zone: str, profiles: Path, sandbox: Sandbox) -> None:
    process = paytoken_process("get", "nicepay", "-p", "demo", "-o", "token", env={"TZ": zone})
    assert process.returncode == 0, process.stderr
    assert requests_to(sandbox, "nicepay") == 1


def test_python_dash_m_and_version() -> None:
    process = paytoken_process("--version")
    assert process.returncode == 0
    assert process.stdout.startswith("paytoken ")
