"""The report folder under faults: kills and signals, two runs at once, read-only, full, a file in its place.

Read-only and full folders are real file systems: small tmpfs mounts (`mount`
needs root; those tests are skipped, saying so, where it fails). As root the
permission bits are bypassed, so "read-only" is a tmpfs remounted read-only.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive.cli import main
from derive.report import output

ROOT = Path(__file__).resolve().parents[1]
TEX = shutil.which("pdflatex") is not None
QUICK = ["--claims", "blog.", "--quick", "--points", "30"]
BLOG = {"blog.dW3", "blog.dW1", "blog.layer-factor", "blog.sigmoid-strict", "blog.arctan", "blog.forget-only-factor",
        "blog.added-term-vanishes", "blog.relu", "blog.gauss-init", "blog.forget-one"}
# Two claims, each sleeping a minute in its worker process, or until a file `go` appears beside them.
SLEEPING_CLAIMS = '''
import os
import time
from derive.claims import Source, claim
from derive.verify import Experiment

SOURCE = Source("slow", "Slow claims", "a test")
SECONDS = 60
GO = os.path.join(os.path.dirname(__file__), "go")

def _slow(seed, quick=False):
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline and not os.path.exists(GO):
        time.sleep(0.05)
    return {"x": 1}

@claim("slow.one", where="s1", printed="x", reading="sleeps")
def one():
    return Experiment("sleeps", _slow, lambda numbers: True)

@claim("slow.two", where="s2", printed="x", reading="sleeps")
def two():
    return Experiment("sleeps", _slow, lambda numbers: True)
'''


def sleeping_claims(folder: Path) -> Path:
    path = folder / "slow.py"
    path.write_text(SLEEPING_CLAIMS)
    return path


def derive(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def start(*args, env=None):
    """derive in a session of its own, so that every process it starts can be found afterwards."""
    return subprocess.Popen([sys.executable, "-m", "derive", *args], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(process, marker: str, timeout: float = 120) -> list:
    """Read the progress lines on standard error until one contains `marker`; the lines read."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            raise AssertionError(f"derive ended before {marker!r}: {''.join(lines)}")
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} within {timeout} s")


def session(leader: int) -> list:
    """The processes still alive in the session that `leader` started."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == leader and fields[0] != "Z":
                found.append(int(entry))
    return found


def assert_no_orphans(leader: int, within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while session(leader) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not session(leader), f"processes left behind: {session(leader)}"


def snapshot(folder: Path) -> dict:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def assert_complete_new_report(folder: Path, pdf: bool) -> None:
    names = set(os.listdir(folder))
    assert {"report.tex", "report.json", "README.md", "notes"} <= names, names
    assert "fig-stale.pdf" not in names and ("report.pdf" in names) == pdf, names
    assert {claim["id"] for claim in json.loads((folder / "report.json").read_text())["claims"]} == BLOG
    assert (folder / "report.tex").read_text().rstrip().endswith(r"\end{document}")
    if pdf:
        data = (folder / "report.pdf").read_bytes()
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert (folder / "notes" / "mine.txt").read_text() == "my notes\n"


@pytest.fixture(scope="module")
def old_report(tmp_path_factory) -> Path:
    """A complete report of two claims, with a README, a user's notes and a figure no longer drawn."""
    folder = tmp_path_factory.mktemp("old") / "out"
    done = derive("report", "-o", str(folder), "-q", "--claims", "blog.relu", "blog.arctan", "--quick",
                  *([] if TEX else ["--no-pdf"]))
    assert done.returncode == 0, done.stderr
    (folder / "README.md").write_text("# output/\n")
    (folder / "notes").mkdir()
    (folder / "notes" / "mine.txt").write_text("my notes\n")
    (folder / "fig-stale.pdf").write_bytes(b"%PDF-1.5 stale")
    return folder


@pytest.fixture
def previous(old_report, tmp_path) -> Path:
    folder = tmp_path / "out"
    shutil.copytree(old_report, folder, symlinks=True)
    return folder


# -- kills and signals ------------------------------------------------------------------------------------

# (signal, progress line it follows, seconds after that line)
KILL_POINTS = [(signal.SIGKILL, "[ 5/10]", 0.0), (signal.SIGKILL, "compiling the PDF", 0.3),
               (signal.SIGKILL, "compiling the PDF", 0.9), (signal.SIGKILL, "the report is in", 0.0),
               (signal.SIGTERM, "verifying", 0.0), (signal.SIGTERM, "compiling the PDF", 0.2),
               (signal.SIGTERM, "compiling the PDF", 0.8), (signal.SIGINT, "[ 7/10]", 0.0)]


