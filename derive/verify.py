"""Verdicts: `verify(question)` answers Equal, Bound and Experiment questions with their evidence.

The three question types are frozen dataclasses; `verify` dispatches on them
with functools.singledispatch, and an unknown type fails loudly. A claim never
states its verdict: the verdict is computed here, every run.

Equal: the hand expression is evaluated against the exact one at seeded
random points (30-digit mpmath, on trajectories of the model); when the two
agree there, a symbolic proof of hand − exact ≡ 0 is attempted under a time
budget, and the method says which of the two decided.
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import mpmath
import sympy

from derive import jacobians
from derive import points as points_module
from derive import proof
from derive.activations import MPMATH_NAMESPACE
from derive.errors import VerificationError
from derive.models import SYMBOLS, Model

AGREES, DIFFERS, TRUNCATED_ONLY = "agrees", "differs", "agrees-when-truncated"
SYMBOLIC, NUMERIC, EXPERIMENT = "symbolic", "numeric", "experiment"


@dataclass(frozen=True)
class Settings:
    """How hard to look: points and digits of the numeric check, seed, symbolic time budget."""

    points: int = 200
    digits: int = 30
    seed: int = 20240531
    budget: float = proof.DEFAULT_BUDGET
    quick: bool = False  # experiments: fewer draws, shorter spans

    @property
    def tolerance(self):
        # Roundoff at `digits` digits stays far below 10^-(digits-10); a real difference is far above.
        return mpmath.mpf(10) ** (-(self.digits - 10))


@dataclass(frozen=True)
class Equal:
    """Is `hand` equal to the exact `full` result (and, failing that, to the exact `truncated` one)?

    `model` binds the symbols to trajectories; `extra` binds symbols the model
    does not know (see `derive.points.sample`); `canonical` rewrites an
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


@dataclass(frozen=True)
class Bound:
    """Does `expr` `relation` `bound` hold for every value of the variables in their open `domain`?

    `domain` is a tuple of (symbol, low, high); `relation` one of <=, <, >=, >.
    """

    expr: Any
    relation: str
    bound: Any
    domain: tuple = ()


