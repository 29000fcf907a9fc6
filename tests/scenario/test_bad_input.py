"""Bad and absurd input, table-driven, so the whole probe reruns in one place.

Every case is a command line and the files it reads. Each must exit with code 2, print
``error:`` with the file, key or option named and no traceback, and leave every folder as it
was: no results folder, no file changed. Valid but strange input is warned of, not refused
(at the end).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from subprocess import PIPE

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from sim.analysis import limits
from sim.runs import results
from sim.runs.journal import JOURNAL, Journal, JournalError, locked
from sim.runs.tasks import Outcome, Task
from tests.conftest import BEDFORDSHIRE, ROOT

runner = CliRunner()
RUN = ["--reps", "1", "--years", "1", "--no-uncertainty", "--quiet", "--jobs", "1"]


@dataclass(frozen=True)
class Case:
    """A bad input: a function writing its files into a folder and giving the arguments, and
    the words the error must hold."""

    name: str
    setup: Callable[[Path], list[str]]
    expect: tuple[str, ...]


def child(folder: Path, body: str, name: str = "child.toml") -> Path:
    """A scenario extending the bundled Bedfordshire one with ``body``."""
    path = folder / name
    path.write_text(f'extends = "{BEDFORDSHIRE}"\n{body}\n', encoding="utf-8")
    return path


def run_with(body: str, *extra: str) -> Callable[[Path], list[str]]:
    return lambda d: ["run", str(child(d, body)), *RUN, "--out", str(d / "out"), *extra]


def run_bundled(*extra: str) -> Callable[[Path], list[str]]:
    return lambda d: ["run", str(BEDFORDSHIRE), *RUN, *extra]


def with_file(name: str, content: bytes, *args: str) -> Callable[[Path], list[str]]:
    """Write ``content`` to ``name`` and run with ``args`` (``{file}`` and ``{dir}`` filled in)."""

    def setup(d: Path) -> list[str]:
        (d / name).write_bytes(content)
        return [a.format(file=d / name, dir=d) for a in args]

    return setup


def chain(d: Path) -> list[str]:
    for i in range(1500):
        (d / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n', encoding="utf-8")
    (d / "c1500.toml").write_text(BEDFORDSHIRE.read_text(encoding="utf-8"), encoding="utf-8")
    return ["validate", str(d / "c0.toml")]


def extending(d: Path, name: str, content: bytes) -> list[str]:
    (d / name).write_bytes(content)
    return ["validate", str(_write(d / "x.toml", f'extends = "{name}"\n'))]


def fifo(d: Path) -> list[str]:
    os.mkfifo(d / "pipe.toml")
    return ["validate", str(d / "pipe.toml")]


def extends_fifo(d: Path) -> list[str]:
    os.mkfifo(d / "pipe.toml")
    (d / "x.toml").write_text('extends = "pipe.toml"\n', encoding="utf-8")
    return ["validate", str(d / "x.toml")]


def backlog(rows: bytes, name: str = "backlog.csv") -> Callable[[Path], list[str]]:
    return with_file(name, b"stage,condition,weeks_waited\n" + rows, "run", str(BEDFORDSHIRE), *RUN,
                     "--backlog", "{file}", "--out", "{dir}/out")  # fmt: skip


def backlog_fifo(d: Path) -> list[str]:
    os.mkfifo(d / "pipe.csv")
    return ["run", str(BEDFORDSHIRE), *RUN, "--backlog", str(d / "pipe.csv"), "--out", str(d / "out")]


def out_is(prepare: Callable[[Path], Path], *extra: str) -> Callable[[Path], list[str]]:
    return lambda d: ["run", str(BEDFORDSHIRE), *RUN, "--out", str(prepare(d)), *extra]


def a_file(d: Path) -> Path:
    (d / "taken").write_text("mine\n", encoding="utf-8")
    return d / "taken"


def a_folder_of_mine(d: Path) -> Path:
    (d / "mine").mkdir()
    (d / "mine" / "notes.txt").write_text("mine\n", encoding="utf-8")
    return d / "mine"


def under_a_file(d: Path) -> Path:
    return a_file(d) / "sub"


def dangling_journal(d: Path) -> Path:
    (d / "out").mkdir()
    (d / "out" / "journal.jsonl").symlink_to(d / "elsewhere.jsonl")
    return d / "out"


def resume_with(batch_json: str) -> Callable[[Path], list[str]]:
    def setup(d: Path) -> list[str]:
        (d / "old").mkdir()
        shutil.copy(BEDFORDSHIRE, d / "old" / "scenario.toml")
        (d / "old" / "batch.json").write_text(batch_json, encoding="utf-8")
        return ["run", str(BEDFORDSHIRE), "--resume", str(d / "old"), "--quiet"]

    return setup


GOOD_BATCH = {
    "kind": "run",
    "designs": ["prime"],
    "uncertainty": False,
    "precision": None,
    "metric": "x",
    "grid": {},
    "extra": {},
}

CASES = [
    # Files that are not scenarios
    Case("scenario not UTF-8", with_file("bin.toml", b"\x7fELF\x02\x01\xff\xfe", "validate", "{file}"), ("bin.toml", "UTF-8")),
    Case("extends a binary", lambda d: extending(d, "bin", b"\xff\xfe\x00"), ("bin", "UTF-8")),
    Case(
        "arrays 5,000 deep",
        with_file("deep.toml", b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "validate", "{file}"),
        ("deep.toml", "nested"),
    ),
    Case(
        "tables 5,000 deep",
        lambda d: ["validate", str(child(d, "[stages." + ".".join(["a"] * 5000) + "]\nx = 1"))],
        ("child.toml", "nested"),
    ),
    Case("1,500 chained extends", chain, ("extends", "chain")),
    Case(
        "extends /dev/zero",
        lambda d: ["validate", str(_write(d / "z.toml", 'extends = "/dev/zero"\n'))],
        ("/dev/zero", "regular file"),
    ),
    Case("extends a pipe", extends_fifo, ("pipe.toml", "regular file")),
    Case("scenario is a pipe", fifo, ("pipe.toml", "regular file")),
    Case("scenario is a folder", lambda d: ["validate", str(d)], ("folder",)),
    Case(
        "--set nested 3,000 deep",
        lambda d: ["validate", str(BEDFORDSHIRE), "--set", ".".join(["a"] * 3000) + "=1"],
        ("--set", "nested"),
    ),
    # Infinity and absurd values
    Case("slots inf", run_with("[stages.physio]\nslots_per_week = inf"), ("stages.physio.slots_per_week", "finite")),
    Case("tariff inf", run_with("[stages.physio]\ntariff_first = inf"), ("stages.physio.tariff_first", "finite")),
    Case("length of stay inf", run_with("[surgery]\nlos_joint_days = inf"), ("surgery.los_joint_days", "finite")),
    Case("nan", run_with("[gp]\nwait_days = nan"), ("gp.wait_days", "finite")),
    Case("GP wait 800 days", run_bundled("--set", "gp.wait_days=800"), ("gp.wait_days", "365")),
    Case("length of stay 5,000 days", run_bundled("--set", "surgery.los_other_days=5000"), ("surgery.los_other_days", "365")),
    Case("follow-ups 1e6", run_bundled("--set", "surgery.postop_followups=1e6"), ("surgery.postop_followups", "50")),
    Case("slots 1e300", run_bundled("--set", "stages.physio.slots_per_week=1e300"), ("stages.physio.slots_per_week",)),
    Case("population 1e9", run_bundled("--set", "population=1000000000"), ("population",)),
    Case("description 20,000 characters", run_with('description = "' + "x" * 20_000 + '"'), ("description", "10000")),
    # Names that would write outside results/
    Case("name ../../x", run_with('name = "../../x"'), ("name", "pattern")),
    Case("absolute name", run_with('name = "/tmp/x"'), ("name", "pattern")),
    Case("--set name", run_bundled("--set", "name=../escape"), ("--set name", "name")),
    # Backlog files
    Case("backlog not UTF-8", backlog(b"physio,\xff\xfe,3\n"), ("backlog.csv", "UTF-8")),
    Case("backlog field over 131,072 characters", backlog(b"physio," + b"x" * 140_000 + b",3\n"), ("backlog.csv", "row 1")),
    Case("backlog row with an extra field", backlog(b"physio,back_neck,3,9\n"), ("backlog.csv", "row 1", "more field")),
    Case("backlog wait 1e9 weeks", backlog(b"physio,back_neck,1e9\n"), ("weeks_waited", "100 years")),
    Case("backlog /dev/zero", run_bundled("--backlog", "/dev/zero"), ("/dev/zero", "regular file")),
    Case("backlog a pipe", backlog_fifo, ("pipe.csv", "regular file")),
    Case("backlog a folder", lambda d: run_bundled("--backlog", str(d))(d), ("folder",)),
    # Results folders
    Case("--out an existing file", out_is(a_file), ("--out", "taken", "is a file")),
    Case("--out a folder of other files", out_is(a_folder_of_mine), ("--out", "mine", "--force")),
    Case("--out under a file", out_is(under_a_file), ("--out", "cannot write there")),
    Case(
        "--out empty (the working folder)",
        lambda d: (_write(d / "notes.txt", "mine"), run_bundled("--out", "")(d))[1],
        ("--out", "--force"),
    ),
    Case("journal a dangling link", out_is(dangling_journal), ("journal.jsonl", "symbolic link")),
    Case("--resume, batch.json not JSON", resume_with("{nope"), ("batch.json", "--resume")),
    Case(
        "--resume, batch.json designs a number", resume_with(json.dumps({**GOOD_BATCH, "designs": 3})), ("batch.json", "designs")
    ),
    Case(
        "--resume, batch.json unknown design",
        resume_with(json.dumps({**GOOD_BATCH, "designs": ["nosuch"]})),
        ("batch.json", "nosuch"),
    ),
    # Limits
    Case("--reps 1,000,000,000", run_bundled("--reps", "1000000000"), ("--reps", "run.replications", "100000")),
    Case("referrals 1e7", run_bundled("--set", "demand.referrals_per_year=1e7"), ("memory",)),
    Case("referrals over 1e7", run_bundled("--set", "demand.referrals_per_year=2e7"), ("demand.referrals_per_year",)),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with the bytes of its regular files (links and pipes as None)."""
    out: dict[str, bytes | None] = {}
    for p in sorted(folder.rglob("*")):
        regular = p.is_file() and not p.is_symlink() and p.stat().st_size < 1_000_000
        out[str(p.relative_to(folder))] = p.read_bytes() if regular else None
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_exits_2_names_the_problem_and_writes_nothing(case: Case, tmp_path: Path, monkeypatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # a default results/ folder would appear here
    args = case.setup(work)
    before = _snapshot(tmp_path)
    result = runner.invoke(app, args)
    text = " ".join(result.output.split())  # Rich wraps long messages
    assert result.exit_code == 2, f"{case.name}: exit {result.exit_code}\n{result.output}{result.exception!r}"
    assert "Traceback" not in result.output and "error:" in text
    squeezed = "".join(result.output.split())  # Rich may break a long path mid-word
    for words in case.expect:
        assert "".join(words.split()) in squeezed, f"{case.name}: {words!r} not in: {text}"
    assert _snapshot(tmp_path) == before, f"{case.name}: something was written"


def test_a_batch_bigger_than_the_machine_is_refused_before_anything_runs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(limits, "machine_memory", lambda: 200 * limits.MB)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(BEDFORDSHIRE), *RUN, "--out", str(out)])
    assert result.exit_code == 2 and "memory" in result.output and not out.exists()