@pytest.mark.parametrize("number, marker, delay", KILL_POINTS,
                         ids=[f"{signal.Signals(n).name}-{m.strip('[ ]').replace('/', 'of')}-{d}"
                              for n, m, d in KILL_POINTS])
def test_a_kill_leaves_the_old_complete_report_or_the_new_one(previous, tmp_path, number, marker, delay):
    before = snapshot(previous)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    process = start("report", "-o", str(previous), *QUICK, "--jobs", "2", *([] if TEX else ["--no-pdf"]),
                    env={**os.environ, "TMPDIR": str(scratch)})
    printed = wait_for_line(process, marker if TEX or "PDF" not in marker else "wrote report.tex")
    time.sleep(delay)
    if number == signal.SIGINT:  # as Ctrl-C does: to the whole foreground process group
        os.killpg(process.pid, number)
    else:
        process.send_signal(number)
    _, err = process.communicate(timeout=30)
    assert_no_orphans(process.pid)
    # Which report is there depends on when the signal landed (a loaded machine may delay it), never on luck:
    # the new one only once written whole, and surely once the run said so.
    printed = "".join(printed) + err
    if snapshot(previous) != before:
        assert "wrote report.tex" in printed, "the report was replaced before the run was done"
        assert_complete_new_report(previous, pdf=TEX)
    else:
        assert "the report is in" not in printed, "the report was not replaced, though the run said it was"
    assert not list(scratch.iterdir()), "nothing in the temporary folder"
    if number == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:  # the run ends itself: one line, the shell's exit code, nothing left beside the folder
        assert process.returncode in (128 + number, 0), err  # 0: it had just finished
        assert "Traceback" not in err
        assert process.returncode == 0 or err.strip().splitlines()[-1] == f"derive: interrupted ({number.name})"
        assert sorted(os.listdir(previous.parent)) == ["out", "tmp"]


def test_the_run_after_a_killed_one_removes_its_leftovers(previous, tmp_path):
    process = start("report", "-o", str(previous), *QUICK, "--jobs", "1", "--no-pdf")
    wait_for_line(process, "[ 4/10]")
    process.kill()
    process.wait()
    leftovers = {name for name in os.listdir(tmp_path) if name != "out"}
    assert leftovers and all(name.startswith(".out.") for name in leftovers), leftovers
    done = derive("report", "-o", str(previous), *QUICK, "--no-pdf", "-q")
    assert done.returncode == 0, done.stderr
    assert os.listdir(tmp_path) == ["out"]
    assert_complete_new_report(previous, pdf=False)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_workers_busy_for_a_minute_do_not_outlive_derive(previous, tmp_path, number):
    """The issue's case: SIGTERM left two workers running for over a minute."""
    claims = sleeping_claims(tmp_path)
    before = snapshot(previous)
    process = start("report", "-o", str(previous), "--file", str(claims), "--jobs", "2", "--no-pdf")
    wait_for_line(process, "verifying")
    time.sleep(0.5)
    assert len(session(process.pid)) >= 3  # derive and its two workers
    started = time.monotonic()
    process.send_signal(number)
    _, err = process.communicate(timeout=10)
    assert_no_orphans(process.pid)
    assert time.monotonic() - started < 5  # not the minute the workers would sleep
    assert snapshot(previous) == before
    if number == signal.SIGTERM:
        assert process.returncode == 143 and err.strip().splitlines()[-1] == "derive: interrupted (SIGTERM)"


# A claim's process killed is no fault of the run: the claim is undecided, saying how its process died
# (tests/test_resource_attacks.py, test_a_claim_whose_process_is_killed_is_undecided_saying_how).


# -- two runs, TeX gone --------------------------------------------------------------------------------------

def test_a_second_run_into_the_same_folder_refuses_at_once(previous, tmp_path):
    claims = sleeping_claims(tmp_path)
    first = start("report", "-o", str(previous), "--file", str(claims), "--no-pdf", "--jobs", "2")
    wait_for_line(first, "verifying")
    second = derive("report", "-o", str(previous), *QUICK, "--no-pdf")
    assert second.returncode == 2
    assert second.stderr.strip() == (f"derive: error: another derive run (pid {first.pid}) is writing {previous}; "
                                     f"wait for it to end, or choose another folder with --output")
    (tmp_path / "go").touch()  # the first run's claims end now
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert [c["id"] for c in json.loads((previous / "report.json").read_text())["claims"]] == ["slow.one", "slow.two"]
    assert derive("report", "-o", str(previous), *QUICK, "--no-pdf", "-q").returncode == 0  # the lock is gone
    assert_complete_new_report(previous, pdf=False)
    assert sorted(os.listdir(previous.parent)) == ["go", "out", "slow.py"]


