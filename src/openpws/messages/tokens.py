"""Row versions as they travel: 8 bytes big-endian in Base64 (``AAAAAA99vU0=``), the shape of
EngagementTimestamp, ProjectTimestamp, ProjectRoleTimestamp, EntityTimestamp and the like."""

from __future__ import annotations

import base64

from openpws.services.checks import Stamp


def encode_rowversion(value: int) -> str:
    return base64.b64encode(value.to_bytes(8, "big")).decode("ascii")


def decode_rowversion(token: str) -> int | None:
    """The counter a token stands for, or None when it is not an 8-byte Base64 value."""
    try:
        raw = base64.b64decode(token, validate=True)
    except ValueError:
        return None
    return int.from_bytes(raw, "big") if len(raw) == 8 else None


def stamp(token: str | None) -> Stamp | None:
    """A timestamp member as sent; omitted or blank skips the check (None)."""
    if token is None or not token.strip():
        return None
    return Stamp(decode_rowversion(token.strip()), token)
