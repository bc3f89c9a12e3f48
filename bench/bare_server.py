"""The baseline for the benchmark: a bare Starlette JSON endpoint under the server's uvicorn settings.

It runs in its own process with exactly the uvicorn configuration of the reference
server's HTTPS listener (``runner.https_config``: uvloop, httptools, access log off,
the HSTS default header; the loop made by ``runner.event_loop_factory``) and the
same kind of TLS certificate (``tls.make_tls_files``: a trustme CA and a loopback leaf), so the
only difference to ``qbtsuite serve`` is the application itself.

Usage: ``python bench/bare_server.py STATE_DIR`` — writes ``STATE_DIR/bare.json``
(``origin``, ``ca``, ``pid``) once it listens, then serves until terminated.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import numpy as np
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from qbtsuite.server.listeners import (
    _tune_gc,
    bind,
    event_loop_factory,
    https_config,
)
from qbtsuite.server.settings import ServerSettings
from qbtsuite.server.tls import make_tls_files

__all__ = ["bare_app", "main"]


async def _fixed(request: Request) -> JSONResponse:
    return JSONResponse({"object": "bench", "ok": True})


def _large_body() -> bytes:
    """An embeddings-shaped reply (1024 float32 values), serialised once."""
    vector = np.random.default_rng(0).standard_normal(1024, dtype=np.float32)
    vector /= np.linalg.norm(vector)
    item = {"object": "embedding", "embedding": vector, "index": 0}
    usage = {"prompt_tokens": 9, "total_tokens": 9}
    reply = {"object": "list", "data": [item], "model": "bge-m3", "usage": usage}
    return orjson.dumps(reply, option=orjson.OPT_SERIALIZE_NUMPY)


def bare_app() -> Starlette:
    """``/bare``: a small fixed JSON object, built per request as apps usually do.

    ``/bare-large``: the same bytes as an embeddings reply, prepared once, to show
    what moving ~13 KB through TLS costs apart from any application work.
    """
    large = _large_body()

    async def _large(request: Request) -> Response:
        return Response(large, media_type="application/json")

    return Starlette(
        routes=[
            Route("/bare", _fixed, methods=["GET", "POST"]),
            Route("/bare-large", _large, methods=["GET", "POST"]),
        ]
    )


async def _serve(state_dir: Path) -> None:
    tls = make_tls_files(state_dir)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(https_config(bare_app(), tls, ServerSettings()))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    _tune_gc()  # the server process as ``runner.serve`` sets it up
    info = {
        "origin": f"https://127.0.0.1:{port}",
        "ca": str(tls.ca),
        "pid": os.getpid(),
    }
    tmp = state_dir / "bare.json.tmp"
    tmp.write_text(json.dumps(info), encoding="utf-8")
    tmp.replace(state_dir / "bare.json")
    await task


def main() -> None:
    try:  # the event loop exactly as ``runner.run`` creates it
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(_serve(Path(sys.argv[1])))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
