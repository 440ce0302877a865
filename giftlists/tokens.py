"""Invitation tokens: random, shown once to whoever invites, stored as a hash.

The same scheme as the realtime app's connection tickets: the database never
holds a token that would let someone who reads it join a family.
"""

import hashlib
import secrets

#: Bytes of randomness in a token (43 URL-safe characters): unguessable.
TOKEN_BYTES = 32
#: The longest token a lookup hashes; longer input cannot be ours.
MAX_TOKEN_LENGTH = 128


def new_token() -> str:
    """A fresh random token, safe to put in a URL path."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The hex sha256 of ``token``: what the database stores and looks up."""
    return hashlib.sha256(token.encode()).hexdigest()
