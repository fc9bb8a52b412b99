"""Writing an expression in the model's own quantities: node symbols wherever a node's definition occurs.

`collapse` turns W_fh h_{t-1} + ... into z_{f,t} and σ(z_{f,t}) into f_t, for
chosen steps; `readable` chooses the steps an expression spans, so that every
exact result is shown in the articles' quantities (the one function the
verifier, the partial derivatives and the report use for that).
"""
from __future__ import annotations

import sympy

from derive.models import Model
from derive.quantity import quantity_of


def collapse(expr, model: Model, times=(0,), absolute: bool = False, substitution: dict | None = None):
    """Write `expr` with node symbols wherever a node's definition occurs in it.

    Steps are visited earliest first and each step's equations in order, so
    the pre-activation W_fh h_{t-1} + ... becomes z_{f,t} before σ(z_{f,t})
    becomes f_t. `substitution` gives a second spelling of each definition
    (the full semantics writes h_{t-1} as o_{t-1} ⊙ tanh(c_{t-1})).
    """
    substitution = dict(substitution or {})
    for time in sorted(times):
        for name, definition in model.step(time, absolute).items():
            symbols = model.q(name, time, absolute)
            if set(symbols) & set(substitution):
                continue  # a node the substitution writes out (h_{t-1}) stays written out
            for spelled in (definition, definition.xreplace(substitution)):
                replacement = {v: s for v, s in zip(spelled, symbols) if not v.is_Symbol}
                expr = expr.xreplace(replacement)
                # The second spelling must see the nodes already collapsed, as `expr` does.
                substitution = {k: v.xreplace(replacement) for k, v in substitution.items()}
    return expr


def readable(expr, model: Model | None):
    """`expr` with node symbols wherever their definitions occur (an identity), over the steps it spans."""
    if model is None:
        return expr
    matrix = expr if isinstance(expr, sympy.MatrixBase) else sympy.Matrix([expr])
    if not model.state:
        matrix = collapse(matrix, model)
    else:
        quantities = [quantity_of(s) for s in matrix.free_symbols]
        times = {(q.time, q.absolute) for q in quantities if q is not None and q.time is not None}
        for absolute in (False, True):
            chosen = sorted(t for t, a in times if a == absolute)
            if chosen:
                matrix = collapse(matrix, model, range(chosen[0], chosen[-1] + 1), absolute)
    return matrix if isinstance(expr, sympy.MatrixBase) else matrix[0, 0]
