"""The staged output folder (derive.report.output) in one process: the swap, the lock, leftovers, signals."""
import os
import signal
import time
from pathlib import Path

import pytest

from derive import lifetime
from derive.errors import DeriveError, Interrupted
from derive.report import output
from test_output import snapshot


def _write(folder: Path, files: dict) -> None:
    for name, text in files.items():
        (folder / name).write_text(text)


def test_commit_swaps_whole_and_carries_what_is_not_ours(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    _write(target, {"report.tex": "old", "report.pdf": "old pdf", "fig-a.pdf": "a", "README.md": "keep"})
    target.chmod(0o750)
    readme = (target / "README.md").stat().st_ino
    with output.StagedFolder(target) as folder:
        assert (tmp_path / ".out.lock").read_text() == f"{os.getpid()}\n"
        _write(folder.path, {"report.tex": "new", "report.json": "{}"})
        (target / "late.txt").write_text("written while the run ran")
        folder.commit()
    assert snapshot(target) == {"README.md": b"keep", "late.txt": b"written while the run ran",
                                "report.json": b"{}", "report.tex": b"new"}
    assert (target / "README.md").stat().st_ino == readme  # a hard link, not a copy
    assert target.stat().st_mode & 0o777 == 0o750
    assert os.listdir(tmp_path) == ["out"]


def test_a_run_from_within_the_folder_takes_the_same_lock_as_one_from_outside(tmp_path, monkeypatch):
    target = tmp_path / "out"
    target.mkdir()
    monkeypatch.chdir(target)
    with output.StagedFolder(target) as folder:
        assert folder.in_place and folder.path.parent == target
        with pytest.raises(DeriveError, match=f"another derive run \\(pid {os.getpid()}\\) is writing"):
            monkeypatch.chdir(tmp_path)
            output.StagedFolder(target).__enter__()
    assert os.listdir(tmp_path) == ["out"] and os.listdir(target) == []


def test_without_rename_exchange_the_old_folder_is_renamed_aside(tmp_path, monkeypatch):
    def unsupported(first, second):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(output, "_exchange", unsupported)
    target = tmp_path / "out"
    target.mkdir()
    _write(target, {"report.tex": "old", "README.md": "keep"})
    with output.StagedFolder(target) as folder:
        _write(folder.path, {"report.tex": "new"})
        folder.commit()
    assert snapshot(target) == {"README.md": b"keep", "report.tex": b"new"}
    assert os.listdir(tmp_path) == ["out"]


def test_a_crash_between_the_two_renames_is_undone_by_the_next_run(tmp_path):
    (tmp_path / ".out.derive-old-123-abc").mkdir()
    _write(tmp_path / ".out.derive-old-123-abc", {"report.tex": "old"})
    (tmp_path / ".out.derive-staging-123-def").mkdir()
    with output.StagedFolder(tmp_path / "out"):
        assert snapshot(tmp_path / "out") == {"report.tex": b"old"}
    assert os.listdir(tmp_path) == ["out"]


def test_an_error_before_commit_leaves_the_folder_untouched(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    _write(target, {"report.tex": "old"})
    with pytest.raises(ZeroDivisionError), output.StagedFolder(target) as folder:
        _write(folder.path, {"report.tex": "new"})
        1 / 0
    assert snapshot(target) == {"report.tex": b"old"} and os.listdir(tmp_path) == ["out"]


def test_a_new_folder_and_its_parents_are_created(tmp_path):
    with output.StagedFolder(tmp_path / "a" / "b") as folder:
        _write(folder.path, {"report.tex": "new"})
        folder.commit()
    assert snapshot(tmp_path / "a") == {"b/report.tex": b"new"}


def test_a_signal_whose_exception_was_swallowed_still_stops_the_swap(tmp_path):
    """Python runs handlers inside at-fork hooks and finalizers too, which ignore the exception raised."""
    target = tmp_path / "out"
    target.mkdir()
    _write(target, {"report.tex": "old"})
    with lifetime.signals_handled():
        with pytest.raises(Interrupted), output.StagedFolder(target) as folder:
            _write(folder.path, {"report.tex": "new"})
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            except Interrupted:
                pass  # as "Exception ignored in: <function _releaseLock ...>" did
            folder.commit()
    assert snapshot(target) == {"report.tex": b"old"} and os.listdir(tmp_path) == ["out"]
