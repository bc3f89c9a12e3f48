"""One paste to reproduce a failure: a ``curl`` line and a ``qbtsuite run`` line for
every failing or warning test, from the run's recorded exchanges.

The request is the test's last recorded one (the one its verdict was reached on).
The key is ``"$QUBITTRON_API_KEY"`` (the other roles: ``$QBTSUITE_SECOND_KEY``, …),
never a value; a key that is no role's is replaced by an invalid one of its length.
The base URL and CA bundle are the run's, overridable from the same variables the
suite reads (``QUBITTRON_BASE_URL``, ``QBTSUITE_CA_BUNDLE``), so the line works as it
is against the same target started again. A body over :data:`INLINE_LIMIT` bytes, or
not text, goes into ``reproduce/<test>.body`` beside the report; in the page, long
base64 (images, audio) is shortened, the file keeps it whole. An oversized upload
(recorded as its head, its tail and the size of the fill between them) is rebuilt
on the way into curl: the file holds head and tail, ``head -c N /dev/zero`` the fill.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from qbtsuite.results.model import RunResults, TestRecord
from qbtsuite.results.outcomes import Outcome
from qbtsuite.target.wirelog import Fill, WireExchange

__all__ = [
    "INLINE_LIMIT",
    "REPRODUCE_FOLDER",
    "Repro",
    "reproductions",
    "shorten_base64",
    "write_bodies",
]

REPRODUCE_FOLDER = "reproduce"
INLINE_LIMIT = 2048  # bytes of a text body put on the command line
_SHOWN = frozenset({Outcome.FAIL, Outcome.WARN, Outcome.ERROR})
_ROLE_VARIABLES = {
    "main": "QUBITTRON_API_KEY",
    "second": "QBTSUITE_SECOND_KEY",
    "zero_balance": "QBTSUITE_ZERO_BALANCE_KEY",
    "low_limit": "QBTSUITE_LOW_LIMIT_KEY",
}
_LEFT_OUT = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "user-agent"}
)
_CREDENTIAL = re.compile(r"^(?:(?P<scheme>\S+) )?<(?P<what>[^>]*)>$")
_OTHER_KEY = re.compile(r"another key, (\d+) characters")
_LONG_BASE64 = re.compile(r"[A-Za-z0-9+/]{160,}={0,2}")


@dataclass(frozen=True)
class Repro:
    """How to send a failing test's request again, and re-check it."""

    nodeid: str
    outcome: Outcome
    requirements: tuple[str, ...]  # the ones it failed or warned
    curl: str  # whole, as it runs
    rerun: str  # the qbtsuite run line
    body_name: str  # the file under reproduce/ holding the body, "" if inline
    body: bytes  # what that file holds

    @property
    def curl_shown(self) -> str:
        """The curl line with long base64 shortened, for a page."""
        return shorten_base64(self.curl)


def shorten_base64(text: str) -> str:
    """Runs of base64 longer than 160 characters, shortened to their ends."""
    return _LONG_BASE64.sub(
        lambda m: f"{m.group(0)[:40]}…<{len(m.group(0))} characters>…{m.group(0)[-8:]}",
        text,
    )


