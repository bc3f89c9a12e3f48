"""``qbtsuite load`` end to end against the reference server on 127.0.0.1.

Locust always runs in child processes: gevent's monkey-patching never reaches this
pytest process (checked at the end).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from qbtsuite.cli import main
from qbtsuite.reporting.html_style import CSS
from qbtsuite.target.embedded import EmbeddedServer, ServerTarget

# Each case is a load run against a server.
pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"


def _load(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], Path]:
    code = main(["load", *args, "--reports-dir", str(tmp_path)])
    out = capsys.readouterr()
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert run_dir.name.endswith("-load-" + Path(args[0]).stem), out.out
    report: dict[str, Any] = json.loads((run_dir / "load.json").read_text())
    return code, report, run_dir


def _profile(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path.parent / f"{name}.toml"
    path.write_text(text)
    return str(path)


def _against(
    server: ServerTarget, monkeypatch: pytest.MonkeyPatch, role: str = "main"
) -> list[str]:
    monkeypatch.setenv("QUBITTRON_API_KEY", server.keys["main"])
    monkeypatch.setenv("QBTSUITE_LOW_LIMIT_KEY", server.keys["low_limit"])
    return ["--base-url", server.https_url, "--ca", server.ca]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    """One ``qbtsuite load smoke`` run (embedded server), shared by several tests."""
    output = tmp_path_factory.mktemp("smoke")
    code = main(["load", "smoke", "--duration", "3s", "--reports-dir", str(output)])
    (run_dir,) = list(output.iterdir())
    return code, run_dir


def test_the_smoke_profile_runs_end_to_end_and_writes_its_report(
    smoke: tuple[int, Path],
) -> None:
    code, run_dir = smoke
    report = json.loads((run_dir / "load.json").read_text())
    assert code == 0 and report["verdict"] == "pass" and report["exit_code"] == 0
    assert re.fullmatch(r"\d{8}T\d{6}Z-load-smoke", run_dir.name), run_dir.name
    assert report["target"]["embedded"] is True
    for name in ("load.json", "load.md", "load.html", "locust.html", "samples.jsonl"):
        assert (run_dir / name).stat().st_size > 0, name
    summary = (run_dir / "summary.md").read_text()
    assert summary.startswith("# qbtsuite load run") and "## Load: smoke" in summary
    page = (run_dir / "report.html").read_text()
    assert "<h2>Load: smoke</h2>" in page and "data:image/png;base64," in page
    for png in report["files"]["plots"].values():
        assert (run_dir / png).read_bytes().startswith(PNG), png
    every = report["endpoints"]["all"]
    assert every["requests"] >= 10 and every["outcomes"]["ok"] == every["requests"]
    assert set(report["endpoints"]) == {
        "all",
        "chat",
        "chat_stream",
        "completions",
        "embeddings",
    }
    stream = report["endpoints"]["chat_stream"]
    # The embedded server's model: 10 ms to the first token, 2 ms between tokens.
    assert 10 <= stream["ttft_ms"]["p50"] < 200
    assert 1 <= stream["itl_ms"]["p50"] < 20
    assert stream["ttft_ms"]["p50"] <= stream["e2e_ms"]["p50"]
    assert stream["token_check"]["mismatches"] == 0
    assert stream["token_check"]["with_usage"] == stream["token_check"]["streams"] > 0
    assert every["output_tokens_per_s"] > 0 and every["requests_per_s"] > 0
    assert report["samples"]["excluded_warmup"] > 0
    assert [v["passed"] for v in report["slo"]] == [True, True]
    with (run_dir / "locust_stats.csv").open() as f:
        names = {row["Name"] for row in csv.DictReader(f)}
    assert {"chat_stream", "embeddings"} <= names
    markdown = (run_dir / "load.md").read_text()
    assert markdown.startswith("## Load: smoke") and "| chat_stream |" in markdown


def _junit(run_dir: Path) -> dict[str, ET.Element]:
    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    return {c.get("name", ""): c for c in suite.iter("testcase")}


_EVERY_SAMPLE = {
    "kind", "name", "key", "proc", "t", "due", "attempt", "status", "bytes",
    "problem", "outcome", "end", "e2e",
}  # fmt: skip
_STREAM = {"ttft", "itl", "tpot", "chunks", "usage_tokens", "tokens", "mismatch"}
_FIELDS = {
    "chat": _EVERY_SAMPLE | {"tokens"},  # usage.completion_tokens of the answer
    "completions": _EVERY_SAMPLE | {"tokens"},
    "embeddings": _EVERY_SAMPLE,  # no completion tokens
    "chat_stream": _EVERY_SAMPLE | _STREAM,
}


def test_every_sample_holds_its_endpoints_fields_and_consistent_figures(
    smoke: tuple[int, Path],
) -> None:
    _, run_dir = smoke
    lines = (run_dir / "samples.jsonl").read_text("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["kind"] for r in records[:1]] == ["start"]
    assert [r["kind"] for r in records[-1:]] == ["done"]
    samples = records[1:-1]
    assert samples and {s["kind"] for s in samples} == {"sample"}
    assert records[-1]["sent"] == len(samples)
    for s in samples:
        fields = _FIELDS[s["name"]]
        assert set(s) == fields, (
            f"Received: {sorted(s)} for {s['name']}. Expected: {sorted(fields)}"
        )
        assert (s["status"], s["outcome"], s["problem"]) == (200, "ok", None), s
        assert (s["key"], s["proc"], s["attempt"], s["due"]) == ("main", 0, 0, None)
        assert s["e2e"] > 0 and abs(s["end"] - s["t"] - s["e2e"]) < 1e-3, s
        assert s["bytes"] > 0 and s.get("tokens", 1) > 0, s
        if s["name"] == "chat_stream":
            assert 0 < s["ttft"] <= s["e2e"] and len(s["itl"]) == s["chunks"] - 1, s
            assert s["tokens"] == s["usage_tokens"] == s["chunks"], s
            assert s["mismatch"] is False, s
            assert (s["tpot"] > 0) if s["tokens"] > 1 else s["tpot"] is None, s


def test_an_slo_breach_is_exit_code_5_and_analyse_rejudges_a_run(
    smoke: tuple[int, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, run_dir = smoke
    code = main(["load", "--analyse", str(run_dir), "--slo", "e2e_p50<1us"])
    out, err = capsys.readouterr()
    report = json.loads((run_dir / "load.json").read_text())
    assert code == 5 and report["verdict"] == "slo-breached"
    assert err.strip() == "SLO breached: e2e_p50<1us"
    assert [v["slo"] for v in report["slo"] if not v["passed"]] == ["e2e_p50<1us"]
    assert len(report["slo"]) == 3  # the profile's two, and the new one
    p50 = report["endpoints"]["all"]["e2e_ms"]["p50"]
    measured = f"{p50:.{0 if p50 >= 100 else 1 if p50 >= 10 else 2}f} ms"
    assert re.search(rf"^    ✗ e2e_p50 < 1 us +{re.escape(measured)}$", out, re.M), out
    assert re.search(r"^    ✓ error_rate < 1% +0\.00%$", out, re.M), out
    cases = _junit(run_dir)
    assert set(cases) == {"error_rate<1%", "e2e_p95<5s", "e2e_p50<1us"}
    failure = cases["e2e_p50<1us"].find("failure")
    assert failure is not None and cases["error_rate<1%"].find("failure") is None
    assert failure.get("message") == (
        f"Received: e2e_p50 = {measured}. Expected: e2e_p50 < 1 us"
    )
    assert main(["load", "--analyse", str(run_dir)]) == 0
    assert _junit(run_dir)["e2e_p95<5s"].find("failure") is None


def test_the_report_page_has_the_conformance_look_the_host_and_inline_plots(
    smoke: tuple[int, Path],
) -> None:
    _, run_dir = smoke
    report = json.loads((run_dir / "load.json").read_text())
    host = report["target"]["base_url"].split("/")[2]
    for name in ("report.html", "load.html"):
        page = (run_dir / name).read_text()
        assert f"<style>{CSS}" in page, f"{name} is not styled as report.html"
        images = re.findall(r"<img [^>]*src='([^']*)'", page)
        assert len(images) == 3, images
        assert all(src.startswith("data:image/png;base64,") for src in images)
        assert not re.search(r"(?:href|src)=['\"](?!data:|#)", page), name
    page = (run_dir / "report.html").read_text()
    header = page.split("</header>", 1)[0]
    assert '<header class="verdict ok"><h1>Pass</h1>' in header
    assert f"· {host}</p>" in header


def test_a_run_in_which_no_request_got_an_answer_is_exit_code_3_not_an_slo_breach(
    smoke: tuple[int, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, run_dir = smoke
    silent = tmp_path / "silent"
    shutil.copytree(run_dir, silent)
    lines = []
    for line in (run_dir / "samples.jsonl").read_text().splitlines():
        sample = json.loads(line)
        if sample.get("kind") == "sample":
            sample.update(
                status=0, outcome="error", problem="no complete answer within 30 s"
            )
        lines.append(json.dumps(sample))
    (silent / "samples.jsonl").write_text("\n".join(lines) + "\n")
    code = main(["load", "--analyse", str(silent)])
    err = capsys.readouterr().err
    report = json.loads((silent / "load.json").read_text())
    assert code == 3 and report["verdict"] == "target-not-answering"
    assert err.startswith("error: target not answering: none of the ")
    assert "(most often: no complete answer within 30 s, " in err
    assert err.count("\n") == 1


def test_a_master_with_two_workers_on_loopback_reports_both_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, run_dir = _load(
        ["smoke", "--workers", "2", "--duration", "3"], tmp_path, capsys
    )
    assert code == 0, report["generator"]
    gen = report["generator"]
    assert (gen["workers"], gen["processes_reported"]) == (2, 2)
    assert gen["samples_complete"] and gen["worker_exit_codes"] == [0, 0]
    procs = set()
    for line in (run_dir / "samples.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "sample":
            procs.add(record["proc"])
    assert procs == {0, 1}
    assert report["endpoints"]["all"]["outcomes"]["ok"] > 0


_ACCURACY = """
user = "chat_stream"
warmup = 0.6
drain = 3.0
max_requests = 400
[[stages]]
duration = 3.6
users = 3
[request]
max_tokens = 8
"""


def _stream_figures(
    latency: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[float, float]:
    ttft, itl = latency
    with EmbeddedServer(args=["--ttft", ttft, "--itl", itl]) as server:
        profile = _profile(tmp_path, "accuracy", _ACCURACY)
        args = [profile, *_against(server, monkeypatch)]
        code, report, _ = _load(args, tmp_path, capsys)
    assert code == 0, report["slo"]
    stream = report["endpoints"]["chat_stream"]
    assert stream["ttft_ms"]["count"] >= 20 and stream["itl_ms"]["count"] >= 100
    return stream["ttft_ms"]["p50"], stream["itl_ms"]["p50"]


def test_streaming_latency_is_measured_within_5_ms_ttft_and_2_ms_itl(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = [_stream_figures(("0.15", "0.015"), tmp_path / "a", capsys, monkeypatch)]
    if not (abs(runs[0][0] - 150.0) <= 5.0 and abs(runs[0][1] - 15.0) <= 2.0):
        # Every client's TTFT includes the server's own work before its latency
        # model starts (≈2 ms here), which grows when other jobs saturate the CPU:
        # such a run is repeated once. A wrong measurement fails both runs.
        runs.append(
            _stream_figures(("0.15", "0.015"), tmp_path / "r", capsys, monkeypatch)
        )
    ttft, itl = runs[-1]
    assert abs(ttft - 150.0) <= 5.0, (
        f"TTFT p50 {ttft:.2f} ms, expected 150 ± 5 ({runs})"
    )
    assert abs(itl - 15.0) <= 2.0, f"ITL p50 {itl:.2f} ms, expected 15 ± 2 ({runs})"
    # The tolerance cannot pass by accident: a server 30 ms faster to the first
    # token and 3 ms slower per token fails the same bounds.
    ttft, itl = _stream_figures(("0.12", "0.018"), tmp_path / "b", capsys, monkeypatch)
    assert abs(ttft - 150.0) > 5.0 and ttft < 140.0, f"TTFT p50 {ttft:.2f} ms"
    assert abs(itl - 15.0) > 2.0 and itl > 17.0, f"ITL p50 {itl:.2f} ms"


_RATE_LIMITED = """
user = "embeddings"
keys = ["low_limit"]
warmup = 0.0
drain = 2.0
think_time = [0.0, 0.02]
retries = 1
retry_cap = 0.05
max_requests = 120
[[stages]]
duration = 2.5
users = 2
"""


def test_429_is_rate_limited_never_failed_and_retries_are_recorded(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # low_limit: 30 requests per window; the run asks for ~120 within one window.
    with EmbeddedServer(args=["--rate-window", "60"]) as server:
        profile = _profile(tmp_path, "limited", _RATE_LIMITED)
        args = [profile, *_against(server, monkeypatch), "--slo", "error_rate<=0"]
        code, report, run_dir = _load(args, tmp_path / "run", capsys)
    every = report["endpoints"]["all"]
    assert code == 0, report["slo"]
    assert every["outcomes"]["ok"] == 30
    assert every["outcomes"]["rate-limited"] > 0
    assert every["outcomes"]["failed"] == every["outcomes"]["error"] == 0
    assert every["retries"] > 0 and every["rate_limited_e2e_ms"]["count"] > 0
    assert report["by_key"]["low_limit"]["rate-limited"] > 0
    samples = [
        json.loads(x) for x in (run_dir / "samples.jsonl").read_text().splitlines()
    ]
    limited = [s for s in samples if s.get("outcome") == "rate-limited"]
    assert all(s["retry_after"] and s["retry_after"].isdigit() for s in limited)
    with (run_dir / "locust_failures.csv").open() as f:
        assert list(csv.DictReader(f)) == [], "a 429 is not a Locust failure"


def test_neither_locust_nor_gevent_is_imported_outside_load() -> None:
    probe = (
        "import sys, qbtsuite.cli, qbtsuite.cli.load, qbtsuite.loadtest.run, "
        "qbtsuite.loadtest.report\n"
        "qbtsuite.cli.build_parser()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('locust', 'gevent')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    assert "gevent" not in sys.modules and "locust" not in sys.modules
