"""Child processes that never outlive derive, and signals that end a run cleanly.

The main process turns SIGINT, SIGTERM and SIGHUP into `Interrupted` (a
KeyboardInterrupt), so `with` blocks unwind: the output's staging folder is
removed and the claims' processes are killed, not waited for. Every forked
child (a `Child`: a claim's process, a proof attempt) dies with its parent: on Linux the
kernel sends it SIGKILL when the parent dies (PR_SET_PDEATHSIG), even when the
parent was killed with SIGKILL; elsewhere a thread in the child polls its
parent. TeX runs in a process group of its own, killed whole.
"""
from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

from derive.errors import Interrupted

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# depth: nesting of `uninterrupted()`, inside which a signal waits (pending) for its end; received: the
# signal of this run, kept because the exception raised for it may be swallowed (see raise_if_interrupted).
_state = {"depth": 0, "pending": None, "received": None}


def _on_signal(number, frame):
    _state["received"] = number
    if _state["depth"]:
        _state["pending"] = number
        return
    raise Interrupted(number)


def raise_if_interrupted() -> None:
    """Raise Interrupted if a signal came: before a step that must not follow one (the swap of the folder).

    Python runs a signal handler wherever the main thread is, also inside an
    at-fork hook, a finalizer or a weakref callback, which ignore exceptions
    ("Exception ignored in ..."): there the Interrupted raised is lost, and the
    run would go on. Forks happen `uninterrupted()` for that reason; this check
    catches the rest.
    """
    if _state["received"] is not None:
        raise Interrupted(_state["received"])


@contextlib.contextmanager
def signals_handled():
    """Inside: SIGINT, SIGTERM and SIGHUP raise Interrupted (exit code 128 + the signal's number).

    The handlers before are put back at the end (derive.cli.main may run inside
    a test); outside the main thread, where Python cannot handle signals, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _state.update(depth=0, pending=None, received=None)
    before = {number: signal.signal(number, _on_signal) for number in HANDLED}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
        _state.update(depth=0, pending=None, received=None)  # a later run in this process starts afresh


@contextlib.contextmanager
def uninterrupted():
    """Steps that must not be cut in half (the swap of the output folder, a fork): a signal waits for their end."""
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
        pending = _state["pending"]
        if pending is not None and not _state["depth"]:
            _state["pending"] = None
            raise Interrupted(pending)


def child_started(parent: int) -> None:
    """In a forked child of process `parent`: die with it, and leave SIGINT/SIGTERM to it.

    Ctrl-C reaches the whole foreground process group; the parent alone acts on
    it and ends its children, so they ignore SIGINT rather than print tracebacks.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    _state.update(depth=0, pending=None, received=None)
    if not _kernel_kills_orphans():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the child could ask to die with it
        os._exit(1)


def _prctl():
    """Linux's prctl(2), or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _kernel_kills_orphans(prctl=None) -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that cannot be asked."""
    prctl = prctl or _prctl()
    return prctl is not None and prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def run_command(command: list[str], cwd, timeout: float, env: dict) -> subprocess.CompletedProcess:
    """Run `command` in a process group of its own; the group is killed whole on a timeout or an interrupt.

    Its own group, so a tool's children (latexmk's pdflatex) go with it. Should
    derive be killed outright, the command is killed with it (on Linux), and a
    pdflatex it started ends with its current pass. Output is decoded leniently,
    as TeX writes in the input's encoding.
    """
    prctl = _prctl()  # looked up before the fork: the child only calls it

    def started():
        os.setpgrp()
        if prctl is not None:
            _kernel_kills_orphans(prctl)

    raise_if_interrupted()
    with uninterrupted():  # a fork (see raise_if_interrupted)
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   encoding="utf-8", errors="replace", preexec_fn=started)
    try:
        output, _ = process.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return subprocess.CompletedProcess(command, process.returncode, output, "")


# -- one forked child with a pipe, a memory limit and a processor-time clock ---------------------------------
_channel = {"sender": None}  # in a Child: the pipe to its parent, for `tell_parent`


def tell_parent(message) -> None:
    """In a Child: send its parent a message while working (the stage it is in); elsewhere nothing."""
    sender = _channel["sender"]
    if sender is not None:
        with contextlib.suppress(OSError, ValueError):
            sender.send(("note", message))


def memory_limit() -> int | None:
    """The address-space limit of this process in bytes, or None when it has none."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


def _limit_memory(limit: int | None) -> None:
    import resource

    if limit is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class Child:
    """`function(*args)` in a forked child that dies with derive, its address space limited to `memory` bytes.

    The child sends notes (`tell_parent`) and then one outcome: ("ok", result), ("error", text), or
    ("memory", "") when it ran out of memory. `read()` takes one message when `connection` is readable;
    `outcome` is then set, or stays None; a child that ends without one "died" (`died()` says how).
    """

    def __init__(self, function, args=(), memory: int | None = None):
        context = multiprocessing.get_context("fork")
        self.connection, sender = context.Pipe(duplex=False)
        parent = os.getpid()
        self.notes: list = []
        self.outcome = None
        self.started = time.monotonic()

        def child():
            child_started(parent)  # killed with its parent, even by SIGKILL
            _channel["sender"] = sender
            message = None
            try:
                _limit_memory(memory)
                message = ("ok", function(*args))
            except MemoryError:
                message = ("memory", "")  # sent below, once the exception's frames are freed
            except BaseException as error:  # noqa: BLE001 - the parent decides what a failure means
                try:
                    message = ("error", f"{type(error).__name__}: {error}")
                except MemoryError:
                    message = ("memory", "")
            try:
                sender.send(message)
            except MemoryError:
                sender.send(("memory", ""))
            except Exception as error:  # noqa: BLE001 - a result that cannot be sent is a failure, said so
                sender.send(("error", f"the result could not be sent: {type(error).__name__}: {error}"))
            finally:
                sender.close()
                os._exit(0)

        self.process = context.Process(target=child, daemon=False)  # it may start children (proofs)
        with uninterrupted():  # a fork (see raise_if_interrupted)
            self.process.start()
        sender.close()

    def read(self) -> bool:
        """Take one message (call when `connection` is readable); True once the child has finished."""
        try:
            kind, value = self.connection.recv()
        except (EOFError, OSError):
            self.outcome = ("died", self.died())
            return True
        if kind == "note":
            self.notes.append(value)
            return False
        self.outcome = (kind, value)
        return True

    def died(self) -> str:
        """How the child ended without an outcome: "was killed by SIGKILL", "exited with code 1"."""
        self.process.join(2.0)
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}" if code is not None else "stopped answering"

    def cpu_seconds(self) -> float:
        """Processor seconds (user and system) the child has used so far; 0 where /proc cannot tell."""
        try:
            with open(f"/proc/{self.process.pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (man 5 proc)

    def wait(self, cpu_budget: float, wall_budget: float):
        """Wait for the outcome: None when the child used `cpu_budget` processor seconds or `wall_budget` seconds."""
        deadline = self.started + wall_budget
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.cpu_seconds() >= cpu_budget:
                return None
            if self.connection.poll(min(left, 0.02)):
                if self.read():
                    return self.outcome

    def end(self) -> None:
        """Kill the child if it still runs, and reap it."""
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                os.kill(self.process.pid, signal.SIGKILL)
        self.process.join()
        self.connection.close()