def _authorization(credential: str) -> str | None:
    """The Authorization value for curl, or None when none was sent."""
    if credential == "none":
        return None
    found = _CREDENTIAL.match(credential)
    if found is None:
        return _held(credential)
    scheme, what = found.group("scheme"), found.group("what")
    prefix = f"{scheme} " if scheme else ""
    if what in _ROLE_VARIABLES:
        return f"{prefix}${_ROLE_VARIABLES[what]}"
    other = _OTHER_KEY.search(what)
    if other is not None:  # an invalid key of the same length (letters only)
        length = int(other.group(1))
        return prefix + ("not-a-valid-key-" * (length // 16 + 1))[:length]
    if what == "empty":
        return prefix.rstrip() + " "
    if "no scheme" in what:
        length = int(what.split(" ", 1)[0])
        return ("not-a-valid-key-" * (length // 16 + 1))[:length]
    return credential


def _held(credential: str) -> str:
    """A credential holding role keys (``Bearer <main> extra``,
    ``Basic base64(<main>:)``) with each key as its variable."""
    scheme, _, rest = credential.partition(" ")
    inner = rest.removeprefix("base64(").removesuffix(")")
    for role, variable in _ROLE_VARIABLES.items():
        inner = inner.replace(f"<{role}>", f"${variable}")
    if rest.startswith("base64("):
        return f'{scheme} $(printf %s "{inner}" | base64 -w0)'
    return f"{scheme} {inner}"


def _escaped(text: str) -> str:
    """``text`` safe inside double quotes: no expansion of its own."""
    return re.sub(r'(["\\`$])', r"\\\1", text)


def _with_variable(variable: str, default: str, rest: str = "") -> str:
    """``"${VARIABLE:-default}rest"``: the run's value unless the variable is set."""
    return f'"${{{variable}:-{_escaped(default)}}}{_escaped(rest)}"'


def _url(exchange: WireExchange, base_url: str) -> str:
    url = exchange.request.url
    base = base_url.rstrip("/")
    if base and url.startswith(base):
        return _with_variable("QUBITTRON_BASE_URL", base, url[len(base) :])
    return shlex.quote(url)


def _textual(body: bytes) -> bool:
    if b"\0" in body:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _file_name(nodeid: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::")[-1])[:80]
    return f"{stem}-{hashlib.sha256(nodeid.encode()).hexdigest()[:8]}.body"


def _curl(exchange: WireExchange, results: RunResults, body_path: Path | None) -> str:
    req = exchange.request
    target = results.run.target
    parts = ["curl", "-sS", "-i"]
    if exchange.streamed:
        parts.append("-N")
    if target is not None and target.insecure:
        parts.append("-k")
    elif target is not None and target.ca_bundle:
        parts += ["--cacert", _with_variable("QBTSUITE_CA_BUNDLE", target.ca_bundle)]
    parts += ["-X", req.method, _url(exchange, target.base_url if target else "")]
    for name, value in req.headers:
        low = name.lower()
        if low in _LEFT_OUT:
            continue
        if low == "authorization":
            auth = _authorization(req.credential)
            if auth is not None:
                # the key's variable expands (built here from the role's name)
                parts += [
                    "-H",
                    f'"Authorization: {auth}"'
                    if "$" in auth
                    else shlex.quote(f"Authorization: {auth}"),
                ]
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if req.fill is not None and body_path is not None:
        # no "Expect: 100-continue" (curl's own for large bodies): the suite sent none
        parts += ["-H", "'Expect:'", "--data-binary", "@-"]
        return f"{_filled(req.fill, body_path)} | {' '.join(parts)}"
    if req.body_size:
        if body_path is not None:
            parts += ["--data-binary", shlex.quote(f"@{body_path}")]
        else:
            parts += ["--data-raw", shlex.quote(req.body.decode("utf-8"))]
    return " ".join(parts)


def _filled(fill: Fill, body_path: Path) -> str:
    """A shell group writing the whole body: the file's head, the fill, its tail."""
    path = shlex.quote(str(body_path))
    fill_bytes = f"head -c {fill.count} /dev/zero"
    if fill.byte:
        fill_bytes += f" | tr '\\000' '\\{fill.byte:03o}'"
    return (
        f"{{ head -c {fill.at} {path}; {fill_bytes}; tail -c +{fill.at + 1} {path}; }}"
    )


def _rerun(record: TestRecord, failing: Sequence[str], results: RunResults) -> str:
    parts = ["qbtsuite", "run"]
    for rid in failing:
        parts += ["--requirement", rid]
    target = results.run.target
    for fault in target.faults if target is not None else ():
        parts += ["--fault", fault]
    name = record.nodeid.split("::")[-1].split("[")[0]
    parts += ["-k", shlex.quote(name)]
    return " ".join(parts)


def reproductions(
    results: RunResults,
    exchanges: Sequence[WireExchange],
    run_dir: Path,
) -> dict[str, Repro]:
    """A :class:`Repro` for each failing or warning test that recorded a request."""
    last: dict[str, WireExchange] = {}
    for ex in exchanges:
        if ex.test:
            last[ex.test] = ex
    out: dict[str, Repro] = {}
    for nodeid, record in results.tests.items():
        failing = tuple(
            rid for rid, check in record.requirements.items() if check.outcome in _SHOWN
        )
        if record.outcome not in _SHOWN and not failing:
            continue
        exchange = last.get(nodeid)
        if exchange is None or not (
            exchange.request.body_recorded or exchange.request.fill
        ):
            continue
        body = exchange.request.body
        inline = (
            len(body) <= INLINE_LIMIT
            and _textual(body)
            and exchange.request.fill is None
        )
        name = "" if inline or not body else _file_name(nodeid)
        path = (run_dir / REPRODUCE_FOLDER / name).resolve() if name else None
        out[nodeid] = Repro(
            nodeid=nodeid,
            outcome=record.outcome,
            requirements=failing,
            curl=_curl(exchange, results, path),
            rerun=_rerun(record, failing or tuple(record.requirements), results),
            body_name=name,
            body=body if name else b"",
        )
    return out


def write_bodies(run_dir: Path, repros: Mapping[str, Repro]) -> list[Path]:
    """The bodies too large or binary for a command line, beside the report."""
    written = []
    for repro in repros.values():
        if repro.body_name:
            path = run_dir / REPRODUCE_FOLDER / repro.body_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(repro.body)
            written.append(path)
    return written
