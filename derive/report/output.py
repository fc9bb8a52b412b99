"""The report folder, replaced whole or not at all: checks before any work, a lock, a staging folder, a swap.

    with staged(Path("output")) as folder:  # checked, locked, staged: before any work
        ...                                 # write everything into folder.path
        folder.commit()                     # the output folder now holds the new report
    # left without commit (an error, a signal): staging removed, output folder untouched

Checks. A file where the folder should be, a folder that cannot be written
(read-only file system, no permission) or too little free space are
OutputErrors (one line, exit code 2) raised on entry, before the verification.
A write that fails later for lack of space or permission is one too, and the
output folder is left as it was.

Atomic swap. The staging folder is a sibling of the output folder, so on the
same file system; on Linux renameat2(RENAME_EXCHANGE) swaps the two in one
step, so a reader (or a kill at any moment) sees the old complete report or
the new complete one. Where the exchange is not supported the old folder is
renamed aside and the new one renamed in: a crash between the two renames
leaves no output folder, and the next run renames the old one back. A folder
that cannot be swapped (a mount point, or one whose parent is not writable) is
updated file by file from a staging folder inside it: each file atomic, the
set not. So is the current folder, lest the user's shell be left in a deleted one.

Whose files. derive's own files (REPORT_FILES) come only from this run: a PDF
or figure the run did not make is not carried over, so no stale report.pdf is
left beside a new report.tex. Every other entry (output/README.md, a user's
notes) is carried into the new folder as a hard link (a copy where linking
fails), and any that appear during the swap are moved after it.

Lock. An exclusive flock on `<parent>/.<name>.lock` (`<name>/.derive.lock`
when the parent is not writable), removed when the run ends. A second run
into the same folder refuses at once, naming the folder and the pid of the run
holding it: waiting would only let it overwrite the first run's report with
one started later. Holding the lock, a run removes the staging folders that
killed runs left (named `.<name>.derive-*-<pid>-*`): no other run can be
writing them.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import fnmatch
import glob
import os
import re
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from derive.errors import OutputError
from derive.lifetime import raise_if_interrupted, uninterrupted

# Everything derive writes into the output folder, with TeX's by-products and the leftovers of killed runs.
REPORT_FILES = ("report.tex", "report.json", "report.pdf", "fig-*.pdf", "report.log", "report.aux",
                "report.out", "report.fls", "report.fdb_latexmk", "report.synctex.gz", "derive-tex-*",
                ".report.*.tmp", ".fig-*.tmp", ".derive-staging-*", ".derive.lock")
MINIMUM_FREE = 2 * 1024 * 1024  # bytes free before a run starts, besides twice the size of the report it replaces
_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP}
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2  # from <fcntl.h> and <linux/fs.h>


def is_report_file(name: str) -> bool:
    """Whether derive writes (or leaves) a file of this name in the output folder."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in REPORT_FILES)


def staged(target):
    """StagedFolder(target) entered; for an optional output (None) a context giving None."""
    return contextlib.nullcontext() if target is None else StagedFolder(target)


