"""The test suite's own promises: how many examples it draws, and signals however pytest was started."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_ci_profile_draws_500_examples_and_no_test_pins_its_own_count() -> None:
    assert settings.get_profile("ci").max_examples == 500
    assert settings.get_profile("dev").max_examples < 500
    sources = [path for path in (ROOT / "tests").glob("test_*.py") if path.name != Path(__file__).name]
    pinned = [path.name for path in sources if "max_examples=" in path.read_text()]
    assert pinned == [], "the profile decides the example count"


@pytest.mark.realtime
def test_ctrl_c_reaches_the_cli_when_pytest_runs_in_the_background() -> None:
    # A shell without job control starts a background job with SIGINT ignored, and exec keeps it ignored.
    python = shlex.quote(sys.executable)
    script = (
        f"{python} -c 'import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)' & wait; "
        f"{python} -m pytest -q -n0 -p no:cacheprovider tests/test_exit_codes.py::test_130_interrupted & wait $!"
    )
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    # Only the first and last lines are shown: a failure report of the nested run may quote its secrets.
    lines = done.stdout.splitlines() or [""]
    ignored, summary, code = lines[0], lines[-1], done.returncode
    assert ignored == "True", "the nested run did not start with SIGINT ignored"
    assert (code, "1 passed" in summary) == (0, True), summary
