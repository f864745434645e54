"""Connecting the platforms to this gateway.

    python -m gateway.setup urls       # the URLs to paste into the Twilio and Meta consoles
    python -m gateway.setup telegram   # register the Telegram webhook with its secret token

Both read the same settings as the gateway (PUBLIC_BASE_URL, TELEGRAM_BOT_TOKEN, ...).
"""

from __future__ import annotations

import argparse
import sys

import httpx

from gateway.core.config import gateway_settings


def print_urls() -> int:
    """The public webhook URLs, one per platform console field."""
    settings = gateway_settings()
    base = settings.public_base_url.rstrip("/")
    print(f"""Paste these into the platforms' consoles (PUBLIC_BASE_URL is {base}):

  Meta (WhatsApp Cloud API) > App > WhatsApp > Configuration > Webhook
    Callback URL    {base}/webhooks/whatsapp
    Verify token    the value of WHATSAPP_VERIFY_TOKEN
    Subscribe to    messages

  Twilio > Phone Numbers > your number > Messaging (SMS) and/or WhatsApp sender
    A message comes in   Webhook, HTTP POST   {base}/webhooks/twilio/messaging

  Twilio > Phone Numbers > your number > Voice
    A call comes in      Webhook, HTTP POST   {base}/webhooks/twilio/voice

  Telegram: run `python -m gateway.setup telegram` (it registers {base}/webhooks/telegram)

  Website: add to the clinic's pages (and list their origin in WIDGET_ALLOWED_ORIGINS)
    <script src="{base}/widget.js" defer></script>""")
    return 0


def register_telegram() -> int:
    """Tell Telegram where to send updates, and the secret token to send with them."""
    settings = gateway_settings()
    if not (settings.telegram_bot_token and settings.telegram_secret_token):
        print("error: set TELEGRAM_BOT_TOKEN and TELEGRAM_SECRET_TOKEN first", file=sys.stderr)
        return 1
    url = f"{settings.public_base_url.rstrip('/')}/webhooks/telegram"
    response = httpx.post(
        f"{settings.telegram_api_base}/bot{settings.telegram_bot_token}/setWebhook",
        json={
            "url": url,
            "secret_token": settings.telegram_secret_token,
            "allowed_updates": ["message", "callback_query"],
            "drop_pending_updates": False,
        },
        timeout=20,
    )
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    if response.status_code != 200 or not body.get("ok"):
        print(
            f"error: Telegram refused the webhook (HTTP {response.status_code}): "
            f"{body.get('description', '')}",
            file=sys.stderr,
        )
        return 1
    print(f"Telegram will send updates to {url}, with the secret token.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one set-up command."""
    parser = argparse.ArgumentParser(
        prog="python -m gateway.setup", description=__doc__.splitlines()[0]
    )
    parser.add_argument("command", choices=["urls", "telegram"])
    args = parser.parse_args(argv)
    return print_urls() if args.command == "urls" else register_telegram()


if __name__ == "__main__":
    sys.exit(main())
