"""The one place that reads and writes a run folder's own files.

```
<run folder>/
  results.json            RunResults     write_results / read_results
  plan.json               Plan           write_plan / read_plan (dry runs)
  records/<worker>.jsonl  TestRecord     append_record / read_records, one line per test
```

Every write is redacted (keys, and anything key-shaped) on its way out; ``results.json``
and ``plan.json`` are replaced atomically. A file that is not ours, or is malformed,
reads as a :class:`~qbtsuite.errors.RunFileError` naming the file and the field.
"""

from __future__ import annotations

import json
from pathlib import Path

from qbtsuite import redact
from qbtsuite.errors import RunFileError
from qbtsuite.results._json import JSONObject, Reader
from qbtsuite.results.model import RunResults, TestRecord
from qbtsuite.results.plan import Plan

__all__ = [
    "PLAN_FILE",
    "RECORDS_FOLDER",
    "RESULTS_FILE",
    "append_record",
    "read_plan",
    "read_records",
    "read_results",
    "write_plan",
    "write_results",
]

RESULTS_FILE = "results.json"
PLAN_FILE = "plan.json"
RECORDS_FOLDER = "records"


def _dump(
    data: JSONObject, *, indent: int | None = None, sort_keys: bool = False
) -> str:
    clean = redact.scrub_obj(data)
    return json.dumps(clean, ensure_ascii=False, indent=indent, sort_keys=sort_keys)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)


def _load(path: Path) -> Reader:
    """The JSON object in ``path``; OSError (e.g. FileNotFoundError) passes through."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RunFileError(f"{path} is not JSON: {exc}") from None
    return Reader(data, str(path))


def _in_folder(folder_or_file: Path, name: str) -> Path:
    return folder_or_file / name if folder_or_file.is_dir() else folder_or_file


# ─── results.json ────────────────────────────────────────────────────────────


def write_results(run_dir: Path, results: RunResults) -> Path:
    """Write ``run_dir/results.json``; returns its path."""
    path = run_dir / RESULTS_FILE
    _write_atomically(path, _dump(results.to_json(), indent=2))
    return path


def read_results(folder_or_file: Path) -> RunResults:
    """Read ``results.json`` from a run folder (or the file itself)."""
    return RunResults.from_json(_load(_in_folder(folder_or_file, RESULTS_FILE)))


# ─── plan.json ───────────────────────────────────────────────────────────────


def write_plan(run_dir: Path, plan: Plan) -> Path:
    """Write ``run_dir/plan.json``; returns its path."""
    path = run_dir / PLAN_FILE
    _write_atomically(path, _dump(plan.to_json(), indent=2))
    return path


def read_plan(folder_or_file: Path) -> Plan:
    """Read ``plan.json`` from a run folder (or the file itself)."""
    return Plan.from_json(_load(_in_folder(folder_or_file, PLAN_FILE)))


# ─── records/<worker>.jsonl ──────────────────────────────────────────────────


def append_record(records_dir: Path, record: TestRecord) -> None:
    """Append one test record (redacted) as a JSON line of its worker's file;
    flushed at once, so a crashed worker loses no finished test."""
    records_dir.mkdir(parents=True, exist_ok=True)
    line = _dump(record.to_json(), sort_keys=True)
    with (records_dir / f"{record.worker}.jsonl").open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def read_records(records_dir: Path) -> list[TestRecord]:
    """Every test record written under ``records_dir`` by every process of the run,
    sorted by node id (so the merge never depends on which worker ran what)."""
    records: list[TestRecord] = []
    for path in sorted(records_dir.glob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as exc:
                if number == len(lines) and not text.endswith("\n"):
                    break  # a process killed while writing its last record
                raise RunFileError(f"{path}:{number} is not JSON: {exc}") from None
            records.append(TestRecord.from_json(Reader(data, f"{path}:{number}")))
    return sorted(records, key=lambda r: r.nodeid)
