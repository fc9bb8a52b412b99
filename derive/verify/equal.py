"""Equalities: the hand expression against the exact one, at seeded points, then a budgeted symbolic proof.

The hand expression is evaluated against the exact one at seeded random
points (30-digit mpmath, on trajectories of the model); when the two agree
there, a symbolic proof of hand − exact ≡ 0 is attempted under a time budget,
and the method says which of the two decided.
"""
from __future__ import annotations

import functools
from dataclasses import replace

import mpmath
import sympy

from derive.budget import entries as entries_of, guard, stage
from derive.errors import VerificationError
from derive.evidence import Comparison, Counterexample, EntryComparison, EqualAtPoints, Proof, Verdict
from derive.exact.collapse import readable
from derive.exact.leaves import gates_to_preactivations, to_leaves
from derive.notation.printer import NotationPrinter
from derive.quantity import sorted_symbols
from derive.rules import Method, Semantics, Status, compiled
from derive.verify import points as points_module
from derive.verify import proof
from derive.verify.questions import Equal, Settings, verify


def _shape(expr):
    return expr.shape if isinstance(expr, sympy.MatrixBase) else (1, 1)


def _relative_error(a: list, b: list):
    scale = max([abs(v) for v in a] + [abs(v) for v in b])
    if scale == 0:
        return mpmath.mpf(0)
    return max(abs(x - y) for x, y in zip(a, b)) / scale


@functools.lru_cache(maxsize=256)
def _mpmath_function(symbols: tuple, entries: tuple):
    """The entries as one mpmath function of the symbols (made once: a diagnosis compares one exact side often)."""
    return compiled(symbols, list(entries), "mpmath")


def _finite_values(function, arguments) -> list | None:
    """The function's entries at a point as mpmath numbers, or None on a pole (a division by zero, an
    infinity or a NaN): such a point says nothing about the claim."""
    try:
        values = [mpmath.mpf(v) for v in function(*arguments)]
    except (ZeroDivisionError, OverflowError):
        return None
    return values if all(mpmath.isfinite(v) for v in values) else None


class _OnPole(Exception):
    """A sample point fell on a pole of one side: the points are drawn again, off the poles."""


POLE_ROUNDS = 8  # fresh draws, each with its own seed, to replace the points that fall on a pole


def off_poles(question: Equal, functions, symbols, settings: Settings) -> list:
    """settings.points sample points at which every function is finite, drawn deterministically.

    The seed's own points come first; a point on a pole of either side is replaced by a point of a draw
    with a seed derived from it (seed + 1, seed + 2, ...), so the same seed gives the same points. A claim
    is never failed because one random point hit a pole.
    """
    wanted, kept = settings.points, []
    with mpmath.workdps(settings.digits):
        for round_number in range(POLE_ROUNDS + 1):
            draws = points_module.sample(question.model, symbols, wanted, settings.seed + round_number,
                                         settings.digits, question.extra, question.domain)
            for values in draws:
                arguments = [values[s] for s in symbols]
                if all(_finite_values(function, arguments) is not None for function in functions):
                    kept.append(values)
                    if len(kept) == wanted:
                        return kept
    if not kept:
        raise VerificationError("the claim's sides are undefined (a division by zero) at every sampled point")
    return kept


def _compare(hand, exact, symbols, points, settings: Settings, semantics: Semantics, labels=()) -> Comparison:
    """Evaluate hand and exact at the points: the largest relative error, the worst point, per-entry errors."""
    hand_fn = _mpmath_function(tuple(symbols), tuple(entries_of(hand)))
    exact_fn = _mpmath_function(tuple(symbols), tuple(entries_of(exact)))
    worst = None
    entry_errors = [mpmath.mpf(0)] * len(labels)
    with mpmath.workdps(settings.digits):
        for values in points:
            arguments = [values[s] for s in symbols]
            a, b = _finite_values(hand_fn, arguments), _finite_values(exact_fn, arguments)
            if a is None or b is None:
                raise _OnPole()
            error = _relative_error(a, b)
            if worst is None or error > worst[0]:
                worst = (error, values, a, b)
            for k in range(len(labels)):
                entry_errors[k] = max(entry_errors[k], _relative_error([a[k]], [b[k]]))
        error, values, a, b = worst
        equal = bool(error <= settings.tolerance)
        entries = tuple(EntryComparison(label, bool(e <= settings.tolerance), e)
                        for label, e in zip(labels, entry_errors))
        counterexample = None
        if not equal:
            used = sorted_symbols(hand.free_symbols | exact.free_symbols)
            counterexample = Counterexample(tuple((sympy.latex(s), values[s]) for s in used if s in values),
                                            tuple(a), tuple(b), error)
    return Comparison(semantics, equal, error, "", entries, counterexample)


