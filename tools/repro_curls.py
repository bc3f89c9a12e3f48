"""Run the printed curl lines of a fault run, as they are, against a fresh faulty server.

    python tools/repro_curls.py RUN_DIR NODEID...

Starts ``qbtsuite serve`` with the run's faults (loopback, its own state folder), sets
the variables the lines read (``QUBITTRON_BASE_URL``, ``QBTSUITE_CA_BUNDLE``,
``QUBITTRON_API_KEY``, …), runs each test's curl line with ``bash -c`` and compares
the answer with the recorded one: status, Content-Type, and the body with volatile
fields (ids, timestamps) left out. Prints one line per test and ``N/M reproduced``;
exit 0 when all are.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qbtsuite.reporting import repros_of
from qbtsuite.results.store import read_results
from qbtsuite.target.wirelog import WireExchange, read_exchanges

_VOLATILE = re.compile(rb'"(id|created|request_id)":\s*("[^"]*"|\d+)')
_ROLE_VARIABLES = {
    "main": "QUBITTRON_API_KEY",
    "second": "QBTSUITE_SECOND_KEY",
    "zero_balance": "QBTSUITE_ZERO_BALANCE_KEY",
    "low_limit": "QBTSUITE_LOW_LIMIT_KEY",
}


def _normal(body: bytes) -> bytes:
    return _VOLATILE.sub(rb'"\1":"*"', body).strip()


def _split(answer: bytes) -> tuple[int, str, bytes]:
    """Status, Content-Type and body of ``curl -i`` output."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    ctype = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in lines
            if ln.lower().startswith("content-type:")
        ),
        "",
    )
    return status, ctype, body


def _start(
    faults: tuple[str, ...], state: Path
) -> tuple[subprocess.Popen[bytes], dict[str, object]]:
    argv = [
        sys.executable,
        "-m",
        "qbtsuite",
        "serve",
        "--quiet",
        "--state-dir",
        str(state),
    ]
    for fault in faults:
        argv += ["--fault", fault]
    server = subprocess.Popen(argv, start_new_session=True)
    deadline = time.monotonic() + 30
    info = state / "server.json"
    while not info.is_file():
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            raise SystemExit("the server did not start")
        time.sleep(0.2)
    time.sleep(0.3)
    return server, json.loads(info.read_text())


def main(argv: list[str]) -> int:
    run_dir, nodeids = Path(argv[0]), argv[1:]
    results = read_results(run_dir)
    repros = repros_of(run_dir, results)
    last: dict[str, WireExchange] = {}
    for ex in read_exchanges(run_dir):
        last[ex.test] = ex
    target = results.run.target
    faults = target.faults if target is not None else ()
    with tempfile.TemporaryDirectory(prefix="qbt-repro-") as scratch:
        server, info = _start(faults, Path(scratch))
        try:
            env = dict(os.environ)
            base = str(info["https_url"]).rstrip("/")
            env["QUBITTRON_BASE_URL"] = base if base.endswith("/v1") else base + "/v1"
            env["QBTSUITE_CA_BUNDLE"] = str(info["ca"])
            keys = info["keys"]
            assert isinstance(keys, dict)
            for role, variable in _ROLE_VARIABLES.items():
                if role in keys:
                    env[variable] = str(keys[role])
            agree = 0
            for nodeid in nodeids:
                repro = repros[nodeid]
                done = subprocess.run(
                    ["bash", "-c", repro.curl], env=env, capture_output=True, timeout=60
                )
                status, ctype, body = _split(done.stdout)
                recorded = last[nodeid].response
                assert recorded is not None
                rec_type = next(
                    (v for k, v in recorded.headers if k.lower() == "content-type"), ""
                )
                same = (
                    status == recorded.status
                    and ctype == rec_type
                    and _normal(body) == _normal(recorded.body)
                )
                agree += same
                print(
                    f"{'reproduced' if same else 'DIFFERENT '}  {nodeid}: "
                    f"{status} {ctype} ({len(body)} bytes; recorded {recorded.status} "
                    f"{rec_type}, {len(recorded.body)} bytes)"
                )
                print(f"    $ {repro.curl_shown[:300]}")
                print(f"    < {body[:160]!r}")
            print(f"{agree}/{len(nodeids)} reproduced")
            return 0 if agree == len(nodeids) else 1
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
