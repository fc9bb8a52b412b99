"""A parsed claim as a question: which side the engine computes exactly, the hand sides, Equal or a bound.

An equation a = b (= c ...) compares each hand member with the reference
member: the first one, unless only the last one holds a derivative, an
adjoint, an extremum or a defined term. The reference is computed in both
semantics (derivatives in it taken full, then truncated), so the verdict can
be agrees-when-truncated; the hand members take their derivatives in the
claim's semantics (default full). With `values`, the claim is checked at every
combination of the listed values, and the members are stacked with labels.
A bound a \\le b (or <, \\ge, >) is a Bound or a NormBound (derive.notation.bounds).

`read` also returns the readings the engine chose (a vector gate as its
diagonal matrix, σ' between matrices as diag(σ'), ...), for the claim's reading.
"""
from __future__ import annotations

import functools

import lark
import sympy

from derive.errors import NotationError, ShapeMismatchError
from derive.exact import adjoints
from derive.models import Model
from derive.notation import bounds, derivatives
from derive.notation.operators import stack
from derive.notation.parser import Formula, text_of
from derive.notation.reader import Context, Reader, matrix_vector_of
from derive.notation.spec import MOST_CASES, Spec, check_finite, context as make_context, domain, environments
from derive.notation.values import Definition, base_key, is_matrix, shape
from derive.quantity import quantity_of
from derive.rules import Semantics
from derive.verify.adjoint_values import binder
from derive.verify.questions import Equal

EQUAL_RANGE = (sympy.Integer(-3), sympy.Integer(3))  # default range of a free variable in an equation
__all__ = ["Spec", "read", "question", "definition", "reference_member"]


def _computes(tree, context: Context) -> bool:
    """Does this member hold something only the engine can compute (∂, δ, an extremum, a defined term)?"""
    for node in tree.iter_subtrees():
        if node.data in ("adjoint", "extremum") or derivatives.is_derivative(context, node):
            return True
        if node.data in ("name", "style", "decorated") and base_key(node) in context.definitions:
            return True
    return False


def _fit(hand, reference, formula: Formula, node, context: Context):
    """The hand value with the reference's shape: a lone 0 stands for a zero matrix, a column (a vector gate) for
    its diagonal matrix; other shapes must agree, and a matrix-vector product has two readings, so it is refused."""
    if shape(hand) == shape(reference):
        return hand
    if not is_matrix(hand) and hand == 0:
        return sympy.zeros(*shape(reference))
    (r1, c1), (r2, c2) = shape(hand), shape(reference)
    text = " ".join(formula.text[node.meta.start_pos:node.meta.end_pos].split())
    if c1 == 1 and r1 == r2 == c2:
        found = matrix_vector_of(context, node)
        if found:
            matrix, vector = found
            raise ShapeMismatchError(
                f"this side is a column ({r1}×1) and the reference side a {r2}×{c2} matrix; the matrix times a column "
                f"{matrix} {vector} reads as a matrix in two ways: {matrix} \\mathrm{{diag}}({vector}) or "
                f"\\mathrm{{diag}}({matrix} {vector}); write the one you mean", node.meta.start_pos, formula)
        context.notes[f"{text} is a column at n = {r1}, the other side a matrix: read as \\mathrm{{diag}}({text})"] = True
        return sympy.diag(*hand)
    raise ShapeMismatchError(f"the two sides have different shapes: this side is {r1}×{c1}, the reference side is "
                             f"{r2}×{c2}", node.meta.start_pos, formula)


def _check_times(values: list, formula: Formula) -> None:
    quantities = [quantity_of(s) for v in values for s in getattr(v, "free_symbols", ())]
    kinds = {q.absolute for q in quantities if q is not None and q.time is not None}
    if len(kinds) > 1:
        raise NotationError("the claim mixes absolute steps (an index with a value) with times relative to t; "
                            "give t a value too, or none", 0, formula)


def _labels(env: dict, varying: list, line: str, value) -> list[str]:
    head = [f"{name} = {env[name]}" for name in varying] + ([line] if line else [])
    count = len(value) if is_matrix(value) else 1
    if count == 1:
        return [", ".join(head) or "value"]
    return [", ".join(head + [f"entry {k + 1}"]) for k in range(count)]


def read(spec: Spec) -> tuple:
    """(the Equal, Bound or NormBound that checks the claim, the readings the engine chose); NotationError (with a
    position) when it cannot be read."""
    tree = spec.formula.tree
    members = [c for c in tree.children if isinstance(c, lark.Tree)]
    relations = [str(c) for c in tree.children if isinstance(c, lark.Token)]
    if not relations:
        raise NotationError("a claim is an equation (a = b) or a bound (a \\le b); this formula has no relation",
                            0, spec.formula)
    context = make_context(spec)
    if all(r == "=" for r in relations):
        built = _equal(spec, context, members)
    elif "=" not in relations:
        built = bounds.bound(spec, context, members, [bounds.RELATIONS[r] for r in relations])
    else:
        raise NotationError("a chain of relations is all '=' (a = b = c) or all bounds (a \\le b \\le c)",
                            0, spec.formula)
    return built, tuple(context.notes)


def question(spec: Spec):
    """The Equal, Bound or NormBound that checks the claim (see `read`)."""
    return read(spec)[0]


def reference_member(spec: Spec, context: Context | None = None) -> int:
    """Which member of an equation the engine computes: the first, unless only the last holds ∂, δ or a defined term."""
    context = context or make_context(spec)
    members = [c for c in spec.formula.tree.children if isinstance(c, lark.Tree)]
    last = len(members) - 1
    return 0 if _computes(members[0], context) or not _computes(members[last], context) else last


