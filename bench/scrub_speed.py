"""How fast :func:`qbtsuite.redact.scrub` is: µs per KB of text, per kind of text.

    python bench/scrub_speed.py              # 4 secrets, as a run with every key role
    python bench/scrub_speed.py --secrets 8 --repeat 200

Every transcript, record, message and report file of a run passes through ``scrub``,
so its cost is paid per byte the suite writes. The texts: a 2 KB transcript with no
secret (the common case), a 64 KB JSON body with no secret, a 2 KB transcript holding
the main key in every encoding the hostile ``echo-auth`` mode sends, and a 64 KB body
with percent signs and ``\\u`` escapes but no secret (the mixed-form pattern's worst
common case). Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import time
from collections.abc import Callable

from qbtsuite import redact


def _encodings(value: str) -> list[str]:
    raw = value.encode()
    forms = [value, f"Bearer {value}"]
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for lead in (b"", b"#", b"##"):
            forms.append(encode(lead + b"Bearer " + raw + b";x").decode())
    forms.append("".join(f"%{b:02X}" for b in raw))
    forms.append("".join(f"%{b:02x}" for b in raw))
    forms.append("".join(f"\\u{ord(c):04x}" for c in value))
    forms.append(raw.hex())
    forms.append(raw.hex().upper())
    return forms


def _transcript(extra: str = "") -> str:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-oss-120b",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
    }
    head = (
        "> POST https://127.0.0.1:8443/v1/chat/completions\n"
        "> authorization: Bearer [REDACTED]\n> content-type: application/json\n>\n"
        '> {"model": "gpt-oss-120b", "messages": [{"role": "user", "content": "Hi"}]}\n'
        "\n< HTTP/1.1 200 OK\n< content-type: application/json\n<\n"
    )
    text = head + "< " + json.dumps(body) + "\n" + extra
    return (text * (2048 // len(text) + 1))[:2048] if not extra else text


def _time(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--secrets", type=int, default=4, help="secrets registered")
    parser.add_argument("--repeat", type=int, default=100, help="calls per timing")
    args = parser.parse_args()
    keys = ["qbt_" + secrets.token_urlsafe(24) for _ in range(args.secrets)]
    for key in keys:
        redact.register(key)
    echo = "\n".join(f"< x-echo-{i}: {f}" for i, f in enumerate(_encodings(keys[0])))
    body = json.dumps({"data": [{"embedding": [0.125] * 8000}]})[: 64 * 1024]
    escaped = ("50% off \\u00e9t\\u00e9 " * 4000)[: 64 * 1024]
    texts = {
        "2 KB transcript, no secret": _transcript(),
        "64 KB JSON body, no secret": body,
        "2 KB transcript, key in 17 encodings": _transcript(echo),
        "64 KB text with % and \\u, no secret": escaped,
    }
    print(f"redact.scrub with {args.secrets} secrets registered (best of 5)")
    for name, text in texts.items():
        seconds = _time(lambda t=text: redact.scrub(t), args.repeat)  # type: ignore[misc]
        kb = len(text.encode()) / 1024
        print(f"  {name:<40} {seconds * 1e6:9.1f} µs  {seconds * 1e6 / kb:8.2f} µs/KB")


if __name__ == "__main__":
    main()
