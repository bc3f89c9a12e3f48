"""The emulator's switchable behaviours, as one frozen record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["GatewayOptions", "ModelMap", "options_argv", "parse_renames"]


@dataclass(frozen=True)
class ModelMap:
    """Gateway model names and the upstream names they stand for.

    Only mapped models exist on the gateway; every other name, the upstream's own
    included, is unknown there.
    """

    to_upstream: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def active(self) -> bool:
        return bool(self.to_upstream)

    def upstream_name(self, gateway_name: str) -> str | None:
        return self.to_upstream.get(gateway_name)

    def gateway_name(self, upstream_name: str) -> str | None:
        for gateway, upstream in self.to_upstream.items():
            if upstream == upstream_name:
                return gateway
        return None


def parse_renames(spec: str) -> ModelMap:
    """``old=new,old2=new2`` (upstream name = gateway name) as a :class:`ModelMap`.

    Raises ValueError with a one-line reason on malformed input.
    """
    to_upstream: dict[str, str] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        old, sep, new = (s.strip() for s in item.partition("="))
        if not sep or not old or not new:
            raise ValueError(f"expected old=new, got {item!r}")
        if new in to_upstream:
            raise ValueError(f"gateway name {new!r} is given twice")
        if old in to_upstream.values():
            raise ValueError(f"upstream name {old!r} is renamed twice")
        to_upstream[new] = old
    if not to_upstream:
        raise ValueError("no old=new pair given")
    return ModelMap(MappingProxyType(to_upstream))


@dataclass(frozen=True)
class GatewayOptions:
    """Which gateway behaviours are on; all off is a transparent proxy."""

    throttle_rpm: int | None = None
    throttle_window: float = 60.0
    plain_http: bool = False
    renames: ModelMap = field(default_factory=ModelMap)
    # The docs' table gives 400 for an unknown model on POST endpoints; some
    # gateways answer 404 (as OpenAI does), hence the switch.
    unknown_model_status: int = 400
    fastapi_errors: bool = False
    drop_param: bool = False
    embellish: bool = False
    image_url_host: str | None = None
    upstream_timeout: float = 60.0

    def describe(self) -> list[str]:
        """The behaviours that are on, as short command-line-like words."""
        words: list[str] = []
        if self.throttle_rpm is not None:
            words.append(f"throttle-rpm={self.throttle_rpm}/{self.throttle_window:g}s")
        if self.plain_http:
            words.append("plain-http")
        if self.renames.active:
            pairs = ",".join(f"{o}={n}" for n, o in self.renames.to_upstream.items())
            words.append(f"rename-models={pairs}")
        if self.fastapi_errors:
            words.append("fastapi-errors")
        if self.drop_param:
            words.append("drop-param")
        if self.embellish:
            words.append("embellish")
        if self.image_url_host:
            words.append(f"image-url-host={self.image_url_host}")
        return words


def options_argv(options: GatewayOptions) -> list[str]:
    """The emulator's command-line arguments that give ``options``."""
    argv: list[str] = []
    if options.throttle_rpm is not None:
        argv += ["--throttle-rpm", str(options.throttle_rpm)]
        argv += ["--throttle-window", repr(options.throttle_window)]
    if options.plain_http:
        argv.append("--plain-http")
    if options.renames.active:
        pairs = ",".join(f"{o}={n}" for n, o in options.renames.to_upstream.items())
        argv += ["--rename-models", pairs]
    if options.unknown_model_status != 400:
        argv += ["--unknown-model-status", str(options.unknown_model_status)]
    if options.fastapi_errors:
        argv.append("--fastapi-errors")
    if options.drop_param:
        argv.append("--drop-param")
    if options.embellish:
        argv.append("--embellish")
    if options.image_url_host is not None:
        argv += ["--image-url-host", options.image_url_host]
    if options.upstream_timeout != 60.0:
        argv += ["--upstream-timeout", repr(options.upstream_timeout)]
    return argv
