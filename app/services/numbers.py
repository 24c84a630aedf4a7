"""Numbers from outside (URLs, query strings, form fields, JSON) against what the database holds.

``INT_MAX``: the largest value of an Integer column on PostgreSQL (SQLite's take 64 bits). A
larger id names no row, a larger page offset or year fits no column, and binding one fails in
the driver: a 500. ``is_digits``: ASCII digits only; ``str.isdigit`` also holds for "²" or "٣",
which ``int()`` then refuses or reads as another number.
"""

from __future__ import annotations

INT_MAX = 2**31 - 1


def is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()
