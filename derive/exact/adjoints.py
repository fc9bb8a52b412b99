"""The δ notation of backpropagation, symbolically: δq_t = ∂L/∂q_t and its one-level chain rule.

L = Σ_k Δ_k · h_k is a loss summed over the time steps (the "Δ^t" of Greff et
al. 2015; Δ^t = ∂L^t/∂y^t is the loss's own term at step t, a symbol named
LOSS_WEIGHT). δq_t is the total derivative of L with respect to node q (or
input x) at step t, with every later node responding; δW of a parameter W is
∂L/∂W, the sum of its contributions over the steps (Greff et al.'s δW_* =
Σ_t δ*^t x^{t⊤}). These are the adjoints that reverse-mode accumulation
computes; derive.verify.adjoint_values evaluates them at points.
"""
from __future__ import annotations

import sympy

from derive.models import Model
from derive.quantity import quantity_of, scalar_or_matrix, symbols_of


LOSS_WEIGHT = "Delta"  # the quantity name of Δ^t


def delta(model: Model, name: str, time: int | None = 0, absolute: bool = False):
    """The symbol (Matrix for n > 1) standing for δ`name` at `time` (None: a parameter's, summed over the steps)."""
    return scalar_or_matrix(symbols_of(name, time, model.shape(name), absolute, adjoint=True))


def loss_weight(model: Model, time: int = 0, absolute: bool = False):
    """The symbol (Matrix for n > 1) standing for Δ^t = ∂L^t/∂y^t, the loss's own term at step `time`."""
    return scalar_or_matrix(symbols_of(LOSS_WEIGHT, time, model.shape(model.state[-1]), absolute))


def backward_symbols(symbols) -> list:
    """The symbols a backward pass binds: adjoints δq and loss terms Δ^t."""
    return [s for s in symbols if quantity_of(s) is not None and (quantity_of(s).adjoint or
                                                                  quantity_of(s).name == LOSS_WEIGHT)]


def adjoint_names(symbols) -> list:
    """The (name, time, absolute) of every adjoint among `symbols`, sorted."""
    found = {(q.name, q.time, q.absolute) for q in map(quantity_of, symbols) if q is not None and q.adjoint}
    return sorted(found, key=lambda item: (item[0], item[1] is not None, item[1] or 0, item[2]))


def backprop_rule(model: Model, name: str, time: int = 0, absolute: bool = False):
    """δname_time written one level down, by the chain rule over its children in the unrolled graph.

    δq_τ = Σ_children (∂child/∂q_τ)^T δchild, where the children are the nodes
    of step τ that use q_τ (or the input x_τ) and the nodes of step τ+1 that use
    q_τ as their previous state; the output h, which enters the loss directly,
    adds its own Δ_τ.
    """
    own = model.q(name, time, absolute)
    total = loss_weight(model, time, absolute) if name == model.state[-1] else None
    total = sympy.Matrix([total]) if total is not None and not isinstance(total, sympy.MatrixBase) else total
    for step_time in (time, time + 1):
        if step_time == time + 1 and name not in model.state:
            continue
        for child, definition in model.step(step_time, absolute).items():
            if child == name and step_time == time:
                continue
            if not definition.free_symbols & set(own):
                continue
            jacobian = definition.jacobian(own)
            term = jacobian.T * symbols_of(child, step_time, model.shape(child), absolute, adjoint=True)
            total = term if total is None else total + term
    return total


def parameter_rule(model: Model, name: str, last: int):
    """δW = Σ_{k=1}^{last} Σ_children (∂child_k/∂W)^T δchild_k: a parameter's gradient, over the steps of the loss."""
    own = list(model.q(name))
    total = sympy.zeros(len(own), 1)
    for step in range(1, last + 1):
        for child, definition in model.step(step, True).items():
            if definition.free_symbols & set(own):
                delta_child = symbols_of(child, step, model.shape(child), True, adjoint=True)
                total += definition.jacobian(own).T * delta_child
    return sympy.Matrix(*model.shape(name), list(total))


def expand_rule(expr, model: Model, names, last: int | None = None):
    """Rewrite the adjoints δname of `names` ((name, time, absolute) triples; time None for a parameter, whose
    loss ends at step `last`) one level down, by `backprop_rule` or `parameter_rule` (for proofs)."""
    substitution = {}
    for name, time, absolute in names:
        symbols = symbols_of(name, time, model.shape(name), absolute, adjoint=True)
        rule = parameter_rule(model, name, last) if time is None else backprop_rule(model, name, time, absolute)
        substitution.update(zip(symbols, rule))
    return expr.xreplace(substitution)


MOST_ROUNDS = 12  # expansions of a chain of adjoints (a step has fewer nodes than this)


def expand_until(expr, model: Model, keep: set):
    """Rewrite the adjoints of `expr` by `backprop_rule`, again and again, until only those in `keep` remain.

    `keep` holds the adjoint symbols a hand formula is written in (δy^t, δc^{t+1}, ...): both sides of a
    backpropagation identity then meet in the same adjoints, so that their difference can be expanded to 0.
    The output's adjoint δh (which carries the loss's own Δ and reaches every later step) and a parameter's
    are not expanded here.
    """
    output = model.state[-1]
    for _ in range(MOST_ROUNDS):
        names = sorted({(q.name, q.time, q.absolute) for q in map(quantity_of, expr.free_symbols)
                        if q is not None and q.adjoint and q.time is not None and q.name != output
                        and all(s not in keep for s in symbols_of(q.name, q.time, model.shape(q.name), q.absolute,
                                                                  adjoint=True))})
        if not names:
            break
        expr = expand_rule(expr, model, names)
    return expr
