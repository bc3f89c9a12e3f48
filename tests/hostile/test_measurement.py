"""The matrix's instruments measure what they claim: leaks in any encoding, leftovers, caps."""

from __future__ import annotations

import base64
import secrets
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hostile.leakscan import redact, scan_file, scan_folder
from tests.hostile.secret_forms import echo_forms, needles
from tests.hostile.supervise import MIB, Limits, Outcome, supervise

KEY = "qbt_" + secrets.token_urlsafe(24)


@settings(max_examples=200, deadline=None)
@given(
    before=st.binary(max_size=10),
    after=st.binary(max_size=10),
    urlsafe=st.booleans(),
    padded=st.booleans(),
)
def test_a_key_inside_any_base64_text_is_found_at_every_alignment(
    before: bytes, after: bytes, urlsafe: bool, padded: bool
) -> None:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    text = encode(before + KEY.encode() + after)
    text = text if padded else text.rstrip(b"=")
    assert any(n.data in text for n in needles(KEY)), f"Received: no needle in {text!r}"


def test_every_echoed_form_of_the_header_holds_a_needle_of_the_key() -> None:
    found = needles(KEY)
    for form in echo_forms(f"Bearer {KEY}"):
        assert any(n.data in form.text.encode() for n in found), (
            f"{form.name} not found"
        )


def test_text_without_the_key_has_no_hits(tmp_path: Path) -> None:
    other = "qbt_" + secrets.token_urlsafe(24)
    (tmp_path / "f.txt").write_text("\n".join(f.text for f in echo_forms(other)))
    assert scan_folder(tmp_path, needles(KEY)) == []


def test_an_occurrence_across_two_blocks_is_counted_once(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"a" * 990 + KEY.encode() + b"b" * 990 + KEY.encode())
    assert scan_file(path, needles(KEY), block=1000) == {"plain": 2}
    assert scan_file(path, needles(KEY)) == {"plain": 2}


def test_every_file_of_a_folder_is_scanned_and_counted_per_form(tmp_path: Path) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "x.bin").write_bytes(
        b"\0" + KEY.encode().hex().encode()
    )
    (tmp_path / "y.json").write_text(base64.b64encode(KEY.encode()).decode() * 3)
    hits = {(h.path, h.form): h.count for h in scan_folder(tmp_path, needles(KEY))}
    assert hits[("deep/er/x.bin", "hex-lower")] == 1
    assert sum(c for (p, _), c in hits.items() if p == "y.json") == 3


def test_redact_hides_every_form_in_a_line() -> None:
    line = " ".join(f.text for f in echo_forms(KEY))
    cleaned = redact(line, needles(KEY))
    assert not any(n.data.decode() in cleaned for n in needles(KEY))


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _run(code: str, tmp_path: Path, limits: Limits) -> Outcome:
    return supervise(
        _python(code),
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=tmp_path / "out",
        stderr=tmp_path / "err",
        limits=limits,
        marker=f"QBT_HOSTILE_MARK={secrets.token_hex(8)}",
    )


def test_a_child_reparented_after_its_parent_exits_is_a_leftover(
    tmp_path: Path,
) -> None:
    orphan = (
        "import subprocess, sys;"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
        " start_new_session=True)"
    )
    outcome = _run(orphan, tmp_path, Limits(wall=20, rss=1024 * MIB, settle=0.5))
    assert outcome.exit_code == 0
    leftovers = outcome.leftovers
    assert len(leftovers) == 1 and "time.sleep(60)" in leftovers[0].command


def test_a_command_past_its_wall_cap_gets_sigterm_then_sigkill(tmp_path: Path) -> None:
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    outcome = _run(
        stubborn, tmp_path, Limits(wall=0.5, rss=1024 * MIB, term_grace=0.5, settle=0.2)
    )
    assert outcome.stopped_by == "SIGTERM at 0.5 s"
    assert outcome.sigkill_needed and outcome.exit_code == -9
    assert outcome.wall < 5


def test_a_command_past_its_memory_cap_is_killed(tmp_path: Path) -> None:
    hog = "import time; block = b'x' * (300 * 1024 * 1024); time.sleep(60)"
    outcome = _run(hog, tmp_path, Limits(wall=30, rss=100 * MIB, settle=0.2))
    assert outcome.stopped_by == "killed at 100 MiB RSS"
    assert outcome.exit_code == -9 and outcome.peak_rss > 100 * MIB
