"""One probe per fault: a few requests that show the fault's deviation.

A probe returns a description of what it saw deviate, or None when the server behaved.
Each probe must return None on a clean server and something on the faulted one, so
the probe itself is proven able to tell the two apart.
"""

from __future__ import annotations

import base64
import io
import json
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image

from qbtsuite.target.embedded import ServerTarget
from tests.conftest import client_for as https_client

__all__ = ["PROBES", "Probe", "http_client", "https_client"]

Probe = Callable[[ServerTarget], str | None]
PROBES: dict[str, Probe] = {}
CHAT = "gpt-oss-20b"


def probe(*names: str) -> Callable[[Probe], Probe]:
    def register(fn: Probe) -> Probe:
        for name in names:
            PROBES[name] = fn
        return fn

    return register


def http_client(target: ServerTarget) -> httpx.Client:
    return httpx.Client(base_url=target.http_url + "/", timeout=30.0)


def _differs(label: str, got: Any, want: Any) -> str | None:
    return None if got == want else f"{label}: got {got!r}, expected {want!r}"


def _chat(client: httpx.Client, **extra: Any) -> httpx.Response:
    body = {"model": CHAT, "messages": [{"role": "user", "content": "hi"}], **extra}
    return client.post("chat/completions", json=body)


def _stream_bytes(
    client: httpx.Client, path: str, body: dict[str, Any]
) -> tuple[httpx.Response, bytes, list[float]]:
    arrivals: list[float] = []
    data = bytearray()
    with client.stream("POST", path, json=body) as response:
        for chunk in response.iter_raw():
            arrivals.append(time.perf_counter())
            data.extend(chunk)
    return response, bytes(data), arrivals


def _events(raw: bytes) -> list[str]:
    return [block for block in raw.decode().split("\n\n") if block.strip()]


# --- auth -----------------------------------------------------------------------


@probe("auth.forbidden_instead_of_401")
def _unknown_key_status(t: ServerTarget) -> str | None:
    with https_client(t, None) as c:
        r = c.get("models", headers={"Authorization": "Bearer qbt_unknown_0000"})
    return _differs("status for an unknown key", r.status_code, 401)


@probe("auth.query_key_accepted")
def _query_key(t: ServerTarget) -> str | None:
    with https_client(t, None) as c:
        r = c.get("models", params={"api_key": t.keys["main"]})
    return _differs("status with the key in the query", r.status_code, 401)


@probe("auth.any_scheme_accepted")
def _wrong_scheme(t: ServerTarget) -> str | None:
    with https_client(t, None) as c:
        r = c.get("models", headers={"Authorization": f"Token {t.keys['main']}"})
    return _differs("status with scheme Token", r.status_code, 401)


@probe("auth.missing_key_is_guest")
def _missing_key(t: ServerTarget) -> str | None:
    with https_client(t, None) as c:
        r = c.get("models")
    return _differs("status without a key", r.status_code, 401)


@probe("auth.key_echoed_in_401")
def _key_echoed_in_401(t: ServerTarget) -> str | None:
    canary = "qbt_canary_probe_5f1e2d3c4b5a"
    with https_client(t, None) as c:
        r = c.get("models", headers={"Authorization": f"Bearer {canary}"})
    return "the 401 quotes the presented token" if canary in r.text else None


@probe("auth.echo_key_encoded")
def _key_echo(t: ServerTarget) -> str | None:
    key = t.keys["main"]
    wanted = {
        "base64": base64.b64encode(f"Bearer {key}".encode()).decode(),
        "percent": "".join(f"%{b:02X}" for b in key.encode()),
        "hex": key.encode().hex(),
    }
    with https_client(t, None) as c:
        served = c.get("models", headers={"Authorization": f"Bearer {key}"})
        refused = c.get("models", headers={"Authorization": "Bearer qbt_unknown_0000"})
    echoed = " ".join(v for _, v in served.headers.multi_items())
    seen = [name for name, form in wanted.items() if form in echoed]
    if b"qbt_unknown_0000".hex() in refused.text:
        seen.append("hex in the 401 message")
    return f"the key echoed as {', '.join(seen)}" if seen else None


# --- errors ---------------------------------------------------------------------


@probe("errors.should_retry_on_client_errors")
def _retry_hint(t: ServerTarget) -> str | None:
    with https_client(t, None) as c:
        r = c.get("models")
    return _differs("x-should-retry on a 401", r.headers.get("x-should-retry"), None)


