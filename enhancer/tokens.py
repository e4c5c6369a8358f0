"""Unguessable tokens for links we hand to people (invitations, public shares).

Only a token's hash is looked up: the database alone never lets anyone open a link, and a
lookup by a hash of 256 random bits reveals nothing through its timing.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