def _proof_rewritings(question: Equal) -> list:
    """(label, rewriting) pairs, cheapest first: the claim's own canonical form, then the model's, then both."""
    model_forms = []
    if question.model:
        model_forms = [("gates as σ/tanh of pre-activations",
                        functools.partial(gates_to_preactivations, model=question.model)),
                       ("in leaves", functools.partial(to_leaves, model=question.model))]
    if not question.canonical:
        return model_forms
    canonical = question.canonical
    return [("adjoints expanded", canonical)] + [
        (f"adjoints expanded, {label}", lambda expr, rewrite=rewrite: rewrite(canonical(expr)))
        for label, rewrite in model_forms]


@verify.register
def _(question: Equal, settings: Settings = Settings()) -> Verdict:
    def expression(value):
        return value if isinstance(value, sympy.MatrixBase) else sympy.sympify(value)

    hand = expression(question.hand)
    sides = {Semantics.FULL: expression(question.full)}
    if question.truncated is not None:
        sides[Semantics.TRUNCATED] = expression(question.truncated)
    for name, exact in sides.items():
        if _shape(exact) != _shape(hand):
            raise VerificationError(f"the hand formula has shape {_shape(hand)} but the exact {name} "
                                    f"result has shape {_shape(exact)}")
    stage("numeric evaluation")
    if not settings.screening:  # candidate fixes are the claim's own pieces, guarded once
        guard("numeric evaluation", hand, *sides.values())
    symbols = sorted_symbols(set().union(*[expr.free_symbols for expr in [hand, *sides.values()]]))
    if question.labels and len(question.labels) != len(entries_of(hand)):
        raise VerificationError(f"{len(question.labels)} labels for {len(entries_of(hand))} entries")
    draws = points_module.sample(question.model, symbols, settings.points, settings.seed, settings.digits,
                                 question.extra, question.domain)
    # The sides as the articles write them, in the claim's own names (its aliases), not while screening fixes.
    printed = NotationPrinter(dict(question.aliases)).doprint if question.aliases else sympy.latex
    latex = (lambda expr: "") if settings.screening else (lambda expr: printed(readable(expr, question.model)))
    shown = readable(hand, question.model) if question.labels and not settings.screening else None
    hand_entries = [printed(value) for value in shown] if shown is not None else [""] * len(question.labels)
    try:
        compared = [_compare(hand, exact, symbols, draws, settings, name, question.labels)
                    for name, exact in sides.items()]
    except _OnPole:  # rare: only then is every point checked before the comparison
        functions = [_mpmath_function(tuple(symbols), tuple(entries_of(side))) for side in [hand, *sides.values()]]
        draws = off_poles(question, functions, symbols, settings)
        compared = [_compare(hand, exact, symbols, draws, settings, name, question.labels)
                    for name, exact in sides.items()]
    comparisons = []
    for (name, exact), compared in zip(sides.items(), compared):
        entries = tuple(EntryComparison(e.label, e.equal, e.max_relative_error, text)
                        for e, text in zip(compared.entries, hand_entries))
        comparisons.append(Comparison(name, compared.equal, compared.max_relative_error, latex(exact), entries,
                                      compared.counterexample))
    evidence = EqualAtPoints(len(draws), settings.digits, settings.seed, settings.tolerance, latex(hand),
                             tuple(comparisons))
    full, truncated = comparisons[0], (comparisons[1] if len(comparisons) > 1 else None)
    if full.equal:
        status, decided_by = Status.AGREES, Semantics.FULL
    elif truncated is not None and truncated.equal:
        status, decided_by = Status.TRUNCATED, Semantics.TRUNCATED
    else:
        return Verdict(Status.DIFFERS, Method.NUMERIC, replace(evidence, correction=full.exact))
    difference = sympy.Matrix(hand) - sympy.Matrix(sides[decided_by]) if isinstance(hand, sympy.MatrixBase) \
        else hand - sides[decided_by]
    stage("proof")
    rewriting = None if settings.screening else proof.prove_zero(difference, settings.budget,
                                                                  _proof_rewritings(question))
    evidence = replace(evidence, proof=Proof(rewriting) if rewriting else None)
    return Verdict(status, Method.SYMBOLIC if rewriting else Method.NUMERIC, evidence)
