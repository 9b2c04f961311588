"""The admin pages' sign-in: a cookie of their own, signed with a key derived from the admin token,
and the token every form carries against cross-site requests.

Nothing is kept on the server (any worker of any host answers the next page), and nothing is
shared with PWS: the cookie is named, scoped (``Path=/_openpws/``) and signed for the pages alone,
PWS session tickets travel in SOAP bodies, never in cookies, and the PWS endpoint reads no cookie.
A session lasts ``LIFETIME``; signing out deletes the cookie; changing the admin token ends every
session at once (the key changes with it).

The cookie is ``SameSite=Strict`` and ``HttpOnly`` (and ``Secure`` over HTTPS), and every form
posts a token derived from the session's nonce, which a page of another site cannot read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "openpws_admin"
FLASH_COOKIE = "openpws_admin_flash"
PATH = "/_openpws/"
LIFETIME = 12 * 3600  # seconds
_VERSION = "v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    nonce: str
    issued: int  # Unix time


class Signer:
    """Signs and checks the pages' cookies with a key derived from ``token`` (no token: nothing
    is ever valid, and signing in is refused: the control plane is off)."""

    def __init__(self, token: str, *, clock: Callable[[], float] = time.time) -> None:
        self.token = token.encode()
        self.key = hmac.new(self.token, b"openpws admin pages", hashlib.sha256).digest()
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock())

    def _sign(self, text: str) -> str:
        return _b64(hmac.new(self.key, text.encode(), hashlib.sha256).digest())

    def token_matches(self, given: str) -> bool:
        return bool(self.token) and hmac.compare_digest(given.strip().encode(), self.token)

    def issue(self) -> str:
        body = f"{_VERSION}.{self._now()}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._sign(body)}"

    def session(self, cookie: str | None) -> Session | None:
        """The session a cookie holds, if it is ours, whole and not too old."""
        if not self.token or not cookie or len(cookie) > 200:
            return None
        body, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        version, issued, nonce = [*body.split("."), "", "", ""][:3]
        if version != _VERSION or not issued.isdigit():
            return None
        age = self._now() - int(issued)
        return Session(nonce, int(issued)) if 0 <= age <= LIFETIME else None

    def form_token(self, session: Session) -> str:
        """What every form of the session posts (as ``csrf``)."""
        return self._sign(f"form.{session.nonce}")

    def form_token_matches(self, session: Session, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.form_token(session).encode())

    def flash(self, kind: str, text: str) -> str:
        """A message for the next page (after a redirect), signed so that no other site can set one."""
        body = _b64(f"{kind}\n{text[:1500]}".encode())
        return f"{body}.{self._sign('flash.' + body)}"

    def read_flash(self, cookie: str | None) -> tuple[str, str] | None:
        if not cookie or len(cookie) > 3000:
            return None
        body, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._sign("flash." + body).encode()):
            return None
        try:
            kind, _, text = _unb64(body).decode().partition("\n")
        except (ValueError, UnicodeDecodeError):
            return None
        return kind, text
