"""The limits of a claim: each runs in a child process of its own, with a wall-clock budget and a memory limit.

A claim's whole work — reading, differentiation, numeric evaluation, proofs,
bound search, diagnosis — runs in a forked child (derive.lifetime.Child)
whose address space is limited (RLIMIT_AS) and which is killed when its
budget is spent or the run's deadline passes. Whatever stops it, the claim is
undecided with evidence naming the stage it was in (derive.evidence.OutOfBudget),
and the run goes on with the other claims. The children run `jobs` at a time,
the same way for one job as for many, so `--jobs` changes only the speed.
Proof attempts inside a claim are budgeted in processor time
(derive.verify.proof), and so are the bound searches (`cpu_seconds`).
"""
from __future__ import annotations

import os
import time
from multiprocessing.connection import wait

import sympy

from derive import lifetime
from derive.errors import OverBudget
from derive.evidence import OutOfBudget, Verdict
from derive.rules import FUNCTIONS, Method, Status

MOST_MEMORY = 1024 ** 4  # bytes: a larger --memory is a typo
LEAST_MEMORY = 256 * 1024 ** 2  # bytes: derive with SymPy loaded needs about this much address space to start


# Cheap guards, checked before the work they would start (a refusal is undecided, or a located error):
LARGEST_EXPRESSION = 200_000  # nodes of an expression's tree (the built-in claims' largest has about 4,000)
DEEPEST_FUNCTIONS = 6  # functions applied one inside another, also through defined terms and \dots: the built-in
# claims nest 2 deep, and each level multiplies SymPy's work by about 6 (tanh' nested 6 deep takes 30 s)
DEEPEST_GROWTH = 3  # of them unbounded ones: exp(exp(exp(exp(z)))) has more digits than can be computed


def cores() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


_stage = {"name": ""}  # the stage this process is in


def stage(name: str) -> None:
    """Say which stage of its claim this process is in (for the evidence, should the claim run out)."""
    _stage["name"] = name
    lifetime.tell_parent(name)


def too_large(error: OverflowError) -> OverBudget:
    """The refusal for a value too large to compute (an OverflowError), in the current stage."""
    return OverBudget(_stage["name"], f"a value too large to compute ({type(error).__name__}: {error})")


def cpu_seconds() -> float:
    """Processor seconds used by this process and its finished children: a clock that load does not speed up."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def entries(expr) -> list:
    """The entries of a matrix, or [expr] for a scalar."""
    return list(expr) if isinstance(expr, sympy.MatrixBase) else [sympy.sympify(expr)]


def larger_than(expr, most: int = LARGEST_EXPRESSION) -> bool:
    """Whether the expression's tree (all entries of a matrix) has more than `most` nodes; costs at most that."""
    count = 0
    for entry in entries(expr):
        for _ in sympy.preorder_traversal(entry):
            count += 1
            if count > most:
                return True
    return False


def guard(stage_name: str, *expressions) -> None:
    """Raise OverBudget for an expression too large to evaluate, or with exponentials nested too deeply."""
    for expr in expressions:
        if expr is None:
            continue
        if larger_than(expr):
            raise OverBudget(stage_name, f"an expression with more than {LARGEST_EXPRESSION:,} terms and factors; "
                                         f"derive refuses to evaluate or prove one that large")
        refused = nesting_refused(expr)
        if refused:
            raise OverBudget(stage_name, refused)


_UNBOUNDED = tuple({rule.sympy for rule in FUNCTIONS.values()
                    if isinstance(rule.sympy, type) and sympy.oo in (abs(sympy.sympify(end)) for end in rule.range)})


def nesting(expr) -> tuple[int, int]:
    """(functions, unbounded functions such as exp) applied one inside another, at the deepest, in `expr`.

    Counted on the expression's graph, each shared subexpression once, so a deep nesting costs little to measure.
    """
    depths: dict = {}

    def depth(node) -> tuple[int, int]:
        known = depths.get(node)
        if known is not None:
            return known
        inner = [depth(argument) for argument in node.args]
        functions = max((d[0] for d in inner), default=0)
        growth = max((d[1] for d in inner), default=0)
        if isinstance(node, sympy.Function):
            functions += 1
            growth += isinstance(node, _UNBOUNDED)
        depths[node] = (functions, growth)
        return functions, growth

    found = [depth(entry) for entry in entries(expr)]
    return max(d[0] for d in found), max(d[1] for d in found)


