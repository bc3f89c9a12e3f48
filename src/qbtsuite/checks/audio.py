"""Transcriptions: the plain-text format, the language code, and timing against the truth.

``response_format: "text"`` answers a plain-text body, not JSON (protocol-facts §1.7:
the OpenAI spec declares no content type for it; the SDK returns the body as is).
``verbose_json`` carries ``duration`` and ``segments``, checked against the fixture's
true duration with a tolerance of 0.5 s or 5 %, whichever is larger (AUD-005): the
duration of a compressed file is legitimately read a few frames long or short
(MP3 encoder padding is ~26 ms per side), and 5 % keeps long files fair.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from qbtsuite.checks._format import (
    ResponseLike,
    body_text,
    describe_response,
    describe_value,
    failure,
    media_type,
    read_body,
)
from qbtsuite.checks._registry import check

__all__ = [
    "DURATION_FRACTION",
    "DURATION_SECONDS",
    "duration_within",
    "segments_lie_within_audio",
    "transcription_language_is_iso639_1",
    "transcription_text_is_plain",
    "usage_seconds_within",
    "verbose_transcription_shape",
]

DURATION_SECONDS = 0.5
DURATION_FRACTION = 0.05

_ISO639_1 = re.compile(r"^[a-z]{2}$")


def _allowed(true_seconds: float, seconds: float, fraction: float) -> float:
    return max(seconds, fraction * true_seconds)


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None if it is not a JSON number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _member(body: Any, name: str) -> Any:
    return body.get(name) if isinstance(body, Mapping) else None


@check
def transcription_text_is_plain(response: ResponseLike) -> None:
    """``text/plain`` (any charset) and a body that is not a JSON object, array or string."""
    expected = "Content-Type text/plain and the bare transcript (not JSON)"
    if media_type(response) != "text/plain":
        raise failure(
            "Text transcription is not plain text",
            describe_response(response),
            expected,
        )
    body = read_body(response) or b""
    stripped = body.strip()
    if stripped[:1] in (b"{", b"[", b'"'):
        try:
            json.loads(stripped)
        except (ValueError, RecursionError):
            return
        raise failure(
            "Text transcription is wrapped in JSON",
            f"text/plain body {body_text(response)}",
            expected,
        )


@check
def transcription_language_is_iso639_1(body: Any) -> None:
    """``language`` is a two-letter lower-case ISO-639-1 code (AUD-002)."""
    language = body.get("language") if isinstance(body, Mapping) else None
    if not isinstance(language, str) or not _ISO639_1.match(language):
        raise failure(
            "Language is not an ISO-639-1 code",
            f"language {describe_value(language)}",
            'a two-letter code such as "en"',
        )


def _shape_problems(body: Any) -> list[str]:
    if not isinstance(body, Mapping):
        return [f"the body is {describe_value(body, 60)}"]
    problems = [
        f"{name} is {describe_value(body.get(name), 60)}, not a {kind}"
        for name, kind, ok in (
            ("text", "string", isinstance(body.get("text"), str)),
            ("language", "string", isinstance(body.get("language"), str)),
            ("duration", "number", _number(body.get("duration")) is not None),
        )
        if not ok
    ]
    segments = body.get("segments")
    if not isinstance(segments, list):
        return [*problems, f"segments is {describe_value(segments, 60)}, not an array"]
    for i, segment in enumerate(segments):
        start, end = _member(segment, "start"), _member(segment, "end")
        if _number(start) is None or _number(end) is None:
            problems.append(f"$.segments[{i}] start/end are not numbers")
        if not isinstance(_member(segment, "text"), str):
            problems.append(f"$.segments[{i}].text is not a string")
    return problems


@check
def verbose_transcription_shape(body: Any) -> None:
    """verbose_json: string text and language, number duration, segments (AUD-004).

    Only the members the requirement names: each segment needs numeric ``start`` and
    ``end`` and a string ``text`` (OpenAI's other segment members are schema matters).
    """
    problems = _shape_problems(body)
    if problems:
        raise failure(
            "verbose_json transcription is incomplete",
            "; ".join(problems[:4]),
            "string text, string language, number duration and segments "
            "[{start: number, end: number, text: string}, …]",
        )


@check
def duration_within(
    body: Any,
    true_seconds: float,
    seconds: float = DURATION_SECONDS,
    fraction: float = DURATION_FRACTION,
) -> None:
    """verbose_json ``duration`` is within max(``seconds``, ``fraction`` × truth) (AUD-005)."""
    raw = _member(body, "duration")
    duration = _number(raw)
    allowed = _allowed(true_seconds, seconds, fraction)
    if duration is None or abs(duration - true_seconds) > allowed:
        raise failure(
            "Transcription duration is off",
            f"duration {describe_value(raw)}",
            f"{true_seconds:.3f} s ± {allowed:.3f} s (the file's true duration)",
        )


@check
def usage_seconds_within(
    body: Any, true_seconds: float, seconds: float = DURATION_SECONDS
) -> None:
    """``usage.seconds``, when reported, is the true duration ± ``seconds`` (METER-009).

    Tests decide "unsupported" when there is no usage; here a missing value fails.
    """
    usage = _member(body, "usage")
    value = _number(_member(usage, "seconds"))
    if value is None or abs(value - true_seconds) > seconds:
        raise failure(
            "Billed seconds differ from the audio",
            f"usage {describe_value(usage)}",
            f"usage.seconds {true_seconds:.3f} ± {seconds:.3f}",
        )


@check
def segments_lie_within_audio(body: Any, tolerance: float = DURATION_SECONDS) -> None:
    """0 ≤ start ≤ end ≤ duration + ``tolerance``, starts non-decreasing (AUD-006)."""
    raw_duration = _member(body, "duration")
    duration = _number(raw_duration)
    segments = _member(body, "segments")
    limit = (math.inf if duration is None else duration) + tolerance
    expected = (
        f"segments with 0 ≤ start ≤ end ≤ duration + {tolerance} s "
        "in non-decreasing start order"
    )
    if not isinstance(segments, list):
        raise failure(
            "Segments missing", f"segments {describe_value(segments)}", expected
        )
    previous = 0.0
    for i, segment in enumerate(segments):
        start = _number(_member(segment, "start"))
        end = _number(_member(segment, "end"))
        if start is None or end is None or not previous <= start <= end <= limit:
            raise failure(
                "Segment outside the audio",
                f"$.segments[{i}] start {describe_value(_member(segment, 'start'))} "
                f"end {describe_value(_member(segment, 'end'))} "
                f"(duration {describe_value(raw_duration)})",
                expected,
            )
        previous = start
