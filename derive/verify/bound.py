"""Bounds: decided by a proof, a certificate or a confirmed counterexample — and otherwise undecided.

A bound on free variables goes to derive.verify.decide as it is. A bound on
a model's quantities is decided on several forms of the same expression:
- the step's leaves (derive.exact.leaves.to_leaves: parameters, inputs, the
  earliest state, the earliest gates kept in their ranges): a proof or
  certificate there is exact, and a counterexample found there is one of the
  model when every leaf takes every value of its range independently of the
  others (`_refutable`: free reals, and a gate that an input of its own step,
  absent from the expression, moves over its whole range); otherwise the
  form only proves, like a relaxation;
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

from dataclasses import dataclass, replace

import sympy

from derive.budget import guard, stage
from derive.errors import VerificationError
from derive.evidence import (BoundCounterexample, BoundEvidence, Certificate, Extremum, Unresolved, Verdict)
from derive.exact.leaves import to_leaves
from derive.quantity import quantity_of
from derive.rules import Method, Status
from derive.verify.decide import RELATIONS, Certified, Counterexample, Proved, Undecided, decide
from derive.verify.extrema import compare
from derive.verify.questions import Bound, Settings, verify
from derive.verify.ranges import quantity_ranges

SEARCH_SHARE, RELAXATION_SHARE = 0.25, 0.5  # of the budget; the leaves' proof and certificate get the rest


def _latex(symbol) -> str:
    return sympy.latex(symbol)


@dataclass(frozen=True)
class Form:
    """One form of a bound's expression, decided over `domain` (an open box).

    `relation`/`bound` replace the question's when the form moved everything to one side; `reached` is
    True when a range has an end that is a point of the claim (a closed end of the claim's domain, a value
    a quantity attains), which the open box leaves out: a strict bound whose extremum equals the bound,
    approached at such an end, is then not trusted.
    """

    words: str
    expr: object
    domain: tuple
    ranges: tuple = ()  # the model's ranges used, described
    relation: str | None = None
    bound: object = None
    reached: tuple = ()  # ((symbol, finite end of its range that is a point of the claim), ...)
    not_refutable: str = ""  # why a point of this form may not be a point of the model ("": every point is one)


def _with_ranges(words: str, expr, question: Bound) -> Form:
    """The form over its symbols' domain: the claim's own ranges, then the model's for its quantities."""
    given = {symbol for symbol, _, _ in question.domain}
    ranges = sorted(((symbol, r) for symbol, r in quantity_ranges(expr.free_symbols, question.model).items()
                     if symbol not in given), key=lambda item: str(item[0]))
    extra = tuple((symbol, r.low, r.high) for symbol, r in ranges)
    described = tuple(r.describe(_latex(symbol)) for symbol, r in ranges
                      if not (r.low == -sympy.oo and r.high == sympy.oo))
    reached = _closed_ends(question) + tuple((symbol, end) for symbol, r in ranges
                                             for end, attained in ((r.low, r.low_attained), (r.high, r.high_attained))
                                             if attained and end.is_finite)
    return Form(words, expr, question.domain + extra, described, reached=reached)


def _closed_ends(question: Bound) -> tuple:
    """The finite ends of the claim's domain: its ranges are closed ([0, 1] includes 1)."""
    return tuple((symbol, end) for symbol, low, high in question.domain
                 for end in (sympy.sympify(low), sympy.sympify(high)) if end.is_finite)


def _equals_bound(decision: Proved, form: Form, question: Bound) -> bool:
    """Is the extremum the bound itself (or SymPy cannot tell)? (derive.verify.extrema.prove compares it with the
    bound when that is a constant, else with 0, the bound having been moved across.)"""
    bound = sympy.sympify(question.bound if form.bound is None else form.bound)
    return compare(decision.extreme, 0 if bound.free_symbols else bound) in (0, None)


