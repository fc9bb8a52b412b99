"""Bounds: decided by a proof, a certificate or a confirmed counterexample — and otherwise undecided.

A bound on free variables goes to derive.verify.decide as it is. A bound on
a model's quantities is decided on several forms of the same expression:
- the step's leaves (derive.exact.leaves.to_leaves: parameters, inputs, the
  earliest state, the earliest gates kept in their ranges): every point
  there is a point of the model, so a counterexample found there is one,
  and a proof or certificate there is exact;
- relaxations, each quantity free in the range its equations give it
  (derive.verify.ranges: gates in (0, 1), h = o ⊙ tanh(c) in (−1, 1), ...),
  as written and with the latest states written by their equations: they
  contain every point of the model and more, so they can prove a bound but
  never refute one.
The counterexample search runs first (cheapest, and decisive for a false
bound), then the proofs on the relaxations, then the leaves. Sampling alone
never yields "agrees".
"""
from __future__ import annotations

import sympy

from derive.errors import VerificationError
from derive.evidence import (BoundCounterexample, BoundEvidence, Certificate, Extremum, Unresolved, Verdict)
from derive.exact.leaves import to_leaves
from derive.quantity import quantity_of
from derive.rules import Method, Status
from derive.verify.decide import RELATIONS, Certified, Counterexample, Proved, Undecided, decide
from derive.verify.questions import Bound, Settings, verify
from derive.verify.ranges import quantity_ranges

SEARCH_SHARE, RELAXATION_SHARE = 0.25, 0.5  # of the budget; the leaves' proof and certificate get the rest


def _latex(symbol) -> str:
    return sympy.latex(symbol)


def _with_ranges(expr, question: Bound) -> tuple[tuple, tuple]:
    """The domain of `expr`'s symbols: the claim's own ranges, then the model's for its quantities."""
    given = {symbol for symbol, _, _ in question.domain}
    ranges = quantity_ranges(expr.free_symbols, question.model)
    extra = tuple((symbol, r.low, r.high) for symbol, r in sorted(ranges.items(), key=lambda item: str(item[0]))
                  if symbol not in given)
    described = tuple(r.describe(_latex(symbol)) for symbol, r in sorted(ranges.items(), key=lambda item: str(item[0]))
                      if symbol not in given and not (r.low == -sympy.oo and r.high == sympy.oo))
    return question.domain + extra, described


def _states_by_their_equations(expr, model):
    """The latest states of `expr` written by their one-step equations (c_t -> f_t c_{t-1} + i_t c̃_t), once."""
    times = [q.time for q in map(quantity_of, expr.free_symbols) if q and not q.adjoint and q.time is not None]
    if not times or not model.state:
        return None
    substitution = {}
    for symbol in expr.free_symbols:
        q = quantity_of(symbol)
        if q is None or q.adjoint or q.name not in model.state or q.time != max(times):
            continue
        definition = model.step(q.time, q.absolute)[q.name]
        substitution[symbol] = definition[(q.index[0] - 1) if q.index else 0, 0]
    rewritten = expr.xreplace(substitution)
    return rewritten if substitution and rewritten != expr else None


def forms(question: Bound) -> tuple[tuple, list]:
    """(the exact form, the relaxations): each (words, expression, domain, ranges used)."""
    expr, model = sympy.sympify(question.expr), question.model
    timed = [q for q in map(quantity_of, expr.free_symbols) if q is not None]
    if model is None or not timed:
        return ("as written", expr, question.domain, ()), []
    if any(quantity_of(symbol) is not None for symbol, _, _ in question.domain):
        # The claim gives a model quantity a range of its own: it is then a variable in that range, as written.
        return ("as written, with the claim's ranges", expr, *_with_ranges(expr, question)), []
    leaves = sympy.sympify(to_leaves(expr, model))
    exact = ("in the step's leaves (parameters, inputs, the earliest state)", leaves,
             *_with_ranges(leaves, question))
    relaxations = [("as written, each quantity free in its range", expr, *_with_ranges(expr, question))]
    written = _states_by_their_equations(expr, model)
    if written is not None:
        relaxations.append(("the latest states written by their equations, each quantity free in its range",
                            written, *_with_ranges(written, question)))
    return exact, relaxations


def _evidence(question: Bound, decision, form, tried) -> BoundEvidence:
    words, _, _, ranges = form
    upper = question.relation in ("<", "<=")
    if isinstance(decision, Proved):
        where = tuple((_latex(symbol), "?" if at is None else _latex(at)) for symbol, at in decision.point)
        result = Extremum(upper, _latex(decision.extreme), decision.extreme_value, where, decision.attained)
    elif isinstance(decision, Certified):
        names = [_latex(symbol) for symbol, _, _ in decision.ranges]
        result = Certificate(decision.boxes, decision.margin,
                             tuple(tuple((name, low, high) for name, (low, high) in zip(names, box.ranges))
                                   for box in decision.tightest))
    elif isinstance(decision, Counterexample):
        result = BoundCounterexample(tuple((_latex(symbol), value) for symbol, value in decision.point),
                                     decision.expr_value, decision.bound_value, decision.violation, decision.found_by)
    else:
        result = Unresolved(decision.boxes)
    return BoundEvidence(_latex(question.expr), question.relation, _latex(sympy.sympify(question.bound)),
                         decision.holds, result, words, ranges, tuple(tried))


_METHOD = {Proved: Method.SYMBOLIC, Certified: Method.CERTIFICATE, Counterexample: Method.NUMERIC}


def _verdict(question: Bound, decision, form, tried) -> Verdict:
    status = {True: Status.AGREES, False: Status.DIFFERS, None: Status.UNDECIDED}[decision.holds]
    return Verdict(status, _METHOD.get(type(decision), Method.NONE), _evidence(question, decision, form, tried))


@verify.register
def _(question: Bound, settings: Settings = Settings()) -> Verdict:
    if question.relation not in RELATIONS:
        raise VerificationError(f"bound relation must be one of {', '.join(RELATIONS)}, got {question.relation!r}")
    exact, relaxations = forms(question)
    options = dict(seed=settings.seed, digits=settings.digits)
    budget = settings.budget
    if not relaxations:
        decision = decide(exact[1], question.relation, question.bound, exact[2], budget=budget, **options)
        return _verdict(question, decision, exact, decision.tried if isinstance(decision, Undecided) else ())
    tried = []
    searched = decide(exact[1], question.relation, question.bound, exact[2], budget=budget * SEARCH_SHARE,
                      phases=("search",), **options)
    if isinstance(searched, Counterexample):
        return _verdict(question, searched, exact, ())
    tried += [(f"{method} ({exact[0]})", why) for method, why in searched.tried]
    for relaxation in relaxations:
        decision = decide(relaxation[1], question.relation, question.bound, relaxation[2],
                          budget=budget * RELAXATION_SHARE / len(relaxations), refute=False, **options)
        if decision.holds:
            return _verdict(question, decision, relaxation, tried)
        tried += [(f"{method} ({relaxation[0]})", why) for method, why in decision.tried]
    decision = decide(exact[1], question.relation, question.bound, exact[2],
                      budget=budget * (1 - SEARCH_SHARE - RELAXATION_SHARE), phases=("proof", "certificate"),
                      **options)
    if isinstance(decision, Undecided):
        tried += [(f"{method} ({exact[0]})", why) for method, why in decision.tried]
    return _verdict(question, decision, exact, tried)
