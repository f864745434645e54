"""Turning the assistant's replies into what each platform can show or say."""

from __future__ import annotations

import re

from gateway.channels.conversation import Reply

URL = re.compile(r"https?://\S+|www\.\S+")
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")


def split_text(text: str, limit: int = 4096) -> list[str]:
    """Pieces of at most `limit` characters, cut at line breaks or spaces, never inside a word
    (unless a single word is longer than the limit)."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def numbered(reply: Reply) -> str:
    """The reply with its buttons as numbered options, for SMS."""
    if not reply.buttons:
        return reply.text
    options = "\n".join(f"{n}. {b['title']}" for n, b in enumerate(reply.buttons, start=1))
    return f"{reply.text}\n\nReply with a number:\n{options}".strip()


def spoken(text: str) -> str:
    """Text fit to be spoken: no links, emoji, markdown or bullets; lists become sentences."""
    text = EMOJI.sub("", URL.sub("", text))
    text = re.sub(r"[*_#`>]", "", text)
    lines = [re.sub(r"^\s*(?:[•\-]|\d+\.)\s*", "", line).strip() for line in text.splitlines()]
    sentences = []
    for line in lines:
        if not line:
            continue
        sentences.append(line if line[-1] in ".!?:" else line + ".")
    return (
        " ".join(" ".join(sentences).split()).replace(":.", ":").replace("(", "").replace(")", "")
    )


def first_sentences(text: str, count: int = 2) -> str:
    """At most `count` sentences (a caller hears the rest after asking)."""
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(parts[:count])
