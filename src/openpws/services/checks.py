"""Checks and conversions every save makes: value lengths, date ranges, optimistic timestamps,
and datetimes as the store keeps them (naive UTC)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from openpws import errors


@dataclass(frozen=True)
class Stamp:
    """An optimistic timestamp as sent: the row version it stands for (None when the token is not
    one), and the token itself for the error that names it."""

    version: int | None
    token: str


def stored_length(value: str) -> int:
    """The characters a code or name takes in its columns: it is kept as sent and with its case
    folded (upper-cased codes, lower-cased names: the keys it is found by), and some characters
    grow when their case changes (ß → SS, ﬃ → FFI, İ → i̇)."""
    return max(len(value), len(value.upper()), len(value.lower()))


def check_length(limits: Mapping[str, int], values: Mapping[str, str | None], keyed: Collection[str] = ()) -> None:
    """Each value sent must fit its member's maximum length (990008 ValueTooLong); a ``keyed`` one
    (a code or name kept with a case-folded key of the same width) in every case too."""
    for field, value in values.items():
        if value is None:
            continue
        maximum = limits[field]
        length = stored_length(value) if field in keyed else len(value)
        if length > maximum:
            detail = f"{len(value)} characters" + (f", {length} with its case changed" if length != len(value) else "")
            raise errors.fail(errors.VALUE_TOO_LONG, detail, field=field, maximum=maximum)


def check_timestamps(entity: str, label: str, current: int, *sent: Stamp | None) -> None:
    """Every timestamp sent must be the current row version (990007); an omitted one skips the
    check."""
    for stamp in sent:
        if stamp is not None and stamp.version != current:
            raise errors.fail(errors.TIMESTAMP_MISMATCH, f"{label}: timestamp {stamp.token}", entity=entity)


def check_date_range(start: datetime | None, end: datetime | None, start_field: str, end_field: str) -> None:
    """An end before its start is 990020 InvalidDateRange."""
    if start is not None and end is not None and end < start:
        raise errors.fail(errors.INVALID_DATE_RANGE, f"{start_field}={start:%Y-%m-%d}, {end_field}={end:%Y-%m-%d}",
                          start_field=start_field, end_field=end_field)


def naive_utc(moment: datetime | None) -> datetime | None:
    """A decoded (aware) datetime as the store keeps it: UTC without a zone."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None else None
