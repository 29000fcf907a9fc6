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


@dataclass
class ListCounters(Counters):
    """The counters of a waiting list: its area (patient-days waited), exits, removals."""

    list_area: int = 0
    list_exits: int = 0
    removed: int = 0
    wait_days: int = 0

    def left_unseen(self, day: int, today: int, entered: int, booking: int) -> None:
        """A patient left unseen on ``day``, found so on ``today``: on the list since
        ``entered``, or still being booked or assessed (``entered`` is ``booking``)."""
        self.removed += 1
        if entered != booking:
            self.list_exits += 1  # a list exit too, so the list obeys Little's law
            self.wait_days += day - entered
            self.list_area -= today - day  # counted as waiting on the days since they left