def _error_of(r: httpx.Response) -> Any:
    try:
        return r.json().get("error")
    except ValueError:
        return None


@probe("errors.plain_text_401", "errors.string_error", "errors.fastapi_detail")
def _envelope_on_401(t: ServerTarget) -> str | None:
    with https_client(t, None) as c:
        r = c.get("models")
    error = _error_of(r)
    return None if isinstance(error, dict) else f"401 body is {r.text[:80]!r}"


@probe(
    "errors.envelope_without_code", "errors.no_param_field", "errors.wrong_error_type"
)
def _envelope_fields(t: ServerTarget) -> str | None:
    with https_client(t, None) as c:
        error = _error_of(c.get("models")) or {}
    want: dict[str, type[object]] = {
        "message": str,
        "type": str,
        "param": type(None),
        "code": str,
    }
    wrong = [k for k, kind in want.items() if not isinstance(error.get(k, ...), kind)]
    if error.get("type") != "invalid_request_error":
        wrong.append("type value")
    return f"envelope fields wrong: {wrong}" if wrong else None


@probe("errors.html_not_found")
def _html_404(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        r = c.get("no/such/path")
    return None if isinstance(_error_of(r), dict) else "404 is not in the envelope"


@probe("errors.validation_as_500", "chat.messages_not_validated")
def _missing_messages(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        r = c.post("chat/completions", json={"model": CHAT})
    return _differs("status for missing messages", r.status_code, 400)


@probe("errors.model_not_found_as_404")
def _unknown_model(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        r = c.post("embeddings", json={"model": "no-such-model", "input": "x"})
    return _differs("status for an unknown model", r.status_code, 400)


# --- models ---------------------------------------------------------------------


@probe("models.listing_omits_model", "models.listing_wrong_shape")
def _listing(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        body = c.get("models").json()
    ids = {m.get("id") for m in body["data"]}
    if "bge-m3" not in ids:
        return "bge-m3 missing from the listing"
    if body.get("object") != "list" or any("owned_by" not in m for m in body["data"]):
        return "listing shape wrong"
    return None


@probe("models.category_not_enforced")
def _wrong_category(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        r = c.post("embeddings", json={"model": CHAT, "input": "x"})
    return _differs("status for a chat model on embeddings", r.status_code, 400)


# --- completions and chat --------------------------------------------------------


def _completion(t: ServerTarget, **extra: Any) -> dict[str, Any]:
    with https_client(t) as c:
        body = {"model": CHAT, "prompt": "The capital of Canada is", **extra}
        result: dict[str, Any] = c.post("completions", json=body).json()
    return result


@probe("completions.max_tokens_ignored")
def _max_tokens(t: ServerTarget) -> str | None:
    usage = _completion(t, max_tokens=2)["usage"]
    return (
        None
        if usage["completion_tokens"] <= 2
        else f"usage {usage} exceeds max_tokens 2"
    )


@probe("completions.stop_ignored")
def _stop(t: ServerTarget) -> str | None:
    full = _completion(t, max_tokens=64)["choices"][0]["text"]
    word = full.split()[2]
    text = _completion(t, max_tokens=64, stop=[word])["choices"][0]["text"]
    return f"text {text!r} contains stop {word!r}" if word in text else None


@probe("completions.prompt_array_first_only")
def _prompt_array(t: ServerTarget) -> str | None:
    choices = _completion(t, prompt=["One", "Two"], max_tokens=2)["choices"]
    return _differs("choices for two prompts", len(choices), 2)


@probe("completions.n_ignored")
def _completion_n(t: ServerTarget) -> str | None:
    return _differs("choices for n=2", len(_completion(t, n=2)["choices"]), 2)


@probe("chat.max_completion_tokens_ignored")
def _max_completion_tokens(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        usage = _chat(c, max_completion_tokens=2).json()["usage"]
    tokens = usage["completion_tokens"]
    return None if tokens <= 2 else f"{tokens} completion tokens for a cap of 2"


@probe("completions.wrong_object")
def _completion_object(t: ServerTarget) -> str | None:
    return _differs("object", _completion(t, max_tokens=2)["object"], "text_completion")


@probe("chat.n_ignored")
def _chat_n(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        choices = _chat(c, n=3, max_tokens=2).json()["choices"]
    return _differs("number of choices", len(choices), 3)


@probe("chat.message_without_role", "chat.finish_reason_missing")
def _chat_shape(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        choice = _chat(c, max_tokens=2).json()["choices"][0]
    if choice["message"].get("role") != "assistant":
        return "message.role missing"
    return None if choice.get("finish_reason") else "finish_reason is null"


# --- streaming ------------------------------------------------------------------


def _chat_stream(
    t: ServerTarget, **extra: Any
) -> tuple[httpx.Response, bytes, list[float]]:
    body = {
        "model": CHAT,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    with https_client(t) as c:
        return _stream_bytes(c, "chat/completions", {**body, **extra})


@probe("streaming.no_done", "streaming.double_done")
def _done(t: ServerTarget) -> str | None:
    _, raw, _ = _chat_stream(t, max_tokens=3)
    return _differs("[DONE] events", raw.count(b"data: [DONE]"), 1)


@probe("streaming.split_data_lines", "streaming.ping_events")
def _framing(t: ServerTarget) -> str | None:
    _, raw, _ = _chat_stream(t, max_tokens=3)
    bad = [e for e in _events(raw) if not (e.startswith("data: ") and "\n" not in e)]
    return f"non data-only single-line events: {bad[:1]!r}" if bad else None


@probe("streaming.wrong_content_type")
def _stream_type(t: ServerTarget) -> str | None:
    response, _, _ = _chat_stream(t, max_tokens=3)
    ctype = response.headers.get("content-type", "").split(";")[0]
    return _differs("stream content type", ctype, "text/event-stream")


@probe("streaming.buffered")
def _incremental(t: ServerTarget) -> str | None:
    # The session servers run with --itl 0.05, so 10 tokens span about half a second.
    _, _, arrivals = _chat_stream(t, max_tokens=10)
    spread = arrivals[-1] - arrivals[0]
    return None if spread > 0.2 else f"all bytes arrived within {spread:.3f} s"


def _chunks(raw: bytes) -> list[dict[str, Any]]:
    out = []
    for event in _events(raw):
        data = "".join(
            line[6:] for line in event.split("\n") if line.startswith("data: ")
        )
        if data and data != "[DONE]":
            out.append(json.loads(data))
    return out


@probe("streaming.include_usage_ignored", "metering.stream_usage_overcounts")
def _usage_chunk(t: ServerTarget) -> str | None:
    _, raw, _ = _chat_stream(t, max_tokens=4, stream_options={"include_usage": True})
    chunks = _chunks(raw)
    finals = [c for c in chunks if c.get("usage")]
    if len(finals) != 1:
        return f"{len(finals)} usage chunks"
    streamed = sum(
        1 for c in chunks for ch in c["choices"] if ch["delta"].get("content")
    )
    return _differs(
        "completion_tokens vs streamed",
        finals[0]["usage"]["completion_tokens"],
        streamed,
    )


@probe("streaming.id_changes", "streaming.finish_reason_early")
def _chunk_identity(t: ServerTarget) -> str | None:
    _, raw, _ = _chat_stream(t, max_tokens=4)
    chunks = _chunks(raw)
    if len({c["id"] for c in chunks}) != 1:
        return "ids differ between chunks"
    reasons = [ch["finish_reason"] for c in chunks for ch in c["choices"]]
    return (
        None if all(r is None for r in reasons[:-1]) else "finish_reason before the end"
    )


def _finishes(raw: bytes) -> dict[int, Any]:
    """The finish_reason of each choice's last chunk."""
    out: dict[int, Any] = {}
    for chunk in _chunks(raw):
        for choice in chunk.get("choices", []):
            out[choice["index"]] = choice["finish_reason"]
    return out


@probe("streaming.finish_stop_when_cut")
def _stream_cut_reason(t: ServerTarget) -> str | None:
    _, raw, _ = _chat_stream(t, max_tokens=1)
    finishes = _finishes(raw)
    return _differs("finish_reason of a stream cut short", finishes, {0: "length"})


@probe("streaming.finish_length_on_stop")
def _stream_natural_reason(t: ServerTarget) -> str | None:
    _, raw, _ = _chat_stream(t)
    return _differs("finish_reason of a stream that ended", _finishes(raw), {0: "stop"})


@probe("completions.finish_length_on_stop")
def _whole_natural_reason(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        reason = _chat(c).json()["choices"][0]["finish_reason"]
    return _differs("finish_reason of a reply that ended", reason, "stop")


@probe("streaming.n_choice_unfinished")
def _stream_n_finishes(t: ServerTarget) -> str | None:
    _, raw, _ = _chat_stream(t, max_tokens=2, n=2)
    finishes = _finishes(raw)
    return _differs("finish_reason per choice", finishes, {0: "length", 1: "length"})


@probe("streaming.unasked_usage_chunk")
def _unasked_usage(t: ServerTarget) -> str | None:
    _, raw, _ = _chat_stream(t, max_tokens=2)
    extra = [c for c in _chunks(raw) if c.get("usage") or c.get("choices") == []]
    return f"{len(extra)} usage chunk(s) nobody asked for" if extra else None


# --- embeddings -----------------------------------------------------------------


def _embed(t: ServerTarget, **extra: Any) -> dict[str, Any]:
    with https_client(t) as c:
        body = {"model": "bge-m3", "input": ["one", "two", "three"], **extra}
        result: dict[str, Any] = c.post("embeddings", json=body).json()
    return result


@probe("embeddings.off_by_one_dimension")
def _dimension(t: ServerTarget) -> str | None:
    return _differs("bge-m3 width", len(_embed(t)["data"][0]["embedding"]), 1024)


@probe("embeddings.reversed_order")
def _order(t: ServerTarget) -> str | None:
    batch = [d["embedding"] for d in _embed(t)["data"]]
    alone = _embed(t, input="one")["data"][0]["embedding"]
    return None if batch[0] == alone else "first vector is not the first input's"


@probe("embeddings.base64_ignored")
def _base64(t: ServerTarget) -> str | None:
    value = _embed(t, encoding_format="base64")["data"][0]["embedding"]
    return None if isinstance(value, str) else "base64 request got a float array"


@probe("embeddings.dimensions_ignored")
def _dimensions(t: ServerTarget) -> str | None:
    body = _embed(t, model="Qwen3-Embedding-8B", dimensions=256)
    return _differs("width with dimensions=256", len(body["data"][0]["embedding"]), 256)


@probe("metering.embedding_batch_undercounted")
def _batch_tokens(t: ServerTarget) -> str | None:
    batch = _embed(t)["usage"]["prompt_tokens"]
    singles = sum(
        _embed(t, input=text)["usage"]["prompt_tokens"]
        for text in ("one", "two", "three")
    )
    return _differs("batch prompt_tokens", batch, singles)


@probe("metering.embedding_output_tokens")
def _embedding_usage(t: ServerTarget) -> str | None:
    usage = _embed(t)["usage"]
    return _differs("total_tokens", usage["total_tokens"], usage["prompt_tokens"])


# --- images ---------------------------------------------------------------------


def _images(t: ServerTarget, **extra: Any) -> dict[str, Any]:
    with https_client(t) as c:
        body = {
            "model": "stable-diffusion-xl-base-v10",
            "prompt": "a red apple",
            **extra,
        }
        result: dict[str, Any] = c.post("images/generations", json=body).json()
    return result


def _decode(item: dict[str, Any]) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))


@probe("images.size_ignored", "images.output_format_ignored")
def _image_size_format(t: ServerTarget) -> str | None:
    image = _decode(_images(t, size="256x256", output_format="jpeg")["data"][0])
    return _differs("size and format", (image.size, image.format), ((256, 256), "JPEG"))


@probe("images.n_ignored")
def _image_count(t: ServerTarget) -> str | None:
    return _differs("images", len(_images(t, n=2, size="256x256")["data"]), 2)


@probe("images.dead_urls")
def _image_url(t: ServerTarget) -> str | None:
    url = _images(t, size="256x256", response_format="url")["data"][0]["url"]
    with https_client(t, None) as c:
        status = c.get(url).status_code
    return _differs("status fetching the url", status, 200)


@probe("images.unfetchable_url")
def _image_url_host(t: ServerTarget) -> str | None:
    """The default answer is b64_json, and a url is on the server's own host."""
    default = _images(t, size="256x256")["data"][0]
    if default.get("b64_json") is None:
        return f"default answer without b64_json: {default}"
    url = _images(t, size="256x256", response_format="url")["data"][0]["url"]
    return _differs("url host", urlsplit(url).hostname, "127.0.0.1")


# --- https ----------------------------------------------------------------------


@probe("https.plain_http_served", "https.redirect_302", "https.redirect_to_root")
def _redirect(t: ServerTarget) -> str | None:
    with http_client(t) as c:
        r = c.post("chat/completions?x=1", json={})
    location = r.headers.get("location", "")
    expected = t.https_url + "/chat/completions?x=1"
    return _differs("redirect", (r.status_code, location), (308, expected))


@probe("https.http_checks_key")
def _http_with_key(t: ServerTarget) -> str | None:
    with http_client(t) as c:
        r = c.get("models", headers={"Authorization": "Bearer qbt_canary_probe"})
    return _differs("status over HTTP with a canary key", r.status_code, 308)


@probe("https.no_hsts")
def _hsts(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        value = c.get("models").headers.get("strict-transport-security")
    return None if value else "no Strict-Transport-Security"


# --- metering -------------------------------------------------------------------


@probe("metering.total_not_sum", "metering.usage_missing")
def _usage(t: ServerTarget) -> str | None:
    usage = _completion(t, max_tokens=3).get("usage")
    if not usage:
        return "no usage"
    return _differs(
        "total",
        usage["total_tokens"],
        usage["prompt_tokens"] + usage["completion_tokens"],
    )


@probe("metering.zero_balance_served")
def _zero_balance(t: ServerTarget) -> str | None:
    with https_client(t, "zero_balance") as c:
        r = _chat(c, max_tokens=2)
    return _differs("status for a zero-balance key", r.status_code, 402)


# --- rate limits (session servers use --rate-window 2; low_limit admits 30) ------


def _burst(c: httpx.Client, count: int) -> list[httpx.Response]:
    return [c.get("models") for _ in range(count)]


@probe("rate.limit_doubled")
def _limit(t: ServerTarget) -> str | None:
    with https_client(t, "low_limit") as c:
        statuses = [r.status_code for r in _burst(c, 31)]
    return _differs("31st request", statuses[-1], 429)


@probe("rate.per_ip")
def _isolation(t: ServerTarget) -> str | None:
    with https_client(t, "low_limit") as c:
        _burst(c, 31)
    with https_client(t, "second") as c:
        return _differs(
            "another key after saturation", c.get("models").status_code, 200
        )


@probe(
    "rate.no_retry_after",
    "rate.retry_after_http_date",
    "rate.retry_after_float",
    "rate.retry_after_too_long",
    "rate.retry_after_in_milliseconds",
)
def _retry_after_format(t: ServerTarget) -> str | None:
    with https_client(t, "low_limit") as c:
        value = _burst(c, 31)[-1].headers.get("retry-after", "")
    if not value.isdigit():
        return f"Retry-After {value!r} is not integer seconds"
    return (
        None
        if 1 <= int(value) <= math.ceil(t.rate_window)
        else f"Retry-After {value} > window"
    )


@probe("rate.retry_after_too_short", "rate.never_clears")
def _retry_after_honest(t: ServerTarget) -> str | None:
    with https_client(t, "low_limit") as c:
        wait = int(_burst(c, 31)[-1].headers["retry-after"])
        time.sleep(wait + 0.05)
        return _differs(
            "status after waiting Retry-After", c.get("models").status_code, 200
        )


@probe("rate.throttle_everything")
def _main_key_throttled(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        r = c.get("models")
    return _differs("status of the main key's model listing", r.status_code, 200)


@probe("rate.fixed_window_burst")
def _boundary_burst(t: ServerTarget) -> str | None:
    window = t.rate_window
    while time.time() % window < window - 0.6:  # just before a calendar boundary
        time.sleep(0.02)
    with https_client(t, "low_limit") as c:
        first = _burst(c, 30)
        while time.time() % window > window - 0.6:
            time.sleep(0.01)
        second = _burst(c, 30)
    admitted = sum(r.status_code == 200 for r in first + second)
    return None if admitted <= 30 else f"{admitted} admitted within one window's length"


# --- transcriptions and uploads --------------------------------------------------

_AUDIO = "tone-440hz.wav"


def _audio_bytes() -> bytes:
    from qbtsuite.resources import data_dir

    return (data_dir("fixtures") / "audio" / _AUDIO).read_bytes()


def _transcribe(t: ServerTarget, **fields: str) -> httpx.Response:
    with https_client(t) as c:
        files = {"file": (_AUDIO, _audio_bytes(), "audio/wav")}
        data = {"model": "whisper-large-v3-turbo", **fields}
        return c.post("audio/transcriptions", files=files, data=data)


@probe("transcriptions.text_as_json")
def _text_format(t: ServerTarget) -> str | None:
    r = _transcribe(t, response_format="text")
    ctype = r.headers.get("content-type", "").split(";")[0]
    return _differs("text format content type", ctype, "text/plain")


@probe("transcriptions.duration_10x")
def _duration(t: ServerTarget) -> str | None:
    duration = _transcribe(t, response_format="verbose_json").json()["duration"]
    return (
        None if abs(duration - 2.0) < 0.5 else f"duration {duration} for a 2.0 s file"
    )


@probe("transcriptions.segments_past_end")
def _segments(t: ServerTarget) -> str | None:
    body = _transcribe(t, response_format="verbose_json").json()
    ends = [segment["end"] for segment in body["segments"]]
    late = [end for end in ends if end > body["duration"] + 0.5]
    return f"segments end at {late} in {body['duration']} s of audio" if late else None


@probe("transcriptions.language_missing")
def _language(t: ServerTarget) -> str | None:
    body = _transcribe(t).json()
    return None if isinstance(body.get("language"), str) else "json has no language"


@probe("transcriptions.json_body_accepted")
def _not_multipart(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        r = c.post("audio/transcriptions", json={"model": "whisper-large-v3-turbo"})
    return _differs("status for a JSON body", r.status_code, 400)


@probe("transcriptions.non_audio_forbidden")
def _non_audio(t: ServerTarget) -> str | None:
    with https_client(t) as c:
        files = {"file": ("noise.wav", bytes(range(256)) * 32, "audio/wav")}
        data = {"model": "whisper-large-v3-turbo"}
        r = c.post("audio/transcriptions", files=files, data=data)
    return _differs("status for a file that is not audio", r.status_code, 400)


def _oversize_chunks(total: int) -> Any:
    block = b"\0" * 65536
    sent = 0
    while sent < total:
        piece = block[: min(len(block), total - sent)]
        sent += len(piece)
        yield piece


@probe("uploads.waf_blocks_large_bodies")
def _large_body_within_cap(t: ServerTarget) -> str | None:
    total = 12_000_000  # within the cap, over the WAF's 10 MB rule
    headers = {
        "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(total),
    }
    with https_client(t) as c:
        r = c.post(
            "audio/transcriptions", content=_oversize_chunks(total), headers=headers
        )
    return "a 12 MB body answered 403" if r.status_code == 403 else None


@probe("uploads.no_cap", "uploads.cap_as_400")
def _over_cap(t: ServerTarget) -> str | None:
    total = t.upload_cap + 1
    headers = {
        "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(total),
    }
    with https_client(t) as c:
        r = c.post(
            "audio/transcriptions", content=_oversize_chunks(total), headers=headers
        )
    return _differs("status one byte over the cap", r.status_code, 413)


@probe("uploads.read_before_413")
def _early_413(t: ServerTarget) -> str | None:
    import socket
    import ssl
    from urllib.parse import urlsplit

    url = urlsplit(t.https_url)
    assert url.hostname is not None and url.port is not None
    context = ssl.create_default_context(cafile=t.ca)
    request = (
        f"POST {url.path}/audio/transcriptions HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {t.keys['main']}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {t.upload_cap + 1}\r\n\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=url.hostname) as sock:
            sock.sendall(request)  # headers only: the body is never sent
            sock.settimeout(2.0)
            try:
                head = sock.recv(64)
            except TimeoutError:
                return "no answer before the body was sent"
    return None if head.startswith(b"HTTP/1.1 413") else f"answered {head[:20]!r}"


@probe("streaming.bare_error_event")
def _mid_stream_error(t: ServerTarget) -> str | None:
    body = {
        "model": CHAT,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    with https_client(t) as c:
        c.headers["X-Qbtsuite-Simulate"] = "stream_error"
        _, raw, _ = _stream_bytes(c, "chat/completions", body)
    errors = [chunk["error"] for chunk in _chunks(raw) if "error" in chunk]
    if not errors:
        return "no error event"
    return None if isinstance(errors[0], dict) else f"error event is {errors[0]!r}"