@pytest.mark.slow
def test_a_batch_over_half_the_machine_is_warned_of(tmp_path: Path, monkeypatch, small: Path) -> None:
    monkeypatch.setattr(limits, "machine_memory", lambda: 600 * limits.MB)
    result = runner.invoke(app, ["validate", str(small)])
    assert result.exit_code == 0  # validate runs nothing, so it needs no memory
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(small), *RUN, "--set", "run.warmup_days=30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "over half of this machine" in " ".join(result.output.split())


# --------------------------------------------------------------------------- valid but strange: warned of


@pytest.mark.parametrize(
    ("sets", "words"),
    [
        (["population=4500000"], ("demand.referrals_per_year", "per 1,000")),
        (["population=100000"], ("demand.referrals_per_year", "per 1,000")),
        (["demand.referrals_per_year=0", "demand.outside_contract.per_year=0"], ("demand.referrals_per_year", "no patient")),
    ],
)
def test_strange_demand_is_warned_of_naming_the_key(sets: list[str], words: tuple[str, ...]) -> None:
    result = runner.invoke(app, ["validate", str(BEDFORDSHIRE), *[x for s in sets for x in ("--set", s)]])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "warning:" in text and all(w in text for w in words), text


def test_usual_demand_is_not_warned_of() -> None:
    result = runner.invoke(app, ["validate", str(BEDFORDSHIRE)])
    assert result.exit_code == 0 and "warning:" not in result.output