@dataclass(frozen=True)
class Experiment:
    """A statement about growth or decay, decided by numbers measured now.

    `run(seed)` (or `run(seed, quick=...)`) measures and returns a dict of
    named numbers, optionally with a "series" entry of curves for `figure`;
    `holds(numbers)` says whether the statement's prediction is met by them.
    """

    statement: str
    run: Callable[[int], dict]
    holds: Callable[[dict], bool]
    figure: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The computed answer: status, the method that decided it, and the evidence."""

    status: str
    method: str
    evidence: dict = field(default_factory=dict)


@functools.singledispatch
def verify(question, settings: Settings = Settings()) -> Verdict:
    raise VerificationError(f"no verifier for questions of type {type(question).__name__}; "
                            f"use Equal, Bound or Experiment")


# -- Equal ---------------------------------------------------------------------------------
def _entries(expr) -> list:
    if isinstance(expr, sympy.MatrixBase):
        return list(expr)
    return [sympy.sympify(expr)]


def _shape(expr):
    return expr.shape if isinstance(expr, sympy.MatrixBase) else (1, 1)


def number(value, digits: int = 8) -> str:
    """A deterministic decimal string for a number."""
    return mpmath.nstr(mpmath.mpf(value), digits)


def _relative_error(a: list, b: list):
    scale = max([abs(v) for v in a] + [abs(v) for v in b])
    if scale == 0:
        return mpmath.mpf(0)
    return max(abs(x - y) for x, y in zip(a, b)) / scale


def _display(values) -> str:
    return ", ".join(number(v) for v in values) if len(values) > 1 else number(values[0])


def _compare(hand, exact, symbols, points, settings: Settings, labels=()) -> dict:
    """Evaluate hand and exact at the points: max relative error, the worst point, per-entry errors."""
    hand_fn = sympy.lambdify(symbols, _entries(hand), modules=[MPMATH_NAMESPACE, "mpmath"])
    exact_fn = sympy.lambdify(symbols, _entries(exact), modules=[MPMATH_NAMESPACE, "mpmath"])
    worst = None
    entry_errors = [mpmath.mpf(0)] * len(labels)
    with mpmath.workdps(settings.digits):
        for values in points:
            arguments = [values[s] for s in symbols]
            a = [mpmath.mpf(v) for v in hand_fn(*arguments)]
            b = [mpmath.mpf(v) for v in exact_fn(*arguments)]
            error = _relative_error(a, b)
            if worst is None or error > worst[0]:
                worst = (error, values, a, b)
            for k in range(len(labels)):
                entry_errors[k] = max(entry_errors[k], _relative_error([a[k]], [b[k]]))
        error, values, a, b = worst
        equal = error <= settings.tolerance
        result = {"equal": bool(equal), "max_rel_err": number(error, 3)}
        if labels:
            result["entries"] = [{"label": label, "equal": bool(e <= settings.tolerance),
                                  "max_rel_err": number(e, 3)} for label, e in zip(labels, entry_errors)]
        if not equal:
            used = sorted(hand.free_symbols | exact.free_symbols, key=str)
            result["counterexample"] = {
                "point": {sympy.latex(s): number(values[s]) for s in used if s in values},
                "hand": _display(a), "exact": _display(b), "rel_err": number(error, 3)}
    return result


def _readable(expr, model):
    """`expr` with node symbols wherever their definitions occur (an identity), for display."""
    if model is None:
        return expr
    matrix = expr if isinstance(expr, sympy.MatrixBase) else sympy.Matrix([expr])
    if not model.state:
        matrix = jacobians.collapse(matrix, model)
    else:
        times = {(info.time, info.absolute) for info in map(SYMBOLS.get, matrix.free_symbols)
                 if info is not None and info.time is not None}
        for absolute in (False, True):
            chosen = sorted(t for t, a in times if a == absolute)
            if chosen:
                matrix = jacobians.collapse(matrix, model, range(chosen[0], chosen[-1] + 1), absolute)
    return matrix if isinstance(expr, sympy.MatrixBase) else matrix[0, 0]


@verify.register
def _(question: Equal, settings: Settings = Settings()) -> Verdict:
    def expression(value):
        return value if isinstance(value, sympy.MatrixBase) else sympy.sympify(value)

    hand = expression(question.hand)
    sides = {"full": expression(question.full)}
    if question.truncated is not None:
        sides["truncated"] = expression(question.truncated)
    for name, exact in sides.items():
        if _shape(exact) != _shape(hand):
            raise VerificationError(f"the hand formula has shape {_shape(hand)} but the exact {name} "
                                    f"result has shape {_shape(exact)}")
    symbols = set()
    for expr in [hand, *sides.values()]:
        symbols |= expr.free_symbols
    symbols = sorted(symbols, key=str)
    if question.labels and len(question.labels) != len(_entries(hand)):
        raise VerificationError(f"{len(question.labels)} labels for {len(_entries(hand))} entries")
    draws = points_module.sample(question.model, symbols, settings.points, settings.seed, settings.digits,
                                 question.extra, question.domain)
    evidence: dict = {"points": settings.points, "digits": settings.digits, "seed": settings.seed,
                      "tolerance": number(settings.tolerance, 3), "semantics": {}}
    for name, exact in sides.items():
        evidence["semantics"][name] = _compare(hand, exact, symbols, draws, settings, question.labels)
        evidence["semantics"][name]["exact"] = sympy.latex(_readable(exact, question.model))
    readable = _readable(hand, question.model)
    evidence["hand"] = sympy.latex(readable)
    if question.labels:
        for name in sides:
            for entry, value in zip(evidence["semantics"][name]["entries"], readable):
                entry["hand"] = sympy.latex(value)
    if evidence["semantics"]["full"]["equal"]:
        status, decided_by = AGREES, "full"
    elif "truncated" in sides and evidence["semantics"]["truncated"]["equal"]:
        status, decided_by = TRUNCATED_ONLY, "truncated"
    else:
        evidence["correction"] = evidence["semantics"]["full"]["exact"]
        return Verdict(DIFFERS, NUMERIC, evidence)
    difference = sympy.Matrix(hand) - sympy.Matrix(sides[decided_by]) if isinstance(hand, sympy.MatrixBase) \
        else hand - sides[decided_by]
    if question.canonical:
        rewritings = [("rewritten", question.canonical)]
    elif question.model:
        rewritings = [("gates as σ/tanh of pre-activations",
                       functools.partial(jacobians.gates_to_preactivations, model=question.model)),
                      ("in leaves", functools.partial(jacobians.to_leaves, model=question.model))]
    else:
        rewritings = []
    rewriting = proof.prove_zero(difference, settings.budget, rewritings)
    evidence["proof"] = rewriting
    return Verdict(status, SYMBOLIC if rewriting else NUMERIC, evidence)


# -- Bound ---------------------------------------------------------------------------------
_RELATIONS = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b,
              ">=": lambda a, b: a >= b, ">": lambda a, b: a > b}


def _upper(relation: str) -> bool:
    return relation in ("<=", "<")


def _symbolic_extreme(expr, domain: tuple, upper: bool):
    """(value, point dict, attained) of sup expr (or inf) over the domain, exactly; None if not provable.

    The expression must be a product of factors in disjoint single variables,
    each nonnegative on its interval or inside |·|; the extreme of the product
    is then the product of the factors' extremes.
    """
    intervals = {symbol: (low, high) for symbol, low, high in domain}
    if not expr.free_symbols:
        return sympy.nsimplify(expr), {}, True
    groups: dict = {}
    for factor in sympy.Mul.make_args(sympy.factor_terms(expr)):
        variables = frozenset(factor.free_symbols)
        groups[variables] = groups.get(variables, sympy.Integer(1)) * factor
    value, point, attained = sympy.Integer(1), {}, True
    seen: set = set()
    for variables, factor in sorted(groups.items(), key=lambda item: sorted(map(str, item[0]))):
        absolute = factor.has(sympy.Abs)
        if absolute and not all(f.has(sympy.Abs) or f.is_nonnegative for f in sympy.Mul.make_args(factor)):
            return None
        factor = factor.replace(sympy.Abs, lambda inner: inner)
        if not variables:
            value *= abs(factor) if absolute else factor
            continue
        if len(variables) != 1 or variables & seen:
            return None
        (variable,) = variables
        seen |= variables
        low, high = intervals.get(variable, (-sympy.oo, sympy.oo))
        highest = proof.supremum(factor, variable, low, high)
        lowest = proof.supremum(-factor, variable, low, high)
        if highest is None or lowest is None:
            return None
        low_value = -lowest[0]
        if absolute:
            best = highest if highest[0] >= lowest[0] else lowest
        elif low_value >= 0:
            best = highest if upper else (low_value, lowest[1], lowest[2])
        else:
            return None
        value *= best[0]
        point[variable] = best[1]
        attained = attained and best[2]
    return sympy.simplify(value), point, attained


def _bound_symbolic(question: Bound):
    upper = _upper(question.relation)
    result = _symbolic_extreme(question.expr, question.domain, upper)
    if result is None:
        return None
    value, point, attained = result
    bound = sympy.sympify(question.bound)
    strict = question.relation in ("<", ">")
    if strict:
        holds = bool(value < bound if upper else value > bound) or (bool(sympy.Eq(value, bound)) and not attained)
    else:
        holds = bool(value <= bound if upper else value >= bound)
    return {"holds": holds, "extreme": sympy.latex(value), "extreme_value": number(sympy.N(value, 40)),
            "where": {sympy.latex(k): sympy.latex(v) for k, v in point.items()}, "attained": attained}


def _bound_numeric(question: Bound, settings: Settings):
    """Search for a violation at seeded random points (infinite ranges mapped through tan)."""
    import numpy as np

    rng = np.random.default_rng(settings.seed)
    symbols = [s for s, _, _ in question.domain]
    function = sympy.lambdify(symbols, question.expr, modules=[MPMATH_NAMESPACE, "mpmath"])
    relation = _RELATIONS[question.relation]
    bound = sympy.N(question.bound, settings.digits)
    worst = None
    with mpmath.workdps(settings.digits):
        for _ in range(max(settings.points, 2000)):
            values = []
            for _, low, high in question.domain:
                u = rng.uniform(-0.4999, 0.4999) * np.pi
                if low == -sympy.oo and high == sympy.oo:
                    values.append(mpmath.tan(u))
                else:
                    values.append(mpmath.mpf(float(low)) + (u / np.pi + 0.5) * mpmath.mpf(float(high - low)))
            value = function(*values)
            score = value if _upper(question.relation) else -value
            if worst is None or score > worst[0]:
                worst = (score, values, value)
        _, values, value = worst
        holds = relation(value, mpmath.mpf(str(bound)))
    return {"holds": bool(holds), "extreme_value": number(value), "points": max(settings.points, 2000),
            "where": {sympy.latex(s): number(v) for s, v in zip(symbols, values)}}


@verify.register
def _(question: Bound, settings: Settings = Settings()) -> Verdict:
    if question.relation not in _RELATIONS:
        raise VerificationError(f"bound relation must be one of {', '.join(_RELATIONS)}, got {question.relation!r}")
    evidence = {"expr": sympy.latex(question.expr), "relation": question.relation,
                "bound": sympy.latex(sympy.sympify(question.bound))}
    result = proof.run_with_budget(_bound_symbolic, (question,), settings.budget)
    method = SYMBOLIC
    if result is None:
        result, method = _bound_numeric(question, settings), NUMERIC
    evidence.update(result)
    return Verdict(AGREES if result["holds"] else DIFFERS, method, evidence)


# -- Experiment ----------------------------------------------------------------------------
@verify.register
def _(question: Experiment, settings: Settings = Settings()) -> Verdict:
    accepts_quick = "quick" in inspect.signature(question.run).parameters
    numbers = dict(question.run(settings.seed, quick=settings.quick) if accepts_quick else question.run(settings.seed))
    series = numbers.pop("series", None)
    holds = bool(question.holds(numbers))
    evidence = {"statement": question.statement, "numbers": numbers}
    if question.figure:
        evidence["figure"] = question.figure
    if series is not None:
        evidence["series"] = series
    return Verdict(AGREES if holds else DIFFERS, EXPERIMENT, evidence)
