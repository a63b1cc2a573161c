"""Benchmark (not a test): what a script pays per `paytoken get`.

1. A cache hit, `paytoken get … -o token`: median wall time over RUNS runs, beside `python -c "import typer"`,
   the floor no Typer CLI can go below. Target (issue 4): within 1.3x of the floor.
2. A full `get` against the sandbox (cache off): median wall time.
3. 16 concurrent `get` processes for one profile: wall time, and gateway requests counted by the sandbox.

Run it with the interpreter of the environment paytoken is installed in:
    python bench/startup.py [RUNS]
Byte-code caching is forced on (PYTHONDONTWRITEBYTECODE is removed from the children's environment),
since an installed package has its .pyc files and a cold compile is not what a script pays.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tidak_cli.demo import Workspace
from tidak_cli.sandbox import Sandbox, load_config

# The paytoken installed beside this interpreter, not whichever one PATH finds first.
PAYTOKEN = str(Path(sys.executable).parent / "paytoken")


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def median_ms(command: list[str], env: dict[str, str], runs: int) -> float:
    timed(command, env)  # warm the file cache and write .pyc files
    return statistics.median(timed(command, env) for _ in range(runs)) * 1000


def interleaved_ms(first: list[str], second: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median times of two commands run in turn, so that a busy moment of the machine hits both alike."""
    timed(first, env)
    timed(second, env)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        times[0].append(timed(first, env))
        times[1].append(timed(second, env))
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def requests_seen(sandbox: Sandbox) -> int:
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/stats") as answer:
        return int(json.load(answer)["requests"])


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as directory:
        workspace = Workspace(Path(directory))
        with Sandbox(load_config(workspace.sandbox_config)).start() as sandbox:
            profiles = workspace.write_profiles(sandbox.url)
            env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
            env.update(PAYTOKEN_PROFILES=str(profiles), PAYTOKEN_CACHE_DIR=str(Path(directory) / "cache"))
            get = [PAYTOKEN, "get", "nicepay", "--profile", "demo", "-o", "token"]

            floor, hit = interleaved_ms([sys.executable, "-c", "import typer"], get, env, runs)
            print(f"cache hit  `paytoken get nicepay -o token`: median {hit:.0f} ms over {runs} runs")
            print(f"floor      `python -c 'import typer'`:        median {floor:.0f} ms")
            print(f"ratio      {hit / floor:.2f}x (target 1.3x)")

            full = median_ms([*get, "--no-cache"], env, max(5, runs // 4))
            print(f"full get   against the sandbox, no cache:     median {full:.0f} ms")

            subprocess.run([PAYTOKEN, "cache", "clear"], env=env, check=True, capture_output=True)
            before = requests_seen(sandbox)
            started = time.perf_counter()
            processes = [
                subprocess.Popen(get, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                for _ in range(16)
            ]
            tokens = {process.communicate()[0].strip() for process in processes}
            elapsed = (time.perf_counter() - started) * 1000
            print(
                f"16 concurrent gets: {elapsed:.0f} ms in all, {len(tokens)} distinct token(s), "
                f"{requests_seen(sandbox) - before} gateway request(s)"
            )


if __name__ == "__main__":
    main()
