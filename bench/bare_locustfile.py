"""The floor for ``load_capacity.py``: a bare ``FastHttpUser`` posting one fixed request.

It sends the request our ``ChatUser`` sends (the same path, body bytes and headers, one
TLS context trusting only the server's CA, no client retries, no think time) and keeps
nothing but Locust's own statistics: no samples, no checks of the answer, no hooks.
Its CPU time per request is what Locust itself costs; ours is measured against it.

Started by ``load_capacity.py`` with the request in the environment (the key never on a
command line): ``QBT_BENCH_URL`` (base URL), ``QBT_BENCH_PATH``, ``QBT_BENCH_BODY``
(the body, text), ``QBT_BENCH_CA`` (CA file) and ``QBT_BENCH_KEY``.
"""

from __future__ import annotations

# isort: off
import locust  # noqa: F401  first: it monkey-patches the standard library for gevent

# isort: on

import os
import ssl
from typing import Any, cast

import gevent.ssl
from locust import FastHttpUser, constant, task

_PATH = os.environ.get("QBT_BENCH_PATH", "/chat/completions")
_BODY = os.environ.get("QBT_BENCH_BODY", "").encode()
_HEADERS = {
    "Authorization": f"Bearer {os.environ.get('QBT_BENCH_KEY', '')}",
    "Content-Type": "application/json",
    "Accept": "application/json",
    "Accept-Encoding": "identity",
}
_CONTEXT: ssl.SSLContext = gevent.ssl.create_default_context(
    cafile=os.environ.get("QBT_BENCH_CA") or None
)


def _context(**_ignored: Any) -> ssl.SSLContext:
    return _CONTEXT


class BareChatUser(FastHttpUser):
    host = os.environ.get("QBT_BENCH_URL")
    wait_time = constant(0)
    max_retries = 0
    insecure = False
    network_timeout = 10.0
    connection_timeout = 10.0
    ssl_context_factory = staticmethod(_context)

    @task
    def chat(self) -> None:
        # bytes are sent as they are (as ChatUser sends its prepared body)
        self.client.post(_PATH, data=cast(Any, _BODY), headers=_HEADERS, name="chat")
