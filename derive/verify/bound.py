"""Bounds: an expression against a number over a domain, by its exact extremum or a seeded search."""
from __future__ import annotations

import mpmath
import numpy as np
import sympy

from derive.errors import VerificationError
from derive.evidence import BoundEvidence, Extremum, SampledExtreme, Verdict
from derive.rules import Method, Status, namespace
from derive.verify import proof
from derive.verify.questions import Bound, Settings, verify

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
    """(holds, Extremum) from the exact extremum, or None when SymPy cannot find it."""
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
    where = tuple((sympy.latex(k), sympy.latex(v)) for k, v in point.items())
    return holds, Extremum(upper, sympy.latex(value), mpmath.mpf(str(sympy.N(value, 40))), where, attained)


def _bound_numeric(question: Bound, settings: Settings):
    """(holds, SampledExtreme): a search for a violation at seeded random points (infinite ranges through tan)."""
    rng = np.random.default_rng(settings.seed)
    symbols = [s for s, _, _ in question.domain]
    function = sympy.lambdify(symbols, question.expr, modules=[namespace("mpmath"), "mpmath"])
    relation = _RELATIONS[question.relation]
    bound = sympy.N(question.bound, settings.digits)
    count = max(settings.points, 2000)
    worst = None
    with mpmath.workdps(settings.digits):
        for _ in range(count):
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
    where = tuple((sympy.latex(s), v) for s, v in zip(symbols, values))
    return bool(holds), SampledExtreme(mpmath.mpf(value), where, count)


@verify.register
def _(question: Bound, settings: Settings = Settings()) -> Verdict:
    if question.relation not in _RELATIONS:
        raise VerificationError(f"bound relation must be one of {', '.join(_RELATIONS)}, got {question.relation!r}")
    result = proof.run_with_budget(_bound_symbolic, (question,), settings.budget)
    method = Method.SYMBOLIC
    if result is None:
        result, method = _bound_numeric(question, settings), Method.NUMERIC
    holds, found = result
    evidence = BoundEvidence(sympy.latex(question.expr), question.relation,
                             sympy.latex(sympy.sympify(question.bound)), holds, found)
    return Verdict(Status.AGREES if holds else Status.DIFFERS, method, evidence)
