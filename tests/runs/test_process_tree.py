"""The process tree of a batch: workers die with their parent, hold none of its locks, are no more
than the tasks and the machine allow, and a worker that cannot be started is a clear error.

Linux only: the workers ask the kernel to end them with their parent (``PR_SET_PDEATHSIG``), and
the tests read the process tree from ``/proc``.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from sim.base import interrupt
from sim.runs import executors
from sim.runs.executors import ProcessExecutor, StartError
from sim.runs.journal import JOURNAL, locked
from tests.conftest import default_signals, stopped_by, until

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc (Linux)")

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _open_on(pid: int, folder: Path) -> list[str]:
    """The files ``pid`` has open inside (or on) ``folder``."""
    held = []
    for fd in (Path("/proc") / str(pid) / "fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target == str(folder) or target.startswith(f"{folder}/"):
            held.append(target)
    return held


def _lock_is_free(folder: Path) -> bool:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _batch(small: Path, out: Path, jobs: int) -> subprocess.Popen[str]:
    """A batch of the small scenario long enough to be stopped part way, started in its own process."""
    return subprocess.Popen(
        [sys.executable, "cli.py", "run", str(small), "--reps", "8", "--years", "2", "--set", "run.warmup_days=30",
         "--jobs", str(jobs), "--quiet", "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals,
    )  # fmt: skip


def _msksim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
@pytest.mark.slow
def test_workers_die_with_their_parent_and_the_batch_resumes(small: Path, tmp_path: Path, signum: int) -> None:
    out = tmp_path / "out"
    parent = _batch(small, out, jobs=2)
    try:
        journal = out / JOURNAL
        started = until(lambda: journal.exists() and journal.stat().st_size > 0, 120)
        workers = _children(parent.pid)
        assert started and parent.poll() is None, "the batch finished (or failed) before it could be stopped"
        assert len(workers) == 2
        for w in workers:  # the parent's lock on its folder is the parent's alone
            assert not _open_on(w, out), f"worker {w} holds {_open_on(w, out)}"
        parent.send_signal(signum)
        _, err = parent.communicate(timeout=60)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    assert until(lambda: not any(_alive(w) for w in workers), 5), "workers outlived their parent"
    assert _lock_is_free(out)
    if signum == signal.SIGKILL:
        assert parent.returncode == -signal.SIGKILL
        resumed = _msksim("run", "--resume", str(out), "--reps", "1", "--jobs", "1", "--quiet")
        assert resumed.returncode == 0, resumed.stderr
    else:  # stopped as Ctrl-C stops it: what finished is kept, and the way on is said
        said = " ".join(err.split())
        assert parent.returncode == 128 + signum, said
        assert f"error: stopped by {signal.Signals(signum).name}" in said and f"--resume {out}" in said
        assert "Traceback" not in said


@pytest.mark.slow
def test_sigterm_stops_a_model_running_in_the_parent_between_days(small: Path, tmp_path: Path) -> None:
    """With ``--jobs 1`` the model runs in the parent: SIGTERM is held to the next simulated day."""
    out = tmp_path / "out"
    journal = out / JOURNAL
    # half a second after the first replication ends: into the next replication's model
    parent = _batch(small, out, jobs=1)
    said = stopped_by(parent, signal.SIGTERM, lambda: journal.exists() and journal.stat().st_size > 0, settle=0.5)
    assert parent.returncode == 128 + signal.SIGTERM, said
    assert "error: stopped by SIGTERM" in said and "Traceback" not in said
    assert journal.read_bytes().endswith(b"\n")  # whole lines only
    assert _lock_is_free(out)


def test_no_more_workers_than_tasks(small: Path, tmp_path: Path) -> None:
    executor = ProcessExecutor(40)
    try:
        executor.start(2)
        assert len(_children(os.getpid()) & set(executor.pool._processes)) == 2  # type: ignore[union-attr,arg-type]
    finally:
        executor.close()


def test_jobs_above_what_the_machine_can_start_are_lowered_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executors, "process_room", lambda: 7)
    notes: list[str] = []
    executor = ProcessExecutor(1_000_000, notes.append)
    assert executor.jobs == 3  # 4 kept spare
    assert notes and notes[0].startswith("--jobs 1000000: 3 workers at most") and "process limit" in notes[0]
    monkeypatch.setattr(executors, "process_room", lambda: None)
    notes.clear()
    assert ProcessExecutor(1_000_000, notes.append).jobs == executors.PER_CORE * (os.cpu_count() or 1)
    assert "a core" in notes[0]
    notes.clear()
    ProcessExecutor(2, notes.append)
    assert not notes  # a value within reach is the value used, silently


@pytest.fixture
def fork_fails_after_one(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """``os.fork`` as in a container out of processes: the first succeeds, the rest fail (EAGAIN)."""
    real, forked = os.fork, []

    def fork() -> int:
        if forked:
            raise OSError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        pid = real()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    yield forked


def test_a_worker_that_cannot_be_started_is_an_error_and_none_is_left(fork_fails_after_one: list[int]) -> None:
    executor = ProcessExecutor(3)
    with pytest.raises(StartError) as e:
        executor.start(4)
    assert "--jobs 3: cannot start worker process 2 of 3" in str(e.value)
    assert os.strerror(errno.EAGAIN) in str(e.value) and "fewer --jobs" in str(e.value)
    assert not any(_alive(p) for p in fork_fails_after_one)
    executor.close()


def test_a_batch_whose_workers_cannot_start_exits_2_writing_nothing(small: Path, tmp_path: Path,
                                                                    fork_fails_after_one: list[int]) -> None:  # fmt: skip
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(small), "--reps", "4", "--years", "1", "--jobs", "3", "--quiet", "--out", str(out)])
    said = " ".join(result.output.split())
    assert result.exit_code == 2, said
    assert said.startswith("error: --jobs 3: cannot start worker process") and "Traceback" not in said
    assert not out.exists()


def test_workers_started_under_a_lock_do_not_hold_it(tmp_path: Path) -> None:
    executor = ProcessExecutor(2)
    try:
        with locked(tmp_path):
            executor.start(2)
            workers = set(executor.pool._processes)  # type: ignore[union-attr,arg-type]
            assert workers  # each lets go of the parent's lock as it starts
            assert until(lambda: not any(_open_on(w, tmp_path) for w in workers), 5)
        assert _lock_is_free(tmp_path)  # the parent let go: nobody holds it
    finally:
        executor.close()


@pytest.mark.parametrize("signum", interrupt.TERMINATING, ids=lambda s: signal.Signals(s).name)
def test_a_terminating_signal_stops_as_ctrl_c_with_its_own_exit_code(signum: int) -> None:
    before = signal.getsignal(signum)
    signal.signal(signum, signal.SIG_DFL)
    try:
        # held while a model runs (stop_at_day_boundaries), raised on leaving
        with pytest.raises(interrupt.Terminated) as e, interrupt.terminating(), interrupt.stop_at_day_boundaries():
            signal.raise_signal(signum)
            assert interrupt.requested()
        assert e.value.signum == signum and interrupt.exit_code(e.value) == 128 + signum
        assert isinstance(e.value, KeyboardInterrupt)
        assert signal.getsignal(signum) is signal.SIG_DFL
        signal.signal(signum, signal.SIG_IGN)  # nohup: an ignored signal stays ignored
        with interrupt.terminating():
            assert signal.getsignal(signum) is signal.SIG_IGN
    finally:
        signal.signal(signum, before)


Limited = tuple[Path, Callable[[int], None]]
"""A cgroup to start a command in, and a way to set its process limit."""


@pytest.fixture
def few_processes(tmp_path: Path) -> Iterator[Limited]:
    """A cgroup (v1 ``pids``) to start a command in, and a way to set its process limit, as in a
    container; skipped where one cannot be made (not root, no writable ``pids`` hierarchy)."""
    base = Path("/sys/fs/cgroup/pids")
    if os.geteuid() != 0 or not os.access(base, os.W_OK) or not (base / "cgroup.procs").exists():
        pytest.skip("needs root and a writable cgroup v1 pids hierarchy to limit a command's processes")
    group = base / f"msksim-test-{os.getpid()}-{tmp_path.name}"
    try:
        group.mkdir()
    except OSError as e:
        pytest.skip(f"cannot make a pids cgroup: {e.strerror}")

    def limit(most: int) -> None:
        (group / "pids.max").write_text(str(most))

    try:
        yield group, limit
    finally:
        for pid in (group / "cgroup.procs").read_text().split():
            os.kill(int(pid), signal.SIGKILL)  # ours: started in it by the test
        assert until(lambda: not (group / "cgroup.procs").read_text().strip(), 5)
        group.rmdir()


def _in(group: Path) -> Callable[[], None]:
    def enter() -> None:
        default_signals()
        (group / "cgroup.procs").write_text(str(os.getpid()))

    return enter


@pytest.mark.slow
def test_a_million_jobs_in_a_container_short_of_processes_run_on_what_it_allows(few_processes: Limited, small: Path,
                                                                                tmp_path: Path) -> None:  # fmt: skip
    group, limit = few_processes
    limit(12)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "cli.py", "run", str(small), "--reps", "2", "--years", "1", "--set", "run.warmup_days=30",
         "--jobs", "1000000", "--quiet", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=_in(group),
    )  # fmt: skip
    said = " ".join(done.stderr.split())
    assert done.returncode == 0, said
    assert "--jobs 1000000:" in said and "process limit" in said


@pytest.mark.slow
def test_a_fork_the_container_refuses_exits_2_and_leaves_nothing(few_processes: Limited, small: Path, tmp_path: Path) -> None:
    """The limit not read (as where it cannot be), the machine refuses the fork itself."""
    group, limit = few_processes
    limit(8)
    out = tmp_path / "out"
    script = (
        "import sys; from sim.runs import executors; executors.process_room = lambda: None; import cli; "
        f"sys.argv = ['msksim', 'run', {str(small)!r}, '--reps', '12', '--years', '1', '--jobs', '12', '--quiet', "
        f"'--out', {str(out)!r}]; cli.app()"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          preexec_fn=_in(group))  # fmt: skip
    said = " ".join(done.stderr.split())
    assert done.returncode == 2, said
    assert said.startswith("error: --jobs 12: cannot start worker process") and "Traceback" not in said
    assert os.strerror(errno.EAGAIN) in said
    assert not out.exists()
    assert not (group / "cgroup.procs").read_text().strip()  # no worker left behind
