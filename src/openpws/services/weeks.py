"""The days of the week, as an account's first one is named and numbered (as ``date.weekday()``
numbers them: 0 Monday … 6 Sunday)."""

from __future__ import annotations

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONDAY, SUNDAY = 0, 6


def day_name(number: int) -> str:
    return DAY_NAMES[number]


def day_number(name: str) -> int:
    """The number of a day named in full, in any case; ValueError for anything else."""
    folded = name.strip().lower()
    for number, day in enumerate(DAY_NAMES):
        if day.lower() == folded:
            return number
    raise ValueError(f"{name!r} is not a day of the week ({', '.join(DAY_NAMES)})")
