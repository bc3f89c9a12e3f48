"""The plan of one load run: what traffic, at what load, for how long.

A :class:`Plan` is the resolved form of a profile (``load/profiles/*.toml``) after the
command-line overrides. ``qbtsuite load`` writes it as JSON and hands it to every Locust
process (master and workers), so all of them run the same timeline. It holds no keys:
those travel separately, by environment, and never reach a file.

The load is a list of :class:`Stage` s. A stage with ``rate`` is *open loop*: requests
are due at fixed instants (``rate`` per second across all processes) whether or not
earlier ones have been answered, so a slow target cannot slow the arrivals down
(no coordinated omission); ``users`` is then only the concurrency cap. A stage
without ``rate`` is *closed loop*: ``users`` each send, wait for the answer, think,
and send again.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from qbtsuite.loadtest.ratelimit.settings import RateLimitSettings

__all__ = [
    "ENDPOINTS",
    "USER_CLASSES",
    "ArrivalSchedule",
    "Plan",
    "RequestSettings",
    "Stage",
    "scale_stages",
]

# Endpoint name → (path under the base URL, streamed?). The names label every figure.
ENDPOINTS: dict[str, tuple[str, bool]] = {
    "chat_stream": ("/chat/completions", True),
    "chat": ("/chat/completions", False),
    "completions_stream": ("/completions", True),
    "completions": ("/completions", False),
    "embeddings": ("/embeddings", False),
    "images": ("/images/generations", False),
    "transcriptions": ("/audio/transcriptions", False),
}

# Plan.user → the Locust user class (load/qbtlocust/users.py) that sends it.
USER_CLASSES: dict[str, str] = {
    "chat_stream": "ChatStreamUser",
    "chat": "ChatUser",
    "completions_stream": "CompletionStreamUser",
    "completions": "CompletionUser",
    "embeddings": "EmbeddingsUser",
    "images": "ImagesUser",
    "transcriptions": "TranscriptionUser",
    "mixed": "MixedUser",
    "ratelimit": "RateLimitUser",  # the limiter scenario (Plan.ratelimit)
}


@dataclass(frozen=True, slots=True)
class Stage:
    """One segment of the timeline."""

    duration: float  # seconds
    users: int  # closed loop: concurrent users; open loop: concurrency cap
    rate: float | None = None  # arrivals per second (all processes), None = closed loop
    spawn_rate: float | None = None  # users started per second (None: all at once)


@dataclass(frozen=True, slots=True)
class RequestSettings:
    """What each endpoint is asked (tiny by default: the target is metered)."""

    text_model: str = "Llama-3.1-8B-Instruct"
    prompt: str = "Say hello in one short sentence."
    max_tokens: int = 16
    embedding_model: str = "bge-m3"
    embedding_input: str = "The quick brown fox jumps over the lazy dog."
    image_model: str = "stable-diffusion-xl-base-v10"
    image_size: str = "256x256"
    transcription_model: str = "whisper-large-v3-turbo"
    audio_file: str = "tone-440hz.wav"  # in fixtures/audio/, else a generated WAV


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a Locust process needs to run its share of the load."""

    profile: str
    base_url: str
    stages: tuple[Stage, ...]
    user: str = "chat_stream"  # an ENDPOINTS name, "mixed" or "ratelimit"
    mix: dict[str, float] = field(default_factory=dict)  # mixed: endpoint → weight
    description: str = ""
    warmup: float = 1.0  # seconds at the start excluded from every figure
    drain: float = 5.0  # after the last stage: wait this long for answers in flight
    think_time: tuple[float, float] = (0.0, 0.0)  # closed loop: pause between requests
    max_requests: int = 1000  # hard cap over the whole run (all processes)
    retries: int = 0  # client retries of a 429; off unless asked for
    retry_cap: float = 10.0  # longest Retry-After honoured, seconds
    timeout: float = 60.0  # per-request network timeout, seconds
    keys: tuple[str, ...] = ("main",)  # key roles; users take them in turn
    request: RequestSettings = field(default_factory=RequestSettings)
    ca: str | None = None  # CA bundle to trust (None: the system store)
    samples_path: str = "samples.jsonl"  # where the master writes every sample
    stop_path: str = ""  # --slo-abort: this file appearing ends the test early
    seed: int | None = None
    ratelimit: RateLimitSettings | None = None  # user "ratelimit" only

    @property
    def duration(self) -> float:
        """Seconds of the whole timeline (warm-up included, drain excluded)."""
        return sum(s.duration for s in self.stages)

    @property
    def open_loop(self) -> bool:
        return any(s.rate is not None for s in self.stages)

    @property
    def peak_users(self) -> int:
        return max((s.users for s in self.stages), default=0)

    def stage_at(self, elapsed: float) -> Stage | None:
        """The stage running ``elapsed`` seconds after the start (None once over)."""
        end = 0.0
        for stage in self.stages:
            end += stage.duration
            if elapsed < end:
                return stage
        return None

    def offered(self, start: float, end: float) -> float:
        """Requests due between ``start`` and ``end`` (seconds from t0), open loop."""
        return _cumulative(self.stages, end) - _cumulative(self.stages, start)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data: dict[str, Any] = json.loads(text)
        data["stages"] = tuple(Stage(**s) for s in data["stages"])
        data["request"] = RequestSettings(**data["request"])
        data["think_time"] = tuple(data["think_time"])
        data["keys"] = tuple(data["keys"])
        limiter = data.get("ratelimit")
        if limiter is not None:
            limiter["keys"] = tuple(limiter["keys"])
            limiter["witnesses"] = tuple(limiter["witnesses"])
            data["ratelimit"] = RateLimitSettings(**limiter)
        return cls(**data)

    def with_changes(self, **changes: Any) -> Plan:
        return replace(self, **changes)

    def truncated(self, at: float) -> Plan:
        """The plan of a run that ended ``at`` seconds after t0 (an aborted run):
        the stages cut there, so the window and the offered rate end there too."""
        stages, start = [], 0.0
        for stage in self.stages:
            if start >= at:
                break
            stages.append(replace(stage, duration=min(stage.duration, at - start)))
            start += stage.duration
        return replace(self, stages=tuple(stages)) if stages else self