def nesting_refused(expr) -> str | None:
    """Why `expr` is refused for functions nested too deeply (or exponentials), or None."""
    functions, growth = nesting(expr)
    if growth > DEEPEST_GROWTH:
        return (f"exponentials nested {growth} deep: their values have more digits than can be computed "
                f"(the limit is {DEEPEST_GROWTH})")
    if functions > DEEPEST_FUNCTIONS:
        return (f"functions nested {functions} deep, counting defined terms and \\dots: the limit is "
                f"{DEEPEST_FUNCTIONS}")
    return None


def memory_text(size: int) -> str:
    """A byte count as written in the limits: 2 GB, 512 MB."""
    if size % 1024 ** 3 == 0:
        return f"{size // 1024 ** 3} GB"
    return f"{size / 1024 ** 2:.0f} MB"


def parse_memory(text: str) -> int:
    """--memory: a number of bytes with an optional unit (K, M, G, T, with or without B; MB when none)."""
    units = {"": 1024 ** 2, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
    cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = cleaned[-1:] if cleaned[-1:] in "KMGT" and cleaned[-1:] else ""
    number = float(cleaned[: len(cleaned) - len(unit)])
    if not number == number or number in (float("inf"), float("-inf")):
        raise ValueError(text)
    return int(number * units[unit])


def refused(refusal: OverBudget) -> Verdict:
    """The undecided verdict of a claim a guard refused."""
    return _verdict(refusal.stage, "refused", note=refusal.note)


def _verdict(stage_name: str, resource: str, limit: str = "", note: str = "") -> Verdict:
    return Verdict(Status.UNDECIDED, Method.NONE, OutOfBudget(stage_name, resource, limit, note))


def run_claims(count: int, work, jobs: int, seconds: float, memory: int, deadline: float | None, on_done):
    """Run `work(index)` for every index in its own child, `jobs` at a time, each within `seconds` and `memory`.

    `deadline` is a time.monotonic() after which no claim runs on. `on_done(index, outcome, seconds)`
    receives, in the order claims finish, ("ok", result), ("error", text), or ("over", Verdict) for a claim
    stopped by a limit. On any exception (an interrupt) the children are killed.
    """
    waiting, running = list(range(count)), {}
    try:
        while waiting or running:
            now = time.monotonic()
            while waiting and len(running) < jobs:
                index = waiting.pop(0)
                if deadline is not None and now >= deadline:
                    on_done(index, ("over", _verdict("", "deadline")), 0.0)
                    continue
                running[index] = lifetime.Child(work, (index,), memory)
            if not running:
                break
            ends = [child.started + seconds for child in running.values()]
            soonest = min(ends + ([deadline] if deadline is not None else []))
            ready = wait([child.connection for child in running.values()], max(0.0, soonest - time.monotonic()))
            now = time.monotonic()
            for index, child in list(running.items()):
                finished = child.connection in ready and child.read()
                over = None
                if not finished and now >= child.started + seconds:
                    over = _verdict(_last(child), "time", f"{seconds:g} s")
                elif not finished and deadline is not None and now >= deadline:
                    over = _verdict(_last(child), "deadline")
                if finished or over:
                    child.end()
                    del running[index]
                    on_done(index, _outcome(child, over, memory), now - child.started)
    finally:
        for child in running.values():
            child.end()


def _last(child) -> str:
    return child.notes[-1] if child.notes else ""


def _outcome(child, over, memory: int):
    if over is not None:
        return "over", over
    kind, value = child.outcome
    if kind == "memory":
        return "over", _verdict(_last(child), "memory", memory_text(memory))
    if kind == "died":
        return "over", _verdict(_last(child), "died", note=f"it {value} (the memory limit is "
                                                           f"{memory_text(memory)})")
    return kind, value
