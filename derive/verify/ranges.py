"""Ranges of a model's quantities, from its equations: σ ∈ (0, 1), tanh ∈ (−1, 1), h = o ⊙ tanh(c) ∈ (−1, 1), ...

A `Range` is an interval with exact SymPy ends (±∞ allowed) that records
whether each end is attained, so a bound like |h_t| < 1 keeps its
strictness. `enclose` propagates ranges through an expression (sums,
products, whole powers, |·|, quotients away from 0, and the increasing
functions of derive.rules); `model_ranges` runs it once through a model's
one-step equations with every previous state free: the ranges hold for every
quantity the cell computes (a state the cell bounds, like the LSTM's h, is
bounded at every step after the first). Anything `enclose` cannot bound is
the whole real line, so a range is always a superset of the true values.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy

from derive.models import Model
from derive.quantity import quantity_of
from derive.rules import FUNCTIONS, rule_of

oo = sympy.oo


@dataclass(frozen=True)
class Range:
    """The interval from `low` to `high`; an end is included only where it is attained."""

    low: object
    high: object
    low_attained: bool = False
    high_attained: bool = False

    def contains_zero(self) -> bool:
        return (self.low < 0 or (self.low == 0 and self.low_attained)) and \
            (self.high > 0 or (self.high == 0 and self.high_attained))

    def describe(self, name: str) -> str:
        """LaTeX: o_{t} \\in (0, 1), c_{t} \\in \\mathbb{R}."""
        if self.low == -oo and self.high == oo:
            return r"%s \in \mathbb{R}" % name
        return r"%s \in %s%s, %s%s" % (name, "[" if self.low_attained else "(", sympy.latex(self.low),
                                        sympy.latex(self.high), "]" if self.high_attained else ")")


REAL = Range(-oo, oo)


def _point(value) -> Range:
    return Range(value, value, True, True)


def _hull(candidates) -> Range:
    """The range spanned by (value, attained) candidates for the ends."""
    low = min(value for value, _ in candidates)
    high = max(value for value, _ in candidates)
    return Range(low, high, any(a for v, a in candidates if v == low), any(a for v, a in candidates if v == high))


def _times(a, b):
    # 0 · ±∞ stands for the limit of a bounded value times one that grows: 0 wherever the zero is.
    if (a == 0 and b.is_infinite) or (b == 0 and a.is_infinite):
        return sympy.S.Zero
    return a * b


def _add(x: Range, y: Range) -> Range:
    return Range(x.low + y.low, x.high + y.high, x.low_attained and y.low_attained,
                 x.high_attained and y.high_attained)


def _multiply(x: Range, y: Range) -> Range:
    ends = [(x.low, x.low_attained), (x.high, x.high_attained)]
    others = [(y.low, y.low_attained), (y.high, y.high_attained)]
    candidates = [(_times(a, b), ea and eb) for a, ea in ends for b, eb in others]
    if x.contains_zero() or y.contains_zero():
        candidates.append((sympy.S.Zero, True))  # 0 is a value of the product, whatever the ends
    return _hull(candidates)


def _power(x: Range, exponent: int) -> Range:
    if exponent == 0:
        return _point(sympy.S.One)
    if exponent < 0:
        return _reciprocal(_power(x, -exponent))
    ends = [(x.low ** exponent, x.low_attained), (x.high ** exponent, x.high_attained)]
    if exponent % 2 == 0 and x.contains_zero():
        ends.append((sympy.S.Zero, True))
    return _hull(ends)


def _absolute(x: Range) -> Range:
    ends = [(abs(x.low), x.low_attained), (abs(x.high), x.high_attained)]
    if x.contains_zero():
        ends.append((sympy.S.Zero, True))
    return _hull(ends)


def _reciprocal(x: Range) -> Range:
    if x.contains_zero() or (x.low == 0 or x.high == 0):
        return REAL
    return Range(1 / x.high, 1 / x.low, x.high_attained, x.low_attained)


@functools.cache
def _limit(name: str, end) -> object:
    u = sympy.Dummy("u")
    return sympy.limit(FUNCTIONS[name].sympy(u), u, end)


def _apply(name: str, x: Range) -> Range:
    rule = FUNCTIONS[name]
    if not rule.increasing:
        # Not monotone: only the function's whole range is known, taken closed where finite (sech reaches 1).
        low, high = map(sympy.sympify, rule.range)
        return Range(low, high, not low.is_infinite, not high.is_infinite)
    low = _limit(name, x.low) if x.low.is_infinite else rule.sympy(x.low)
    high = _limit(name, x.high) if x.high.is_infinite else rule.sympy(x.high)
    return Range(low, high, x.low_attained and not x.low.is_infinite, x.high_attained and not x.high.is_infinite)


def enclose(expr, ranges: dict) -> Range:
    """A range holding every value of `expr` when each symbol takes any value in its range (REAL if none)."""
    expr = sympy.sympify(expr)
    if expr.is_Number:
        return _point(expr) if expr.is_finite else REAL
    if expr.is_Symbol:
        return ranges.get(expr, REAL)
    if expr.is_Add:
        return functools.reduce(_add, (enclose(a, ranges) for a in expr.args))
    if expr.is_Mul:
        return functools.reduce(_multiply, (enclose(a, ranges) for a in expr.args))
    if expr.is_Pow and expr.exp.is_Integer:
        return _power(enclose(expr.base, ranges), int(expr.exp))
    if isinstance(expr, sympy.Abs):
        return _absolute(enclose(expr.args[0], ranges))
    entry = rule_of(type(expr))
    if entry is not None and len(expr.args) == 1:
        return _apply(entry.name, enclose(expr.args[0], ranges))
    return REAL


def model_ranges(model: Model) -> dict:
    """Node name -> Range of its entries, for every node of the one-unit model (previous states free).

    Every model mixes units only through sums of products with free weights,
    so the one-unit model's ranges are those of every entry at any n.
    """
    scalar = model.resized(1) if model.n != 1 else model
    ranges: dict = {}
    symbol_ranges: dict = {}
    for name, definition in scalar.equations.items():
        found = enclose(definition[0, 0], symbol_ranges)
        ranges[name] = found
        symbol_ranges[scalar.q(name, 0)[0, 0]] = found
    return ranges


def quantity_ranges(symbols, model: Model | None) -> dict:
    """The Range of each model quantity among `symbols` (nodes of the cell); parameters, inputs are left free.

    The initial state (absolute step 0) is free too: the user chooses it; any
    later state was computed by the cell and has its node's range.
    """
    if model is None:
        return {}
    ranges = model_ranges(model)
    found = {}
    for symbol in symbols:
        q = quantity_of(symbol)
        if q is None or q.adjoint or q.name not in ranges:
            continue
        if q.absolute and q.time == 0 and q.name in model.state:
            continue
        found[symbol] = ranges[q.name]
    return found
