"""A results folder held for a command: the ``--out`` rules (a folder of other files, or one
holding a batch, is refused unless ``--force``) and the folder's lock while it is written."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from sim.runs.batch import BatchError
from sim.runs.journal import JOURNAL, JournalError, locked
from sim.runs.results import BATCH_FILE, MANIFEST_FILE
from sim.runs.transaction import LEAST_OUTPUT, check_space

RESULTS_MARKS = (JOURNAL, BATCH_FILE, MANIFEST_FILE, "calibrated.toml", "areas.jsonl", "national.json")
"""Files that make a folder an msksim results folder."""


def check_out(folder: Path, given: bool, force: bool) -> None:
    """Refuse a results folder that is a file, holds a batch, or holds files that are not msksim's
    (unless ``force``), or that cannot be written. Nothing is written here.

    Raises
    ------
    BatchError
        Naming the folder (as ``--out`` when given) and the problem.
    """
    name = f"--out {folder}" if given else str(folder)
    if os.path.lexists(folder) and not folder.is_dir():
        raise BatchError(f"{name}: is a file (or a broken link), not a folder")
    if folder.is_dir():
        journal = folder / JOURNAL
        if journal.is_symlink():
            raise BatchError(f"{name}: {JOURNAL} is a symbolic link; a batch writes only inside its own folder")
        if os.path.lexists(journal) and not force:
            raise BatchError(
                f"{name}: already holds a batch: continue it with --resume {folder}, choose another --out, "
                "or --force to replace it"
            )
        ours = any(os.path.lexists(folder / mark) for mark in RESULTS_MARKS)
        if not ours and any(folder.iterdir()) and not force:
            raise BatchError(
                f"{name}: a folder of other files, not an msksim results folder: choose an empty or new folder, "
                "or --force to write there (files of the same names are replaced)"
            )
    existing = next((p for p in (folder, *folder.absolute().parents) if p.exists()), None)
    if existing is not None and not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        raise BatchError(f"{name}: cannot write there ({existing} is not a folder you may write to)")


@contextlib.contextmanager
def claimed(
    folder: Path, given: bool, force: bool, need: int = LEAST_OUTPUT, what: str = "writing its results"
) -> Iterator[None]:
    """Hold ``folder`` for a command that writes into it: the batch's ``--out`` rules
    (:func:`check_out`) and its lock, checked again once the lock is held (another
    process may have finished there meanwhile). A folder this made is removed on failure when
    nothing was moved into it.

    Raises
    ------
    BatchError
        When the folder is refused, or another msksim process holds it.
    SpaceError
        When its file system has not ``need`` bytes free.
    """
    made = not os.path.lexists(folder)
    check_out(folder, given, force)
    check_space(folder, need, what)
    try:
        with locked(folder):
            check_out(folder, given, force)
            yield
    except JournalError as e:
        raise BatchError(str(e)) from None
    finally:
        if made and folder.is_dir() and not any(folder.iterdir()):
            with contextlib.suppress(OSError):
                folder.rmdir()


@contextlib.contextmanager
def held(folder: Path) -> Iterator[None]:
    """Hold an existing results folder's lock (the batch's) while writing into it.

    Raises
    ------
    BatchError
        When another msksim process holds it.
    """
    try:
        with locked(folder):
            yield
    except JournalError as e:
        raise BatchError(str(e)) from None
