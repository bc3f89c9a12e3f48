"""Models per endpoint: configured ones stay, the rest from the listing, never a guess."""

from __future__ import annotations

from qbtsuite.modelcatalog import Category, models_for
from qbtsuite.target.discovery import ENDPOINT_CATEGORY, choose_models

NOTHING: dict[str, str | None] = dict.fromkeys(ENDPOINT_CATEGORY)


def _first(category: Category) -> str:
    return models_for(category)[0].id


def test_a_configured_model_stays_whatever_the_listing_says() -> None:
    chosen = choose_models({**NOTHING, "chat": "acme-chat"}, {"bge-m3"})
    assert chosen["chat"] == "acme-chat"


def test_the_first_documented_model_the_target_lists_is_chosen() -> None:
    chosen = choose_models(NOTHING, {"bge-m3", "whisper-large-v3-turbo"})
    assert chosen["embeddings"] == "bge-m3"
    assert chosen["transcriptions"] == "whisper-large-v3-turbo"


def test_qubittrons_catalogue_falls_back_to_the_first_documented_model() -> None:
    chosen = choose_models(NOTHING, None, catalogue=True)
    assert chosen["chat"] == _first(Category.TEXT)
    assert chosen["images"] == _first(Category.IMAGE)


def test_another_gateway_gets_no_qubittron_name_it_does_not_list() -> None:
    listed = {"acme-chat", "acme-embed", "bge-m3"}
    chosen = choose_models(NOTHING, listed, catalogue=False)
    assert chosen["embeddings"] == "bge-m3"  # listed by the target itself
    assert chosen["chat"] is None and chosen["images"] is None
    assert choose_models(NOTHING, None, catalogue=False) == NOTHING
