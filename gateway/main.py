"""The gateway application: `uvicorn gateway.main:app`, or `python -m gateway`."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from gateway.api.routes import consultations, health, slots, staff
from gateway.channels import telegram, twilio_messaging, twilio_voice, whatsapp, widget
from gateway.channels.conversation import Conversations
from gateway.core.config import gateway_settings
from gateway.core.limits import BodySizeLimit
from gateway.core.security import ClientRateLimit, SecurityHeaders


@asynccontextmanager
async def lifespan(app: FastAPI):
    """One HTTP connection pool per process, shared by Rasa calls and platform calls."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    async with httpx.AsyncClient(limits=limits) as client:
        app.state.http = client
        app.state.conversations = Conversations(gateway_settings(), client)
        yield


class Gateway(FastAPI):
    """FastAPI with the security headers outside everything, so that even the 500 page that
    Starlette's outermost ServerErrorMiddleware writes carries them."""

    https = False

    def build_middleware_stack(self):
        return SecurityHeaders(super().build_middleware_stack(), https=self.https)


def create_app() -> FastAPI:
    """The FastAPI application with every route."""
    settings = gateway_settings()
    app = Gateway(
        lifespan=lifespan,
        title="Microneedling clinic assistant: gateway",
        description=(
            "The clinic API (free slots; book, read, move and cancel consultations with the "
            "patient's phone number as proof), the staff API (behind a token), the platform "
            "webhooks (Telegram, WhatsApp, Twilio messaging and voice), the web widget and health."
        ),
        version="1.0.0",
    )

    @app.exception_handler(RequestValidationError)
    async def malformed_request(request: Request, error: RequestValidationError) -> JSONResponse:
        """A malformed request is a 400 that says which field is wrong, and nothing is changed."""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'] if p != 'body')}: {item['msg']}"
            for item in error.errors()
        )
        return JSONResponse(status_code=status.HTTP_400_BAD_REQUEST, content={"detail": problems})

    for module in (
        health,
        slots,
        consultations,
        staff,
        telegram,
        whatsapp,
        twilio_messaging,
        twilio_voice,
        widget,
    ):
        app.include_router(module.router)
    # From the outside in: security headers (Gateway above), CORS, the per-address limit, the
    # body limit, then the routes. Every refusal (429, 413, 400) carries the security headers,
    # and CORS headers for an allowed origin, so the widget can read it; nothing reads a body
    # before the address is counted and the body's size checked.
    app.https = settings.public_base_url.lower().startswith("https://")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(ClientRateLimit, per_minute=settings.rate_limit_per_ip_per_minute)
    # Browsers may call the widget's API only from the clinic's own sites.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins(),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
    )
    return app


app = create_app()
