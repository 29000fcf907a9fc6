"""Sums of money as people write them on the command line: ``26.5m``, ``800k``, ``£1,250,000``,
and a year-1 price per head of the population covered (``590/head``)."""

from __future__ import annotations

import re

import numpy as np

_MONEY = re.compile(r"^\s*£?\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?)\s*(k|m|bn)?\s*$", re.IGNORECASE)
_THOUSANDS = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?$")
"""Where a number has commas, they must separate thousands: ``26,5m`` is not 265m."""
_SCALE = {"k": 1e3, "m": 1e6, "bn": 1e9}
MONEY_GRAMMAR = (
    "an optional £, a number (commas only between thousands), then k, m or bn if wanted: 26.5m, 800k, £1,250,000, 1.2bn"
)
"""What :func:`parse_money` reads, as its error messages say it."""
PRICE_GRAMMAR = f"{MONEY_GRAMMAR}; or a rate per head of the population covered: 590/head, £38.50 per head"
MAX_MONEY = 1e12
"""The largest sum read: a trillion pounds, as a scenario's money (the whole NHS budget is under
£200 billion), so a slip such as ``5000bn`` is refused, not simulated."""
MAX_PER_HEAD = 1e6
"""The largest rate per head read, as a scenario's ``per_head_gbp``."""


_PER_HEAD = re.compile(r"\s*(/\s*head|per\s+head)\s*$", re.IGNORECASE)


def parse_price(text: str | float) -> tuple[float, bool]:
    """A year-1 price as a sum (``26.5m``) or a capitation rate (``590/head``, ``£590 per head``).

    Returns the amount and whether it is per head.
    """
    if isinstance(text, str) and _PER_HEAD.search(text):
        return parse_money(_PER_HEAD.sub("", text), grammar=PRICE_GRAMMAR, most=MAX_PER_HEAD, shown=text), True
    return parse_money(text, grammar=PRICE_GRAMMAR), False


def parse_money(
    text: str | float, zero: bool = False, grammar: str = MONEY_GRAMMAR, most: float = MAX_MONEY, shown: str | None = None
) -> float:
    """Read a price as people write it: ``26.5m``, ``800k``, ``£1,250,000``, ``1.2bn``
    (:data:`MONEY_GRAMMAR`; the suffixes in any case).

    Raises
    ------
    ValueError
        If the text is not an amount of money (the message gives ``grammar``), the amount is not
        a positive number (zero allowed with ``zero``, for a reserve: a contract price of zero or
        less means nothing), or it is above ``most``. The message quotes ``shown`` (the
        text as given, e.g. with its ``/head``) when given.
    """
    quoted = repr(text if shown is None else shown)
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = _MONEY.match(text)
        if not m:
            raise ValueError(f"not an amount of money: {quoted} (write {grammar})")
        digits = m.group(1)
        if "," in digits and not _THOUSANDS.match(digits):
            raise ValueError(f"{quoted}: a comma may only separate thousands (1,250,000); for a decimal write a point (26.5m)")
        value = float(digits.replace(",", ""))
        value = value * _SCALE[m.group(2).lower()] if m.group(2) else value
    if not np.isfinite(value) or value < 0 or (value == 0 and not zero):
        need = "an amount of money must be zero or more" if zero else "a price must be a positive amount of money"
        raise ValueError(f"{need}, got {quoted}")
    if value > most:
        raise ValueError(f"{quoted} is more than £{most:,.0f}: no contract is that large; check the suffix (k, m, bn)")
    return value
