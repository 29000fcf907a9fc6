"""Faults injected into the commands that write: what they leave and what they say.

Classes covered:

- **Full disk** (a small tmpfs, or one filled up): ``compare`` whose tables do not fit (the journal
  kept, the message says how to resume, and the resume on more space gives the same tables);
  ``compare`` refused before it starts when its estimate does not fit; ``target``, ``calibrate``,
  ``scale`` and ``report`` on a full file system; the shared staging helper on a full disk.
- **Read-only file system** (a tmpfs remounted read-only): ``scale`` (its default ``--out`` beside
  the scenario, and ``--out`` there) and ``report``.
- **Two at once on one folder** (the folder's lock held, as a first msksim holds it): every batch
  command, ``target``, ``calibrate``, ``report`` and ``scale`` (the file's lock) are refused.

Each checks the exit code (2), the message (the path, the errno in words), that no traceback is
printed, and that nothing partial or stray (half a folder, a staging folder, a lock file) is left.
Mounting needs root (CAP_SYS_ADMIN): where it is refused, those tests are skipped saying so.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.runs.journal import JOURNAL, locked
from sim.runs.results import BATCH_FILE, MANIFEST_FILE, SCENARIO_FILE
from sim.runs.transaction import file_locked, staged
from tests.conftest import ROOT, quick_run

runner = CliRunner()
QUICK = ["--reps", "2", "--years", "1", "--set", "run.warmup_days=30", "--jobs", "1", "--quiet"]
RTT = sorted(str(p) for p in (ROOT / "data" / "rtt").glob("rtt-commissioner-ccg-*.csv"))


def _text(result: object) -> str:
    return " ".join(result.output.split())  # type: ignore[attr-defined]


def _refused(result: object, *words: str) -> str:
    """The run ended with exit 2, an ``error:`` naming ``words``, and no traceback."""
    text = _text(result)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "error:" in text and "Traceback" not in result.output, result.output  # type: ignore[attr-defined]
    assert isinstance(result.exception, SystemExit), result.exception  # type: ignore[attr-defined]
    joined = "".join(text.split())  # a long path may be wrapped anywhere
    for w in words:
        assert "".join(w.split()) in joined, f"{w!r} not in: {text}"
    return text


def _tree(folder: Path) -> set[str]:
    """Every file and folder under ``folder``, hidden ones included, relative to it."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _mount(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {done.stderr.strip() or done.returncode}")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a tmpfs of the size given (unmounted after the test)."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        where = tmp_path / f"fs{len(mounted)}"
        _mount(where, size)
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _remount(where: Path, options: str) -> None:
    done = subprocess.run(["mount", "-o", f"remount,{options}", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs {options}: {done.stderr.strip()}")


def _fill(where: Path) -> None:
    """Fill a file system to the last byte: every later write there fails with ENOSPC."""
    fd = os.open(where / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- full disk


@pytest.mark.slow
def test_compare_onto_a_full_disk_keeps_the_journal_and_resumes(tmpfs: Callable[[str], Path], small: Path) -> None:
    """Room for the journal, not the tables: exit 2 naming the table and ENOSPC, no table nor manifest
    left, no staging folder; once there is room, the resume writes the whole folder."""
    fs = tmpfs("400k")
    out = fs / "run"
    text = _refused(runner.invoke(app, ["compare", str(small), *QUICK, "--out", str(out)]),
                    str(out), "No space left on device (ENOSPC)", f"msksim compare --resume {out}")  # fmt: skip
    assert _tree(fs) == {"run", f"run/{BATCH_FILE}", f"run/{JOURNAL}", f"run/{SCENARIO_FILE}"}, text
    _remount(fs, "size=4m")
    resumed = runner.invoke(app, ["compare", "--resume", str(out), "--jobs", "1", "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    assert (out / MANIFEST_FILE).exists() and len(pd.read_csv(out / "replications.csv")) > 0
    assert not [p for p in _tree(fs) if p.startswith(".")]


def test_a_batch_that_cannot_fit_is_refused_before_it_starts(tmpfs: Callable[[str], Path], small: Path) -> None:
    fs = tmpfs("100k")
    out = fs / "run"
    _refused(runner.invoke(app, ["compare", str(small), *QUICK, "--out", str(out)]), str(out), "MB free", "needs about")
    assert _tree(fs) == set()


def test_target_onto_a_full_disk_is_refused_before_its_search(tmpfs: Callable[[str], Path], small: Path) -> None:
    fs = tmpfs("256k")
    _fill(fs)
    out = fs / "target"
    args = ["target", str(small), "--design", "prime", "--stage", "physio", "--at-least", "50", *QUICK, "--out", str(out)]
    _refused(runner.invoke(app, args), str(out), "MB free")
    assert _tree(fs) == {"filler"}


def test_calibrate_onto_a_full_disk_is_refused_before_its_search(tmpfs: Callable[[str], Path]) -> None:
    fs = tmpfs("256k")
    _fill(fs)
    out = fs / "cal"
    rtt = [a for f in RTT for a in ("--rtt", f)]
    args = ["calibrate", str(ROOT / "scenarios" / "bedfordshire.toml"), *rtt, "--commissioner", "06F", "--out", str(out)]
    _refused(runner.invoke(app, [*args, "--quiet", "--reps", "1"]), str(out), "MB free")
    assert _tree(fs) == {"filler"}


def test_scale_onto_a_full_disk(tmpfs: Callable[[str], Path], small: Path) -> None:
    fs = tmpfs("256k")
    _fill(fs)
    out = fs / "scaled.toml"
    _refused(runner.invoke(app, ["scale", str(small), "--population", "30000", "--out", str(out)]),
             str(out), "No space left on device (ENOSPC)")  # fmt: skip
    assert _tree(fs) == {"filler"}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, small: Path) -> Path:
    """A finished compare (its folder to be copied onto the file systems the tests break)."""
    return quick_run(tmp_path_factory, "compare", str(small))


def _copy_onto(folder: Path, fs: Path) -> Path:
    subprocess.run(["cp", "-r", str(folder), str(fs / folder.name)], check=True)
    return fs / folder.name


@pytest.mark.slow
def test_report_onto_a_full_disk(tmpfs: Callable[[str], Path], finished: Path) -> None:
    fs = tmpfs("4m")
    run = _copy_onto(finished, fs)
    before = _tree(fs)
    _fill(fs)
    _refused(runner.invoke(app, ["report", str(run)]), str(run), "MB free", "the report needs")
    assert _tree(fs) == before | {"filler"}


def test_staging_on_a_full_disk_leaves_nothing(tmpfs: Callable[[str], Path]) -> None:
    """What target, calibrate and the batches write in goes whole or not at all: a folder made for
    it is removed, the staging folder too, and the error names the file as it would have been."""
    fs = tmpfs("64k")
    with pytest.raises(OSError) as caught, staged(fs / "out", last=("last.txt",)) as stage:
        (stage / "first.txt").write_text("x")
        (stage / "big.bin").write_bytes(b"\0" * 200_000)
    assert caught.value.errno == errno.ENOSPC
    assert _tree(fs) == set()


def test_staged_files_move_in_together_the_last_named_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    moved: list[str] = []
    replace = os.replace

    def recorded(src: str | Path, dst: str | Path) -> None:
        moved.append(Path(dst).name)
        replace(src, dst)

    monkeypatch.setattr(os, "replace", recorded)
    with staged(tmp_path / "out", last=("manifest.json",)) as stage:
        for name in ("manifest.json", "a.csv", "b.csv"):
            (stage / name).write_text(name)
    assert moved == ["a.csv", "b.csv", "manifest.json"]
    assert _tree(tmp_path) == {"out", "out/a.csv", "out/b.csv", "out/manifest.json"}


# --------------------------------------------------------------------------- read-only file system


def test_scale_on_a_read_only_file_system(tmpfs: Callable[[str], Path], small: Path) -> None:
    fs = tmpfs("1m")
    scenario = fs / "area.toml"
    scenario.write_text(f'extends = "{small}"\nname = "area"\n')
    _remount(fs, "ro")
    before = _tree(fs)
    _refused(runner.invoke(app, ["scale", str(scenario), "--population", "30000"]),
             str(fs / "area_30000.toml"), "Read-only file system (EROFS)")  # fmt: skip
    _refused(runner.invoke(app, ["scale", str(scenario), "--population", "30000", "--out", str(fs / "x.toml")]),
             str(fs / "x.toml"), "Read-only file system (EROFS)")  # fmt: skip
    assert _tree(fs) == before


@pytest.mark.slow
def test_report_on_a_read_only_file_system(tmpfs: Callable[[str], Path], finished: Path) -> None:
    fs = tmpfs("4m")
    run = _copy_onto(finished, fs)
    _remount(fs, "ro")
    before = _tree(fs)
    _refused(runner.invoke(app, ["report", str(run)]), str(run / "report.html"), "Read-only file system (EROFS)")
    assert _tree(fs) == before


# --------------------------------------------------------------------------- two at once


def _held_elsewhere(folder: Path) -> subprocess.Popen[str]:
    """Another process holding ``folder``'s lock, as a first msksim does, until its stdin closes."""
    code = "import sys; from pathlib import Path; from sim.runs.journal import locked\n" \
           "with locked(Path(sys.argv[1])):\n    print('held', flush=True); sys.stdin.read()"  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    helper = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)  # fmt: skip
    assert helper.stdout is not None and helper.stdout.readline().strip() == "held"
    return helper


@pytest.mark.parametrize(
    "command",
    [
        ["run"],
        ["compare"],
        ["sweep", "--grid", "stages.physio.slots_per_week=200,300"],
        ["bid"],
    ],
    ids=["run", "compare", "sweep", "bid"],
)
@pytest.mark.slow
def test_a_second_batch_on_a_held_folder_is_refused(tmp_path: Path, small: Path, command: list[str]) -> None:
    out = tmp_path / "out"
    helper = _held_elsewhere(out)
    try:
        _refused(runner.invoke(app, [command[0], str(small), *command[1:], *QUICK, "--out", str(out)]),
                 str(out), "another msksim process")  # fmt: skip
        assert _tree(tmp_path) == {"out"}
    finally:
        helper.communicate("")


def test_a_second_target_on_a_held_folder_is_refused(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "out"
    args = ["target", str(small), "--design", "prime", "--stage", "physio", "--at-least", "50", *QUICK, "--out", str(out)]
    with locked(out):
        _refused(runner.invoke(app, args), str(out), "another msksim process")
    assert _tree(tmp_path) == {"out"}


def test_a_second_calibrate_on_a_held_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    rtt = [a for f in RTT for a in ("--rtt", f)]
    args = ["calibrate", str(ROOT / "scenarios" / "bedfordshire.toml"), *rtt, "--commissioner", "06F", "--out", str(out)]
    with locked(out):
        _refused(runner.invoke(app, [*args, "--quiet", "--reps", "1"]), str(out), "another msksim process")
    assert _tree(tmp_path) == {"out"}


def test_a_report_on_a_held_folder_is_refused(tmp_path: Path, finished: Path) -> None:
    run = _copy_onto(finished, tmp_path)
    before = _tree(tmp_path)
    with locked(run):
        _refused(runner.invoke(app, ["report", str(run)]), str(run), "another msksim process")
    assert _tree(tmp_path) == before


def test_a_second_scale_to_the_same_file_is_refused(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "scaled.toml"
    with file_locked(out):
        _refused(runner.invoke(app, ["scale", str(small), "--population", "30000", "--out", str(out)]),
                 str(out), "another msksim process")  # fmt: skip
        assert not out.exists()
    assert _tree(tmp_path) == set(), "the lock file goes with the lock"


def test_staging_where_no_folder_can_be_made_names_the_target(tmpfs: Callable[[str], Path]) -> None:
    fs = tmpfs("64k")
    _remount(fs, "ro")
    with pytest.raises(OSError) as caught, staged(fs / "out"):
        pass
    assert caught.value.errno == errno.EROFS and caught.value.filename == str(fs / "out")
    assert _tree(fs) == set()
