"""``qbtsuite.process.shutdown``: what a signal does to a process that handles it.

Each behaviour runs in a small script of its own (signals go to a whole process, so
never to the test process): it starts children and a temp folder through the module,
writes where they are, and the test signals it and looks at what is left.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.exitcodes import ExitCode
from qbtsuite.process import shutdown
from qbtsuite.process.proctable import descendants, is_alive

SLEEPER = "import time; time.sleep(60)"
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
)

_PRELUDE = """
import json, os, signal, sys, time
from pathlib import Path
from qbtsuite.process import shutdown
info = Path(sys.argv[1])
def tell(**facts):
    tmp = info.with_suffix(".tmp")
    tmp.write_text(json.dumps(facts))
    tmp.replace(info)
"""


def _script(tmp_path: Path, body: str) -> tuple[subprocess.Popen[str], Path]:
    info = tmp_path / "info.json"
    code = _PRELUDE + textwrap.dedent(body)
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(info)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    return process, info


def _facts(process: subprocess.Popen[str], info: Path, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not info.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the script did not start"
        time.sleep(0.02)
    return json.loads(info.read_text())


def _ended(process: subprocess.Popen[str], timeout: float = 20.0) -> tuple[int, str]:
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"Received: still running after {timeout:g} s") from None
    return process.returncode, err


def _gone(pid: int, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while is_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_sigterm_is_exit_143_and_sigint_130() -> None:
    assert shutdown.Interrupted(signal.SIGTERM).exit_code == ExitCode.TERMINATED
    assert shutdown.Interrupted(signal.SIGINT).exit_code == ExitCode.INTERRUPTED
    assert (int(ExitCode.TERMINATED), int(ExitCode.INTERRUPTED)) == (143, 130)
    assert shutdown.Interrupted(signal.SIGTERM).signal_name == "SIGTERM"
    assert isinstance(shutdown.Interrupted(signal.SIGTERM), KeyboardInterrupt)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_first_signal_unwinds_and_the_block_leaves_no_child_and_no_temp_folder(
    tmp_path: Path, signum: int
) -> None:
    process, info = _script(
        tmp_path,
        f"""
        try:
            with shutdown.handling_signals():
                child = shutdown.spawn([sys.executable, "-c", {SLEEPER!r}])
                folder = shutdown.temp_dir("qbt-unit-")
                (folder / "key.pem").write_text("secret")
                try:
                    tell(child=child.pid, folder=str(folder))
                    time.sleep(60)
                finally:
                    print("unwound", file=sys.stderr)
        except shutdown.Interrupted as exc:
            sys.exit(exc.exit_code)
        """,
    )
    facts = _facts(process, info)
    process.send_signal(signum)
    code, err = _ended(process)
    assert code == shutdown.exit_code_for(signum), err
    assert "unwound" in err, "Received: no finally block ran\nExpected: it unwinds"
    assert _gone(facts["child"]), "Received: the child still runs\nExpected: stopped"
    assert not Path(facts["folder"]).exists(), (
        "Received: the temp folder is still there"
    )


def test_the_first_signal_is_passed_on_to_every_child_at_once(tmp_path: Path) -> None:
    process, info = _script(
        tmp_path,
        f"""
        with shutdown.handling_signals():
            child = shutdown.spawn([sys.executable, "-c", {SLEEPER!r}])
            try:
                tell(child=child.pid)
                time.sleep(60)
            except shutdown.Interrupted:
                child.wait(10)  # no stop(): only the passed-on signal ends it
                tell(child=child.pid, returncode=child.returncode)
                sys.exit(0)
        """,
    )
    _facts(process, info)
    process.send_signal(signal.SIGTERM)
    code, err = _ended(process)
    assert code == 0, err
    assert json.loads(info.read_text())["returncode"] == -signal.SIGTERM


def test_a_signal_inside_deferred_is_raised_once_the_block_is_done(
    tmp_path: Path,
) -> None:
    done = tmp_path / "done"
    process, info = _script(
        tmp_path,
        f"""
        try:
            with shutdown.handling_signals():
                with shutdown.deferred():
                    tell(inside=True)
                    time.sleep(1.0)  # the signal arrives here
                    Path({str(done)!r}).write_text("whole")
                time.sleep(60)
        except shutdown.Interrupted as exc:
            sys.exit(exc.exit_code)
        """,
    )
    _facts(process, info)
    process.send_signal(signal.SIGINT)
    code, err = _ended(process)
    assert code == 130, err
    assert done.read_text() == "whole", "Received: the deferred block was cut short"


def test_a_second_signal_during_the_cleanup_kills_every_child_and_exits_at_once(
    tmp_path: Path,
) -> None:
    cleaning = tmp_path / "cleaning"
    process, info = _script(
        tmp_path,
        f"""
        with shutdown.handling_signals():
            child = shutdown.spawn([sys.executable, "-c", {STUBBORN!r}])
            folder = shutdown.temp_dir("qbt-unit-")
            try:
                tell(child=child.pid, folder=str(folder))
                time.sleep(60)
            finally:
                Path({str(cleaning)!r}).touch()
                time.sleep(60)  # a cleanup too slow for the caller
        """,
    )
    facts = _facts(process, info)
    time.sleep(0.3)  # the stubborn child has set its handler
    process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    while not cleaning.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert is_alive(facts["child"]), "the child ignores SIGTERM: it must still run here"
    process.send_signal(signal.SIGTERM)
    code, err = _ended(process, timeout=5.0)
    assert code == 143, err
    assert "second signal: stopping at once" in err
    assert _gone(facts["child"]), "Received: the child still runs\nExpected: killed"
    assert not Path(facts["folder"]).exists()


def test_a_pytest_xdist_worker_ignores_a_second_signal(tmp_path: Path) -> None:
    process, info = _script(
        tmp_path,
        """
        with shutdown.handling_signals(kill_on_second=False):
            try:
                tell(step="waiting")
                time.sleep(60)
            except shutdown.Interrupted:
                tell(step="cleaning")
                time.sleep(1.0)  # the second signal arrives here
                sys.exit(7)
        """,
    )
    _facts(process, info)
    process.send_signal(signal.SIGTERM)
    while json.loads(info.read_text())["step"] != "cleaning":
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    code, err = _ended(process)
    assert code == 7, (
        f"Received: exit {code}\nExpected: its cleanup ran to its end\n{err}"
    )


def test_nothing_new_starts_once_a_signal_has_arrived(tmp_path: Path) -> None:
    process, info = _script(
        tmp_path,
        f"""
        with shutdown.handling_signals():
            try:
                tell(step="waiting")
                time.sleep(60)
            except shutdown.Interrupted:
                try:
                    shutdown.spawn([sys.executable, "-c", {SLEEPER!r}])
                except shutdown.Interrupted:
                    sys.exit(9)
                sys.exit(1)
        """,
    )
    _facts(process, info)
    process.send_signal(signal.SIGTERM)
    code, err = _ended(process)
    assert code == 9, f"Received: exit {code}\nExpected: spawn refused (9)\n{err}"


def test_stop_kills_a_child_that_ignores_sigterm_and_what_it_started_elsewhere() -> (
    None
):
    # The child starts a grandchild in a session of its own, then ignores SIGTERM:
    # after the grace period both go, found below the child before it is killed.
    code = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"subprocess.Popen([sys.executable, '-c', {SLEEPER!r}], start_new_session=True)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = shutdown.spawn([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"ready"
    below = [e.pid for e in descendants(child.pid)]
    assert below, "the grandchild must be running"
    started = time.monotonic()
    shutdown.stop(child, grace=0.5)
    took = time.monotonic() - started
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL, child.returncode
    assert all(_gone(pid) for pid in below), "Received: the grandchild survived"
    assert took < 5.0, f"Received: stop took {took:.1f} s with a 0.5 s grace"


def test_signal_group_children_reaches_children_without_a_group_of_their_own(
    tmp_path: Path,
) -> None:
    process, info = _script(
        tmp_path,
        f"""
        import subprocess
        mine = subprocess.Popen([sys.executable, "-c", {SLEEPER!r}])
        apart = subprocess.Popen([sys.executable, "-c", {SLEEPER!r}], start_new_session=True)
        time.sleep(0.3)
        told = shutdown.signal_group_children(signal.SIGTERM)
        tell(mine=mine.pid, apart=apart.pid, told=told, code=mine.wait(5),
             apart_runs=apart.poll() is None)
        apart.kill()
        """,
    )
    facts = _facts(process, info)
    _ended(process)
    assert facts["told"] == [facts["mine"]], facts
    assert facts["code"] == -signal.SIGTERM and facts["apart_runs"], facts
