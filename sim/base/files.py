"""Reading input files safely: regular files of a sane size, as UTF-8 text.

Every file a user names (a scenario, a file it ``extends``, a backlog, an RTT return, a
sweep's grid) is checked before it is read: a folder, a device such as ``/dev/zero`` or a
pipe would otherwise be read until memory runs out, or block for ever. Callers turn a
:class:`FileProblem` into their own error, naming the file and the key or option.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Final

MB: Final = 1024 * 1024
MAX_SCENARIO_BYTES: Final = 10 * MB
"""A scenario file (or one it extends, a sweep's grid, a batch's settings): the bundled ones are under 50 kB."""
MAX_DATA_BYTES: Final = 1024 * MB
"""A data file (a backlog, an RTT return): a month of England's full RTT extract is about 100 MB."""


class FileProblem(ValueError):
    """A file that cannot be read as input; ``problem`` says why, without the file's name."""

    def __init__(self, problem: str):
        self.problem = problem
        super().__init__(problem)


def check_input(path: Path, max_bytes: int) -> None:
    """Raise :class:`FileProblem` unless ``path`` is a regular file of at most ``max_bytes``."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileProblem("file not found") from None
    except OSError as e:
        raise FileProblem(f"cannot read: {e.strerror or e}") from None
    if stat.S_ISDIR(info.st_mode):
        raise FileProblem("is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem("is not a regular file (a device, a pipe or a socket): give a file")
    if info.st_size > max_bytes:
        raise FileProblem(f"is {info.st_size / MB:,.1f} MB, more than the {max_bytes / MB:,.0f} MB an input file may be")


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The bytes of a checked input file."""
    check_input(path, max_bytes)
    try:
        return path.read_bytes()
    except OSError as e:
        raise FileProblem(f"cannot read: {e.strerror or e}") from None


def read_text(path: Path, max_bytes: int = MAX_SCENARIO_BYTES) -> str:
    """The text of a checked input file, as UTF-8 (a byte-order mark is allowed and dropped)."""
    raw = read_bytes(path, max_bytes)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileProblem(f"is not UTF-8 text (byte {raw[e.start]:#04x} at offset {e.start}): is it the right file?") from None
