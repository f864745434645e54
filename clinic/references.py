"""Short reference codes patients and staff can read out over the phone."""

import secrets

# No 0/O, 1/I/L, 5/S, 2/Z, 8/B: codes are read aloud and typed from memory.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"


def new_reference(prefix: str, length: int = 6) -> str:
    """A random reference such as `H-7KQ3PA` (25^6, about 244 million, per prefix)."""
    return f"{prefix}-" + "".join(secrets.choice(ALPHABET) for _ in range(length))
