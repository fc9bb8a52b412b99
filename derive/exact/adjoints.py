"""The δ notation of backpropagation, symbolically: δq_t = ∂L/∂q_t and its one-level chain rule.

L = Σ_k Δ_k · h_k is a loss summed over the time steps (the "Δ^t" of Greff et
al. 2015). δq_t is the total derivative of L with respect to node q at step
t, with every later node responding: the adjoint that reverse-mode
accumulation computes (derive.verify.adjoint_values evaluates it at points).
"""
from __future__ import annotations

from derive.errors import ModelError
from derive.models import Model
from derive.quantity import quantity_of, scalar_or_matrix, symbols_of


def delta(model: Model, name: str, time: int = 0, absolute: bool = False):
    """The symbol (Matrix for n > 1) standing for δ`name` at `time`."""
    return scalar_or_matrix(symbols_of(name, time, model.shape(name), absolute, adjoint=True))


def adjoint_names(symbols) -> list:
    """The (name, time, absolute) of every adjoint among `symbols`, sorted."""
    found = {(q.name, q.time, q.absolute) for q in map(quantity_of, symbols) if q is not None and q.adjoint}
    return sorted(found)


def backprop_rule(model: Model, name: str, time: int = 0, absolute: bool = False):
    """δname_time written one level down, by the chain rule over its children in the unrolled graph.

    δq_τ = Σ_children (∂child/∂q_τ)^T δchild, where the children are the nodes
    of step τ that use q_τ and the nodes of step τ+1 that use q_τ as their
    previous state. (A node that also enters the loss directly would add Δ_τ;
    that is the output h, which this rule refuses.)
    """
    if name == model.state[-1]:
        raise ModelError(f"δ{name} also carries the loss's own Δ; expand the other adjoints")
    total = None
    own = model.q(name, time, absolute)
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


def expand_rule(expr, model: Model, names):
    """Rewrite the adjoints δname_time of `names` ((name, time) pairs) by `backprop_rule` (for proofs)."""
    substitution = {}
    for name, time in names:
        symbols = symbols_of(name, time, model.shape(name), adjoint=True)
        substitution.update(zip(symbols, backprop_rule(model, name, time)))
    return expr.xreplace(substitution)


MOST_ROUNDS = 12  # expansions of a chain of adjoints (a step has fewer nodes than this)


def expand_until(expr, model: Model, keep: set):
    """Rewrite every adjoint of `expr` by `backprop_rule`, again and again, until only those in `keep` remain.

    `keep` holds the adjoint symbols a hand formula is written in (δy^t, δc^{t+1}, ...): both sides of a
    backpropagation identity then meet in the same adjoints, so that their difference can be expanded to 0.
    The output's adjoint δh also carries the loss's own Δ and is never expanded.
    """
    output = model.state[-1]
    for _ in range(MOST_ROUNDS):
        names = sorted({(q.name, q.time) for q in map(quantity_of, expr.free_symbols)
                        if q is not None and q.adjoint and not q.absolute and q.name != output
                        and all(s not in keep for s in symbols_of(q.name, q.time, model.shape(q.name), adjoint=True))})
        if not names:
            break
        expr = expand_rule(expr, model, names)
    return expr
