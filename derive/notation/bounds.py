"""A parsed bound as a question: a Bound on scalars, or a NormBound when the claim takes norms.

a \\le b (or <, \\ge, >) with a number on one side is a Bound over the reals of
its variables, its model quantities taking the values their equations give them (derive.verify.bound). With expressions
on both sides (|f'(net) w| \\le |w|/4) it is the Bound a − b \\le 0. A claim
that writes a norm \\|·\\| (of a matrix, a vector or a scalar) is a NormBound (derive.verify.norms): proved from known
inequalities, refuted by a counterexample on the model's trajectories, or
undecided; a claim written with \\ge or > is turned around to read \\le or <.
A chain a \\le b \\le c, as papers print one, is a Chain: each link decided on its own.
"""
from __future__ import annotations

import sympy

from derive.errors import NotationError, ShapeMismatchError
from derive.exact import adjoints
from derive.notation.reader import Reader
from derive.notation.spec import check_finite, domain, environments
from derive.notation.values import is_matrix
from derive.verify.chain import Chain
from derive.verify.norms import Norm, NormBound
from derive.verify.questions import Bound

RELATIONS = {"<": "<", ">": ">", r"\lt": "<", r"\gt": ">", r"\le": "<=", r"\leq": "<=", r"\leqslant": "<=",
             r"\ge": ">=", r"\geq": ">=", r"\geqslant": ">="}
FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


def _basic(value):
    """A value of a formula as a SymPy object (a formula's plain Python integer becomes an Integer)."""
    return sympy.Integer(value) if isinstance(value, int) else sympy.sympify(value)


def bound(spec, context, members: list, relations: list):
    """The Bound or NormBound that checks `members[0] relation members[1]`; for a chain a ≤ b ≤ c (one direction
    throughout), a Chain of one such question per link."""
    formula = spec.formula
    if len({r in (">", ">=") for r in relations}) > 1:
        raise NotationError("a chain of bounds runs one way: a \\le b \\le c, or a \\ge b \\ge c", 0, formula)
    envs = environments(spec.values)
    if len(envs) != 1:
        raise NotationError("a bound is checked at one set of values; give each index one value", 0, formula)
    reader = Reader(context, spec.semantics)
    values = []
    for member in members:
        value = reader.evaluate(formula, member, envs[0])
        if is_matrix(value):
            raise ShapeMismatchError("a bound compares scalars; this side is a matrix (take its norm: \\|A\\|)",
                                     member.meta.start_pos, formula)
        check_finite(value, formula, member)
        values.append(_basic(value))
    norms = any(node.data == "norm" for member in members for node in member.iter_subtrees())
    links = [_link(spec, context, values[k], relations[k], values[k + 1], norms) for k in range(len(relations))]
    return links[0] if len(links) == 1 else Chain(tuple(links), tuple(relations))


def _link(spec, context, left, relation: str, right, norms: bool):
    formula, model = spec.formula, spec.model
    if adjoints.adjoint_names(left.free_symbols | right.free_symbols):
        raise NotationError("a bound on an adjoint δq is not part of the notation", 0, formula)
    if left.has(Norm) or right.has(Norm) or norms:
        if relation in (">", ">="):
            left, right, relation = right, left, FLIP[relation]
        symbols = left.free_symbols | right.free_symbols
        return NormBound(left, relation, right, model, domain(spec, context, symbols, (-sympy.oo, sympy.oo), bound=True))
    if right.free_symbols and not left.free_symbols:
        left, right, relation = right, left, FLIP[relation]
    if right.free_symbols:  # expressions on both sides: a − b against 0
        left, right = left - right, sympy.S.Zero
    return Bound(left, relation, right, domain(spec, context, left.free_symbols, (-sympy.oo, sympy.oo), bound=True),
                 model)