def test_a_backlog_wait_over_ten_years_is_warned_of(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_text("stage,condition,weeks_waited\nphysio,back_neck,600\nphysio,back_neck,3\n")
    result = runner.invoke(app, ["validate", str(BEDFORDSHIRE), "--set", f'backlog.file="{tmp_path / "b.csv"}"',
                                 "--set", "run.warmup_days=0"])  # fmt: skip
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "backlog.file" in text and "over 10 years" in text and "rows 1" in text


@pytest.mark.parametrize("name", ["bl-🦴.csv", "waiting list ü.csv"])
@pytest.mark.slow
def test_a_backlog_file_name_in_any_script_is_read(tmp_path: Path, name: str, small: Path) -> None:
    (tmp_path / name).write_text("stage,condition,weeks_waited\nphysio,back_neck,3\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(small), *RUN, "--backlog", str(tmp_path / name), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "backlog.csv").exists()


def test_a_scenario_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BEDFORDSHIRE.read_bytes())
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_force_writes_into_a_folder_of_other_files_and_keeps_them(tmp_path: Path, small: Path) -> None:
    mine = a_folder_of_mine(tmp_path)
    result = runner.invoke(app, ["run", str(small), *RUN, "--set", "run.warmup_days=30", "--out", str(mine), "--force"])
    assert result.exit_code == 0, result.output
    assert (mine / "notes.txt").read_text() == "mine\n" and (mine / "manifest.json").exists()


# --------------------------------------------------------------------------- results folders and the journal


def test_runs_started_in_the_same_second_get_their_own_folders(monkeypatch) -> None:
    frozen = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):  # every run sees the same instant
            return frozen

    monkeypatch.setattr(results, "datetime", Clock)
    folders = {results.run_folder("bedfordshire", None) for _ in range(50)}
    assert len(folders) == 50


