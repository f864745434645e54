"""The gateway's HTTP surface: security headers on every response, and a limit on requests per
client address.

`SecurityHeaders` sits outside everything (the 500 page, the 413 of `BodySizeLimit` and the 429
of `ClientRateLimit` included):

- `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
  `Cross-Origin-Opener-Policy: same-origin`, and a `Permissions-Policy` that lets only the
  gateway's own pages use the microphone (the widget's voice input) and nothing use the camera
  or the location;
- a route with no Content-Security-Policy of its own gets `frame-ancestors 'none'` (with
  `default-src 'none'` when the response is not an HTML page) and `X-Frame-Options: DENY`; a
  route with its own policy (the widget's demo page) keeps it, and gets `frame-ancestors 'none'`
  added only if it says nothing about framing;
- `Cache-Control: no-store` on every /api/ and /webhooks/ response: they carry patients' data;
- `Strict-Transport-Security` when the public address (PUBLIC_BASE_URL) is https;
- no `Server` header (uvicorn's own is turned off in `gateway/__main__.py`).

`ClientRateLimit` allows RATE_LIMIT_PER_IP_PER_MINUTE requests per client address per minute
(the same sliding window as the per-sender limit) to everything but /health and /webhooks/
(platforms prove themselves with signatures and send from a few shared addresses). The address
is the ASGI client: uvicorn replaces it with the X-Forwarded-For address only when the request
comes from a proxy in FORWARDED_ALLOW_IPS (127.0.0.1 unless set), so a proxy in front of the
gateway must set X-Forwarded-For and be listed there. IPv6 clients are counted per /64, which
one subscriber usually holds whole.
"""

from __future__ import annotations

import ipaddress
import json
import time

from starlette.datastructures import MutableHeaders

from gateway.channels.conversation import RateLimiter

PERMISSIONS_POLICY = "microphone=(self), camera=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"
NO_STORE_PREFIXES = ("/api/", "/webhooks/")
NOT_LIMITED_PREFIXES = ("/webhooks/",)
NOT_LIMITED_PATHS = frozenset({"/health", "/webhooks"})


class SecurityHeaders:
    """Pure ASGI middleware: the headers above on every HTTP response."""

    def __init__(self, app, *, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                self.add_headers(path, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def add_headers(self, path: str, headers: MutableHeaders) -> None:
        """Add the headers to one response's (mutable) headers."""
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        csp = headers.get("Content-Security-Policy")
        if csp is None:
            html = headers.get("Content-Type", "").startswith("text/html")
            # HTML without its own policy is FastAPI's /docs and /redoc (scripts from a CDN).
            headers["Content-Security-Policy"] = (
                "frame-ancestors 'none'" if html else "default-src 'none'; frame-ancestors 'none'"
            )
            headers.setdefault("X-Frame-Options", "DENY")
        elif "frame-ancestors" not in csp:
            headers["Content-Security-Policy"] = f"{csp.rstrip('; ')}; frame-ancestors 'none'"
        if path.startswith(NO_STORE_PREFIXES):
            headers["Cache-Control"] = "no-store"
        if self.https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        if "server" in headers:
            del headers["server"]


def client_key(scope) -> str:
    """The client's address; an IPv6 address as its /64."""
    client = scope.get("client")
    host = client[0] if client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class ClientRateLimit:
    """Pure ASGI middleware: 429 with Retry-After past `per_minute` requests from one address."""

    def __init__(self, app, per_minute: int) -> None:
        self.app = app
        self.limiter = RateLimiter(per_minute)

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path in NOT_LIMITED_PATHS
            or path.startswith(NOT_LIMITED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        key = client_key(scope)
        if self.limiter.allow(key, now):
            await self.app(scope, receive, send)
            return
        wait = self.limiter.retry_after(key, now)
        body = json.dumps(
            {"detail": f"too many requests from your address; try again in {wait} seconds"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(wait).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