def _cumulative(stages: tuple[Stage, ...], t: float) -> float:
    """Arrivals due in ``[0, t)`` under piecewise-constant rates."""
    total, start = 0.0, 0.0
    for stage in stages:
        span = min(max(t - start, 0.0), stage.duration)
        total += (stage.rate or 0.0) * span
        start += stage.duration
    return total


class ArrivalSchedule:
    """Due times of one process's share of an open-loop timeline.

    Arrival ``g`` (0, 1, 2, … across all processes) is due when the cumulative
    rate reaches ``g``. Process ``index`` of ``count`` takes arrivals
    ``index, index + count, …``, so processes interleave evenly and together offer
    exactly the planned rate. Due times never depend on when answers came back.
    """

    def __init__(self, stages: tuple[Stage, ...], index: int = 0, count: int = 1):
        if count < 1 or not 0 <= index < count:
            raise ValueError(f"bad process index {index} of {count}")
        self._stages = stages
        self._index = index
        self._count = count
        self._next = 0  # this process's next arrival number

    def due(self, k: int) -> float | None:
        """Seconds after t0 when this process's ``k``-th arrival is due (None: past the end)."""
        return self.time_of(k * self._count + self._index)

    def time_of(self, arrival: int) -> float | None:
        """Seconds after t0 at which the cumulative rate reaches ``arrival``."""
        remaining = float(arrival)
        start = 0.0
        for stage in self._stages:
            rate = stage.rate or 0.0
            capacity = rate * stage.duration
            if rate > 0 and remaining < capacity - 1e-9:
                return start + remaining / rate
            remaining -= capacity
            start += stage.duration
        return None

    def claim(self) -> float | None:
        """The next unclaimed due time of this process (None once the timeline ends)."""
        due = self.due(self._next)
        if due is not None:
            self._next += 1
        return due

    @property
    def claimed(self) -> int:
        return self._next


def scale_stages(
    stages: tuple[Stage, ...],
    *,
    users: int | None = None,
    rate: float | None = None,
    duration: float | None = None,
) -> tuple[Stage, ...]:
    """The stages with the peak users, peak rate or total duration changed.

    The shape is kept: every stage scales by the same factor, so a spike stays a
    spike. A new ``rate`` without new ``users`` scales the concurrency cap too
    (Little's law: concurrency = rate × latency).
    """
    peak_users = max((s.users for s in stages), default=1) or 1
    peak_rate = max((s.rate or 0.0 for s in stages), default=0.0)
    total = sum(s.duration for s in stages) or 1.0
    u = users / peak_users if users is not None else 1.0
    r = rate / peak_rate if rate is not None and peak_rate > 0 else 1.0
    if rate is not None and users is None:
        u = r
    d = duration / total if duration is not None else 1.0
    return tuple(
        Stage(
            duration=s.duration * d,
            users=max(1, math.ceil(s.users * u)),
            rate=None if s.rate is None else s.rate * r,
            spawn_rate=s.spawn_rate,
        )
        for s in stages
    )
