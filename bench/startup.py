"""Benchmark (not a test): what a script pays per `paytoken get`, beside the floors it is measured against.

Four commands, run in turn RUNS times against one local sandbox, so that a busy moment of the machine hits
them alike; the medians are printed side by side:

1. `python -c pass`: the interpreter's own start-up.
2. a cache hit, `paytoken get nicepay -o token` with a fresh entry in the file cache. Target: within 2.5x (1).
3. a plain cache miss, the same command after its cache entry was removed (not timed): profile, key,
   signature, one request to the sandbox, the entry written. Target: within 1.15x (4).
4. bench/floor_miss.py: the same NICEPAY token request written by hand with only requests + cryptography.

The sandbox's request count checks that every hit was a hit and every miss a miss. With --importtime, the
self time of `python -X importtime` for the hit, the miss and the floor follows, by package:
what their start-up goes to.

Run it with the interpreter of an environment paytoken is installed in with `pip install .`:
    python bench/startup.py [RUNS] [--importtime]
Not an editable install (`pip install -e`): its import hook runs in every start-up of that interpreter,
`python -c pass` included (about 10 ms of pathlib and urllib.parse), which halves the hit's ratio.
Byte-code caching is forced on (PYTHONDONTWRITEBYTECODE is removed from the children's environment),
since an installed package has its .pyc files and a cold compile is not what a script pays.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from tidak_cli.demo import Workspace
from tidak_cli.sandbox import Sandbox, load_config

# The paytoken installed beside this interpreter, not whichever one PATH finds first.
PAYTOKEN = str(Path(sys.executable).parent / "paytoken")
FLOOR = str(Path(__file__).resolve().parent / "floor_miss.py")
HIT_TARGET = 2.5
MISS_TARGET = 1.15


def timed(command: list[str], env: dict[str, str]) -> float:
    """Run a command to its end; return its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def requests_seen(sandbox: Sandbox) -> int:
    with urllib.request.urlopen(f"{sandbox.url}/_sandbox/stats") as answer:
        return int(json.load(answer)["requests"])


def import_top(command: list[str], env: dict[str, str], before: Callable[[], None], lines: int = 10) -> list[str]:
    """Run a command under `python -X importtime`; return the import time it spent, by top-level package."""
    before()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command], env=env, capture_output=True, text=True, check=True
    )
    by_package: dict[str, int] = defaultdict(int)
    for line in done.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        # Self time, so that each microsecond counts once: tidak_cli's own modules apart from what they import.
        if line.startswith("import time:") and len(fields) == 3 and fields[0].strip().isdigit():
            by_package[fields[2].strip().split(".")[0]] += int(fields[0])
    total = sum(by_package.values())
    ranked = sorted(by_package.items(), key=lambda item: -item[1])[:lines]
    return [f"  {total / 1000:6.1f} ms in all", *(f"  {us / 1000:6.1f} ms  {name}" for name, us in ranked)]


def main() -> None:
    arguments = [argument for argument in sys.argv[1:] if argument != "--importtime"]
    runs = int(arguments[0]) if arguments else 20
    if any(name.startswith("__editable__") for name in sys.modules):
        print("note: paytoken is an editable install here; its import hook slows every start-up, `python -c pass`")
        print("      included, so the ratios read low: measure in a `pip install .` environment")
    with tempfile.TemporaryDirectory() as directory:
        workspace = Workspace(Path(directory) / "workspace")
        cache = Path(directory) / "cache"
        with Sandbox(load_config(workspace.sandbox_config)).start() as sandbox:
            profiles = workspace.write_profiles(sandbox.url)
            nicepay = tomllib.loads(profiles.read_text())["nicepay"]["demo"]
            env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
            env.update(PAYTOKEN_PROFILES=str(profiles), PAYTOKEN_CACHE_DIR=str(cache))

            def clear_cache() -> None:
                shutil.rmtree(cache, ignore_errors=True)

            python_pass = [sys.executable, "-c", "pass"]
            get = [PAYTOKEN, "get", "nicepay", "--profile", "demo", "-o", "token"]
            floor = [sys.executable, FLOOR, sandbox.url, nicepay["client_id"], nicepay["private_key_file"]]
            names = ("python -c pass", "cache hit", "cache miss", "floor miss")
            spent: dict[str, list[float]] = {name: [] for name in names}
            requests: dict[str, int] = dict.fromkeys(names, 0)

            for round_ in range(runs + 1):  # round 0 warms the file cache and writes .pyc files, untimed
                for name, command in zip(names, (python_pass, get, get, floor), strict=True):
                    if name == "cache miss":
                        clear_cache()
                    elif name == "cache hit" and not cache.exists():
                        timed(get, env)
                    before = requests_seen(sandbox)
                    elapsed = timed(command, env)
                    if round_:
                        spent[name].append(elapsed)
                        requests[name] += requests_seen(sandbox) - before

            expected = {"python -c pass": 0, "cache hit": 0, "cache miss": runs, "floor miss": runs}
            if requests != expected:
                raise SystemExit(f"gateway requests per command {requests}, expected {expected}")
            median = {name: statistics.median(times) * 1000 for name, times in spent.items()}
            hit = median["cache hit"] / median["python -c pass"]
            miss = median["cache miss"] / median["floor miss"]
            verdict = {True: "met", False: "not met"}
            rows = [
                ("python -c pass", "python -c pass", ""),
                ("cache hit", "paytoken get nicepay -o token", f"{hit:.2f}x python -c pass, target {HIT_TARGET}x: "),
                ("cache miss", "paytoken get nicepay -o token", f"{miss:.2f}x floor miss, target {MISS_TARGET}x: "),
                ("floor miss", "bench/floor_miss.py", ""),
            ]
            print(f"medians over {runs} runs, taken in turn, against the sandbox at {sandbox.url}")
            for name, command, ratio in rows:
                met = verdict[hit <= HIT_TARGET] if name == "cache hit" else verdict[miss <= MISS_TARGET]
                print(f"  {name:<15} {command:<30} {median[name]:6.1f} ms   {ratio + met if ratio else ''}")

            if "--importtime" in sys.argv[1:]:
                script = [PAYTOKEN, *get[1:]]
                print("python -X importtime, cache hit (one run):")
                print("\n".join(import_top(script, env, before=lambda: None)))
                print("python -X importtime, cache miss (one run):")
                print("\n".join(import_top(script, env, before=clear_cache)))
                print("python -X importtime, floor miss (one run):")
                print("\n".join(import_top([FLOOR, *floor[2:]], env, before=lambda: None)))


if __name__ == "__main__":
    main()
