"""No key, in any encoding, reaches a file of the run folder or the terminal.

The reference server runs with ``auth.echo_key_encoded``: every answer carries the
request's ``Authorization`` value in seventeen encodings (headers, and error messages
too), so every writer of a run — transcripts, records, results.json, the HTML and
Markdown reports, JUnit, Allure, pytest.log, the terminal — is handed the keys in
every form. Each file of the run folder is then read as bytes and searched for
every needle of every key (``tests.hostile.secret_forms``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qbtsuite.target.embedded import EmbeddedServer
from qbtsuite.target.resolve import EMBEDDED_SERVER_ARGS
from tests.hostile.leakscan import scan_file, scan_folder
from tests.hostile.secret_forms import needles

_KEY_VARIABLES = {
    "main": "QUBITTRON_API_KEY",
    "second": "QBTSUITE_SECOND_KEY",
    "zero_balance": "QBTSUITE_ZERO_BALANCE_KEY",
    "low_limit": "QBTSUITE_LOW_LIMIT_KEY",
}


@pytest.mark.slow
def test_a_full_run_against_a_target_echoing_every_key_encoding_leaks_none(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "run"
    with EmbeddedServer(
        faults=["auth.echo_key_encoded"], args=EMBEDDED_SERVER_ARGS
    ) as server:
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
            QBTSUITE_RATE_LIMIT_WINDOW=str(server.rate_window),
        )
        env.update({_KEY_VARIABLES[r]: k for r, k in server.keys.items()})
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "qbtsuite",
                "run",
                "--strict",
                "--output",
                str(folder),
            ],
            env=env,
            capture_output=True,
            timeout=600,
            check=False,
        )
        keys = dict(server.keys)
    # AUTH-010 (a SHOULD) fails: with --strict the run fails.
    assert done.returncode == 1, done.stderr.decode(errors="replace")[-2000:]
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) > 10, f"the run wrote only {[p.name for p in files]}"
    (tmp_path / "stdout").write_bytes(done.stdout)
    (tmp_path / "stderr").write_bytes(done.stderr)
    for role, key in keys.items():
        found = needles(key)
        hits = scan_folder(folder, found)
        assert not hits, f"the {role} key leaked: {hits[:10]}"
        for stream in ("stdout", "stderr"):
            leaked = scan_file(tmp_path / stream, found)
            assert not leaked, f"the {role} key leaked to {stream}: {leaked}"
