"""Password hashing with scrypt (a memory-hard KDF from the standard library).

Stored form: ``scrypt$N$r$p$salt$hash`` (salt and hash Base64), so the work factor can be raised
later without invalidating stored passwords.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

_R, _P, _LENGTH = 8, 1, 32

# The cost for a password openpws generated itself (the control plane's, 144 random bits): scrypt's
# work factor only slows the guessing of passwords people choose, and no amount of guessing finds a
# random 144-bit one, so it is hashed at the least cost there is. Creating a throwaway demo account
# (three users) then takes milliseconds instead of a third of a second at the default cost.
# The price: such a login is answered faster than an unknown one, which tells that a login exists
# in a sandbox account (whose code is the thing to guess).
GENERATED_PASSWORD_COST = 2


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=_LENGTH)


def hash_password(password: str, cost: int) -> str:
    if cost < 2 or cost & (cost - 1):
        raise ValueError("the scrypt cost must be a power of two")
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, cost, _R, _P)
    return "$".join(
        ("scrypt", str(cost), str(_R), str(_P), base64.b64encode(salt).decode(), base64.b64encode(digest).decode())
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(candidate, base64.b64decode(digest))


@cache
def dummy_hash(cost: int) -> str:
    """A hash to verify against when the account or user does not exist, so that the answer
    takes as long as a wrong password does."""
    return hash_password(secrets.token_urlsafe(16), cost)
