"""The verbose_json transcription shape check (AUD-004)."""

from __future__ import annotations

from typing import Any

from qbtsuite.checks import verbose_transcription_shape

from .support import fails, passes


def verbose(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "text": "the quick brown fox",
        "language": "en",
        "duration": 2.0,
        "segments": [{"start": 0.0, "end": 2.0, "text": "the quick brown fox"}],
    }
    body.update(changes)
    return body


def test_verbose_json_needs_text_language_duration_and_timed_segments() -> None:
    passes(verbose_transcription_shape, verbose())
    passes(verbose_transcription_shape, verbose(segments=[], duration=3))
    failure = fails(verbose_transcription_shape, verbose(duration="2.0"))
    assert "duration" in failure.received
    fails(verbose_transcription_shape, {"text": "hi", "language": "en", "duration": 1})
    fails(verbose_transcription_shape, verbose(language=None))
    bad = verbose(segments=[{"start": "0", "end": 2.0, "text": "x"}])
    assert "$.segments[0]" in fails(verbose_transcription_shape, bad).received
    fails(verbose_transcription_shape, verbose(segments=[{"start": 0, "end": 1}]))
    fails(verbose_transcription_shape, ["not", "an", "object"])
