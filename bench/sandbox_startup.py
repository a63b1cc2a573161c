"""Benchmark (not a test): how long `paytoken sandbox` takes from exec to answering /_sandbox/stats.

Target (issue 2): under one second. Run: python bench/sandbox_startup.py [runs]
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tidak_cli.demo import Workspace


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def one_start(config: Path) -> float:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tidak_cli", "sandbox", "--port", str(port), "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/stats", timeout=1):
                    return time.perf_counter() - started
            except OSError:
                if process.poll() is not None:
                    raise SystemExit("the sandbox exited before answering") from None
                time.sleep(0.005)
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as directory:
        config = Workspace(Path(directory)).sandbox_config
        times = [one_start(config) for _ in range(runs)]
    print(
        f"paytoken sandbox: exec to first answer, median of {runs}: {statistics.median(times) * 1000:.0f} ms "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); target < 1000 ms"
    )


if __name__ == "__main__":
    main()
