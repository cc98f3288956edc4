"""The floor for bench/bench_slack_acks.py: a bare slack-bolt app doing the least a Slack app can do.

AsyncApp on Bolt's own aiohttp adapter, signature checks on, `process_before_response=False` (like
GFI-boten): `/gfi` acks and opens a one-block modal; a `gfi_request` submission acks (closing the modal)
and posts a receipt DM to the submitter. No database, no pacing, no logging.

Run (the benchmark starts it):  python bench/bare_bolt.py --port 3001 --api-url http://127.0.0.1:PORT/api/
(SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET from the environment).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

RECEIPT = "Din GFI-förfrågan är registrerad (bare)."
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "gfi_request",
    "title": {"type": "plain_text", "text": "GFI"},
    "submit": {"type": "plain_text", "text": "Skicka"},
    "blocks": [{"type": "input", "block_id": "kort", "label": {"type": "plain_text", "text": "Kort"},
                "element": {"type": "plain_text_input", "action_id": "v"}}],
}


def build(api_url: str, token: str, secret: str) -> web.Application:
    """The bare app's aiohttp application (`POST /slack/events`, `GET /healthz`)."""
    app = AsyncApp(client=AsyncWebClient(token=token, base_url=api_url), signing_secret=secret,
                   process_before_response=False)

    @app.command("/gfi")
    async def command(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.view("gfi_request")
    async def submission(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel=body["user"]["id"], text=RECEIPT)

    web_app = app.web_app(path="/slack/events")

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    web_app.router.add_get("/healthz", healthz)
    return web_app


async def serve(port: int, api_url: str) -> None:
    runner = web.AppRunner(build(api_url, os.environ["SLACK_BOT_TOKEN"], os.environ["SLACK_SIGNING_SECRET"]),
                           access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.api_url))
