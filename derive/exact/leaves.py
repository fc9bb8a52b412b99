"""Rewriting an expression towards independent leaves, so that an identity can be proved symbolically."""
from __future__ import annotations

import sympy

from derive.exact.blocks import readout
from derive.models import Model
from derive.quantity import quantity_of


def gates_to_preactivations(expr, model: Model):
    """Replace each activation node (f_t = σ(z_{f,t}), ...) by its function of the pre-activation node."""
    substitution = {}
    for symbol in expr.free_symbols:
        info = quantity_of(symbol)
        if info is None or info.adjoint or info.name not in model.equations or (info.time is None) != (not model.state):
            continue
        definition = model.step(info.time or 0, info.absolute)[info.name]
        entry = definition[(info.index[0] - 1 if info.index else 0), 0]
        if isinstance(entry, sympy.Function) and len(entry.args) == 1 and entry.args[0].is_Symbol:
            substitution[symbol] = entry
    return expr.xreplace(substitution)


def to_leaves(expr, model: Model):
    """Rewrite `expr` in independent leaves, so that an identity can be proved symbolically.

    Nodes later than the earliest state in `expr` are replaced by their
    definitions; at that earliest time, h is replaced by its readout of c (the
    full semantics' h_{t-1} = o_{t-1} ⊙ tanh(c_{t-1})).
    """
    def node_times(e):
        quantities = [quantity_of(s) for s in e.free_symbols]
        return {(q.name, q.time, q.absolute) for q in quantities
                if q is not None and not q.adjoint and q.time is not None and q.name in model.equations}

    present = node_times(expr)
    states = [t for name, t, _ in present if name in model.state]
    if not present or not model.state:
        return expr
    absolute = any(a for _, _, a in present)
    earliest = min(states) if states else min(t for _, t, _ in present) - 1
    for _ in range(4 * len(model.equations) * (max(t for _, t, _ in present) - earliest + 1)):
        later = {t for name, t, _ in node_times(expr) if t > earliest}
        if not later:
            break
        substitution = {}
        for time in later:
            for name, definition in model.step(time, absolute).items():
                substitution.update(zip(model.q(name, time, absolute), definition))
        expr = expr.xreplace(substitution)
    if len(model.state) > 1:
        h = model.q(model.state[1], earliest, absolute)
        expr = expr.xreplace(dict(zip(h, readout(model, earliest, absolute))))
    return expr
