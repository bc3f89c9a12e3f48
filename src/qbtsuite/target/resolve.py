"""From settings to a target: the one way every command finds what it tests.

``qbtsuite run``, a plain ``pytest conformance`` session, ``qbtsuite load`` and the
fault matrix (which runs ``qbtsuite run --fault``) all call :func:`resolve`:

- no base URL anywhere: the embedded reference server is started (with the faults and
  server options asked for) and its URLs, CA and generated keys become the target;
- a base URL: the target the settings describe; one unauthenticated probe says
  whether it answers at all (:class:`~qbtsuite.errors.TargetUnreachable` if not),
  then ``GET /models`` with the main key says whether the key and the base URL are
  right (:mod:`qbtsuite.target.preflight`: ConfigError if not).

Then every endpoint without a configured model gets one from that listing; a remote
target with no model for any endpoint is a ConfigError, one with some missing gets a
notice (:attr:`ResolvedTarget.notices`). The result owns the server it started:
:meth:`ResolvedTarget.close` stops it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType

from qbtsuite.target.client import build_http_client
from qbtsuite.target.config import (
    EMBEDDED_RATE_WINDOW,
    ENDPOINTS,
    Settings,
    TargetConfig,
)
from qbtsuite.target.discovery import Listing, complete_models, list_models, probe
from qbtsuite.target.embedded import EmbeddedServer, ServerTarget
from qbtsuite.target.preflight import check_listing, model_notices

__all__ = [
    "EMBEDDED_SERVER_ARGS",
    "EmbeddedSpec",
    "ResolvedTarget",
    "embedded_server",
    "resolve",
]

# The conformance run's embedded server: a short rate-limit window, so the rate-limit
# checks wait seconds, not a minute (the window is the server's, so verdicts hold).
EMBEDDED_SERVER_ARGS = ("--rate-window", f"{EMBEDDED_RATE_WINDOW:g}")


@dataclass(frozen=True, slots=True)
class EmbeddedSpec:
    """How to start the embedded reference server, when the settings name no target."""

    faults: tuple[str, ...] = ()
    server_args: tuple[str, ...] = EMBEDDED_SERVER_ARGS


@dataclass(slots=True)
class ResolvedTarget:
    """A target, and the embedded server behind it when one was started."""

    target: TargetConfig
    server: ServerTarget | None = None
    _process: EmbeddedServer | None = field(default=None, repr=False)
    notices: tuple[str, ...] = ()  # one line each, for the top of the run

    def close(self) -> None:
        """Stop the embedded server, if this resolution started one."""
        process, self._process = self._process, None
        if process is not None:
            process.stop()

    def __enter__(self) -> ResolvedTarget:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def embedded_server(spec: EmbeddedSpec) -> EmbeddedServer:
    """The embedded server ``spec`` describes, not started yet."""
    return EmbeddedServer(faults=spec.faults, args=spec.server_args)


def resolve(
    settings: Settings,
    embedded: EmbeddedSpec | None = None,
    *,
    require_key: bool = True,
    check_reachable: bool = True,
    choose_models: bool = True,
    launched: EmbeddedServer | None = None,
) -> ResolvedTarget:
    """The target ``settings`` describe, starting the embedded server if they name none
    (``launched``: the one already booting, from :func:`launch`).

    Raises ConfigError (bad settings), TargetUnreachable (no answer), ServerStartError.
    """
    listing: Listing | None = None
    if settings.needs_embedded:
        process = launched or embedded_server(embedded or EmbeddedSpec())
        server = process.start()
        resolved = ResolvedTarget(settings.embedded(server), server, process)
    else:
        resolved = ResolvedTarget(settings.target(require_key=require_key))
        if check_reachable:
            probe(resolved.target)
        listing = _checked_listing(resolved.target, check_reachable, choose_models)
    if choose_models:
        try:
            resolved.target = complete_models(resolved.target, listing=listing)
            if not resolved.target.embedded:
                resolved.notices = model_notices(resolved.target, listing)
        except BaseException:
            resolved.close()
            raise
    return resolved


def _checked_listing(
    target: TargetConfig, always: bool, choose_models: bool
) -> Listing | None:
    """The main key's ``GET /models`` (asked ``always``, or when models are to be
    chosen), held to the preflight checks; None when not asked."""
    needed = choose_models and not all(target.model(e) for e in ENDPOINTS)
    if not target.has_key("main") or not (always or needed):
        return None
    with build_http_client(target) as http:
        listing = list_models(target, http)
        check_listing(target, listing, http)
    return listing
