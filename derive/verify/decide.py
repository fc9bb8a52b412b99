"""Deciding a bound `expr relation bound` over an open box: proved, certified, counterexample, or undecided.

Three ways decide, and only three (issue 9):
- a counterexample: a point where the bound fails, proposed by seeded
  sampling and local optimisation, confirmed by ball arithmetic at that
  exact decimal point and reported with `digits`-digit mpmath values
  (derive.search);
- a proof: the exact supremum or infimum by SymPy, compared exactly with
  the bound, strictness decided by attainment (derive.extrema), run in a
  child process killed when its time is up;
- a certificate: branch and bound with validated enclosures over the domain
  (derive.verify.certificate, derive.verify.intervals).
They run in that order, cheapest first; what none decides is undecided, with
what was tried. Sampling alone never yields "holds", and a proof or a
certificate never overrides a confirmed counterexample (the search runs first).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from fractions import Fraction
from typing import ClassVar

import mpmath
import sympy

from derive.budget import cpu_seconds
from derive.verify import extrema, proof
from derive.verify.certificate import Box, certify, inner_point
from derive.verify.intervals import Unsupported, compile_arb, exact
from derive.verify.search import Counterexample, Search

__all__ = ["decide", "BoundDecision", "Proved", "Certified", "Counterexample", "Undecided", "Box",
           "RELATIONS"]

RELATIONS = ("<=", "<", ">=", ">")
PROOF_SHARE = 0.5  # of the time left after the search; the certificate gets the rest
MAX_BOXES = 20000


@dataclass(frozen=True)
class Proved:
    """Decided by the exact extremum: sup (for <, ≤) or inf (for >, ≥) of expr, or of expr − bound.

    `extreme` is exact; `point` says where it is attained, or the ends
    (±oo, an open end) it is approached at; `holds` may be False (the
    extremum passes the bound, or a strict bound is attained).
    """

    holds: bool
    extreme: sympy.Expr
    extreme_value: mpmath.mpf
    point: tuple  # ((symbol, exact coordinate, ±oo, or None where unknown), ...)
    attained: bool
    tried: tuple = ()
    kind: ClassVar[str] = "proved"


@dataclass(frozen=True)
class Certified:
    """Every box of a cover of the domain proved the bound with validated arithmetic.

    `margin` is a validated lower bound of bound − expr (expr − bound for ≥, >)
    over the whole domain; `tightest` the few boxes with the smallest margins;
    `ranges` the closed ranges covered, per variable.
    """

    boxes: int
    margin: mpmath.mpf
    tightest: tuple  # (Box, ...)
    ranges: tuple  # ((symbol, low, high), ...) Fractions or ±math.inf
    tried: tuple = ()
    kind: ClassVar[str] = "certified"

    @property
    def holds(self):
        return True


@dataclass(frozen=True)
class Undecided:
    """Nothing decided within the budget: `tried` says what ran and why it did not decide."""

    tried: tuple  # ((method, why it did not decide), ...)
    boxes: int = 0
    open_boxes: tuple = ()  # (Box, ...): a few of the boxes left undecided, the worst first
    kind: ClassVar[str] = "undecided"

    @property
    def holds(self):
        return None


BoundDecision = Proved | Certified | Counterexample | Undecided


def _ranges(violation, domain):
    """Variables in domain order (then any other free symbol), and their open ranges (all reals by default)."""
    given = {}
    for symbol, low, high in domain:
        low, high = sympy.sympify(low), sympy.sympify(high)
        if not bool(low < high):
            raise ValueError(f"the range of {symbol} is empty: ({low}, {high})")
        given[symbol] = (low, high)
    free = violation.free_symbols
    variables = [s for s, _, _ in domain if s in free] + sorted(free - set(given), key=str)
    return variables, [given.get(s, (-sympy.oo, sympy.oo)) for s in variables]


def _closed(end, upward: bool):
    """A range end as a Fraction (rounded outward when irrational) or ±math.inf, for the boxes that cover it."""
    if end.is_infinite:
        return math.inf if end > 0 else -math.inf
    if end.is_Rational:
        return Fraction(int(end.p), int(end.q))
    enclosure = compile_arb(end, ())(())
    value = enclosure.upper() if upward else enclosure.lower()
    mantissa, exponent = value.man_exp()
    return Fraction(int(mantissa)) * Fraction(2) ** int(exponent)


def decide(expr, relation: str, bound, domain: tuple = (), budget: float = 10.0, seed: int = 0,
           digits: int = 30, max_boxes: int = MAX_BOXES, samples: int | None = None,
           proof_budget: float | None = None, refute: bool = True,
           phases: tuple = ("search", "proof", "certificate")) -> BoundDecision:
    """Decide whether `expr relation bound` holds at every point of the open box `domain`.

    `domain` is a tuple of (symbol, low, high), ends SymPy numbers or ±oo;
    a free symbol without a range ranges over all reals. `budget` (processor
    seconds of this process and its proof children, derive.budget.cpu_seconds,
    so that load does not change the decision) bounds the whole decision, of which the SymPy proof gets `proof_budget`
    (default: half of what the search left); `max_boxes` bounds the
    certificate's work so the answer does not depend on machine load. Same
    inputs, same decision — unless a time budget runs out.

    With `refute=False` the box is a relaxation (a superset of the points
    that matter, e.g. every gate free in its range): only "holds" can be
    decided there, so no counterexample is searched and a failure of the
    bound in the box is not reported as one. `phases` runs only some of the
    three (the caller then combines several forms of one bound).
    """
    started = cpu_seconds()
    deadline = started + budget
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {', '.join(RELATIONS)}, got {relation!r}")
    expr, bound = exact(expr), exact(bound)
    upper, strict = relation in ("<", "<="), relation in ("<", ">")
    violation = (expr - bound) if upper else (bound - expr)
    variables, ranges = _ranges(violation, domain)
    tried: list = []
    try:
        search = Search(expr, bound, upper, strict, variables, ranges, digits)
    except Unsupported as error:
        return Undecided((("every method", f"{error}: derive refuses to guess"),))
    except Exception as error:  # noqa: BLE001 - an expression the float code cannot even translate
        return Undecided((("every method", f"the expression could not be evaluated: {error}"),))

    # 1. A counterexample, cheapest first.
    if refute and "search" in phases:
        counterexample, count = search.find(seed, **({"samples": samples} if samples else {}), deadline=deadline)
        if counterexample is not None:
            return counterexample
        tried.append(("counterexample search", f"{count} seeded points and local optimisation from the best "
                                               f"found no violation that survives {digits}-digit ball arithmetic"))

    # 2. A proof by the exact extremum, in a child process killed when its share of the time is spent.
    left = deadline - cpu_seconds()
    if "proof" in phases and left > 0:
        allowed = left * PROOF_SHARE if proof_budget is None else min(left, proof_budget)
        result = proof.run_with_budget(extrema.prove, (expr, relation, bound, dict(zip(variables, ranges))), allowed)
        if isinstance(result, tuple) and not result[0] and not refute:
            tried.append(("proof", "the exact extremum over the relaxed ranges passes the bound; that is no "
                                   "counterexample, since not every point of the relaxation is reached"))
        elif isinstance(result, tuple):
            holds, extreme = result
            with mpmath.workdps(digits):
                value = mpmath.mpf(sympy.N(extreme.value, digits + 5))
            return Proved(holds, extreme.value, value, extreme.point, extreme.attained, tuple(tried))
        else:
            tried.append(("proof", result if isinstance(result, str) else
                          f"SymPy found no exact extremum within {allowed:.2g} s (or failed)"))

    # 3. A certificate by branch and bound.
    if "certificate" not in phases:
        return Undecided(tuple(tried))
    closed = tuple((_closed(low, upward=False), _closed(high, upward=True)) for low, high in ranges)
    if cpu_seconds() >= deadline:
        tried.append(("certificate", "no time was left"))
        return Undecided(tuple(tried))
    outcome = certify(violation, variables, closed, strict, max_boxes, deadline)
    if outcome.status == "certified":
        return Certified(outcome.boxes, outcome.margin, outcome.kept,
                         tuple((s, *c) for s, c in zip(variables, closed)), tuple(tried))
    if outcome.status == "violated" and not refute:
        tried.append(("certificate", "the bound fails somewhere in the relaxed ranges"))
        return Undecided(tuple(tried), outcome.boxes, (Box(outcome.violated, None),))
    if outcome.status == "violated":
        point = tuple(_decimal_inside(c) for c in inner_point(outcome.violated))
        found = search.confirm(point, "branch and bound")
        if found is not None:
            return found
        tried.append(("certificate", f"a box where the bound fails everywhere was found, but its inner point "
                                     f"{point} could not be confirmed"))
        return Undecided(tuple(tried), outcome.boxes, (Box(outcome.violated, None),))
    around = ", ".join(f"{s} in [{float(lo):.6g}, {float(hi):.6g}]"
                       for s, (lo, hi) in zip(variables, outcome.kept[0].ranges)) if outcome.kept else ""
    tried.append(("certificate", f"{outcome.boxes} boxes evaluated, {outcome.open_boxes} left undecided"
                                 f"{', the worst around ' + around if around else ''}: {outcome.reason}"))
    return Undecided(tuple(tried), outcome.boxes, outcome.kept)


def _decimal_inside(value: Fraction) -> Decimal:
    """A decimal within 10^-40 (relative) of a box's inner point, still inside the box."""
    with localcontext(Context(prec=40)):
        return Decimal(value.numerator) / Decimal(value.denominator)
