"""Counters for one contract year, reset to zero when the year closes."""

from __future__ import annotations


class Counters:
    """Integer counters named by ``__slots__`` in a subclass, all starting at zero."""

    __slots__ = ()

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)
