"""Benchmark (not a test): what a script pays per `paytoken get`.

1. A cache hit, `paytoken get … -o token`: median wall time over RUNS runs, beside `python -c "import typer"`,
   the floor no Typer CLI can go below. Target (issue 4): within 1.3x of the floor. The console script
   answers a plain hit before Typer loads (tidak_cli/launch.py), so it can beat that floor; the same hit
   through the full Typer CLI (`paytoken --debug get …`, which the early path leaves alone) is measured too.
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


def interleaved_ms(commands: list[list[str]], env: dict[str, str], runs: int) -> list[float]:
    """Median times of commands run in turn, so that a busy moment of the machine hits them alike."""
    for command in commands:
        timed(command, env)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, spent in zip(commands, times, strict=True):
            spent.append(timed(command, env))
    return [statistics.median(spent) * 1000 for spent in times]


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

            floor_command = [sys.executable, "-c", "import typer"]
            floor, hit, typer_hit = interleaved_ms([floor_command, get, [PAYTOKEN, "--debug", *get[1:]]], env, runs)
            print(f"cache hit  `paytoken get nicepay -o token`: median {hit:.0f} ms over {runs} runs")
            print(f"floor      `python -c 'import typer'`:        median {floor:.0f} ms")
            print(f"ratio      {hit / floor:.2f}x (target 1.3x)")
            print(f"same hit through the full Typer CLI (--debug): median {typer_hit:.0f} ms, {typer_hit / floor:.2f}x")

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
