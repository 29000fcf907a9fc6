"""Ctrl-C while a model runs: the model stops at the start of its next simulated day.

Python runs a signal handler inside whichever C call next checks for signals, and CPython's
multiplication of large integers checks. The compiled model (mypyc) takes a failure there for
running out of memory and aborts the process, so the default handler, which raises
``KeyboardInterrupt`` where it runs, killed a compiled run outright about one time in three.
While a model runs, :func:`stop_at_day_boundaries` therefore replaces that handler with one that
only notes the interrupt; the model's day loop asks :func:`requested` and raises
``KeyboardInterrupt`` itself, between days, where nothing is half done.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_pending: list[bool] = [False]


def requested() -> bool:
    """Whether Ctrl-C was pressed since the model started."""
    return _pending[0]


def _note(signum: int, frame: FrameType | None) -> None:
    _pending[0] = True


@contextmanager
def stop_at_day_boundaries() -> Iterator[None]:
    """Defer Ctrl-C to the model's next day; raise ``KeyboardInterrupt`` on leaving if one came.

    Only where Ctrl-C would raise at once (the interpreter's own handler, in the main thread):
    a handler the program set, or an interrupt ignored, is left as it is.
    """
    in_main = threading.current_thread() is threading.main_thread()
    if not in_main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    _pending[0] = False
    signal.signal(signal.SIGINT, _note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        came, _pending[0] = _pending[0], False
    if came:  # after the model's last day, or in code that does not check
        raise KeyboardInterrupt
