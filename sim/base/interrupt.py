"""Ctrl-C while a model runs: the model stops at the start of its next simulated day.

Python runs a signal handler inside whichever C call next checks for signals, and CPython's
multiplication of large integers checks. The compiled model (mypyc) takes a failure there for
running out of memory and aborts the process, so the default handler, which raises
``KeyboardInterrupt`` where it runs, killed a compiled run outright about one time in three.
While a model runs, :func:`stop_at_day_boundaries` therefore replaces that handler with one that
only notes the interrupt; the model's day loop asks :func:`requested` and raises
``KeyboardInterrupt`` itself, between days, where nothing is half done.

SIGTERM and SIGHUP (what ``timeout``, schedulers, container stops and a closed terminal send)
end a batch the same way while :func:`terminating` holds: they raise :class:`Terminated`, a
``KeyboardInterrupt``, deferred to the next day while a model runs; the batch's journal keeps the
finished tasks, and the command exits with 128 + the signal's number, as a shell reports it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

TERMINATING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
"""The signals that end a batch as Ctrl-C does while :func:`terminating` holds."""

_pending: list[bool] = [False]
_signal: list[int | None] = [None]
"""The terminating signal deferred while a model runs (None: Ctrl-C, or none)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP came: the batch stops as for Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """The signal's name, e.g. ``SIGTERM``."""
        return signal.Signals(self.signum).name


def exit_code(stop: KeyboardInterrupt) -> int:
    """The exit code for a stopped command: 128 + the signal's number (130 for Ctrl-C)."""
    return 128 + (stop.signum if isinstance(stop, Terminated) else signal.SIGINT)


def requested() -> bool:
    """Whether Ctrl-C was pressed (or SIGTERM or SIGHUP came) since the model started."""
    return _pending[0]


def _note(signum: int, frame: FrameType | None) -> None:
    _pending[0] = True
    if signum != signal.SIGINT:
        _signal[0] = signum


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def terminating() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Terminated` in the main thread, where they would end the
    process at once. A signal ignored (``nohup``) or handled by the program is left as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    taken = [s for s in TERMINATING if signal.getsignal(s) is signal.SIG_DFL]
    for s in taken:
        signal.signal(s, _terminate)
    try:
        yield
    finally:
        for s in taken:
            signal.signal(s, signal.SIG_DFL)


@contextmanager
def stop_at_day_boundaries() -> Iterator[None]:
    """Defer Ctrl-C to the model's next day; raise ``KeyboardInterrupt`` on leaving if one came.

    Only where Ctrl-C would raise at once (the interpreter's own handler, in the main thread):
    a handler the program set, or an interrupt ignored, is left as it is.
    SIGTERM and SIGHUP are deferred the same way where :func:`terminating` holds, and raise
    :class:`Terminated`.
    """
    in_main = threading.current_thread() is threading.main_thread()
    deferred = [s for s in TERMINATING if in_main and signal.getsignal(s) is _terminate]
    if in_main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        deferred.append(signal.SIGINT)
    if not deferred:
        yield
        return
    _pending[0], _signal[0] = False, None
    kept = {s: signal.signal(s, _note) for s in deferred}
    try:
        yield
    except KeyboardInterrupt:
        if _signal[0] is not None:  # the model stopped for a terminating signal, not Ctrl-C
            raise Terminated(_signal[0]) from None
        raise
    finally:
        for s, handler in kept.items():
            signal.signal(s, handler)
        came, _pending[0] = _pending[0], False
        signum, _signal[0] = _signal[0], None
    if came:  # after the model's last day, or in code that does not check
        raise KeyboardInterrupt if signum is None else Terminated(signum)
