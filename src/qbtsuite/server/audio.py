"""POST /v1/audio/transcriptions: speech-to-text via multipart upload.

Spec/audio-transcriptions.txt: fields ``file`` and ``model`` (required), ``language``
(ISO-639-1), ``response_format`` "json" (default) | "text" | "verbose_json",
``temperature`` and ``prompt`` (passthrough); "25 MB cap"; "Metered per second of
audio". Response shapes follow OpenAI's (protocol-facts §1.7): ``text`` is a plain-text
body, not JSON; ``verbose_json`` carries segments and ``usage`` of type "duration".

The transcript is not speech recognition: it is a plausible English text chosen by a
hash of the uploaded bytes (the same audio always gives the same text), with as many
words as the audio's real, decoded duration holds.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from qbtsuite.modelcatalog import Category
from qbtsuite.server.audioinfo import AudioInfo, UndecodableAudio
from qbtsuite.server.bodies import invalid, resolve_model
from qbtsuite.server.gate import admit, ensure_funds
from qbtsuite.server.jsonresp import json_response
from qbtsuite.server.parts import Parts, parts_of
from qbtsuite.server.uploads import FormFields, read_multipart

__all__ = ["Segment", "create_transcription", "transcript_segments"]

_FORMATS = ("json", "text", "verbose_json")  # the spec's list; srt/vtt are not offered
_LANGUAGE = re.compile(r"[a-z]{2}")  # ISO-639-1
_MAX_FILES = 8  # `file` plus whatever else a client attaches (ignored)
_MAX_FIELDS = 64
_MAX_FIELD_BYTES = 1024 * 1024  # per text field; files are spooled, not held
_WORDS_PER_SECOND = 2.5

# Word banks of the generated sentences.
_ADJECTIVES = ("quiet", "bright", "careful", "small", "early", "green", "patient")
_SUBJECTS = ("engineer", "teacher", "farmer", "pilot", "student", "driver", "baker")
_VERBS = ("checked", "carried", "opened", "found", "painted", "moved", "fixed")
_OBJECTS = ("report", "window", "garden", "letter", "ladder", "basket", "map")
_PLACES = (
    "before the meeting",
    "after lunch",
    "near the station",
    "in the morning",
    "by the river",
    "at the market",
    "under the old tree",
)


@dataclass(frozen=True, slots=True)
class Segment:
    """One transcript segment over [start, end] seconds."""

    text: str
    start: float
    end: float


def _sentence(rng: random.Random) -> str:
    """A short English sentence: The <adj> <subject> <verb> the <object> <place>."""
    return (
        f"The {rng.choice(_ADJECTIVES)} {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} "
        f"the {rng.choice(_OBJECTS)} {rng.choice(_PLACES)}."
    )


def transcript_segments(digest: bytes, duration: float) -> list[Segment]:
    """Sentences seeded by ``digest``, one per segment, spread over 0..duration.

    Each segment's share of the time is its share of the words; the last one ends
    exactly at ``duration``.
    """
    rng = random.Random(digest)
    target = max(1, round(duration * _WORDS_PER_SECOND))
    sentences = [_sentence(rng)]
    words = len(sentences[0].split())
    while words + 7 <= target:  # add whole sentences while they fit (about 9 words)
        sentences.append(_sentence(rng))
        words += len(sentences[-1].split())
    segments, done = [], 0
    for text in sentences:
        start = round(duration * done / words, 2)
        done += len(text.split())
        end = duration if done == words else round(duration * done / words, 2)
        segments.append(Segment(text, start, end))
    return segments


def _token_ids(text: str) -> list[int]:
    """Stable token-like ids for a segment's words (not a real tokenizer)."""
    return [
        int.from_bytes(hashlib.sha256(word.encode()).digest()[:2], "big") % 50_000 + 220
        for word in text.split()
    ]


