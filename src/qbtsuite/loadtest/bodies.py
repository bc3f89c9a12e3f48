"""The request bodies a load run sends, one builder per endpoint.

Bodies are built once per process and reused: the load generator should spend its
time on the wire, not on serialising. Streamed text requests ask for
``stream_options.include_usage`` so that output tokens come from the server's
``usage`` (load-metrics §1). Transcriptions upload an audio fixture from
``fixtures/audio/`` when the install has it, else a generated one-second WAV.
"""

from __future__ import annotations

import io
import math
import secrets
import struct
import wave
from dataclasses import dataclass

import orjson

from qbtsuite.loadtest.plan import ENDPOINTS, RequestSettings
from qbtsuite.resources import data_dir

__all__ = ["PreparedRequest", "generated_wav", "prepare"]

_AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
}


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """One endpoint's request, ready to send."""

    name: str  # the endpoint name (ENDPOINTS key)
    path: str
    body: bytes
    content_type: str
    stream: bool
    kind: str  # "chat", "completions" or "" (what the stream parser looks for)


def prepare(name: str, settings: RequestSettings) -> PreparedRequest:
    """The request for endpoint ``name`` with ``settings``."""
    path, stream = ENDPOINTS[name]
    if name == "transcriptions":
        body, content_type = _transcription(settings)
        return PreparedRequest(name, path, body, content_type, False, "")
    data = _json_body(name, settings, stream)
    kind = "chat" if name.startswith("chat") else "completions"
    return PreparedRequest(
        name, path, orjson.dumps(data), "application/json", stream, kind
    )


def _json_body(name: str, s: RequestSettings, stream: bool) -> dict[str, object]:
    text: dict[str, object] = {"model": s.text_model, "max_tokens": s.max_tokens}
    if stream:
        text |= {"stream": True, "stream_options": {"include_usage": True}}
    if name in ("chat", "chat_stream"):
        return {**text, "messages": [{"role": "user", "content": s.prompt}]}
    if name in ("completions", "completions_stream"):
        return {**text, "prompt": s.prompt}
    if name == "embeddings":
        return {"model": s.embedding_model, "input": s.embedding_input}
    if name == "images":
        return {
            "model": s.image_model,
            "prompt": s.prompt,
            "n": 1,
            "size": s.image_size,
            "response_format": "b64_json",
        }
    raise ValueError(f"no JSON body for endpoint {name!r}")


def _transcription(s: RequestSettings) -> tuple[bytes, str]:
    audio, filename, audio_type = _audio(s.audio_file)
    boundary = "qbtsuite-" + secrets.token_hex(12)
    parts = [
        _field(boundary, "model", s.transcription_model),
        _field(boundary, "response_format", "json"),
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: {audio_type}\r\n\r\n'
        ).encode()
        + audio
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _field(boundary: str, name: str, value: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{value}\r\n"
    ).encode()


def _audio(name: str) -> tuple[bytes, str, str]:
    """The fixture ``name`` from fixtures/audio/, or a generated WAV if absent."""
    try:
        path = data_dir("fixtures") / "audio" / name
    except FileNotFoundError:
        path = None
    if path is not None and path.is_file() and path.suffix in _AUDIO_TYPES:
        return path.read_bytes(), path.name, _AUDIO_TYPES[path.suffix]
    return generated_wav(), "generated-tone.wav", "audio/wav"


def generated_wav(seconds: float = 1.0, rate: int = 16_000) -> bytes:
    """A mono 16-bit PCM WAV of a 440 Hz tone (standard library only)."""
    frames = int(seconds * rate)
    samples = (
        int(12_000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()