def _equal(spec: Spec, context: Context, members: list) -> Equal:
    model, formula = spec.model, spec.formula
    reference = reference_member(spec, context)
    hands = [k for k in range(len(members)) if k != reference]
    readers = {semantics: Reader(context, semantics) for semantics in Semantics}
    hand_reader = readers[spec.semantics]
    envs = environments(spec.values)
    if len(envs) * len(hands) > MOST_CASES:
        raise NotationError(f"{len(envs) * len(hands)} comparisons; the limit is {MOST_CASES}", 0, formula)
    varying = [name for name, v in spec.values.items() if isinstance(v, list) and len(v) > 1]
    hand_values, full_values, truncated_values, labels = [], [], [], []
    for env in envs:
        full = readers[Semantics.FULL].evaluate(formula, members[reference], env)
        truncated = readers[Semantics.TRUNCATED].evaluate(formula, members[reference], env) \
            if model is not None and model.gates else full
        check_finite(full, formula, members[reference])
        check_finite(truncated, formula, members[reference])
        for position, k in enumerate(hands, 2):
            hand = _fit(hand_reader.evaluate(formula, members[k], env), full, formula, members[k], context)
            check_finite(hand, formula, members[k])
            hand_values.append(hand)
            full_values.append(full)
            truncated_values.append(truncated)
            labels += _labels(env, varying, f"line {position}" if len(hands) > 1 else "", hand)
    _check_times(hand_values + full_values + truncated_values, formula)
    if len(hand_values) == 1:
        hand, full, truncated, labels = hand_values[0], full_values[0], truncated_values[0], ()
    else:
        hand, full, truncated = stack(*hand_values), stack(*full_values), stack(*truncated_values)
        labels = tuple(labels)
    differs = (sympy.Matrix(stack(full)) != sympy.Matrix(stack(truncated)))
    symbols = set().union(*[getattr(v, "free_symbols", set()) for v in (hand, full, truncated)])
    extra, horizon = _backward_pass(spec, symbols)
    return Equal(hand, full, model, truncated=truncated if differs else None,
                 extra=extra, canonical=_canonical(model, full, hand, horizon),
                 labels=labels, domain=domain(spec, context, symbols, EQUAL_RANGE, bound=False))


def _backward_pass(spec: Spec, symbols):
    """(the binder of δ and Δ symbols, the last step of the loss) when the claim has any; the loss ends at
    step T when `values` gives T, else at the last step the claim names."""
    backward = adjoints.backward_symbols(symbols)
    if not backward:
        return None, None
    absolute = [q for q in map(quantity_of, symbols) if q is not None and q.absolute and q.time is not None]
    if any(quantity_of(s).time is None for s in backward) and not absolute:
        raise NotationError("a parameter's adjoint such as \\delta W_z sums over the steps of the trajectory, from "
                            "step 1 to its end T: give the times values (values = { T = 3 })", 0, spec.formula)
    given = spec.values.get("T") if absolute and isinstance(spec.values.get("T"), int) else None
    latest = max((q.time for q in absolute), default=0)
    if given is not None and not latest - 1 <= given <= latest + 1:
        raise NotationError(f"the loss ends at step T = {given}, but the claim names steps up to {latest}; "
                            f"write the steps near the end of the sequence", 0, spec.formula)
    return functools.partial(binder, horizon=given), (given if given is not None else latest) if absolute else None


def _canonical(model: Model | None, reference, hand, horizon: int | None):
    """For a reference of adjoints (δq^t, δW): expand them by the chain rule, down to the adjoints the hand side
    is written in, for the proof."""
    if model is None:
        return None
    infos = {quantity_of(s) for s in getattr(reference, "free_symbols", ())}
    if not infos or None in infos or any(not i.adjoint for i in infos):
        return None
    names = sorted({(i.name, i.time, i.absolute) for i in infos}, key=lambda n: (n[0], n[1] is None, n[1] or 0))
    if any(time is None for _, time, _ in names) and horizon is None:
        return None
    keep = {s for s in getattr(hand, "free_symbols", ()) if quantity_of(s) is not None and quantity_of(s).adjoint}

    def expand(expr):
        return adjoints.expand_until(adjoints.expand_rule(expr, model, names, horizon), model, keep)

    return expand


def definition(key: Formula, formula: Formula) -> tuple[str, Definition]:
    """(base key, Definition) from a claims file's `define` entry such as A_t = '...'."""
    leaf = key.tree.children[0] if len(key.tree.children) == 1 else None
    postfix = leaf
    while isinstance(postfix, lark.Tree) and postfix.data != "postfix" and len(postfix.children) == 1:
        postfix = postfix.children[0]
    if not isinstance(postfix, lark.Tree) or postfix.data != "postfix" or \
            postfix.children[0].data not in ("name", "style", "decorated") or len(postfix.children) > 2:
        raise NotationError("a defined term is a name with an optional time, like A_t", 0, key)
    parameter = None
    if len(postfix.children) == 2:
        script = postfix.children[1]
        inner = script.children[0] if script.data == "sub" else None
        name = text_of(inner) if inner is not None and len(inner.children) == 1 else ""
        if not name.replace("'", "").isalpha():
            raise NotationError("a defined term's subscript is its time index, like the t of A_t", 0, key)
        parameter = name
    return base_key(postfix.children[0]), Definition(parameter, formula)