def _verbose_segment(
    index: int, seg: Segment, temperature: float, digest: bytes
) -> dict[str, Any]:
    """OpenAI ``TranscriptionSegment`` (all ten fields are required there)."""
    b = digest[index % len(digest)]
    return {
        "id": index,
        "seek": int(seg.start // 30)
        * 3000,  # start of its 30 s window, in 10 ms frames
        "start": seg.start,
        "end": seg.end,
        "text": " " + seg.text,
        "tokens": _token_ids(seg.text),
        "temperature": temperature,
        "avg_logprob": -round(0.15 + b / 255 * 0.3, 4),
        "compression_ratio": round(1.2 + b / 255 * 0.4, 4),
        "no_speech_prob": round(b / 255 * 0.02, 6),
    }


def _inspect(
    read: Callable[[BinaryIO], AudioInfo], file: BinaryIO
) -> tuple[AudioInfo, bytes]:
    """Decode ``file`` for its duration and hash its bytes (blocking: a worker thread)."""
    info = read(file)
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(1 << 16):
        digest.update(chunk)
    return info, digest.digest()


async def _audio(parts: Parts, upload: UploadFile) -> tuple[AudioInfo, bytes]:
    """The upload's audio facts; 400 naming 'file' when it is not decodable audio."""
    try:
        return await run_in_threadpool(_inspect, parts.audio_reader, upload.file)
    except UndecodableAudio as exc:
        raise invalid(
            f"Invalid file: 'file' is not decodable audio ({exc}); "
            "supported formats: wav, mp3, flac, ogg",
            "file",
        ) from None


def _language(fields: FormFields) -> str:
    language = fields.optional_str("language")
    if language is None:
        return "en"
    if not _LANGUAGE.fullmatch(language):
        raise invalid(
            "Invalid value for 'language': expected an ISO-639-1 code "
            f"such as 'en' (got {language[:16]!r})",
            "language",
        )
    return language


def _response_format(fields: FormFields) -> str:
    value = fields.optional_str("response_format")
    if value is None:
        return "json"
    if value not in _FORMATS:
        choices = ", ".join(repr(f) for f in _FORMATS)
        raise invalid(
            f"Invalid value for 'response_format': expected one of {choices}",
            "response_format",
        )
    return value


def _render(
    fmt: str,
    segments: list[Segment],
    duration: float,
    language: str,
    temperature: float,
    digest: bytes,
) -> Response:
    text = " ".join(seg.text for seg in segments)
    if fmt == "text":
        return Response(text, media_type="text/plain; charset=utf-8")
    if fmt == "json":
        return json_response({"text": text, "language": language})
    return json_response(
        {
            "task": "transcribe",
            "language": language,
            "duration": duration,
            "text": text,
            "segments": [
                _verbose_segment(i, seg, temperature, digest)
                for i, seg in enumerate(segments)
            ],
            "usage": {"type": "duration", "seconds": duration},
        }
    )


async def create_transcription(request: Request) -> Response:
    """Transcribe the uploaded audio; charge its decoded duration."""
    parts = parts_of(request)
    account = admit(request, parts)
    async with read_multipart(
        request,
        parts.settings.upload_cap,
        max_files=_MAX_FILES,
        max_fields=_MAX_FIELDS,
        max_field_bytes=_MAX_FIELD_BYTES,
    ) as form:
        fields = FormFields(form)
        upload = fields.required_file("file")
        resolve_model(parts, fields.required_str("model"), Category.TRANSCRIPTION)
        language = _language(fields)
        fmt = _response_format(fields)
        temperature = fields.optional_number("temperature", 0.0, 1.0) or 0.0
        fields.optional_str("prompt")  # passthrough: accepted, shapes nothing here
        info, digest = await _audio(parts, upload)
    ensure_funds(account)
    duration = round(info.duration, 3)
    segments = transcript_segments(digest, duration)
    account.charge(duration * parts.keys.pricing.audio_second)
    return _render(fmt, segments, duration, language, temperature, digest)
