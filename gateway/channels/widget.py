"""The website voice widget: `GET /` (a demo page of the clinic), `GET /widget.js` (one script
tag embeds it), `GET /api/widget/config` and `POST /api/chat` (what it talks to).

Only the gateway's own origin and WIDGET_ALLOWED_ORIGINS may call the chat API from a browser.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from clinic.profile import current_clinic
from gateway.channels.conversation import Conversations, Inbound
from gateway.channels.deps import conversations
from gateway.core.config import GatewaySettings
from gateway.core.deps import get_settings

router = APIRouter(tags=["widget"])

STATIC = Path(__file__).resolve().parent.parent / "static"
SENDER = re.compile(r"^[A-Za-z0-9-]{8,64}$")
MESSAGE_LIMIT = 1000


class ChatIn(BaseModel):
    """A message typed or spoken in the widget."""

    sender: str = Field(..., description="The browser's own random conversation id")
    message: str


class ButtonOut(BaseModel):
    """A suggested answer, shown as a chip."""

    title: str
    payload: str


class ReplyOut(BaseModel):
    """One of the assistant's replies."""

    text: str
    buttons: list[ButtonOut] = []


class ChatOut(BaseModel):
    """The assistant's replies to one message."""

    replies: list[ReplyOut]
    forget: bool = Field(
        False,
        description="The patient's data was just deleted: the page forgets the conversation "
        "it keeps in the browser and starts a new one",
    )


class WidgetConfigOut(BaseModel):
    """The clinic's name and colours, for the widget."""

    name: str
    assistant_name: str
    colours: dict[str, str]
    front_desk: str
    language: str
    welcome: str


def check_origin(request: Request, settings: GatewaySettings) -> None:
    """A browser call from a site not in WIDGET_ALLOWED_ORIGINS is refused (403)."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") not in settings.allowed_origins():
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this site may not use the assistant")


@router.get("/api/widget/config", response_model=WidgetConfigOut)
def widget_config(settings: GatewaySettings = Depends(get_settings)) -> WidgetConfigOut:
    """What the widget shows: the clinic's name and colours from the clinic file."""
    clinic = current_clinic(settings.clinic_file)
    return WidgetConfigOut(
        name=clinic.name,
        assistant_name=clinic.assistant_name,
        colours={"primary": clinic.colours.primary, "accent": clinic.colours.accent},
        front_desk=clinic.phones.front_desk,
        language=f"{clinic.languages[0]}-{clinic.address.country}",
        welcome=(
            f"Hello, I'm {clinic.name}'s automated assistant. Ask me about microneedling, "
            "or book a consultation. You can type, or press the microphone and speak."
        ),
    )


@router.post("/api/chat", response_model=ChatOut, responses={400: {}, 403: {}, 413: {}, 429: {}})
async def chat(
    body: ChatIn,
    request: Request,
    settings: GatewaySettings = Depends(get_settings),
    talk: Conversations = Depends(conversations),
) -> ChatOut:
    """A message from the widget, answered with the assistant's replies."""
    check_origin(request, settings)
    if not SENDER.match(body.sender):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "sender must be 8 to 64 letters, digits or -"
        )
    if len(body.message) > MESSAGE_LIMIT:
        raise HTTPException(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            f"messages are limited to {MESSAGE_LIMIT} characters",
        )
    if not body.message.strip():
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the message is empty")
    outcome = await talk.handle(Inbound("web", f"web:{body.sender}", body.message))
    if outcome.limited:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, outcome.replies[0].text)
    return ChatOut(
        replies=[
            ReplyOut(text=r.text, buttons=[ButtonOut(**b) for b in r.buttons])
            for r in outcome.replies
            if r.text or r.buttons
        ],
        forget=any((r.custom or {}).get("erased") for r in outcome.replies),
    )


@router.get("/widget.js", include_in_schema=False)
def widget_script() -> Response:
    """The widget, for one `<script src=".../widget.js" defer>` tag."""
    return Response(
        (STATIC / "widget.js").read_text(encoding="utf-8"),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def demo_page(settings: GatewaySettings = Depends(get_settings)) -> HTMLResponse:
    """A demo page of the clinic with the widget on it."""
    clinic = current_clinic(settings.clinic_file)
    name, primary = html.escape(clinic.name), clinic.colours.primary
    address = html.escape(", ".join(clinic.address.lines))
    page = f"""<!doctype html>
<html lang="{clinic.languages[0]}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name}</title>
<style>
body {{ font: 17px/1.5 system-ui, sans-serif; margin: 0; color: #1b1b1b; }}
header {{ background: {primary}; color: #fff; padding: 32px 24px; }}
main {{ max-width: 720px; margin: 0 auto; padding: 24px; }}
</style>
</head>
<body>
<header><h1>{name}</h1>
<p>Microneedling (collagen induction therapy) in a friendly clinic.</p></header>
<main>
<h2>Questions about microneedling?</h2>
<p>Ask our assistant, by typing or by voice, using the chat button at the bottom right.
It can also book a consultation. Our practitioners will answer anything personal at your
consultation.</p>
<p>{address} &middot; {html.escape(clinic.phones.front_desk)}</p>
</main>
<script src="/widget.js" defer></script>
</body>
</html>"""
    frame_ancestors = " ".join(["'self'", *settings.allowed_origins()[1:]])
    # Nothing but what the page uses: its script and the chat API on this origin, the <style>
    # the page and the widget write (the widget takes the clinic's colours at run time), and
    # images (the favicon). No plugins, no <base>, no form posts (the widget's form is sent by
    # script), framing only by the clinic's own sites.
    csp = (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        f"form-action 'none'; frame-ancestors {frame_ancestors}"
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": csp})