class StagedFolder:
    """A new report for the folder `target`, written into `path` and swapped in by `commit`."""

    def __init__(self, target):
        target = Path(os.path.abspath(target))
        self.target = Path(os.path.realpath(target)) if target.is_symlink() else target
        self.path: Path | None = None  # the staging folder, once entered
        self.committed = False
        self._lock_fd: int | None = None
        self._lock_path: Path | None = None
        self.in_place = False
        self._parent_writable = True

    # -- entering: every check before any work --------------------------------------------------------

    def __enter__(self) -> StagedFolder:
        try:
            self._check_target()
            self._lock()
            self._clean_up_after_killed_runs()
            prefix = ".derive-staging-" if self.in_place else f".{self.target.name}.derive-staging-"
            self.path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=self._staging_parent))
            self._check_space()
        except BaseException as error:
            self._abandon()
            if isinstance(error, OSError):
                raise self._as_output_error(error) from None
            raise
        return self

    @property
    def _staging_parent(self) -> Path:
        return self.target if self.in_place else self.target.parent

    def _check_target(self) -> None:
        target = self.target
        existing = next(path for path in (target, *target.parents) if path.exists())
        if not existing.is_dir():
            raise OutputError(f"{existing} is a file, not a folder: choose another folder with --output")
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
        elif not os.access(target, os.W_OK):
            raise OutputError(f"cannot write the report into {target}: {_why_not_writable(target)}")
        self._parent_writable = os.access(target.parent, os.W_OK)
        if not target.exists() and not self._parent_writable:
            raise OutputError(f"cannot create {target}: {_why_not_writable(target.parent)}")
        # A mount point cannot be renamed, a folder whose parent we cannot write cannot be replaced, and
        # one we are in would leave us (and the shell that started us) in a deleted folder.
        self.in_place = target.exists() and (not self._parent_writable or _is_mount_point(target)
                                             or _is_within(Path.cwd(), target))

    def _lock(self) -> None:
        """Take the lock (see the module's docstring), or refuse at once naming the run that holds it."""
        # In the parent whenever it can be: a run that updates in place (from within the folder) and
        # one that swaps the folder must take the same lock.
        self._lock_path = (self.target.parent / f".{self.target.name}.lock" if self._parent_writable
                           else self.target / ".derive.lock")
        while True:
            descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(descriptor, 32).decode("ascii", "replace").strip()
                os.close(descriptor)
                raise OutputError(f"another derive run{f' (pid {holder})' if holder else ''} is writing "
                                  f"{self.target}; wait for it to end, or choose another folder with "
                                  f"--output") from None
            # The holder before us may have removed the file after we opened it: then lock the new one.
            with contextlib.suppress(FileNotFoundError):
                if os.path.samestat(os.fstat(descriptor), os.stat(self._lock_path)):
                    break
            os.close(descriptor)
        self._lock_fd = descriptor
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())

    def _clean_up_after_killed_runs(self) -> None:
        """Remove what killed runs left (we hold the lock: nobody else is writing); put back a folder set aside."""
        if self.in_place:
            leftovers = list(self.target.glob(".derive-staging-*"))
        else:
            leftovers = list(self.target.parent.glob(f".{glob.escape(self.target.name)}.derive-*"))
            aside = sorted((p for p in leftovers if ".derive-old-" in p.name), key=lambda p: p.stat().st_mtime)
            if aside and not self.target.exists():  # killed between the two renames of the fallback swap
                os.rename(aside[-1], self.target)
                leftovers.remove(aside[-1])
        for leftover in leftovers:
            _remove(leftover)

    def _check_space(self) -> None:
        old = sum(entry.stat(follow_symlinks=False).st_size for entry in _entries(self.target)
                  if is_report_file(entry.name) and entry.is_file(follow_symlinks=False))
        needed = MINIMUM_FREE + 2 * old  # the PDF is made in a scratch folder, then copied
        stats = os.statvfs(self.path)
        free = stats.f_bavail * stats.f_frsize
        if free < needed:
            raise OutputError(f"not enough space to write the report into {self.target}: "
                              f"{_size(free)} free, {_size(needed)} needed")

    # -- committing -----------------------------------------------------------------------------------

    def commit(self) -> None:
        """Make the output folder hold exactly the new report (plus the entries that are not derive's)."""
        raise_if_interrupted()  # never after a signal, even one whose exception was lost
        with uninterrupted():
            if self.in_place:
                self._commit_in_place()
            elif not self.target.exists():
                os.chmod(self.path, 0o777 & ~_umask())
                os.rename(self.path, self.target)
                self.committed = True
            else:
                self._carry_over(self.target, self.path)
                _copy_mode(self.target, self.path)
                old = self._swap()
                self.committed = True
                self._move_late_arrivals(old)
                _remove(old)

    def _swap(self) -> Path:
        """Exchange the staging and output folders; the path the old report is now at."""
        try:
            _exchange(self.path, self.target)
            return self.path
        except OSError as error:
            if error.errno not in _NO_EXCHANGE:
                raise
        aside = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.derive-old-{os.getpid()}-",
                                      dir=self.target.parent))
        os.rmdir(aside)
        os.rename(self.target, aside)
        os.rename(self.path, self.target)
        return aside

    def _carry_over(self, source: Path, destination: Path) -> None:
        for entry in _entries(source):
            if not is_report_file(entry.name):
                _link_tree(entry, destination / entry.name)

    def _move_late_arrivals(self, old: Path) -> None:
        """Entries written into the old folder after they were linked (or copied, not linked) into the new one."""
        for entry in _entries(old):
            if is_report_file(entry.name):
                continue
            new = self.target / entry.name
            with contextlib.suppress(OSError):
                if not new.exists() and not new.is_symlink():
                    os.rename(entry.path, new)
                elif entry.is_file(follow_symlinks=False) and not os.path.samestat(
                        entry.stat(follow_symlinks=False), new.stat(follow_symlinks=False)):
                    os.replace(entry.path, new)

    def _commit_in_place(self) -> None:
        """File by file; the old PDF goes first and the new one comes last, so no PDF is beside another .tex."""
        produced = {entry.name for entry in _entries(self.path)}
        for entry in _entries(self.target):
            if is_report_file(entry.name) and (entry.name not in produced or entry.name == "report.pdf") \
                    and Path(entry.path) not in (self.path, self._lock_path):
                _remove(Path(entry.path))
        for name in sorted(produced, key=lambda name: name == "report.pdf"):
            os.replace(self.path / name, self.target / name)
        self.committed = True
        os.rmdir(self.path)

    # -- leaving --------------------------------------------------------------------------------------

    def __exit__(self, kind, error, traceback) -> None:
        self._abandon()
        if isinstance(error, OSError) and self._is_ours(error):
            raise self._as_output_error(error) from None

    def _abandon(self) -> None:
        """Remove the staging folder unless committed, and release the lock."""
        with uninterrupted():
            if self.path is not None and not self.committed:
                _remove(self.path)
            if self._lock_fd is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self._lock_path)  # before unlocking: see _lock
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)  # forked children share the descriptor
                os.close(self._lock_fd)
                self._lock_fd = None

    def _is_ours(self, error: OSError) -> bool:
        """An OSError of writing the report, not of reading some input."""
        if error.errno in _WRITE_ERRORS:
            return True
        paths = [str(path) for path in (self.path, self.target, self._lock_path) if path is not None]
        return any(str(name) == path or str(name).startswith(path + os.sep)
                   for name in (error.filename, error.filename2) if name for path in paths)

    def _as_output_error(self, error: OSError) -> OutputError:
        done = f"; {self.target} was left as it was" if self.target.exists() and not self.committed else ""
        return OutputError(f"cannot write the report into {self.target}: {error.strerror or error}{done}")


