"""The δ notation of backpropagation: δq_t = ∂L/∂q_t for every node q of an unrolled model.

L = Σ_k Δ_k · h_k is a loss summed over the time steps with drawn weights Δ_k
(the "Δ^t" of Greff et al. 2015). δq_t is the total derivative of L with
respect to node q at step t, with every later node responding: the adjoint
that reverse-mode accumulation computes. It is computed here by exactly that,
at 30 digits, from the symbolic local Jacobians of the cell's equations.
"""
from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy

from derive.activations import MPMATH_NAMESPACE
from derive.errors import ModelError
from derive.models import SYMBOLS, Model, quantity
from derive.points import Trajectory, bind, draw_decimals

PREFIX = "delta_"


def delta(model: Model, name: str, time: int = 0, absolute: bool = False):
    """The symbol (Matrix for n > 1) standing for δ`name` at `time`."""
    shape = model.shape(name)
    matrix = quantity(PREFIX + name, time, shape, absolute)
    return matrix[0, 0] if shape == (1, 1) else matrix


@functools.cache
def _local_jacobians(model: Model):
    """For each node q and each parent p (same-step node or previous state): lambdified ∂q/∂p."""
    result = {}
    for name, definition in model.equations.items():
        parents = [(p, 0) for p in model.equations if p != name and definition.free_symbols & set(model.q(p, 0))]
        parents += [(s, -1) for s in model.state if definition.free_symbols & set(model.q(s, -1))]
        for parent, time in parents:
            jacobian = definition.jacobian(model.q(parent, time))
            symbols = sorted(jacobian.free_symbols, key=str)
            function = sympy.lambdify(symbols, list(jacobian), modules=[MPMATH_NAMESPACE, "mpmath"])
            result[(name, parent, time)] = (symbols, function, jacobian.shape)
    return result


def adjoints(model: Model, trajectory: Trajectory, weights: list) -> list[dict]:
    """δq at every step: result[k][name] (object arrays), by reverse accumulation over the trajectory."""
    steps = len(trajectory.steps) - 1
    zero = lambda name: np.full(model.shape(name), mpmath.mpf(0), dtype=object)  # noqa: E731
    deltas = [{s: zero(s) for s in model.state}] + [{q: zero(q) for q in model.equations}
                                                     for _ in range(steps)]
    local = _local_jacobians(model)
    output = model.state[-1]
    for k in range(steps, 0, -1):
        deltas[k][output] = deltas[k][output] + weights[k]
        for name in reversed(list(model.equations)):
            for (node, parent, time), (symbols, function, shape) in local.items():
                if node != name:
                    continue
                values = bind(model, symbols, trajectory, k)
                jacobian = np.array(function(*[values[s] for s in symbols]), dtype=object).reshape(shape)
                target = deltas[k + time]
                target[parent] = target[parent] + jacobian.T @ deltas[k][name]
    return deltas


def binder(model: Model, trajectory: Trajectory, offset: int, symbols, rng) -> dict:
    """The `extra` binder of derive.points.sample: values of the δ symbols on a trajectory."""
    wanted = [s for s in symbols if s in SYMBOLS and SYMBOLS[s].name.startswith(PREFIX)]
    if not wanted:
        return {}
    output = model.state[-1]
    weights = [None] + [draw_decimals(rng, model.shape(output), 1.0) for _ in range(len(trajectory.steps) - 1)]
    deltas = adjoints(model, trajectory, weights)
    values = {}
    for symbol in wanted:
        info = SYMBOLS[symbol]
        step = info.time if info.absolute else offset + info.time
        array = deltas[step][info.name[len(PREFIX):]]
        index = (info.index[0] - 1, 0) if info.index else (0, 0)
        values[symbol] = array[index]
    return values


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
            term = jacobian.T * quantity(PREFIX + child, step_time, model.shape(child), absolute)
            total = term if total is None else total + term
    return total


def expand_rule(expr, model: Model, names):
    """Rewrite the adjoints δname_time of `names` ((name, time) pairs) by `backprop_rule` (for proofs)."""
    substitution = {}
    for name, time in names:
        symbols = quantity(PREFIX + name, time, model.shape(name))
        substitution.update(zip(symbols, backprop_rule(model, name, time)))
    return expr.xreplace(substitution)
