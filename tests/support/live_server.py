"""A real Patchbay (or any ASGI app) served on a loopback port from a thread, so a real browser
can reach it; and the product page that opens the connect page as a popup."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from patchbay.sandbox.server import free_port


class ThreadedServer:
    def __init__(self, app: Any, *, lifespan: str = "on", host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan=lifespan)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"server-{self.port}", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        # Without force_exit uvicorn waits for clients' idle keep-alive connections (a pooled
        # client of a finished test loop never closes them): ten seconds of nothing per server.
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout=10)


OPENER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Product settings</title></head>
<body>
<h1>Product settings</h1>
<button id="connect" type="button">Connect an account</button>
<p id="status">idle</p>
<script type="module">
  import {{ connect }} from "{patchbay}/connect/connect.js";
  document.getElementById("connect").addEventListener("click", () => {{
    connect({url}).then(
      (result) => {{ window.__result = result; document.getElementById("status").textContent = "connected"; }},
      (error) => {{ window.__error = String(error); document.getElementById("status").textContent = "closed"; }},
    );
  }});
</script>
</body></html>
"""


def product_app(patchbay_origin: str) -> Starlette:
    """The product's own site: a settings page that opens the connect popup, and where `next`
    lands."""

    async def opener(request: Request) -> HTMLResponse:
        import json

        url = json.dumps(request.query_params.get("url", ""))
        return HTMLResponse(OPENER_PAGE.format(patchbay=patchbay_origin, url=url))

    async def done(request: Request) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>Back in the product</title><h1>Back in the product</h1>")

    return Starlette(routes=[Route("/opener", opener), Route("/done", done)])
