"""What the benchmark's patients say: a realistic mix of treatment questions, a health check and
a booking with its actions, and the stock assistant's own small talk."""

from __future__ import annotations

from dataclasses import dataclass

BEGIN = "<begin>"  # the conversation's start on channels that have one (a call is answered)


@dataclass(frozen=True)
class Step:
    """One thing the patient says; `@n` chooses the n-th option offered. With `until`, the step
    is repeated (at most `repeat` times) until the reply contains that text."""

    text: str
    repeat: int = 1
    until: str | None = None

    def resolve(self, options: list[str]) -> str:
        """The message to send, choosing from the last reply's options for `@n`."""
        if not self.text.startswith("@"):
            return self.text
        index = int(self.text[1:]) - 1
        if index >= len(options):
            raise ValueError(f"the reply offered {len(options)} options, not {index + 1}")
        return options[index]


def steps(*texts: str) -> list[Step]:
    return [Step(t) for t in texts]


FAQ = steps(
    "hello",
    "does microneedling hurt?",
    "how long does the redness last afterwards?",
    "can it help with acne scars?",
    "how is it different from a chemical peel?",
    "how much does it cost?",
    "what are your opening hours?",
    "thanks, bye",
)

SCREENING = [
    *steps("can you check whether I can have microneedling?", "yes"),
    # Every remaining question answered "no" until the outcome with its reference.
    Step("no", repeat=20, until="Reference"),
    *steps("thank you"),
]

BOOKING = steps(
    "I'd like to book a consultation please",
    "Sam Jones",
    "07400 123456",
    "next tuesday afternoon",
    "@1",
    "acne scars on my cheeks",
    "not now",
    "yes",
    "thanks",
)

# The mix each patient in the load cycles through: mostly questions, some checks and bookings.
MIX = [FAQ, SCREENING, FAQ, BOOKING]

# The phone line: the call is answered, then spoken questions and a booking by keypad and voice.
PHONE = [
    Step(BEGIN),
    *steps(
        "does it hurt?",
        "how long is the recovery?",
        "1",  # the keypad: book
        "Sam Jones",
        "yes",  # the caller's own number, read back
        "next tuesday afternoon",
        "1",  # the first time offered
        "acne scars",
        "not now",
        "yes",
    ),
]

# The stock `rasa init` assistant's own conversations (its greet / mood / bot-challenge data).
STOCK = [
    steps("hello", "I am feeling sad", "yes", "are you a bot?", "goodbye"),
    steps("hi there", "I am great", "bye"),
    steps("good morning", "very bad", "no", "are you a human?", "see you later"),
]
