"""Embeddings, the model list, images and transcriptions."""

from __future__ import annotations

import base64
import io
import struct
from typing import Any

import pytest
from PIL import Image

from qbtsuite.checks import (
    base64_embeddings_match_floats,
    batch_embeddings_match_singles,
    batch_prompt_tokens_add_up,
    duration_within,
    embedding_dimension_is,
    embedding_usage_is_input_only,
    embeddings_encoded_as,
    embeddings_one_per_input_in_order,
    embeddings_share_dimension,
    image_decodes_at,
    image_fetch_succeeded,
    image_format_of,
    image_url_host_usable,
    images_carry_data,
    images_count_is,
    images_decode_at,
    model_list_contains,
    model_list_shape,
    model_object_is,
    segments_lie_within_audio,
    transcription_language_is_iso639_1,
    transcription_text_is_plain,
    usage_seconds_within,
    vector_of,
)

from .support import error_response, fails, json_response, passes, response

VECTORS = [[0.25, -0.5, 0.125, 1.5], [0.0, 0.75, -1.0, 0.0625]]


def b64(vector: list[float], fmt: str = "<{}f") -> str:
    return base64.b64encode(struct.pack(fmt.format(len(vector)), *vector)).decode()


def embedding_list(vectors: list[Any], tokens: int = 4) -> dict[str, Any]:
    return {
        "object": "list",
        "model": "bge-m3",
        "data": [
            {"object": "embedding", "index": i, "embedding": v}
            for i, v in enumerate(vectors)
        ],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# -- embeddings -------------------------------------------------------------------------


def test_one_embedding_per_input_in_index_order() -> None:
    passes(embeddings_one_per_input_in_order, embedding_list(VECTORS), 2)
    reversed_ = embedding_list(VECTORS)
    reversed_["data"].reverse()
    failure = fails(embeddings_one_per_input_in_order, reversed_, 2)
    assert "index [1,0]" in failure.received
    fails(embeddings_one_per_input_in_order, embedding_list(VECTORS[:1]), 2)


def test_dimension_is_checked_for_float_and_base64_vectors() -> None:
    passes(embedding_dimension_is, embedding_list(VECTORS), 4)
    passes(embedding_dimension_is, embedding_list([b64(v) for v in VECTORS]), 4)
    failure = fails(embedding_dimension_is, embedding_list([v[:3] for v in VECTORS]), 4)
    assert failure.received == "vector lengths [3,3]"
    fails(embedding_dimension_is, embedding_list([]), 4)


def test_all_vectors_of_a_model_share_one_width() -> None:
    passes(
        embeddings_share_dimension,
        [embedding_list(VECTORS), embedding_list(VECTORS[:1])],
    )
    fails(
        embeddings_share_dimension, [embedding_list(VECTORS), embedding_list([[1.0]])]
    )
    # One length, but an empty one: no model embeds into zero numbers.
    fails(embeddings_share_dimension, [embedding_list([[], []])])


def test_encoding_matches_the_requested_format() -> None:
    passes(embeddings_encoded_as, embedding_list(VECTORS), "float")
    passes(embeddings_encoded_as, embedding_list([b64(v) for v in VECTORS]), "base64")
    failure = fails(embeddings_encoded_as, embedding_list(VECTORS), "base64")
    assert failure.expected == "each embedding as a base64 string"


def test_base64_decodes_to_the_float_vectors() -> None:
    floats = embedding_list(VECTORS)
    passes(
        base64_embeddings_match_floats,
        floats,
        embedding_list([b64(v) for v in VECTORS]),
    )
    jitter = [[x + 1e-5 for x in v] for v in VECTORS]
    passes(
        base64_embeddings_match_floats, floats, embedding_list([b64(v) for v in jitter])
    )


@pytest.mark.parametrize(
    ("encoded", "problem"),
    [
        ([b64(v, ">{}f") for v in VECTORS], "$.data[0].embedding["),  # big-endian
        (
            [b64(v, "<{}d") for v in VECTORS],
            "8 base64 vs 4 float components",
        ),  # float64
        (
            [b64(v) for v in reversed(VECTORS)],
            "$.data[0].embedding[",
        ),  # another input's vector
        (["not base64!", "x"], "not base64"),
        ([b64(v) for v in VECTORS[:1]], "1 base64 vs 2 float vectors"),
    ],
    ids=["big-endian", "float64", "swapped", "garbage", "missing"],
)
def test_base64_encoding_bugs_are_caught(encoded: list[str], problem: str) -> None:
    failure = fails(
        base64_embeddings_match_floats, embedding_list(VECTORS), embedding_list(encoded)
    )
    assert problem in failure.received


def test_vector_of_rejects_a_partial_float32() -> None:
    with pytest.raises(ValueError, match="whole number of float32"):
        vector_of({"embedding": base64.b64encode(b"\x00" * 6).decode()})


def test_embedding_usage_bills_input_only() -> None:
    passes(embedding_usage_is_input_only, embedding_list(VECTORS))
    body = embedding_list(VECTORS)
    body["usage"] = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    fails(embedding_usage_is_input_only, body)
    fails(embedding_usage_is_input_only, embedding_list(VECTORS, tokens=0))


def test_batch_prompt_tokens_are_the_sum_of_the_parts() -> None:
    singles = [embedding_list(VECTORS[:1], 2), embedding_list(VECTORS[:1], 3)]
    passes(batch_prompt_tokens_add_up, embedding_list(VECTORS, 5), singles)
    failure = fails(batch_prompt_tokens_add_up, embedding_list(VECTORS, 7), singles)
    assert failure.expected == "batch prompt_tokens = 2 + 3"


# -- models -----------------------------------------------------------------------------


def model(mid: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "object": "model",
        "created": 1735689600,
        "owned_by": "x",
        **overrides,
    }


def test_model_list_has_openais_shape() -> None:
    passes(model_list_shape, {"object": "list", "data": [model("a"), model("b")]})
    bad = {"object": "models", "data": [{"id": "a", "object": "model", "created": 1}]}
    failure = fails(model_list_shape, bad)
    assert "$.object" in failure.received and "$.data[0] owned_by" in failure.received
    fails(model_list_shape, [model("a")])


def test_model_list_contains_every_documented_id_once() -> None:
    listing = {"object": "list", "data": [model("a"), model("b"), model("c")]}
    passes(model_list_contains, listing, ["a", "c"])
    failure = fails(model_list_contains, listing, ["a", "bge-m3"])
    assert "missing bge-m3" in failure.received
    twice = {"object": "list", "data": [model("a"), model("a")]}
    assert "more than once a" in fails(model_list_contains, twice, ["a"]).received


def test_model_object_is_the_requested_one() -> None:
    passes(model_object_is, model("bge-m3"), "bge-m3")
    fails(model_object_is, model("bge-m3"), "whisper-large-v3")
    fails(model_object_is, model("bge-m3", created="yesterday"), "bge-m3")


# -- images -----------------------------------------------------------------------------


def png(size: tuple[int, int] = (64, 32), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def images(*blobs: bytes) -> dict[str, Any]:
    return {
        "created": 1,
        "data": [{"b64_json": base64.b64encode(b).decode()} for b in blobs],
    }


def test_image_count() -> None:
    passes(images_count_is, images(png(), png()), 2)
    assert fails(images_count_is, images(png()), 2).received == "1 items in $.data"


def test_images_carry_b64_or_an_absolute_url() -> None:
    passes(images_carry_data, images(png()))
    passes(
        images_carry_data,
        {"created": 1, "data": [{"url": "https://cdn.test/a.png"}]},
        "url",
    )
    fails(images_carry_data, {"created": 1, "data": [{"url": None, "b64_json": None}]})
    fails(images_carry_data, {"created": 1, "data": [{"url": "/files/a.png"}]}, "url")
    fails(images_carry_data, images(png()), "url")
    fails(images_carry_data, {"created": 1, "data": []})


def test_image_decodes_at_size_and_format() -> None:
    passes(image_decodes_at, png((64, 32)), "64x32", "png")
    passes(image_decodes_at, png((8, 8), "JPEG"), None, "jpeg")
    assert "64x32" in fails(image_decodes_at, png((64, 32)), "512x512").received
    assert "png signature" in fails(image_decodes_at, png(), None, "jpeg").received
    fails(image_decodes_at, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)


def test_image_format_is_read_from_the_signature() -> None:
    assert image_format_of(png()) == "png"
    assert image_format_of(png(fmt="JPEG")) == "jpeg"
    assert image_format_of(png(fmt="WEBP")) == "webp"
    assert image_format_of(b"GIF89a") is None


def test_b64_images_decode_at_the_requested_size() -> None:
    passes(images_decode_at, images(png((16, 16))), "16x16", "png")
    failure = fails(images_decode_at, images(png((16, 16)), png((8, 8))), "16x16")
    assert failure.received.startswith("$.data[1].b64_json")
    fails(images_decode_at, {"created": 1, "data": [{"b64_json": "%%%"}]})


def test_image_url_fetch_delivers_image_bytes() -> None:
    passes(image_fetch_succeeded, response(200, png(), "image/png"))
    failure = fails(image_fetch_succeeded, error_response(404, "not_found"))
    assert "sent without the API key" in failure.received
    fails(image_fetch_succeeded, response(200, b"", "image/png"))


REMOTE = "https://api.qubittron.ai/v1"


@pytest.mark.parametrize(
    ("url", "base_url"),
    [
        ("https://files.qubittron.ai/a.png", REMOTE),
        ("https://127.0.0.1:8443/v1/images/files/a.png", "https://127.0.0.1:8443/v1"),
        ("http://localhost:8080/a.png", "http://localhost:8080/v1"),
    ],
)
def test_an_image_url_on_a_host_that_can_serve_it_is_usable(
    url: str, base_url: str
) -> None:
    passes(image_url_host_usable, url, base_url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://example.invalid/a.png", "reserved name (.invalid)"),
        ("https://img.EXAMPLE.invalid./a.png", "reserved name (.invalid)"),
        ("https://cdn.example/a.png", "reserved name (.example)"),
        ("https://files.gateway.test/a.png", "reserved name (.test)"),
        ("https://example.org/a.png", "documentation name (example.org"),
        ("http://localhost/a.png", "loopback host"),
        ("http://files.localhost/a.png", "loopback host"),
        ("http://127.0.0.2/a.png", "loopback host"),
        ("http://[::1]:9000/a.png", "loopback host"),
    ],
)
def test_an_image_url_on_a_reserved_or_foreign_loopback_name_is_unusable(
    url: str, why: str
) -> None:
    failure = fails(image_url_host_usable, url, REMOTE, "$.data[0].url")
    assert failure.received.startswith("$.data[0].url: ")
    assert why in failure.received


@pytest.mark.parametrize("url", ["", "files/a.png", "ftp://files.qubittron.ai/a.png"])
def test_an_image_url_that_is_not_absolute_http_is_unusable(url: str) -> None:
    assert fails(image_url_host_usable, url, REMOTE).title == "Image url unusable"


# -- transcriptions -----------------------------------------------------------------------


def test_text_transcription_is_plain_text() -> None:
    passes(
        transcription_text_is_plain,
        response(200, "the quick brown fox\n", "text/plain; charset=utf-8"),
    )
    passes(transcription_text_is_plain, response(200, "[inaudible", "text/plain"))
    fails(transcription_text_is_plain, json_response({"text": "the quick brown fox"}))
    failure = fails(
        transcription_text_is_plain, response(200, '{"text": "hi"}', "text/plain")
    )
    assert failure.title == "Text transcription is wrapped in JSON"
    fails(transcription_text_is_plain, response(200, '"hi"', "text/plain"))


def test_language_is_an_iso_639_1_code() -> None:
    passes(transcription_language_is_iso639_1, {"text": "x", "language": "en"})
    fails(transcription_language_is_iso639_1, {"text": "x", "language": "english"})
    fails(transcription_language_is_iso639_1, {"text": "x"})


def test_duration_within_half_a_second_or_five_percent() -> None:
    passes(duration_within, {"duration": 3.4}, 3.0)
    passes(duration_within, {"duration": 63.0}, 60.0)  # 5 % of 60 s is 3 s
    failure = fails(duration_within, {"duration": 4.0}, 3.0)
    assert "3.000 s ± 0.500 s" in failure.expected
    fails(duration_within, {"duration": "3.0"}, 3.0)
    fails(duration_within, {"duration": float("nan")}, 3.0)


def test_billed_seconds_match_the_audio() -> None:
    passes(usage_seconds_within, {"usage": {"type": "duration", "seconds": 3.2}}, 3.0)
    fails(usage_seconds_within, {"usage": {"type": "duration", "seconds": 6}}, 3.0)
    fails(usage_seconds_within, {"text": "no usage"}, 3.0)


def test_segments_lie_within_the_audio_in_order() -> None:
    ok = {
        "duration": 3.0,
        "segments": [{"start": 0.0, "end": 1.5}, {"start": 1.5, "end": 3.2}],
    }
    passes(segments_lie_within_audio, ok)
    late = {"duration": 3.0, "segments": [{"start": 0.0, "end": 4.0}]}
    assert "$.segments[0]" in fails(segments_lie_within_audio, late).received
    backwards = {
        "duration": 3.0,
        "segments": [{"start": 1.0, "end": 2.0}, {"start": 0.5, "end": 1.0}],
    }
    fails(segments_lie_within_audio, backwards)
    fails(segments_lie_within_audio, {"duration": 3.0})


def test_batch_vectors_are_those_of_each_input_alone() -> None:
    singles = [embedding_list([v]) for v in VECTORS]
    passes(batch_embeddings_match_singles, embedding_list(VECTORS), singles)
    renumbered = embedding_list(list(reversed(VECTORS)))  # indexes 0, 1 but swapped
    passes(embeddings_one_per_input_in_order, renumbered, 2)
    failure = fails(batch_embeddings_match_singles, renumbered, singles)
    assert "batch gives" in failure.received
    fails(batch_embeddings_match_singles, embedding_list(VECTORS), singles[:1])
