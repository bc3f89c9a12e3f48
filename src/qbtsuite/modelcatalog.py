"""The models the Qubittron documents, by endpoint category (spec/*.txt "Supported models")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["MODELS", "Category", "ModelInfo", "models_for"]


class Category(StrEnum):
    """Which endpoint family a model serves."""

    TEXT = "text"  # /v1/completions and /v1/chat/completions
    EMBEDDING = "embedding"
    IMAGE = "image"
    TRANSCRIPTION = "transcription"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One documented model."""

    id: str
    category: Category
    owned_by: str
    dimensions: int | None = None  # embedding width; None where the docs say "varies"
    native_dimensions: int | None = None  # width used when the docs leave it open


_TEXT = (
    ("gpt-oss-120b", "openai"),
    ("gpt-oss-20b", "openai"),
    ("Llama-3.1-8B-Instruct", "meta"),
    ("Meta-Llama-3_3-70B-Instruct", "meta"),
    ("Qwen3-32B", "qwen"),
    ("Mistral-7B-Instruct-v0.3", "mistralai"),
    ("Mistral-Small-3.2-24B-Instruct-2506", "mistralai"),
    ("Mistral-Nemo-Instruct-2407", "mistralai"),
    ("Qwen3-Coder-30B-A3B-Instruct", "qwen"),
    ("Qwen2.5-VL-72B-Instruct", "qwen"),
    ("Qwen3Guard-Gen-8B", "qwen"),
    ("Qwen3Guard-Gen-0.6B", "qwen"),
)

MODELS: tuple[ModelInfo, ...] = (
    *(ModelInfo(mid, Category.TEXT, owner) for mid, owner in _TEXT),
    # embeddings.txt: Qwen3-Embedding-8B "varies", bge-m3 1024, gemma2 "varies".
    ModelInfo("Qwen3-Embedding-8B", Category.EMBEDDING, "qwen", None, 4096),
    ModelInfo("bge-m3", Category.EMBEDDING, "baai", 1024, 1024),
    ModelInfo("bge-multilingual-gemma2", Category.EMBEDDING, "baai", None, 3584),
    ModelInfo("stable-diffusion-xl-base-v10", Category.IMAGE, "stabilityai"),
    ModelInfo("whisper-large-v3", Category.TRANSCRIPTION, "openai"),
    ModelInfo("whisper-large-v3-turbo", Category.TRANSCRIPTION, "openai"),
)


def models_for(category: Category) -> tuple[ModelInfo, ...]:
    """Return the documented models of one category, in documentation order."""
    return tuple(m for m in MODELS if m.category is category)
