"""A bare aiohttp JSON echo server, the ceiling beside ``casebot serve`` in ``bench_web``.

Run ``python -m benchmarks.echo_server --port P``: on 127.0.0.1:P, ``POST /echo`` answers 200
with the JSON object it got, ``GET /healthz`` answers ``{"status": "ok"}``. It parses and
re-serialises the body (as the chat API does) but does nothing else: no access log, no database.
With ``--reuse-port`` several of them share the port (``SO_REUSEPORT``, as the workers of
``casebot serve --workers N`` do): the ceiling of N processes, for ``bench_workers``.
"""

from __future__ import annotations

import argparse
import json

from aiohttp import web


async def echo(request: web.Request) -> web.Response:
    body = json.loads(await request.read())
    return web.json_response(body)


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser(description="a bare aiohttp JSON echo server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--reuse-port", action="store_true", help="share the port (SO_REUSEPORT)")
    args = parser.parse_args()
    app = web.Application()
    app.router.add_post("/echo", echo)
    app.router.add_get("/healthz", healthz)
    web.run_app(
        app,
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
        reuse_port=args.reuse_port or None,
    )


if __name__ == "__main__":
    main()
