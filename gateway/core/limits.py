"""A limit on request bodies, for every route: a body over `MAX_REQUEST_BYTES` (64 KiB unless set)
gets 413 before any route reads it, whether it declares its length or streams it in chunks.

Every legitimate body here is small: a Telegram update, a Meta webhook, a Twilio form, a chat
message (the widget's own limit is 1,000 characters), a booking. The whole body is read (up to the
limit) before the route runs, so a route never sees half a body.
"""

from __future__ import annotations

import json

DEFAULT_MAX_REQUEST_BYTES = 64 * 1024


class BodySizeLimit:
    """Pure ASGI middleware: 413 for bodies over the limit, 400 for a malformed Content-Length."""

    def __init__(self, app, max_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await self._reject(send, 400, "Content-Length is not a number")
                return
            if length > self.max_bytes:
                await self._reject(send, 413, self._too_large())
                return
        chunks, total, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_bytes:
                await self._reject(send, 413, self._too_large())
                return
            chunks.append(body)
            more = message.get("more_body", False)
        whole, delivered = b"".join(chunks), False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"the request body is over {self.max_bytes} bytes"

    @staticmethod
    async def _reject(send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
