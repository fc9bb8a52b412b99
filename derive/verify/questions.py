"""The questions a claim asks (Equal, Bound, Experiment), how hard to check them, and `verify`, which dispatches on them.

The three question types are frozen dataclasses; `verify` dispatches on them
with functools.singledispatch (the verifiers register themselves in
derive.verify.equal, .bound and .experiment), and an unknown type fails
loudly. A claim never states its verdict: the verdict is computed, every run.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import mpmath

from derive.errors import VerificationError
from derive.models import Model

DEFAULT_BUDGET = 10.0  # processor seconds per symbolic proof attempt
SCREENING_BUDGET = 1.0  # processor seconds of a bound's decision while a candidate fix is screened
DEFAULT_CLAIM_BUDGET = 120.0  # seconds for a whole claim: reading, evaluation, proofs, bound search, diagnosis
DEFAULT_MEMORY = 2 * 1024 ** 3  # bytes of address space of each process that verifies a claim


@dataclass(frozen=True)
class Settings:
    """How hard to look: points and digits of the numeric check, seed, symbolic time budget; and the limits of
    a claim (derive.budget): its wall-clock seconds, its memory, and the run's deadline (seconds from its start)."""

    points: int = 200
    digits: int = 30
    seed: int = 20240531
    budget: float = DEFAULT_BUDGET
    quick: bool = False  # experiments: fewer draws, shorter spans
    screening: bool = False  # True: a quick check of a candidate fix (no proof, no display of the sides)
    claim_budget: float = DEFAULT_CLAIM_BUDGET
    memory: int = DEFAULT_MEMORY
    deadline: float | None = None  # None: no deadline for the whole run

    @property
    def bound_budget(self) -> float:
        """Processor seconds of a bound's decision: short while a candidate fix is screened."""
        return min(self.budget, SCREENING_BUDGET) if self.screening else self.budget

    @property
    def tolerance(self):
        # Roundoff at `digits` digits stays far below 10^-(digits-10); a real difference is far above.
        return mpmath.mpf(10) ** (-(self.digits - 10))


@dataclass(frozen=True)
class Equal:
    """Is `hand` equal to the exact `full` result (and, failing that, to the exact `truncated` one)?

    `model` binds the symbols to trajectories; `extra` binds symbols the model
    does not know (see `derive.verify.points.sample`); `canonical` rewrites an
    expression in independent leaves for the symbolic proof.
    """

    hand: Any
    full: Any
    model: Model | None
    truncated: Any = None
    extra: Callable | None = None
    canonical: Callable | None = None
    labels: tuple = ()  # one label per entry of a stacked comparison, e.g. ("k = 2", "k = 3")
    domain: tuple = ()  # (symbol, low, high) for symbols no model binds, drawn uniformly
    aliases: tuple = ()  # ((the claim's key, the model's key), ...): the evidence is printed in the claim's names


@dataclass(frozen=True)
class Bound:
    """Does `expr` `relation` `bound` hold for every value of the variables in their open `domain`?

    `domain` is a tuple of (symbol, low, high); `relation` one of <=, <, >=, >. With a `model`, its
    quantities in `expr` take the values the model gives them (derive.verify.bound), not any real.
    """

    expr: Any
    relation: str
    bound: Any
    domain: tuple = ()
    model: Model | None = None


@dataclass(frozen=True)
class Experiment:
    """A statement about growth or decay, decided by numbers measured now.

    `run(seed)` (or `run(seed, quick=...)`) measures and returns a dict of
    named numbers, optionally with a "series" entry of curves for `figure`;
    `holds(numbers)` says whether the statement's prediction is met by them;
    `explain(numbers)` says in words what the numbers show, and `correction`
    is another prediction, checked against the same numbers by the diagnosis.
    """

    statement: str
    run: Callable[[int], dict]
    holds: Callable[[dict], bool]
    figure: str | None = None
    explain: Callable[[dict], str] | None = None  # which measured numbers meet or miss the prediction, in words
    correction: tuple | None = None  # (printed LaTeX, statement, holds): a prediction the claim could make instead


@functools.singledispatch
def verify(question, settings: Settings = Settings()):
    """The Verdict (derive.evidence) on `question`: Equal, Bound, NormBound (derive.verify.norms) or Experiment."""
    raise VerificationError(f"no verifier for questions of type {type(question).__name__}; "
                            f"use Equal, Bound, NormBound or Experiment")
