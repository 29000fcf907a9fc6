"""Writing a command's outputs as one transaction: all of them, or none.

Files are written into a staging folder beside the target (on the same file system, so a
rename is atomic) and moved into place at the end, those named ``last`` (a manifest) after
the rest; on any failure the staging folder goes, and a folder the command made is removed
again (:func:`sim.runs.batch.claimed` gives the other writing commands the batch's ``--out`` rules and lock);
:func:`describe` words an ``OSError`` as ``PATH: strerror (ENAME)`` for the ``error:`` line.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from sim.runs.journal import JournalError

MB = 1024 * 1024


class SpaceError(Exception):
    """A folder without room for what a command is about to write: names the folder, what is free and needed."""


def describe(e: OSError, path: Path | str | None = None) -> str:
    """``PATH: No space left on device (ENOSPC)``: the file the error names (else ``path``) and the errno in words."""
    where = e.filename if e.filename is not None else path
    name = errno.errorcode.get(e.errno, "") if e.errno is not None else ""
    words = os.strerror(e.errno) if e.errno is not None else str(e)
    said = f"{words} ({name})" if name else words
    return f"{where}: {said}" if where is not None else said


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def staged(target: Path, last: Iterable[str] = ()) -> Iterator[Path]:
    """A staging folder beside the folder ``target``; what is written in it is moved into
    ``target`` when the block ends (the names in ``last`` after the others).

    On any failure the staging folder is removed, and ``target`` too if this made it, so
    nothing partial is left by the block.
    """
    made = not os.path.lexists(target)
    try:
        target.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    except OSError as e:  # named by the folder asked for, not the staging folder's name
        if made:
            _remove(target)
        raise OSError(e.errno, e.strerror, str(target)) from None
    try:
        yield stage
        names = sorted(p.name for p in stage.iterdir())
        ending = [n for n in last if n in names]
        for name in [*(n for n in names if n not in ending), *ending]:
            os.replace(stage / name, target / name)
    except OSError as e:
        _remove(stage)
        if made:
            _remove(target)
        named = e.filename
        if isinstance(named, str) and Path(named).parent == stage:  # named as it would have been, in the target
            raise OSError(e.errno, e.strerror, str(target / Path(named).name)) from None
        raise
    except BaseException:
        _remove(stage)
        if made:
            _remove(target)
        raise
    _remove(stage)


LEAST_OUTPUT = 16 * 1024
"""Less than any ``target`` or ``calibrate`` folder holds: where not even this is free, they are
refused before their search rather than failing at its end."""


@contextlib.contextmanager
def file_locked(path: Path) -> Iterator[None]:
    """Hold the lock of the file ``path`` is to be (``.NAME.lock`` beside it, removed after): a
    second msksim writing the same file is refused.

    Raises
    ------
    JournalError
        When another process holds it.
    """
    lock = path.parent / f".{path.name}.lock"
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as e:  # named by the file to be written, not the lock's own name
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            fd = -1
            raise JournalError(f"{path}: another msksim process is writing it; wait for it to finish") from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()
    finally:
        if fd >= 0:
            os.close(fd)


def check_writable(path: Path, need: int, what: str) -> None:
    """Refuse, before the work, to write ``path`` into a folder that cannot take it: one this
    process may not create files in (read-only, no permission) or without ``need`` bytes free.

    Raises
    ------
    OSError
        Naming ``path``, with the errno of the trial file that could not be made.
    SpaceError
        When there is not room.
    """
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from None
    check_space(path.parent, need, what)


def check_space(folder: Path, need: int, what: str) -> None:
    """Refuse to start when the file system ``folder`` is on (or would be on) has less than ``need`` bytes free.

    Raises
    ------
    SpaceError
        Naming the folder, the space free and the space needed.
    """
    existing = next((p for p in (folder, *folder.absolute().parents) if p.exists()), None)
    if existing is None:
        return
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return  # not measurable: writing will say what goes wrong
    if free < need:
        raise SpaceError(
            f"{folder}: {free / MB:,.2f} MB free on its file system, and {what} needs about {need / MB:,.2f} MB at least: "
            "free some space or choose another --out"
        )