def test_tex_missing_on_a_rerun_leaves_no_stale_pdf(previous, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(sys.executable, bin_dir / "python")
    done = derive("report", "-o", str(previous), *QUICK, "-q", env={**os.environ, "PATH": str(bin_dir)})
    assert done.returncode == 1 and "texlive-latex-base" in done.stderr and "Traceback" not in done.stderr
    assert_complete_new_report(previous, pdf=False)


# -- folders that cannot take the report ---------------------------------------------------------------------

def test_a_file_where_the_folder_should_be(tmp_path):
    (tmp_path / "out").write_text("not a folder")
    for target in (tmp_path / "out", tmp_path / "out" / "deeper"):
        done = derive("report", "-o", str(target), *QUICK, "--no-pdf")
        assert done.returncode == 2
        assert done.stderr == f"derive: error: {tmp_path / 'out'} is a file, not a folder: choose another folder " \
                              f"with --output\n"  # one line, and before any claim was loaded or verified
    assert main(["check", str(ROOT / "examples" / "lstm_notes.toml"), "--report", str(tmp_path / "out")]) == 2


@pytest.fixture
def tmpfs(tmp_path):
    """Mount a small tmpfs (root only); yields a function (size, read_only) -> mount point."""
    mounted = []

    def mount(size: str, read_only: bool = False, prepare=None) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
        mounted.append(point)
        if prepare:
            prepare(point)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _old_files(point: Path):
    (point / "out").mkdir()
    (point / "out" / "report.tex").write_text("old")


def test_a_read_only_folder_is_one_line_before_the_work(tmpfs):
    point = tmpfs("1m", read_only=True, prepare=_old_files)
    for target, message in ((point / "out", f"cannot write the report into {point / 'out'}"),
                            (point / "new", f"cannot create {point / 'new'}")):
        started = time.monotonic()
        done = derive("report", "-o", str(target), *QUICK, "--no-pdf")
        assert done.returncode == 2
        assert done.stderr == f"derive: error: {message}: it is on a read-only file system\n"
        assert time.monotonic() - started < 10
    assert (point / "out" / "report.tex").read_text() == "old"


def test_a_full_disk_is_one_line_before_the_work(tmpfs):
    point = tmpfs("64k", prepare=_old_files)
    done = derive("report", "-o", str(point / "out"), *QUICK, "--no-pdf")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"derive: error: not enough space to write the report into {point / 'out'}: ")
    assert len(done.stderr.splitlines()) == 1 and "verifying" not in done.stderr
    assert os.listdir(point) == ["out"] and os.listdir(point / "out") == ["report.tex"]


def test_a_disk_that_fills_while_writing_leaves_the_folder_as_it_was(tmpfs, monkeypatch, capsys):
    point = tmpfs("16k", prepare=_old_files)
    monkeypatch.setattr(output, "MINIMUM_FREE", 0)  # pass the check before the work, to fail while writing
    assert main(["report", "-o", str(point / "out"), *QUICK, "--no-pdf", "-q", "--jobs", "1"]) == 2
    assert capsys.readouterr().err == (f"derive: error: cannot write the report into {point / 'out'}: No space left "
                                       f"on device; {point / 'out'} was left as it was\n")
    assert os.listdir(point) == ["out"] and (point / "out" / "report.tex").read_text() == "old"


def test_a_folder_that_is_a_mount_point_is_updated_in_place(tmpfs, tmp_path):
    point = tmpfs("8m", prepare=_old_files)
    (point / "README.md").write_text("mine\n")
    (point / "fig-stale.pdf").write_bytes(b"%PDF stale")
    bound = tmp_path / "bound"  # a bind mount is on the same device as its parent: found in the mount table
    bound.mkdir()
    if subprocess.run(["mount", "--bind", str(point / "out"), str(bound)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here")
    try:
        for folder in (point, bound):
            done = derive("report", "-o", str(folder), *QUICK, "--no-pdf", "-q", "--jobs", "1")
            assert done.returncode == 0, done.stderr
    finally:
        subprocess.run(["umount", str(bound)], check=False)
    assert sorted(os.listdir(point)) == ["README.md", "out", "report.json", "report.tex"]
    assert sorted(os.listdir(point / "out")) == ["report.json", "report.tex"]


def test_the_folder_we_are_in_is_updated_in_place(previous):
    """Swapped, it would leave the user's shell in a deleted folder."""
    inode = previous.stat().st_ino
    done = subprocess.run([sys.executable, "-m", "derive", "report", "-o", ".", *QUICK, "--no-pdf", "-q"],
                          cwd=previous, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert previous.stat().st_ino == inode
    assert_complete_new_report(previous, pdf=False)
