"""`python -m bench.webhook_receiver --port P`: the benchmark's webhook receiver, a separate process.

Answers every POST 200 at once and notes its webhook-id and how long after the event's `created_at`
(stamped by Patchbay just before the commit) it arrived. GET /stats hands the notes over; POST
/reset forgets them.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

notes: list[tuple[str, float]] = []


async def receive(request: Request) -> Response:
    arrived = time.time()
    body = await request.body()
    created = datetime.fromisoformat(orjson.loads(body)["created_at"].replace("Z", "+00:00")).timestamp()
    notes.append((request.headers.get("webhook-id", ""), arrived - created))
    return Response(status_code=200)


async def stats(_: Request) -> Response:
    data: dict[str, Any] = {"ids": [n[0] for n in notes], "latencies": [n[1] for n in notes]}
    return Response(orjson.dumps(data), media_type="application/json")


async def reset(_: Request) -> Response:
    notes.clear()
    return Response(status_code=204)


app = Starlette(
    routes=[
        Route("/hooks", receive, methods=["POST"]),
        Route("/stats", stats, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