@pytest.mark.slow
def test_two_runs_at_once_write_two_folders(tmp_path: Path, small: Path) -> None:
    """Two real runs started together, each with its own --set, each in its own folder."""
    command = [sys.executable, "-c", "from cli import app; app()", "run", str(small), *RUN, "--set", "run.warmup_days=20"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([*command, "--set", f"surgery.beds={beds}"], cwd=tmp_path, stdout=PIPE, stderr=PIPE, env=env)
        for beds in (30, 31)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    folders = sorted((tmp_path / "results").iterdir())
    assert len(folders) == 2
    beds = {tomllib.loads((f / "scenario.toml").read_text())["surgery"]["beds"] for f in folders}
    assert beds == {30, 31}


def _outcome(replication: int) -> Outcome:
    return Outcome(Task(0, replication, "prime"), [{"year": 1, "x": float(replication)}], {"weekly": []})


def test_a_damaged_line_in_the_middle_of_a_journal_loses_only_itself(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    for r in range(3):
        journal.append(_outcome(r))
    lines = (tmp_path / JOURNAL).read_bytes().splitlines(keepends=True)
    garbled = [
        lines[0],
        b'{"task": {"point": 0, "repl\x00\xff garbage\n',
        b'{"rows": [], "traces": {}, "error": null}\n',
        *lines[1:],
    ]
    (tmp_path / JOURNAL).write_bytes(b"".join(garbled))
    done = Journal(tmp_path).read()
    assert sorted(t.replication for t in done) == [0, 1, 2], "the lines after the damage are kept"
    reread = Journal(tmp_path)
    reread.read()
    assert reread.damaged == [2, 3]
    assert (tmp_path / JOURNAL).read_bytes() == b"".join(garbled), "nothing is truncated away"


@pytest.mark.slow
def test_a_resumed_batch_reports_a_damaged_journal_line_and_reruns_only_its_task(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "out"
    args = ["run", str(small), *RUN, "--reps", "3", "--set", "run.warmup_days=20"]
    assert runner.invoke(app, [*args, "--out", str(out)]).exit_code == 0
    lines = (out / JOURNAL).read_bytes().splitlines(keepends=True)
    (out / JOURNAL).write_bytes(lines[0] + b"not json at all\n" + b"".join(lines[2:]))
    (out / "manifest.json").unlink()
    result = runner.invoke(app, ["run", str(small), "--resume", str(out), "--quiet"])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "line(s) 2 damaged" in text
    assert len(pd.read_csv(out / "replications.csv")["replication"].unique()) == 3
    assert len((out / JOURNAL).read_bytes().splitlines()) == 4, "the lost task ran again, the others did not"


@pytest.mark.slow
def test_a_second_process_on_the_same_batch_is_refused(tmp_path: Path, small: Path) -> None:
    out = tmp_path / "out"
    args = ["run", str(small), *RUN, "--set", "run.warmup_days=20"]
    assert runner.invoke(app, [*args, "--out", str(out)]).exit_code == 0
    (out / "manifest.json").unlink()
    before = _snapshot(tmp_path)
    with locked(out):  # as a first resume holds it
        result = runner.invoke(app, ["run", str(small), "--resume", str(out), "--quiet"])
    assert result.exit_code == 2 and "another msksim process" in " ".join(result.output.split())
    assert _snapshot(tmp_path) == before


def test_the_journal_is_never_written_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.jsonl").write_text("")
    (tmp_path / JOURNAL).symlink_to(tmp_path / "elsewhere.jsonl")
    with pytest.raises(JournalError, match="symbolic link"):
        Journal(tmp_path)