def _entries(folder: Path) -> list:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except FileNotFoundError:
        return []


def _link_tree(entry, destination: Path) -> None:
    """Hard links of a file, or of the files of a folder (copies where linking fails); symlinks as symlinks."""
    if entry.is_symlink():
        os.symlink(os.readlink(entry.path), destination)
    elif entry.is_dir():
        shutil.copytree(entry.path, destination, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(entry.path, destination)


def _link_or_copy(source, destination) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _exchange(first: Path, second: Path) -> None:
    """Swap two paths atomically (Linux renameat2); OSError ENOSYS where the call does not exist."""
    function = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None) if sys.platform == "linux" else None
    if function is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    if function(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number), str(first), None, str(second))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _copy_mode(source: Path, destination: Path) -> None:
    """The new folder keeps the old one's permissions (and owner, when we may set it)."""
    info = source.stat()
    os.chmod(destination, stat.S_IMODE(info.st_mode))
    if os.geteuid() == 0:
        with contextlib.suppress(OSError):
            os.chown(destination, info.st_uid, info.st_gid)


def _is_mount_point(folder: Path) -> bool:
    """os.path.ismount, and on Linux the mount table too: a bind mount is on the same device as its parent."""
    if os.path.ismount(folder):
        return True
    with contextlib.suppress(OSError):
        with open("/proc/self/mountinfo", "rb") as table:
            points = {re.sub(rb"\\([0-7]{3})", lambda code: bytes([int(code.group(1), 8)]), line.split()[4])
                      for line in table if len(line.split()) > 4}
        return os.fsencode(os.path.realpath(folder)) in points
    return False


def _is_within(path: Path, folder: Path) -> bool:
    with contextlib.suppress(OSError):
        return path.resolve() == folder.resolve() or folder.resolve() in path.resolve().parents
    return False


def _why_not_writable(folder: Path) -> str:
    with contextlib.suppress(OSError):
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system"
    return "permission denied"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KiB" if count < 1024 * 1024 else f"{count / 1024 / 1024:.1f} MiB"
