"""Pseudonymise viewer ids at the boundary: the raw id never reaches Redis or logs."""

from __future__ import annotations

import hashlib
import hmac


def pseudonymise(secret: bytes, platform: str, user: str) -> str:
    """Return a stable keyed hash of a viewer id, scoped by platform.

    The same viewer keeps the same pseudonym across sessions (needed for unique viewers
    and dwell), while nobody without the secret can map it back or test a guess.
    """
    digest = hmac.new(secret, f"{platform}\x00{user}".encode(), hashlib.sha256).digest()
    return "u_" + digest[:12].hex()
