"""Values of the adjoints δq_t = ∂L/∂q_t at a point, by reverse accumulation at 30 digits.

L = Σ_k Δ_k · h_k with drawn weights Δ_k (the "Δ^t" of Greff et al. 2015);
δq_t is computed by exactly what reverse-mode accumulation does, from the
symbolic local Jacobians of the cell's equations, on the point's trajectory:
for every node, every input x_t, and every parameter W (δW = ∂L/∂W, its
contributions summed over the steps). With absolute steps the loss ends at
step T, L = Σ_{k=1}^{T} Δ_k · h_k, where T is the claim's `horizon` (its index
T, when `values` gives one) or else the last step it names, so a weight
gradient summed to T is the gradient of that loss; with times relative to t
it runs to the end of the simulated trajectory.
"""
from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy

from derive.errors import VerificationError
from derive.exact.adjoints import LOSS_WEIGHT, backward_symbols
from derive.models import Model
from derive.quantity import quantity_of, sorted_symbols
from derive.rules import namespace
from derive.verify.points import Trajectory, bind, draw_decimals, time_window


@functools.cache
def _local_jacobians(model: Model):
    """For each node q and each parent p (same-step node, input, previous state, parameter): lambdified ∂q/∂p.

    The time of a parent is 0 (its own step), -1 (the previous state) or None (a parameter).
    """
    result = {}
    for name, definition in model.equations.items():
        uses = lambda parent, time: bool(definition.free_symbols & set(model.q(parent, time)))  # noqa: E731
        parents = [(p, 0) for p in list(model.equations) + list(model.inputs) if p != name and uses(p, 0)]
        parents += [(s, -1) for s in model.state if uses(s, -1)]
        parents += [(w, None) for w in model.param_shapes if uses(w, None)]
        for parent, time in parents:
            jacobian = definition.jacobian(list(model.q(parent, time)))
            symbols = sorted_symbols(jacobian.free_symbols)
            function = sympy.lambdify(symbols, list(jacobian), modules=[namespace("mpmath"), "mpmath"])
            result[(name, parent, time)] = (symbols, function, jacobian.shape)
    return result


def backward(model: Model, trajectory: Trajectory, weights: list) -> tuple[list, dict]:
    """(δq at every step: result[k][name], δW of every parameter), by reverse accumulation over the trajectory."""
    steps = len(trajectory.steps) - 1
    zero = lambda name: np.full(model.shape(name), mpmath.mpf(0), dtype=object)  # noqa: E731
    deltas = [{s: zero(s) for s in model.state}] + [{q: zero(q) for q in list(model.equations) + list(model.inputs)}
                                                     for _ in range(steps)]
    parameters = {w: zero(w) for w in model.param_shapes}
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
                contribution = jacobian.T @ deltas[k][name]
                if time is None:  # a shared parameter: its contributions add up over the steps
                    parameters[parent] = parameters[parent] + contribution.reshape(model.shape(parent))
                else:
                    target = deltas[k + time]
                    target[parent] = target[parent] + contribution
    return deltas, parameters


def adjoints(model: Model, trajectory: Trajectory, weights: list) -> list[dict]:
    """δq at every step: result[k][name] (object arrays), by reverse accumulation over the trajectory."""
    return backward(model, trajectory, weights)[0]


def binder(model: Model, trajectory: Trajectory, offset: int, symbols, rng, horizon: int | None = None) -> dict:
    """The `extra` binder of derive.verify.points.sample: values of the δ and Δ symbols on a trajectory.

    With absolute steps the loss ends at `horizon` (default: the last step the symbols name).
    """
    wanted = backward_symbols(symbols)
    if not wanted:
        return {}
    output = model.state[-1]
    weights = [None] + [draw_decimals(rng, model.shape(output), 1.0) for _ in range(len(trajectory.steps) - 1)]
    _, latest, absolute = time_window(symbols)
    if absolute:
        last = latest if horizon is None else horizon
        if last >= len(trajectory.steps):
            raise VerificationError(f"the loss ends at step {last}, beyond the simulated steps 1..{len(trajectory.steps) - 1}")
        weights = [w if k <= last else w * 0 for k, w in enumerate(weights)]
    deltas, parameters = backward(model, trajectory, weights)
    values = {}
    for symbol in wanted:
        info = quantity_of(symbol)
        if info.time is None:
            array = parameters[info.name]
        else:
            step = info.time if info.absolute else offset + info.time
            array = weights[step] if info.name == LOSS_WEIGHT else deltas[step][info.name]
        index = tuple(i - 1 for i in info.index) if info.index else (0, 0)
        values[symbol] = array[index if len(index) == 2 else (index[0], 0)]
    return values
