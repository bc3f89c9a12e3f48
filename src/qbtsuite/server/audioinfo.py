"""Format and duration of uploaded audio, read from the audio itself.

Spec/audio-transcriptions.txt: "Metered per second of audio ... parsed from the file's
audio header". We go one better than the header: the audio is decoded, so a header
that lies (or a truncated file) cannot change the metered duration.

- The container is recognised from its first bytes (WAV, MP3, FLAC, OGG), never from
  the filename, and ffmpeg is told which demuxer to use: it never probes, never
  follows references inside the file, and may open only the one local file it is
  given (a private copy of the upload).
- ffmpeg is the binary shipped in the imageio-ffmpeg wheel (the same one pydub uses
  for the fixtures); no system ffmpeg and no ffprobe are needed.
- The decoded audio (mono, 16 kHz, s16le) is counted as it streams out of ffmpeg and
  never kept, so a 25 MB upload of long, low-bitrate audio costs no memory. (pydub's
  ``AudioSegment.from_file`` would hold all of it at the native rate, about 1 GB for
  25 MB of 32 kbit/s MP3, and probes with ffprobe unless told the codec; pydub makes
  the fixtures and cross-checks this reader in the tests.)

Blocking: callers on the event loop run :func:`read_audio_info` in a worker thread.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import BinaryIO

__all__ = [
    "DECODE_RATE",
    "FORMATS",
    "AudioInfo",
    "UndecodableAudio",
    "ffmpeg_exe",
    "read_audio_info",
    "sniff_format",
]

FORMATS = ("wav", "mp3", "flac", "ogg")
DECODE_RATE = 16_000  # Hz; samples are counted at this rate
_DECODE_TIMEOUT = 120.0  # seconds; a 25 MB file decodes in a few
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What the audio says about itself."""

    format: str  # one of FORMATS
    duration: float  # seconds of decoded audio


class UndecodableAudio(ValueError):
    """The bytes are not audio in a supported format, or do not decode.

    ``str()`` is a short reason fit for a client; ``detail`` is ffmpeg's own message
    (for logs: it names memory addresses and internals).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.detail = detail


@cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary from the imageio-ffmpeg wheel."""
    import imageio_ffmpeg

    path: str = imageio_ffmpeg.get_ffmpeg_exe()
    return path


def _id3_size(head: bytes) -> int:
    """Length of a leading ID3v2 tag (header + syncsafe size + footer), else 0."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = 0
    for byte in head[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, and layer bits not 00 (that is ADTS)."""
    return (
        len(head) >= 2
        and head[0] == 0xFF
        and head[1] & 0xE0 == 0xE0
        and head[1] & 0x06 != 0
    )


def sniff_format(head: bytes, after_id3: bytes = b"") -> str | None:
    """The container of audio starting with ``head`` (after an ID3 tag: ``after_id3``)."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:3] == b"ID3":
        # ID3v2 is mostly MP3's, but FLAC files carry one at times.
        return "flac" if after_id3[:4] == b"fLaC" else "mp3"
    if _is_mpeg_audio_frame(head):
        return "mp3"
    return None


def _sniff(file: BinaryIO) -> str:
    file.seek(0)
    head = file.read(16)
    after = b""
    skip = _id3_size(head)
    if skip:
        file.seek(skip)
        after = file.read(4)
    fmt = sniff_format(head, after)
    if fmt is None:
        if not head:
            raise UndecodableAudio("the file is empty")
        raise UndecodableAudio("not a WAV, MP3, FLAC or OGG file")
    return fmt


@contextlib.contextmanager
def _on_disk(file: BinaryIO, suffix: str) -> Iterator[str]:
    """A private copy of ``file`` under a fresh name, removed afterwards.

    ffmpeg needs a seekable input for exact durations (an MP3's gapless trailer is
    honoured only when it can seek), and a file of its own: sharing our descriptor
    would move the offset under our buffered reader.
    """
    handle, name = tempfile.mkstemp(prefix="qbtsuite-audio-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as copy:
            file.seek(0)
            shutil.copyfileobj(file, copy, _CHUNK)
        yield name
    finally:
        os.unlink(name)


def _decoded_samples(path: str, fmt: str) -> int:
    """Samples of mono ``DECODE_RATE`` audio that ffmpeg decodes from ``path``."""
    command = [
        ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-loglevel", "error",
        "-protocol_whitelist", "file",
        "-f", fmt,
        "-i", "file:" + path,
        "-vn", "-sn", "-dn",
        "-ac", "1",
        "-ar", str(DECODE_RATE),
        "-f", "s16le",
        "pipe:1",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors
        )
        assert proc.stdout is not None
        timer = threading.Timer(_DECODE_TIMEOUT, proc.kill)
        timer.start()
        try:
            decoded = 0  # counted as it streams, never kept
            while chunk := proc.stdout.read(_CHUNK):
                decoded += len(chunk)
            status = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if status != 0 or decoded == 0:
            errors.seek(0)
            detail = errors.read()[-300:].decode("utf-8", "replace").strip()
            raise UndecodableAudio(
                f"it does not decode as {fmt.upper()} audio",
                f"ffmpeg exit status {status}: {detail}",
            )
    return decoded // 2


def read_audio_info(file: BinaryIO) -> AudioInfo:
    """Format and duration of the audio in ``file`` (blocking; any position).

    Raises :class:`UndecodableAudio` for anything that is not WAV, MP3, FLAC or OGG
    audio with at least one decodable sample.
    """
    fmt = _sniff(file)
    with _on_disk(file, "." + fmt) as path:
        samples = _decoded_samples(path, fmt)
    file.seek(0)
    return AudioInfo(fmt, samples / DECODE_RATE)
