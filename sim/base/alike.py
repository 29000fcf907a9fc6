"""Warnings that say the same thing of several designs, services or grid points, grouped.

A run that warns of the warm-up for three designs, or of a service over capacity at ten grid
points, gives one warning with a count: what the messages share is said once, and what differs
(the design, the service, the numbers) follows, a line each."""

from __future__ import annotations

import re

_NUMBER = r"-?\d(?:[\d,.]*\d)?"
_PATTERN = re.compile(rf"'[^']*'|{_NUMBER}(?:-{_NUMBER})?|\b[a-z_]+(?:\.[a-z_\d]+)+\b")
"""What makes a message particular: a quoted name, a number or a range of them, a key path."""
_WHO = re.compile(r"^[\w.=, ()-]{1,80}?: \w+ (?=\S)")
"""A leading label that names what a message is about and the service it speaks of
(``prime_queue: theatre ``, ``physio.slots_per_week = 2200, fragmented: physio ``)."""


SHARED = 4
"""Words the messages of a group must begin (or end) with alike for them to be said once."""


def pattern(message: str) -> str:
    """``message`` without what makes it particular: its leading label and subject, quoted
    names, numbers and key paths."""
    return _PATTERN.sub("#", _WHO.sub("", message, count=1))


def group(messages: list[str]) -> list[str]:
    """``messages`` in order of first appearance, those of one :func:`pattern` made one: the words
    they all begin and end with said once, with the count, then what differs, a line each."""
    groups: dict[str, list[str]] = {}
    for m in messages:
        groups.setdefault(pattern(m), []).append(m)
    return [_joined(ms) for ms in groups.values()]


def _joined(messages: list[str]) -> str:
    distinct = list(dict.fromkeys(messages))
    if len(distinct) == 1:
        return distinct[0] if len(messages) == 1 else f"{distinct[0]} ({len(messages)} times)"
    words = [m.split(" ") for m in distinct]
    head = 0
    while all(len(w) > head + 1 and w[head] == words[0][head] for w in words):
        head += 1
    tail = 0
    while all(len(w) > head + tail + 1 and w[-1 - tail] == words[0][-1 - tail] for w in words):
        tail += 1
    head, tail = (head if head >= SHARED else 0), (tail if tail >= SHARED else 0)  # a word or two: not worth it
    start = " ".join(words[0][:head])
    end = " ".join(words[0][len(words[0]) - tail :]) if tail else ""
    lines = [" ".join(w[head : len(w) - tail]) for w in words]
    heading = f"{len(distinct)} alike" + (f": {start} …" if start else ":")
    return "\n".join([heading, *(f"  {line}" for line in lines), *([f"  … {end}"] if end else [])])
