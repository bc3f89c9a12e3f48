"""The named gateway set-ups the baseline runs the suite against, one behaviour each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from tests.gateways.options import GatewayOptions, parse_renames

__all__ = ["BEHAVIOURS", "RENAMED_MODELS", "RENAMES", "Behaviour"]

# Names real gateways serve, for one upstream model of each endpoint.
RENAMES = parse_renames(
    "Llama-3.1-8B-Instruct=llama-3.1-8b-instruct,bge-m3=nomic-embed-text,"
    "stable-diffusion-xl-base-v10=sdxl-turbo,whisper-large-v3=whisper-large-v3"
)
# What a user of that gateway configures (QBTSUITE_MODELS_<ENDPOINT>).
RENAMED_MODELS: Mapping[str, str] = MappingProxyType(
    {
        "completions": "llama-3.1-8b-instruct",
        "chat": "llama-3.1-8b-instruct",
        "embeddings": "nomic-embed-text",
        "images": "sdxl-turbo",
        "transcriptions": "whisper-large-v3",
    }
)


@dataclass(frozen=True)
class Behaviour:
    name: str
    options: GatewayOptions
    models: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour("transparent", GatewayOptions()),
    Behaviour("throttle-rpm 3", GatewayOptions(throttle_rpm=3, throttle_window=60.0)),
    Behaviour("plain-http", GatewayOptions(plain_http=True)),
    Behaviour("rename-models", GatewayOptions(renames=RENAMES), RENAMED_MODELS),
    # The same gateway, its models left to discovery from GET /v1/models.
    Behaviour("rename-models undeclared", GatewayOptions(renames=RENAMES)),
    Behaviour("fastapi-errors", GatewayOptions(fastapi_errors=True)),
    Behaviour("drop-param", GatewayOptions(drop_param=True)),
    Behaviour("embellish", GatewayOptions(embellish=True)),
    Behaviour("image-url-host", GatewayOptions(image_url_host="example.invalid")),
)
