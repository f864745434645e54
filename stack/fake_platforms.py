"""A small fake of Telegram's Bot API, Meta's Graph API and Twilio's REST API on loopback: it
records what the gateway sends and answers like the real ones, and can be told to fail.

The tests run it in a thread (`start`); the benchmark runs it as its own process
(`python -m stack.fake_platforms PORT`) and asks `GET /_sent/{platform}/{recipient}` for the
messages sent to one chat.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class Call:
    """One request the gateway made to a platform."""

    platform: str
    path: str
    json: dict | None
    form: dict | None
    headers: dict


@dataclass
class FakePlatforms:
    """The fake server's state: the calls received, and how many next calls should fail."""

    calls: list[Call] = field(default_factory=list)
    by_recipient: dict[tuple[str, str], list[Call]] = field(default_factory=dict)
    fail_next: int = 0
    port: int = 0

    def of(self, platform: str) -> list[Call]:
        """The calls made to one platform, in order."""
        return [c for c in self.calls if c.platform == platform]

    @property
    def base(self) -> str:
        """The base URL to configure in the gateway."""
        return f"http://127.0.0.1:{self.port}"


def create_app(state: FakePlatforms) -> FastAPI:
    """The fake API: Telegram under /telegram, Meta under /graph, Twilio under /twilio."""
    app = FastAPI()

    async def record(platform: str, request: Request) -> JSONResponse | None:
        content_type = request.headers.get("content-type", "")
        body_json = await request.json() if "json" in content_type else None
        body_form = dict(await request.form()) if "form" in content_type else None
        if state.fail_next > 0:
            state.fail_next -= 1
            return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
        call = Call(platform, request.url.path, body_json, body_form, dict(request.headers))
        state.calls.append(call)
        state.by_recipient.setdefault((platform, recipient_of(call)), []).append(call)
        return None

    @app.post("/telegram/{path:path}")
    async def telegram(path: str, request: Request):
        return await record("telegram", request) or {"ok": True, "result": {"message_id": 1}}

    @app.post("/graph/{path:path}")
    async def graph(path: str, request: Request):
        return await record("whatsapp", request) or {"messages": [{"id": "wamid.fake"}]}

    @app.post("/twilio/{path:path}")
    async def twilio(path: str, request: Request):
        return await record("twilio", request) or JSONResponse({"sid": "SMfake"}, status_code=201)

    @app.get("/_sent/{platform}/{recipient}")
    async def sent(platform: str, recipient: str):
        """Every message the gateway sent to one recipient (a chat id, a wa_id, a number)."""
        calls = state.by_recipient.get((platform, recipient), [])
        return [{"path": c.path, "json": c.json, "form": c.form} for c in calls]

    return app


def recipient_of(call: Call) -> str:
    """Who a recorded message was for: Telegram's chat_id, Meta's `to`, Twilio's `To`."""
    body = call.json or call.form or {}
    return str(body.get("chat_id") or body.get("to") or body.get("To") or "")


def serve(app, port: int) -> uvicorn.Server:
    """Serve an ASGI app on loopback in a background thread until `server.should_exit` is set."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server on port {port} did not start")
        time.sleep(0.05)
    return server


def start(port: int) -> tuple[FakePlatforms, uvicorn.Server]:
    """Serve the fake platforms in a background thread until `server.should_exit` is set."""
    state = FakePlatforms(port=port)
    return state, serve(create_app(state), port)


if __name__ == "__main__":
    uvicorn.run(
        create_app(FakePlatforms(port=int(sys.argv[1]))),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
        ws="none",  # Rasa pins an older websockets than uvicorn's auto-detection expects
    )