def _approached_at_reached_end(decision: Proved, form: Form) -> bool:
    """Is the extremum approached at (or, unknown where, possibly at) an end that is a point of the claim?"""
    where = dict(decision.point)
    for symbol, end in form.reached:
        if symbol not in sympy.sympify(form.expr).free_symbols:
            continue
        at = where.get(symbol)
        if at is None or compare(at, end) in (0, None):
            return True
    return False


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


_SIGN = {"<=": r"\le", "<": "<", ">=": r"\le", ">": "<"}  # h ≤ 0 (h < 0) once a factor is set aside


def _factor_set_aside(question: Bound) -> Form | None:
    """expr − bound (bound − expr for ≥, >) = g·h with g ≥ 0 in variables h does not use: the form h ≤ 0.

    h ≤ 0 everywhere gives g·h ≤ 0 everywhere (h < 0 gives g·h < 0 when g > 0): a relaxation that can
    prove the bound and never refutes it. It separates |σ'(z) w| ≤ |w|/4 into |w| · (|σ'(z)| − 1/4).
    """
    upper, strict = question.relation in ("<", "<="), question.relation in ("<", ">")
    difference = sympy.sympify(question.expr) - sympy.sympify(question.bound)
    difference = (difference if upper else -difference).replace(
        lambda n: isinstance(n, sympy.Abs) and n.args[0].is_Mul,
        lambda n: sympy.Mul(*[sympy.Abs(a) for a in n.args[0].args]))
    factored = sympy.factor_terms(difference)
    if not factored.is_Mul:
        return None
    aside = [a for a in factored.args if a.free_symbols and (a.is_positive if strict else a.is_nonnegative)]
    g, h = sympy.Mul(*aside), sympy.Mul(*[a for a in factored.args if a not in aside])
    if not aside or not h.free_symbols or g.free_symbols & h.free_symbols:
        return None
    words = f"the factor ${_latex(g)} \\ge 0$ set aside: ${_latex(h)} {_SIGN[question.relation]} 0$ suffices"
    domain = tuple(item for item in question.domain if item[0] in h.free_symbols)
    return Form(words, h, domain, relation="<" if strict else "<=", bound=sympy.Integer(0),
                reached=_closed_ends(question))


def _refutable(expr, model, domain: tuple) -> str:
    """Why a point of the leaves form `expr` over its box may not be a point of the model; "" when every one is.

    Parameters, inputs and states free over the reals take any value. A leaf with a bounded range takes
    every value of it, whatever the other leaves are, only when it is one activation of a pre-activation
    moved over all reals by an input of its own step that the expression does not use, and no other
    bounded leaf of that step shares that input. A claim's range for a quantity must lie within the
    model's and be on a leaf.
    """
    symbols = expr.free_symbols
    ranges = quantity_ranges(symbols, model)
    for symbol, low, high in domain:
        if quantity_of(symbol) is None:
            continue
        if symbol not in symbols:
            return f"the claim's range of ${_latex(symbol)}$ is on a quantity the model computes from others"
        if symbol in ranges and not (ranges[symbol].low <= low and high <= ranges[symbol].high):
            return f"the claim's range of ${_latex(symbol)}$ goes beyond the model's"
    steps: dict = {}
    for symbol, found in ranges.items():
        if not (found.low == -sympy.oo and found.high == sympy.oo):
            q = quantity_of(symbol)
            steps.setdefault((q.time, q.absolute), set()).add((q.name, symbol))
    for (time, absolute), leaves in steps.items():
        names = {name for name, _ in leaves}
        inputs = {s for name in model.inputs for s in model.q(name, time, absolute)}
        definitions = model.expanded(time, absolute)
        moved = len(names) == 1 and not inputs & symbols and len(leaves) <= len(inputs) and all(
            isinstance(entry, sympy.Function) and len(entry.args) == 1 and entry.args[0].free_symbols & inputs
            for name in names for entry in definitions[name])
        if not moved:
            leaf = min((s for _, s in leaves), key=str)
            return f"${_latex(leaf)}$ is kept in its range but is not free of the other leaves there"
    return ""


