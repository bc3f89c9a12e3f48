"""The committed audio fixtures: how they are made, and their manifest.

Two short mono 16 kHz signals, each in WAV, MP3, FLAC and OGG (Vorbis), made with
pydub and the ffmpeg binary of the imageio-ffmpeg wheel (nothing is downloaded):

- ``tone-440hz``: a 440 Hz sine, 2 s, with 20 ms fades (no clicks).
- ``speech-like``: voiced "syllables" (a gliding 110–170 Hz pitch whose harmonics are
  shaped by vowel formants), short noise bursts like fricatives, and pauses between
  "words"; a deterministic generator, so every run yields the same samples.

``manifest.json`` lists each file with its format, kind and true duration, measured
from the generated samples (frame count / frame rate) before encoding. Transcription
checks compare a target's reported duration with it.

Regenerate with ``python -m qbtsuite.payloads.audio [--out DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from qbtsuite.resources import data_dir

__all__ = [
    "CONTENT_TYPES",
    "SAMPLE_RATE",
    "AudioFixture",
    "default_folder",
    "generate",
    "load_manifest",
    "main",
    "pydub_segment",
    "speech_like_samples",
    "tone_samples",
]

SAMPLE_RATE = 16_000
MANIFEST = "manifest.json"
CONTENT_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
}
# Encoder settings per format (pydub ``export`` arguments); bit-exact output and no
# metadata, so regenerating with the same ffmpeg gives the same bytes.
_EXPORT: dict[str, dict[str, Any]] = {
    "wav": {},
    "mp3": {"bitrate": "32k"},
    "flac": {},
    "ogg": {"codec": "libvorbis", "bitrate": "32k"},
}
_BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]
# Vowel formants (F1, F2, F3) in Hz, for the speech-like signal.
_VOWELS = (
    (730, 1090, 2440),  # a
    (270, 2290, 3010),  # i
    (300, 870, 2240),  # u
    (530, 1840, 2480),  # e
    (570, 840, 2410),  # o
)
# Words as syllable counts; the pause after each word in milliseconds.
_WORDS = ((2, 90), (1, 70), (2, 160), (1, 280), (2, 80), (1, 0))


@dataclass(frozen=True, slots=True)
class AudioFixture:
    """One manifest entry; ``path`` is the file on disk."""

    file: str
    format: str
    kind: str
    duration: float
    samples: int
    sample_rate: int
    channels: int
    content_type: str
    bytes: int
    sha256: str
    path: Path


@cache
def pydub_segment() -> Any:
    """pydub's ``AudioSegment`` class, set to use the imageio-ffmpeg binary.

    Imported lazily and with its import-time warnings silenced: pydub warns when no
    ffmpeg is on PATH (we never use PATH) and Python 3.11 warns about ``audioop``.
    """
    import imageio_ffmpeg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub import AudioSegment
    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    return AudioSegment


def tone_samples(seconds: float = 2.0, freq: float = 440.0) -> Any:
    """A sine at ``freq`` (pydub's generator), 16-bit mono, with 20 ms fades."""
    pydub_segment()  # pydub imported with its import-time warnings silenced
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub.generators import Sine

        segment = Sine(freq, sample_rate=SAMPLE_RATE, bit_depth=16).to_audio_segment(
            duration=seconds * 1000.0, volume=-6.0
        )
        return segment.fade_in(20).fade_out(20)


def _syllable(rng: np.random.Generator, vowel: tuple[int, int, int]) -> np.ndarray:
    """One voiced syllable: formant-weighted harmonics under a raised-cosine envelope."""
    length = int(rng.uniform(0.12, 0.22) * SAMPLE_RATE)
    t = np.arange(length) / SAMPLE_RATE
    f0 = np.linspace(rng.uniform(140, 170), rng.uniform(110, 135), length)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voiced = np.zeros(length)
    for k in range(1, 26):
        freq = k * float(f0.mean())
        if freq > SAMPLE_RATE / 2 - 500:
            break
        gain = sum(np.exp(-(((freq - f) / (60 + 0.06 * f)) ** 2)) for f in vowel)
        voiced += (gain / k**0.5) * np.sin(k * phase)
    envelope = np.sin(np.pi * t / t[-1]) ** 1.5
    return np.asarray(voiced * envelope)


def _fricative(rng: np.random.Generator) -> np.ndarray:
    """A short burst of high-passed noise (like /s/)."""
    length = int(0.06 * SAMPLE_RATE)
    noise = np.diff(rng.standard_normal(length + 1))  # first difference: high-pass
    return np.asarray(0.15 * noise * np.hanning(length))


def speech_like_samples(seed: int = 7) -> Any:
    """The speech-like signal as a 16-bit mono pydub segment (deterministic)."""
    rng = np.random.default_rng(seed)
    pieces: list[np.ndarray] = [np.zeros(int(0.12 * SAMPLE_RATE))]
    for index, (syllables, pause_ms) in enumerate(_WORDS):
        if index % 3 == 1:
            pieces.append(_fricative(rng))
        for _ in range(syllables):
            pieces.append(_syllable(rng, _VOWELS[int(rng.integers(len(_VOWELS)))]))
        pieces.append(np.zeros(int(pause_ms * SAMPLE_RATE / 1000)))
    pieces.append(np.zeros(int(0.15 * SAMPLE_RATE)))
    signal = np.concatenate(pieces)
    signal *= 0.5 / float(np.max(np.abs(signal)))
    pcm = np.round(signal * 32767).astype("<i2").tobytes()
    return pydub_segment()(data=pcm, sample_width=2, frame_rate=SAMPLE_RATE, channels=1)


def default_folder() -> Path:
    """``fixtures/audio`` of the checkout or of the installed package."""
    return data_dir("fixtures") / "audio"


def _entry(path: Path, fmt: str, kind: str, segment: Any) -> dict[str, Any]:
    data = path.read_bytes()
    samples = int(segment.frame_count())
    return {
        "file": path.name,
        "format": fmt,
        "kind": kind,
        "duration": round(samples / segment.frame_rate, 6),
        "samples": samples,
        "sample_rate": int(segment.frame_rate),
        "channels": int(segment.channels),
        "content_type": CONTENT_TYPES[fmt],
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def generate(folder: Path) -> list[AudioFixture]:
    """Write every fixture and ``manifest.json`` into ``folder``; return the entries."""
    pydub_segment()  # sets the converter before any export
    folder.mkdir(parents=True, exist_ok=True)
    signals = {
        "tone-440hz": ("tone", tone_samples()),
        "speech-like": ("speech", speech_like_samples()),
    }
    entries = []
    for stem, (kind, segment) in signals.items():
        for fmt, options in _EXPORT.items():
            path = folder / f"{stem}.{fmt}"
            params = None if fmt == "wav" else _BITEXACT
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                segment.export(path, format=fmt, parameters=params, **options).close()
            entries.append(_entry(path, fmt, kind, segment))
    manifest = {
        "generator": "python -m qbtsuite.payloads.audio",
        "note": "duration = samples / sample_rate of the generated signal, before encoding",
        "files": entries,
    }
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
    )
    return load_manifest(folder)


def load_manifest(folder: Path | None = None) -> list[AudioFixture]:
    """The fixtures listed in ``folder``'s manifest (default: the shipped ones)."""
    folder = folder or default_folder()
    data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return [
        AudioFixture(**entry, path=folder / entry["file"]) for entry in data["files"]
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m qbtsuite.payloads.audio [--out DIR]``: regenerate the fixtures."""
    parser = argparse.ArgumentParser(
        prog="python -m qbtsuite.payloads.audio", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--out", type=Path, help="Folder to write (default: fixtures/audio)"
    )
    args = parser.parse_args(argv)
    generate(args.out or default_folder())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
