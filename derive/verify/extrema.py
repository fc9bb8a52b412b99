"""Exact extrema by SymPy: the infimum and supremum of an expression over an open box, and whether each is attained.

An expression is taken apart into pieces in disjoint sets of variables —
terms of a sum, factors of a product, the argument of |·| — and each
one-variable piece's extrema come from its critical points and its limits at
the ends (derive.verify.proof's rewriting in u = σ(x) or tanh(x) when that makes a
polynomial). Independent pieces combine exactly: a sum's supremum is the sum
of the suprema; a product's extrema lie at the corners of the pieces' ranges.

Soundness over cleverness: numbers are compared exactly (50 digits, and a
symbolic zero test when they agree that far) — never by floats or by
nsimplify's guesses; a piece with a pole inside its interval, an unbounded
range, |·| of unknown sign inside a one-variable piece, or anything SymPy
cannot solve makes the answer None (no proof), never a wrong extremum.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy

from derive.rules import FUNCTIONS, to_exp
from derive.verify.proof import to_polynomial_variable

_SMOOTH = tuple(rule.sympy for rule in FUNCTIONS.values())  # the notation's functions, all smooth
_CLOSE = sympy.Rational(1, 10 ** 40)


@dataclass(frozen=True)
class Extreme:
    """An exact infimum or supremum: its value, where (a point or ±oo; None where unknown), attained or approached."""

    value: sympy.Expr
    point: tuple  # ((symbol, coordinate), ...)
    attained: bool


def compare(a, b) -> int | None:
    """The sign of a − b, exactly; None when SymPy cannot tell (never a float guess).

    The difference is evaluated to 50 significant digits; its sign is trusted
    only when it stands clear of 10^-40 times the size of a and b, and a
    difference that small must simplify to 0 to count as equality.
    """
    difference = sympy.sympify(a - b)
    if difference == 0:
        return 0
    try:
        value, scale = sympy.N(difference, 50), max(abs(sympy.N(a, 50)), abs(sympy.N(b, 50)))
    except Exception:  # noqa: BLE001
        return None
    if not (value.is_Number and value.is_real and scale.is_Number):
        return None
    if abs(value) > _CLOSE * scale:
        return 1 if value > 0 else -1
    return 0 if sympy.simplify(difference) == 0 else None


def _best(candidates: list, highest: bool) -> Extreme | None:
    """The largest (smallest) of exact candidates; attained if any candidate equal to it is."""
    best = candidates[0]
    for candidate in candidates[1:]:
        sign = compare(candidate.value, best.value)
        if sign is None:
            return None
        if (sign > 0) == highest and sign != 0:
            best = candidate
        elif sign == 0 and candidate.attained and not best.attained:
            best = candidate
    return best


def extremes(expr, ranges: dict):
    """(infimum, supremum) of `expr` over the open box `ranges` {symbol: (low, high)}, as Extremes; None if unproved."""
    # |a·b| = |a|·|b|, which may separate the variables of a product written inside |…|.
    expr = sympy.sympify(expr).replace(lambda n: isinstance(n, sympy.Abs) and n.args[0].is_Mul,
                                       lambda n: sympy.Mul(*[sympy.Abs(a) for a in n.args[0].args]))
    if not expr.free_symbols:
        if expr.is_real is not True or expr.is_finite is not True:
            return None
        at = Extreme(expr, (), True)
        return at, at
    if isinstance(expr, sympy.Abs):
        return _absolute(expr.args[0], ranges)
    if expr.is_Add or expr.is_Mul:
        groups = _independent(expr.args)
        if len(groups) > 1:
            parts = [extremes(expr.func(*group), ranges) for group in groups]
            if any(p is None for p in parts):
                return None
            return _sum(parts) if expr.is_Add else _product(parts)
    if len(expr.free_symbols) == 1:
        (variable,) = expr.free_symbols
        low, high = ranges.get(variable, (-sympy.oo, sympy.oo))
        plain = _without_abs(expr, variable, ranges)
        return None if plain is None else _univariate(plain, variable, low, high)
    return None


def _independent(args) -> list:
    """The arguments grouped so that groups share no variable (constants form their own group)."""
    groups: list = []
    for arg in args:
        variables = set(arg.free_symbols)
        joined = [g for g in groups if g[0] & variables or (not variables and not g[0])]
        merged = (variables.union(*[g[0] for g in joined]), [a for g in joined for a in g[1]] + [arg])
        groups = [g for g in groups if g not in joined] + [merged]
    return [args_ for _, args_ in groups]


def _merge(*points) -> tuple:
    return tuple(sorted({item for point in points for item in point}, key=lambda item: str(item[0])))


def _sum(parts) -> tuple:
    lows, highs = [p[0] for p in parts], [p[1] for p in parts]
    return tuple(Extreme(sympy.Add(*[e.value for e in side]), _merge(*[e.point for e in side]),
                     all(e.attained for e in side)) for side in (lows, highs))


def _product(parts):
    """Extrema of a product of independent factors: at the corners of the box of the factors' ranges."""
    corners = []
    for choice in itertools.product(*[(low, high) for low, high in parts]):
        zero_attained = any(e.attained and e.value == 0 for e in choice)
        corners.append(Extreme(sympy.Mul(*[e.value for e in choice]), _merge(*[e.point for e in choice]),
                               zero_attained or all(e.attained for e in choice)))
    low, high = _best(corners, highest=False), _best(corners, highest=True)
    return None if low is None or high is None else (low, high)


