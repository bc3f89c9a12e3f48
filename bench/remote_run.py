"""A remote full run against the reference server served with a real window.

Starts ``qbtsuite serve`` (``--rate-window``, 60 s by default) and runs
``qbtsuite run --base-url …`` against it, serially and with ``-n 2``, printing each
run's wall time, the rate-limit test's own duration and the time of everything else.
Prints figures; asserts nothing.

    python bench/remote_run.py                 # 60 s window, serial and -n 2
    python bench/remote_run.py --workers 2     # only -n 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qbtsuite.target.embedded import EmbeddedServer, ServerTarget

KEY_VARIABLES = {
    "main": "QUBITTRON_API_KEY",
    "second": "QBTSUITE_SECOND_KEY",
    "zero_balance": "QBTSUITE_ZERO_BALANCE_KEY",
    "low_limit": "QBTSUITE_LOW_LIMIT_KEY",
}
RATE_TEST = "test_rate_limits.py::"


def environment(server: ServerTarget) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QBTSUITE_", "QUBITTRON_"))
    }
    env.update(
        QUBITTRON_BASE_URL=server.https_url,
        QBTSUITE_HTTP_URL=server.http_url,
        QBTSUITE_CA_BUNDLE=server.ca,
        QBTSUITE_RATE_LIMIT_RPM="30",
        QBTSUITE_RATE_LIMIT_WINDOW=f"{server.rate_window:g}",
    )
    env.update({KEY_VARIABLES[r]: k for r, k in server.keys.items()})
    return env


def one_run(env: dict[str, str], workers: str, out: Path) -> str:
    command = [sys.executable, "-m", "qbtsuite", "run", "--no-allure"]
    command += ["--output", str(out), "-n", workers]
    start = time.monotonic()
    done = subprocess.run(
        command, env=env, capture_output=True, timeout=900, check=False
    )
    wall = time.monotonic() - start
    tests = json.loads((out / "results.json").read_text(encoding="utf-8"))["tests"]
    rate = sum(t["duration"] for n, t in tests.items() if n.startswith(RATE_TEST))
    rest = sum(t["duration"] for n, t in tests.items() if not n.startswith(RATE_TEST))
    return (
        f"-n {workers:<3} exit {done.returncode}  wall {wall:6.1f} s  "
        f"rate-limit test {rate:5.1f} s  other tests (sum) {rest:5.1f} s  "
        f"wall − rate-limit test {wall - rate:5.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--workers", action="append", default=[])
    args = parser.parse_args()
    workers = args.workers or ["0", "2"]
    print(f"load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as scratch:
        for n in workers:
            # A fresh server each run: the low-limit key starts with a full window.
            server_args = ["--rate-window", f"{args.window:g}"]
            with EmbeddedServer(args=server_args) as server:
                print(one_run(environment(server), n, Path(scratch) / f"n{n}"))
    print(f"load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")


if __name__ == "__main__":
    main()
