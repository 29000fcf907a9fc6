"""Counters for one contract year, reset to zero when the year closes."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class Counters:
    """Integer counters, declared as ``name: int = 0`` fields of a dataclass subclass.

    Declared fields (rather than names in a list) give each counter a type, which lets the
    compiled model keep it as a machine integer.
    """

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, 0)
