"""Values of the adjoints δq_t = ∂L/∂q_t at a point, by reverse accumulation at 30 digits.

L = Σ_k Δ_k · h_k with drawn weights Δ_k (the "Δ^t" of Greff et al. 2015);
δq_t is computed by exactly what reverse-mode accumulation does, from the
symbolic local Jacobians of the cell's equations, on the point's trajectory.
"""
from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy

from derive.models import Model
from derive.quantity import quantity_of, sorted_symbols
from derive.rules import namespace
from derive.verify.points import Trajectory, bind, draw_decimals


@functools.cache
def _local_jacobians(model: Model):
    """For each node q and each parent p (same-step node or previous state): lambdified ∂q/∂p."""
    result = {}
    for name, definition in model.equations.items():
        parents = [(p, 0) for p in model.equations if p != name and definition.free_symbols & set(model.q(p, 0))]
        parents += [(s, -1) for s in model.state if definition.free_symbols & set(model.q(s, -1))]
        for parent, time in parents:
            jacobian = definition.jacobian(model.q(parent, time))
            symbols = sorted_symbols(jacobian.free_symbols)
            function = sympy.lambdify(symbols, list(jacobian), modules=[namespace("mpmath"), "mpmath"])
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
    """The `extra` binder of derive.verify.points.sample: values of the δ symbols on a trajectory."""
    wanted = [s for s in symbols if quantity_of(s) is not None and quantity_of(s).adjoint]
    if not wanted:
        return {}
    output = model.state[-1]
    weights = [None] + [draw_decimals(rng, model.shape(output), 1.0) for _ in range(len(trajectory.steps) - 1)]
    deltas = adjoints(model, trajectory, weights)
    values = {}
    for symbol in wanted:
        info = quantity_of(symbol)
        step = info.time if info.absolute else offset + info.time
        index = (info.index[0] - 1, 0) if info.index else (0, 0)
        values[symbol] = deltas[step][info.name][index]
    return values
