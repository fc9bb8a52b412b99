"""Term alignment: the hand formula and the exact result as sums of products, paired term by term.

Both sides are written in one normal form: gates as σ/tanh of their
pre-activations, every derivative of a function of the rule table as one
`Slope` atom (σ(a)(1 − σ(a)) -> σ'(a), 1 − tanh(a)² -> tanh'(a)), products
distributed over sums. A term is then a coefficient and a multiset of
factors. Equal terms agree; a hand term and an exact term that share most
factors differ by a wrong factor; an exact term left over is missing from the
hand formula (its path is named when the exact result is a one-step
∂c_t/∂c_{t-1}, from derive.exact.path_terms), and a hand term left over is
extra. Terms are printed back in the claim's notation (aliases applied).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sympy

from derive.evidence import TermPair
from derive.exact import path_terms
from derive.exact.collapse import readable
from derive.exact.leaves import gates_to_preactivations
from derive.models import Model
from derive.notation.printer import Slope, in_notation, slope
from derive.quantity import quantity_of
from derive.rules import FUNCTIONS, rule_of

MOST_TERMS = 40  # beyond this many terms a side is summarised, not paired term by term

PATH_WORDS = {
    "direct": "the direct path (the gates held)",
    "via_f": "the path through $f_t$", "via_i": "the path through $i_t$",
    "via_c_tilde": r"the path through $\tilde{c}_t$", "via_z": "the path through $z_t$",
    "via_o": "the path through $o_t$", "via_o_prev": "the path through $o_{t-1}$",
}


def path_words(name: str) -> str:
    """How a path term of derive.exact.path_terms is named: via_f -> "the path through f_t"."""
    if name in PATH_WORDS:
        return PATH_WORDS[name]
    gate = name.removeprefix("via_").removesuffix("_peephole")
    return f"the {'peephole ' if name.endswith('_peephole') else ''}path through ${gate}_t$"


def _is(a, b) -> int:
    """1 if a == b, -1 if a == -b, else 0 (after expanding)."""
    if sympy.expand(a - b) == 0:
        return 1
    return -1 if sympy.expand(a + b) == 0 else 0


def _slopes_in_product(factors: list) -> list:
    """Every pair σ(a), ±(1 − σ(a)) of a product's factors replaced by ±σ'(a)."""
    factors = list(factors)
    changed = True
    while changed:
        changed = False
        for k, factor in enumerate(factors):
            entry = rule_of(type(factor))
            if entry is None or entry.name != "sigma":
                continue
            j, sign = next(((j, _is(other, 1 - factor)) for j, other in enumerate(factors)
                            if j != k and _is(other, 1 - factor)), (None, 0))
            if sign:
                factors = [f for i, f in enumerate(factors) if i not in (j, k)] + [sign, slope("sigma", factor.args[0])]
                changed = True
                break
    return factors


def _with_slopes(expr):
    """σ(a)(1 − σ(a)) -> σ'(a) and 1 − tanh(a)² -> tanh'(a), everywhere in `expr` (bottom up, either sign)."""
    def rewrite(node):
        if node.is_Add:
            for application in node.atoms(sympy.Function):
                entry = rule_of(type(application))
                if entry is not None and entry.name in ("tanh", "sigma"):
                    sign = _is(node, entry.derivative(application.args[0]))
                    if sign:
                        return sign * slope(entry.name, application.args[0])
            return node
        return sympy.Mul(*_slopes_in_product(node.args))

    return sympy.sympify(expr).replace(lambda e: e.is_Add or e.is_Mul, rewrite)


def normal_form(expr, model: Model | None):
    """The expression as a sum of products of gates, slopes, weights and states (see the module docstring)."""
    expr = sympy.sympify(expr)
    if model is not None:
        expr = gates_to_preactivations(readable(expr, model), model)
    return sympy.expand_mul(_with_slopes(expr))


@dataclass(frozen=True)
class Term:
    coefficient: object
    factors: Counter

    @property
    def expr(self):
        return self.coefficient * sympy.Mul(*[f ** k for f, k in self.factors.items()])


def terms_of(expr) -> list[Term]:
    terms = []
    for term in sympy.Add.make_args(expr):
        coefficient, factors = term.as_coeff_mul()
        terms.append(Term(coefficient, Counter(factors)))
    return [t for t in terms if t.coefficient != 0]


def _shared(a: Term, b: Term) -> int:
    return sum((a.factors & b.factors).values())


def _show(expr, model, aliases) -> str:
    return in_notation(readable(expr, model) if model is not None else expr, aliases)


def _factors(factors: Counter, model, aliases) -> tuple:
    return tuple(_show(f ** k, model, aliases) for f, k in sorted(factors.items(), key=lambda i: str(i[0])))


def _words(factors: Counter, model, aliases) -> str:
    return ", ".join(f"${_show(f ** k, model, aliases)}$" for f, k in sorted(factors.items(), key=lambda i: str(i[0])))


def _path_names(reference, model: Model | None) -> dict:
    """Normal-form term -> the path of a one-step ∂c_{τ+1}/∂c_τ it lies on, for the states τ the result holds."""
    if model is None or len(model.state) != 2:
        return {}
    times = {(q.time, q.absolute) for q in map(quantity_of, getattr(reference, "free_symbols", ()))
             if q is not None and q.time is not None and q.name in model.state}
    names: dict = {}
    for time, absolute in times:
        try:
            paths = path_terms(model, time + 1, absolute)
        except Exception:  # noqa: BLE001 - no path terms for this model or time: the terms stay unnamed
            continue
        for name, term in paths.items():
            for piece in terms_of(normal_form(term, model)):
                names[sympy.srepr(piece.expr)] = path_words(name)
    return names


def pair_terms(hand, exact, model: Model | None) -> list[tuple]:
    """(kind, hand Term or None, exact Term or None) for a scalar hand formula against the exact result
    (empty for matrices or huge sides): the pairing `align` writes out."""
    if isinstance(hand, sympy.MatrixBase) or isinstance(exact, sympy.MatrixBase):
        return []
    hand_terms, exact_terms = terms_of(normal_form(hand, model)), terms_of(normal_form(exact, model))
    if len(hand_terms) > MOST_TERMS or len(exact_terms) > MOST_TERMS:
        return []
    pairs, left, unmatched = [], list(hand_terms), []
    for term in exact_terms:
        same = next((h for h in left if sympy.expand(h.expr - term.expr) == 0), None)
        if same is not None:
            left.remove(same)
            pairs.append(("agrees", same, term))
        else:
            unmatched.append(term)
    for term in unmatched:
        best = max(left, key=lambda h: _shared(h, term), default=None)
        common = _shared(best, term) if best is not None else 0
        if best is not None and common * 2 >= max(sum(term.factors.values()), sum(best.factors.values()), 1):
            left.remove(best)
            pairs.append(("wrong factor", best, term))
        else:
            pairs.append(("missing", None, term))
    return pairs + [("extra", h, None) for h in left]


def align(hand, exact, model: Model | None, aliases: dict | None = None) -> tuple[TermPair, ...]:
    """The terms of a scalar hand formula paired with those of the exact result, in the claim's notation."""
    paths = _path_names(exact, model) if not isinstance(exact, sympy.MatrixBase) else {}
    pairs = []
    for kind, mine, theirs in pair_terms(hand, exact, model):
        shown_hand = _show(mine.expr, model, aliases) if mine is not None else ""
        shown_exact = _show(theirs.expr, model, aliases) if theirs is not None else ""
        path = paths.get(sympy.srepr(theirs.expr), "") if theirs is not None else ""
        if kind != "wrong factor":
            pairs.append(TermPair(kind, shown_hand, shown_exact, path))
            continue
        wrong, right = mine.factors - theirs.factors, theirs.factors - mine.factors
        note = (f"{_words(wrong, model, aliases) or 'no factor'} where the exact term has "
                f"{_words(right, model, aliases) or 'none'}")
        if mine.coefficient != theirs.coefficient:
            note += f" (coefficient ${sympy.latex(mine.coefficient)}$ for ${sympy.latex(theirs.coefficient)}$)"
        pairs.append(TermPair(kind, shown_hand, shown_exact, note, _factors(wrong, model, aliases),
                              _factors(right, model, aliases)))
    return tuple(pairs)


def slopes_as_values(expr):
    """Every Slope atom written as the derivative it stands for (for evaluation)."""
    return expr.replace(lambda e: isinstance(e, Slope), lambda e: e.value())


__all__ = ["align", "pair_terms", "normal_form", "terms_of", "slopes_as_values", "FUNCTIONS"]
