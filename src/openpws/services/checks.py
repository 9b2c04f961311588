"""Checks every save makes: value lengths and optimistic timestamps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from openpws import errors
from openpws.store.counters import decode_rowversion


def check_length(limits: Mapping[str, int], values: Mapping[str, str | None]) -> None:
    for field, value in values.items():
        maximum = limits[field]
        if value is not None and len(value) > maximum:
            raise errors.fail(errors.VALUE_TOO_LONG, f"{len(value)} characters", field=field, maximum=maximum)


def check_timestamps(entity: str, label: str, current: int, sent: Sequence[str]) -> None:
    """Every timestamp sent must be the current row version (an omitted one skips the check)."""
    for token in sent:
        if decode_rowversion(token) != current:
            raise errors.fail(errors.TIMESTAMP_MISMATCH, f"{label}: timestamp {token}", entity=entity)
