"""A service's lists: who waits for a first appointment, who is still being booked, who is booked.

:class:`Waitlist` holds them and answers for them: patients join (a referral, a backlog), are
counted, listed, sorted, and handed to another design's service at a switch-over
(:meth:`Waitlist.adopt`, :meth:`Waitlist.release`), so nothing outside reaches into the queues.
The daily session that serves the lists is :class:`sim.model.clinic.Clinic`'s.
"""

from __future__ import annotations

from collections import deque

from sim.model.patient import NEVER, Patient
from sim.model.policy import share_within_18w, waiting_since
from sim.model.removals import RemovalTimes, leaving_day
from sim.scenario.fields import removal_bands
from sim.scenario.stages import Stage


class Waitlist:
    """The lists of the service at place ``index``.

    Referrals arrive in time order, so each priority's waiting list is a plain FIFO queue
    (longest waiting first); bookings are kept in buckets by due day and move, in order, to
    a queue of due appointments on the day they fall due.
    """

    def __init__(self, cfg: Stage, index: int):
        self.cfg = cfg
        self.index = index  # the service's place in the scenario: part of its patients' stream keys
        self.urgent: deque[tuple[int, Patient]] = deque()  # (day listed, patient)
        self.routine: deque[tuple[int, Patient]] = deque()
        self.bookings: dict[int, list[Patient]] = {}  # due day -> patients (Patient.first_booked: a first visit?)
        # day they can be listed -> referrals, urgent and routine apart, so a day's arrivals
        # join their list in one C-level extend rather than one append each
        self.incoming: tuple[dict[int, list[Patient]], dict[int, list[Patient]]] = ({}, {})
        self.due: deque[Patient] = deque()
        self.pending = 0  # being booked (in ``incoming``)
        self.gone = 0  # removed patients still in the queues, skipped when reached
        self.removal = RemovalTimes(removal_bands(cfg.removal_rate_per_week))
        self.stale_share: float = cfg.stale_share
        self.stale = RemovalTimes(removal_bands(cfg.stale_removal_rate_per_week))
        self.removing: bool = self.removal.active or self.stale_share > 0.0

    # -- counting --------------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """Patients referred here and not yet seen: on the list, or still being booked."""
        return len(self.urgent) + len(self.routine) - self.gone + self.pending

    def ready(self) -> int:
        """Patients on the list ready to be offered a slot (not those still being booked)."""
        return len(self.urgent) + len(self.routine) - self.gone

    # -- joining ---------------------------------------------------------------------------

    def _incoming(self, p: Patient, due: int) -> None:
        """The patient can be offered a slot from day ``due``, still being booked till then."""
        incoming = self.incoming[p.urgent]
        bucket = incoming.get(due)
        if bucket is None:
            incoming[due] = [p]
        else:
            bucket.append(p)

    def _joins(self, p: Patient, day: int, waited: float) -> bool:
        """The patient waits here from ``day``, having waited ``waited`` days already: the day
        they would leave unseen, if still waiting then, is fixed now. True for a stale pathway."""
        u = p.here_u()  # drawn whatever the rate, so the episode's later draws line up
        p.waiting_at = self.index
        if not self.removing:
            p.leaves = NEVER
            return False
        p.leaves, stale = leaving_day(self.removal, self.stale, self.stale_share, day, waited, u)
        return stale

    def waiting_since(self, p: Patient, listed: int) -> None:
        """A patient already waiting here since day ``listed`` when the run starts."""
        p.reached = listed
        if self._joins(p, 0, float(-listed)):
            self.pending += 1
            self._incoming(p, max(int(p.leaves), 0))
        else:
            (self.urgent if p.urgent else self.routine).append((listed, p))

    def sort_waiting(self) -> None:
        """The lists in order of time waited, longest first (a backlog seeded in any order)."""
        self.routine = deque(sorted(self.routine, key=lambda e: e[0]))
        self.urgent = deque(sorted(self.urgent, key=lambda e: e[0]))

    def book(self, p: Patient, due: int, first: bool = False) -> None:
        """Book an appointment on a given day (a follow-up, or a rebooked first visit)."""
        p.first_booked = first
        bucket = self.bookings.get(due)
        if bucket is None:
            self.bookings[due] = [p]
        else:
            bucket.append(p)

    # -- listing ---------------------------------------------------------------------------

    def _listed(self) -> list[Patient]:
        """Those on the lists, urgent then routine (not those removed, still in the queues)."""
        here = self.index
        return [p for _, p in self.urgent if p.waiting_at == here] + [p for _, p in self.routine if p.waiting_at == here]

    def _being_booked(self) -> list[Patient]:
        """Those still being booked, routine then urgent, each by the day they can be listed."""
        here = self.index
        return [p for buckets in self.incoming for bucket in buckets.values() for p in bucket if p.waiting_at == here]

    def _booked(self) -> list[Patient]:
        """Those with an appointment: due today, then by the day it falls due."""
        return [*self.due, *(p for bucket in self.bookings.values() for p in bucket)]

    def patients(self) -> list[Patient]:
        """Everyone waiting or booked here (for conservation checks)."""
        return self._listed() + self._booked() + self._being_booked()

    def within_18w_pct(self, day: int) -> float:
        """Of those waiting here (being booked too), the share waiting under 18 weeks: by their
        RTT clock where one runs, else since their referral reached the service."""
        return share_within_18w([waiting_since(p) for p in self._listed() + self._being_booked()], day)

    # -- a switch-over ---------------------------------------------------------------------

    def release(self) -> list[Patient]:
        """Everyone here, for another design's services to take on: those waiting (on the lists,
        then being booked), then those booked. The lists are left as they were."""
        return self._listed() + self._being_booked() + self._booked()

    def adopt(self, old: Waitlist, day: int) -> list[Patient]:
        """Take on the lists, bookings and courses of the same service under the design replaced,
        on ``day``; returns the patients taken on. Those still waiting draw again the day they would
        leave unseen if the removal rate here differs."""
        index = old.index
        redraw = old.cfg.removal_rate_per_week != self.cfg.removal_rate_per_week
        out: list[Patient] = []
        for queue, into in ((old.urgent, self.urgent), (old.routine, self.routine)):
            for entered, p in queue:
                if p.waiting_at == index:
                    if redraw:
                        self._joins(p, day, float(day - entered))
                    out.append(p)
                    into.append((entered, p))
        for urgent in (False, True):
            for due, bucket in old.incoming[urgent].items():
                kept = [p for p in bucket if p.waiting_at == index]
                for p in kept:
                    if redraw:
                        self._joins(p, day, 0.0)
                if kept:
                    self.incoming[urgent].setdefault(due, []).extend(kept)
                    self.pending += len(kept)
                    out += kept
        self.due.extend(old.due)
        for due, booked in old.bookings.items():
            self.bookings.setdefault(due, []).extend(booked)
        return out + old._booked()
