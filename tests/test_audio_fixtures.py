"""The committed audio fixtures match their manifest, and the generator reproduces them.

Durations are read back with pydub (ffmpeg from imageio-ffmpeg, decoder named, so no
ffprobe), independently of the reference server's own reader.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from qbtsuite.payloads.audio import (
    CONTENT_TYPES,
    SAMPLE_RATE,
    AudioFixture,
    default_folder,
    generate,
    load_manifest,
    pydub_segment,
)

FIXTURES = load_manifest()
DECODERS = {"wav": "pcm_s16le", "mp3": "mp3", "flac": "flac", "ogg": "vorbis"}


def _read_back(path: Path, fmt: str) -> tuple[float, int, int]:
    """(duration, channels, frame rate) of ``path`` as pydub decodes it."""
    segment = pydub_segment().from_file(str(path), format=fmt, codec=DECODERS[fmt])
    return (
        segment.frame_count() / segment.frame_rate,
        segment.channels,
        segment.frame_rate,
    )


def test_manifest_lists_exactly_the_audio_files_in_the_folder() -> None:
    on_disk = {p.name for p in default_folder().iterdir() if p.name != "manifest.json"}
    assert {f.file for f in FIXTURES} == on_disk


def test_each_kind_comes_in_wav_mp3_flac_and_ogg() -> None:
    kinds = {f.kind for f in FIXTURES}
    assert kinds == {"tone", "speech"}
    for kind in kinds:
        formats = sorted(f.format for f in FIXTURES if f.kind == kind)
        assert formats == sorted(CONTENT_TYPES), f"{kind}: {formats}"


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.file)
def test_file_matches_its_manifest_entry(fixture: AudioFixture) -> None:
    data = fixture.path.read_bytes()
    assert len(data) == fixture.bytes
    assert hashlib.sha256(data).hexdigest() == fixture.sha256
    assert fixture.path.suffix == "." + fixture.format
    assert fixture.content_type == CONTENT_TYPES[fixture.format]
    assert fixture.duration == pytest.approx(fixture.samples / fixture.sample_rate)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.file)
def test_duration_read_back_is_within_50_ms_of_the_manifest(
    fixture: AudioFixture,
) -> None:
    duration, channels, rate = _read_back(fixture.path, fixture.format)
    assert abs(duration - fixture.duration) <= 0.05, (
        f"Received: {duration:.4f} s / Expected: {fixture.duration} s ± 0.05"
    )
    assert (channels, rate) == (1, SAMPLE_RATE)


def test_fixtures_are_short_and_the_folder_stays_under_1_mb() -> None:
    assert all(1.5 <= f.duration <= 3.5 for f in FIXTURES)
    assert sum(f.bytes for f in FIXTURES) < 1_000_000


def test_generator_reproduces_the_committed_samples(tmp_path: Path) -> None:
    regenerated = {f.file: f for f in generate(tmp_path)}
    assert set(regenerated) == {f.file for f in FIXTURES}
    for fixture in FIXTURES:
        again = regenerated[fixture.file]
        assert (again.samples, again.kind, again.format) == (
            fixture.samples,
            fixture.kind,
            fixture.format,
        )
        if fixture.format in ("wav", "flac"):  # lossless: the very same audio
            assert _pcm(again.path, fixture.format) == _pcm(
                fixture.path, fixture.format
            )


def _pcm(path: Path, fmt: str) -> bytes:
    segment = pydub_segment().from_file(str(path), format=fmt, codec=DECODERS[fmt])
    raw: bytes = segment.raw_data
    return raw