def forms(question: Bound) -> tuple[Form, list]:
    """(the exact form, the relaxations)."""
    expr, model = sympy.sympify(question.expr), question.model
    timed = [q for q in map(quantity_of, expr.free_symbols) if q is not None]
    if model is None or not timed:
        separated = _factor_set_aside(question)
        return Form("as written", expr, question.domain, reached=_closed_ends(question)), \
            [separated] if separated else []
    leaves = sympy.sympify(to_leaves(expr, model))
    exact = _with_ranges("in the step's leaves (parameters, inputs, the earliest state)", leaves, question)
    exact = replace(exact, not_refutable=_refutable(leaves, model, question.domain))
    relaxations = [_with_ranges("as written, each quantity free in its range", expr, question)]
    written = _states_by_their_equations(expr, model)
    if written is not None:
        relaxations.append(_with_ranges("the latest states written by their equations, each quantity free in "
                                        "its range", written, question))
    return exact, relaxations


def _evidence(question: Bound, decision, form: Form, tried) -> BoundEvidence:
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
                         decision.holds, result, form.words, form.ranges, tuple(tried))


_METHOD = {Proved: Method.SYMBOLIC, Certified: Method.CERTIFICATE, Counterexample: Method.NUMERIC}


def _verdict(question: Bound, decision, form, tried) -> Verdict:
    status = {True: Status.AGREES, False: Status.DIFFERS, None: Status.UNDECIDED}[decision.holds]
    return Verdict(status, _METHOD.get(type(decision), Method.NONE), _evidence(question, decision, form, tried))


def _decide(question: Bound, form: Form, budget: float, settings: Settings, **options):
    relation = form.relation or question.relation
    decision = decide(form.expr, relation, question.bound if form.bound is None else form.bound, form.domain,
                      budget=budget, seed=settings.seed, digits=settings.digits, **options)
    if relation in ("<", ">") and isinstance(decision, Proved) and decision.holds and not decision.attained \
            and _approached_at_reached_end(decision, form) and _equals_bound(decision, form, question):
        # the extremum equals the bound, approached at an end of a range; the box here is open, but that end is
        # reached (a closed end of the claim's domain, a value a quantity attains): there the strict bound fails
        return Undecided(((decision.kind, "the extremum equals the bound, approached at an end of a range that "
                                          "is reached, where the strict bound may fail"),))
    return decision


@verify.register
def _(question: Bound, settings: Settings = Settings()) -> Verdict:
    if question.relation not in RELATIONS:
        raise VerificationError(f"bound relation must be one of {', '.join(RELATIONS)}, got {question.relation!r}")
    stage("bound search")
    guard("bound search", question.expr, question.bound)
    exact, relaxations = forms(question)
    budget = settings.bound_budget
    refute = not exact.not_refutable
    not_searched = () if refute else (("search", f"not run ({exact.words}): {exact.not_refutable}, so a point "
                                                 f"found there might not be one of the model"),)
    if not relaxations:
        decision = _decide(question, exact, budget, settings, refute=refute)
        tried = decision.tried if isinstance(decision, Undecided) else ()
        return _verdict(question, decision, exact, not_searched + tuple(tried) if tried else ())
    tried = list(not_searched)
    if refute:
        searched = _decide(question, exact, budget * SEARCH_SHARE, settings, phases=("search",))
        if isinstance(searched, Counterexample):
            return _verdict(question, searched, exact, ())
        tried += [(f"{method} ({exact.words})", why) for method, why in searched.tried]
    for relaxation in relaxations:
        decision = _decide(question, relaxation, budget * RELAXATION_SHARE / len(relaxations), settings,
                           refute=False)
        if decision.holds:
            return _verdict(question, decision, relaxation, tried)
        tried += [(f"{method} ({relaxation.words})", why) for method, why in decision.tried]
    decision = _decide(question, exact, budget * (1 - SEARCH_SHARE - RELAXATION_SHARE), settings,
                       phases=("proof", "certificate"), refute=refute)
    if isinstance(decision, Undecided):
        tried += [(f"{method} ({exact.words})", why) for method, why in decision.tried]
    return _verdict(question, decision, exact, tried)
