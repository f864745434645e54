"""Checking that a webhook really comes from its platform, in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac


def same_secret(given: str | None, expected: str | None) -> bool:
    """Telegram's X-Telegram-Bot-Api-Secret-Token: equal to ours, compared in constant time."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def meta_signature_valid(raw_body: bytes, header: str | None, app_secret: str | None) -> bool:
    """Meta's X-Hub-Signature-256: "sha256=" + HMAC-SHA256(app secret, raw body)."""
    if not header or not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :], expected)


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1 over the exact public URL followed by each
    POST field name and value, sorted by name."""
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(
    header: str | None, auth_token: str | None, url: str, params: dict[str, str]
) -> bool:
    """Whether a Twilio request's signature matches, in constant time."""
    if not header or not auth_token:
        return False
    return hmac.compare_digest(header.encode(), twilio_signature(auth_token, url, params).encode())
