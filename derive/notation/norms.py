"""Norms, absolute values and extrema in a formula: \\|A\\|, \\|A\\|_2, \\|A\\|_F, \\|A\\|_\\infty, |x|, \\max_z f(z).

- \\|A\\| (also \\left\\| \\right\\|, \\lVert \\rVert, \\Vert): the operator 2-norm of a matrix, the
  Euclidean norm of a column, |a| of a scalar; _2, _F, _1, _\\infty choose another. The
  value is a derive.verify.norms.Norm atom, which keeps the product or sum written
  inside the bars for the proof of a bound.
- |x| (also \\left| \\right|, \\lvert \\rvert): the absolute value, elementwise.
- \\max_z, \\min_z, \\sup_z, \\inf_z over a free variable of the claim: the exact extremum,
  found now (derive.verify.extrema, within the proof budget) and said in the
  reading; factors free of z must be nonnegative.
"""
from __future__ import annotations

import lark
import sympy

from derive.notation.parser import text_of
from derive.notation.values import is_column, shape
from derive.rules import elementwise
from derive.verify import extrema, proof
from derive.verify.norms import norm
from derive.verify.questions import DEFAULT_BUDGET

NORM_KINDS = {"2": "2", "F": "F", "1": "1", r"\infty": "inf"}


def read_abs(reader, node, env):
    return elementwise(sympy.Abs, reader.plain(reader.value(node.children[1], env), node))


def read_infinity(reader, node, env):
    reader.fail(node, "\\infty stands only as a norm's subscript, as in \\|A\\|_\\infty")


def _kind(reader, sub) -> str:
    if sub is None:
        return "2"
    kind = NORM_KINDS.get(text_of(sub).strip("{}"))
    if kind is None:
        reader.fail(sub, "a norm's subscript is 2, F, 1 or \\infty (none: the operator 2-norm)")
    return kind


def _parts(node):
    """The terms of a sum or the factors of a product written inside the bars: ("+", trees), ("*", trees),
    ("⊙", trees) of an elementwise product, or ()."""
    if node.data == "sum":
        terms = [c for c in node.children if isinstance(c, lark.Tree)]
        if len(terms) > 1:
            return "+", terms
        node = terms[0]
    if node.data == "signed" and len(node.children) == 1:
        node = node.children[0]
    if node.data == "product" and all(not isinstance(c, lark.Token) or str(c) != "/" for c in node.children):
        factors = [c for c in node.children if isinstance(c, lark.Tree)]
        if len(factors) > 1 and all(f.data == "hprod" for f in factors):
            return "*", factors
        node = factors[0] if len(factors) == 1 else node
    if node.data == "hprod" and len(node.children) > 1:  # a ⊙ b ⊙ c = diag(a) diag(b) c
        return "⊙", [c for c in node.children if isinstance(c, lark.Tree)]
    return ()


def _structure(reader, argument, env, value):
    """("*", factor values) when they multiply to `value` exactly (columns multiplied elementwise, a ⊙ b, become
    diag(a) b), ("+", term values); () otherwise.

    A term's sign is left out: ‖−T‖ = ‖T‖, and the triangle inequality needs only the terms.
    """
    found = _parts(argument)
    if not found:
        return ()
    head, trees = found
    values = [reader.plain(reader.value(tree, env), tree) for tree in trees]
    if head == "+":  # a scalar added to a vector is broadcast: its norm is not |scalar|, so no structure
        return (head, values) if all(shape(v) == shape(value) for v in values) else ()
    if head == "⊙" and not all(is_column(v) and v.shape == value.shape for v in values):
        return ()
    # A column before a matrix is diag(column), as the product reads it (σ'(z) W is diag(σ'(z)) W).
    values = [sympy.diag(*v) if is_column(v) and k + 1 < len(values) else v for k, v in enumerate(values)]
    head = "*"
    total = values[0]
    for factor in values[1:]:
        if isinstance(total, sympy.MatrixBase) and isinstance(factor, sympy.MatrixBase) and \
                total.shape[1] != factor.shape[0]:
            return ()
        total = total * factor
    difference = sympy.Matrix([total]) - sympy.Matrix([value]) if not isinstance(value, sympy.MatrixBase) else \
        (total - value if isinstance(total, sympy.MatrixBase) and total.shape == value.shape else None)
    if difference is None or not difference.applyfunc(sympy.expand).is_zero_matrix:
        return ()
    return head, values


def read_norm(reader, primary, sub, env):
    """‖argument‖ of the kind the subscript names."""
    argument = primary.children[1]
    value = reader.plain(reader.value(argument, env), argument)
    if isinstance(value, sympy.MatrixBase) and min(value.shape) > 1 and sub is None:
        reader.note("the norm \\|A\\| of a matrix read as the operator 2-norm, its largest singular value")
    return norm(value, _kind(reader, sub), _structure(reader, argument, env, value))


def read_extremum(reader, node, env):
    """\\max_z body (and \\min, \\sup, \\inf): the exact extremum over the free variable z."""
    token, subarg, body = node.children
    operator = str(token)[1:]
    entry = reader.context.table.lookup(text_of(subarg).strip("{}"))
    if entry is None or entry.kind != "variable":
        reader.fail(subarg, f"\\{operator}_z runs over a free variable of the claim: declare it with "
                            f"variables = [\"z\"]")
    variable = entry.symbol
    value = reader.plain(reader.value(body, env), body)
    if isinstance(value, sympy.MatrixBase):
        reader.fail(body, f"\\{operator} of a matrix or vector: take a norm first")
    constant, varying = value.as_independent(variable, as_Add=False)
    if constant.is_nonnegative is not True:
        reader.fail(body, f"\\{operator}_{variable}: the factor {sympy.latex(constant)} free of {variable} may be "
                          f"negative; write it outside the \\{operator}")
    upper = operator in ("max", "sup")
    low, high = reader.context.ranges.get(variable, (-sympy.oo, sympy.oo))
    found = proof.run_with_budget(extrema.extremes, (varying, {variable: (low, high)}), DEFAULT_BUDGET)
    if found is None:
        reader.fail(node, f"the exact \\{operator} over {variable} could not be found; state the claim as a bound "
                          f"instead (f({variable}) \\le c)")
    extreme = found[1] if upper else found[0]
    where = dict(extreme.point).get(variable)
    if where is None:
        how = "attained" if extreme.attained else "approached, not attained"
    else:
        how = f"attained at {variable} = {sympy.latex(where)}" if extreme.attained else \
            f"approached as {variable} \\to {sympy.latex(where)}, not attained"
    extreme = extreme.value
    reader.note(f"{reader.spelled(node)} = {sympy.latex(constant * extreme)}, found exactly ({how})")
    return constant * extreme