def _absolute(inner, ranges):
    """Extrema of |inner| from those of inner."""
    found = extremes(inner, ranges)
    if found is None:
        return None
    low, high = found
    negated = Extreme(-low.value, low.point, low.attained)
    top = _best([negated, high], highest=True)
    if top is None:
        return None
    if compare(low.value, 0) in (0, 1):
        bottom = low
    elif compare(high.value, 0) in (0, -1):
        bottom = Extreme(-high.value, high.point, high.attained)
    else:  # inner takes both signs on a connected box, so it is 0 somewhere
        bottom = Extreme(sympy.Integer(0), tuple((s, None) for s in sorted(inner.free_symbols, key=str)), True)
    return bottom, top


def _without_abs(expr, variable, ranges):
    """A one-variable expression with each |e| replaced by e or −e, when e keeps one sign; None otherwise."""
    for node in sorted(expr.atoms(sympy.Abs), key=sympy.count_ops):
        found = extremes(node.args[0], ranges)
        if found is None:
            return None
        low, high = found
        if compare(low.value, 0) in (0, 1):
            replacement = node.args[0]
        elif compare(high.value, 0) in (0, -1):
            replacement = -node.args[0]
        else:
            return None
        expr = expr.xreplace({node: replacement})
    return expr


def _smooth(expr, variable) -> bool:
    """Built only from rationals, integer powers and the smooth functions whose critical points SymPy can solve."""
    for node in sympy.preorder_traversal(expr):
        if node.is_Pow and not node.exp.is_Integer:
            return False
        if isinstance(node, sympy.Function) and not isinstance(node, _SMOOTH):
            return False
    return True


def _univariate(expr, variable, low, high):
    if not _smooth(expr, variable):
        return None
    mapped = to_polynomial_variable(expr, variable) if (low, high) == (-sympy.oo, sympy.oo) else None
    if mapped is not None:
        g, u, (u_low, u_high), back = mapped
        found = _critical(g, u, u_low, u_high)
        if found is None:
            return None
        candidates = [Extreme(value, ((variable, sympy.simplify(back(at)) if attained else
                                       (low if at == u_low else high)),), attained) for value, at, attained in found]
    else:
        found = _critical(to_exp(expr), variable, low, high)
        if found is None:
            return None
        candidates = [Extreme(value, ((variable, at),), attained) for value, at, attained in found]
    low_extreme, high_extreme = _best(candidates, highest=False), _best(candidates, highest=True)
    return None if low_extreme is None or high_extreme is None else (low_extreme, high_extreme)


def _critical(expr, variable, low, high):
    """(value, point, attained) at the critical points inside (low, high) and the limits at its ends; None if unsure."""
    interval = sympy.Interval.open(low, high)
    together = sympy.together(expr)
    denominator = sympy.denom(together)
    if denominator.has(variable) and sympy.solveset(denominator, variable, interval) is not sympy.S.EmptySet:
        return None  # a pole (or an unsolved denominator) inside: the extrema are not among the candidates
    numerator = sympy.numer(sympy.together(sympy.diff(together, variable)))
    solutions = sympy.solveset(numerator, variable, interval)
    if solutions is sympy.S.EmptySet:
        solutions = []
    elif not isinstance(solutions, sympy.FiniteSet):
        return None
    candidates = [(sympy.simplify(expr.subs(variable, point)), point, True) for point in solutions]
    for end in (low, high):
        limit = sympy.limit(expr, variable, end, "+" if end == low else "-")
        if limit.is_real is not True or limit.is_finite is not True:
            return None  # unbounded (or oscillating) at an end
        candidates.append((limit, end, False))
    return candidates


def prove(expr, relation: str, bound, ranges: dict):
    """(holds, extreme) decided by the exact supremum (for <, <=) or infimum (for >, >=); a reason string if not.

    With a constant bound the extremum is that of `expr` (so the evidence shows
    sup σ' = 1/4); a bound with variables is moved across: expr − bound vs 0.
    An extremum equal to the bound decides ≤ and ≥ (holds), and < and > by
    attainment: attained refutes, only approached holds.
    """
    upper = relation in ("<", "<=")
    bound = sympy.sympify(bound)
    target, threshold = (expr, bound) if not bound.free_symbols else (expr - bound, sympy.Integer(0))
    found = extremes(target, ranges)
    if found is None:
        return "SymPy found no exact extremum (not a sum or product of one-variable pieces it can solve)"
    extreme = found[1] if upper else found[0]
    sign = compare(extreme.value, threshold)
    if sign is None:
        return "SymPy could not compare the exact extremum with the bound"
    if sign == 0:
        holds = relation in ("<=", ">=") or not extreme.attained
    else:
        holds = (sign < 0) == upper
    return holds, extreme
