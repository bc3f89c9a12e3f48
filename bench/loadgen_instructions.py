"""Machine instructions per request of one Locust process: ChatUser against the bare user.

CPU time per request moves by ±30 % on a shared 2-core machine; the instructions a
process executes do not depend on its neighbours. This runs each client
(``locust_requests.py``: 16 users, closed loop, the same chat request as
``load_capacity.py``) under Valgrind's callgrind twice, for ``--requests`` SHORT and LONG
requests, against one reference server (latency model 0/0), and prints the marginal
count, (instructions of the long run − the short one) / (requests − requests), start-up
cancelling out. Under callgrind a process runs ~50× slower: the defaults take about
three minutes per client. Figures are printed, never asserted.

    python bench/loadgen_instructions.py [--requests 200,1200] [--rounds 1]

Needs ``valgrind`` on the PATH (Debian: ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchkit import Endpoint, reference_server
from load_capacity import CHAT
from qbtsuite.loadtest.profile import Overrides, load_profile, resolve_plan

HERE = Path(__file__).resolve().parent
CLIENTS = ("ChatUser", "bare")
_PROFILE = """
user = "chat"
warmup = 0.0
drain = 2.0
timeout = 60.0
max_requests = 100000000
[[stages]]
duration = 100000
users = 16
[request]
max_tokens = 1
"""


def _environment(server: Endpoint, folder: Path) -> dict[str, str]:
    profile = folder / "instructions.toml"
    profile.write_text(_PROFILE, encoding="utf-8")
    plan = resolve_plan(load_profile(str(profile)), Overrides()).with_changes(
        base_url=server.url + "/v1",
        ca=server.ca,
        samples_path=str(folder / "samples.jsonl"),
    )
    key = server.key_file.read_text(encoding="utf-8").strip()
    env = dict(os.environ)
    env.update(
        QBTSUITE_LOAD_PLAN=plan.to_json(),
        QBTSUITE_LOAD_KEYS=json.dumps({"main": key}),
        QBT_BENCH_URL=server.url + "/v1",
        QBT_BENCH_PATH=CHAT.path,
        QBT_BENCH_BODY=CHAT.body.decode(),
        QBT_BENCH_CA=server.ca,
        QBT_BENCH_KEY=key,
    )
    return env


def counted(
    client: str, requests: int, env: dict[str, str], folder: Path
) -> tuple[int, int, int]:
    """(instructions, requests, failures) of one callgrind run of ``client``."""
    log = folder / f"{client}-{requests}.log"
    command = [
        "valgrind", "--tool=callgrind", f"--log-file={log}",
        f"--callgrind-out-file={folder / f'{client}-{requests}.out'}",
        sys.executable, str(HERE / "locust_requests.py"), client, str(requests),
    ]  # fmt: skip
    try:
        out = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=1800,
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(
            f"{client}: no end within 30 minutes under callgrind"
        ) from None
    found = re.search(r"Collected : (\d+)", log.read_text(errors="replace"))
    if out.returncode != 0 or found is None:
        tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
        raise SystemExit(f"{client}: run failed ({out.returncode}): {' | '.join(tail)}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return int(found.group(1)), int(result["requests"]), int(result["failures"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", default="200,1200", help="SHORT,LONG")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    try:
        short, long = (int(v) for v in args.requests.split(","))
    except ValueError:
        parser.error("--requests takes two counts, SHORT,LONG (e.g. 200,1200)")
    if not (0 < short < long <= 100_000 and 1 <= args.rounds <= 10):
        parser.error("need 0 < SHORT < LONG ≤ 100000 and 1 ≤ --rounds ≤ 10")
    if shutil.which("valgrind") is None:
        raise SystemExit(
            "valgrind is not on the PATH (Debian: apt-get install valgrind)"
        )
    print(
        f"instructions per request: POST /v1{CHAT.path} max_tokens 1, 16 users, "
        f"marginal between {short} and {long} requests under callgrind; "
        f"{args.rounds} round(s); load average {os.getloadavg()[0]:.2f}"
    )
    found: dict[str, list[float]] = {c: [] for c in CLIENTS}
    with tempfile.TemporaryDirectory(prefix="qbt-instructions-") as tmp:
        folder = Path(tmp)
        with reference_server(folder / "server", 0.0, 0.0) as server:
            env = _environment(server, folder)
            for n in range(args.rounds):
                for client in CLIENTS if n % 2 == 0 else CLIENTS[::-1]:
                    a_ir, a_n, a_fail = counted(client, short, env, folder)
                    b_ir, b_n, b_fail = counted(client, long, env, folder)
                    per = (b_ir - a_ir) / (b_n - a_n)
                    found[client].append(per)
                    failed = f", {a_fail + b_fail} failed" if a_fail + b_fail else ""
                    print(
                        f"round {n + 1}: {client:<8} {per:>11,.0f} instructions/"
                        f"request ({a_n} → {b_n} requests{failed})",
                        flush=True,
                    )
    ours, bare = (statistics.median(found[c]) for c in CLIENTS)
    print(
        f"median: ChatUser {ours:,.0f}, bare {bare:,.0f} instructions/request; "
        f"ratio {ours / bare:.3f}"
    )


if __name__ == "__main__":
    main()
