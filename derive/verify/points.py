"""Seeded random points at which claims are evaluated: parameter draws, trajectories, symbol bindings.

A point is a consistent assignment of every symbol a claim uses: parameters,
an initial state and inputs are drawn (three decimals, so a counterexample can
be typed back in), the model's own cell is run forward with 30-digit mpmath
numbers, and each time-indexed symbol (f_{t}, c_{t-1}, z_{f,3}, ...) takes the
value its node had at that step.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import mpmath
import numpy as np

from derive.errors import VerificationError
from derive.models import Model
from derive.models.simulate import forward
from derive.quantity import quantity_of, sorted_symbols

# Sampling ranges: parameters, inputs and the initial cell state in [-2, 2],
# the initial output h_0 in [-1, 1] (the range of o ⊙ tanh(c)).
PARAMETER_RANGE = 2.0
STATE_RANGE = {"c": 2.0, "h": 1.0}


def _decimal(value: float):
    """A draw rounded to three decimals, as an exact mpmath number (so a counterexample can be typed back in)."""
    return mpmath.mpf(repr(round(float(value), 3)))


def draw_decimals(rng: np.random.Generator, shape, scale: float) -> np.ndarray:
    """U(-scale, scale) values at three decimals, as an object array of mpmath numbers."""
    return np.vectorize(_decimal, otypes=[object])(rng.uniform(-scale, scale, size=shape))


@dataclass
class Trajectory:
    """One draw: parameters, inputs and every node's value at steps 1..steps (state at step 0 drawn)."""

    params: dict  # name -> object array
    steps: list  # steps[k] = {name: object array} for k = 0..K; steps[0] holds the initial state


def _zero(shape) -> np.ndarray:
    return np.full(shape, mpmath.mpf(0), dtype=object)


def simulate(model: Model, steps: int, rng: np.random.Generator) -> Trajectory:
    """Draw parameters, an initial state and inputs, and run the model's cell for `steps` steps."""
    params = {name: draw_decimals(rng, shape, PARAMETER_RANGE) for name, shape in model.param_shapes.items()}

    def inputs(step):
        return {name: draw_decimals(rng, model.shape(name), PARAMETER_RANGE) for name in model.inputs}

    if not model.state:
        (given, _, nodes), = forward(model, params, {}, inputs, 1, _zero)
        return Trajectory(params, [{**given, **{k: nodes[k] for k in model.equations}}])
    history = [{s: draw_decimals(rng, (model.n, 1), STATE_RANGE.get(s, 1.0)) for s in model.state}]
    for given, _, nodes in forward(model, params, history[0], inputs, steps, _zero):
        history.append({**given, **{k: nodes[k] for k in model.equations}})
    return Trajectory(params, history)


def time_window(symbols) -> tuple[int, int, bool]:
    """(earliest, latest, absolute) time among the symbols; relative and absolute times cannot mix."""
    quantities = [quantity_of(s) for s in symbols]
    times = [(q.time, q.absolute) for q in quantities if q is not None and q.time is not None]
    if not times:
        return 0, 0, False
    kinds = {a for _, a in times}
    if len(kinds) > 1:
        raise VerificationError("a claim mixes absolute time steps with times relative to t")
    values = [t for t, _ in times]
    return min(values), max(values), kinds.pop()


def bind(model: Model, symbols, trajectory: Trajectory, offset: int) -> dict:
    """Values of `symbols` on `trajectory`; relative time τ is step offset + τ."""
    values = {}
    for symbol in symbols:
        info = quantity_of(symbol)
        if info is None or info.adjoint:
            raise VerificationError(f"symbol {symbol} is not a quantity of {model.name}; nothing binds it")
        if info.time is None and info.name in trajectory.params:
            array = trajectory.params[info.name]
        else:
            step = (info.time if info.absolute else offset + info.time) if info.time is not None else 0
            if not 0 <= step < len(trajectory.steps) or info.name not in trajectory.steps[step]:
                raise VerificationError(f"{symbol} is not defined on the simulated trajectory of {model.name}")
            array = trajectory.steps[step][info.name]
        index = tuple(i - 1 for i in info.index) if info.index else (0,) * array.ndim
        if len(index) == 1 and array.ndim == 2:
            index = (index[0], 0)
        values[symbol] = array[index]
    return values


def sample(model: Model | None, symbols, count: int, seed: int, dps: int, extra=None, domain=()) -> list[dict]:
    """`count` consistent bindings of `symbols`, drawn with `seed` at `dps` digits.

    `extra(model, trajectory, offset, symbols, rng)` may bind symbols the model
    does not know (e.g. adjoints δc_t); it returns a dict symbol -> value.
    The same request gives the same points, made once (callers only read them).
    """
    return list(_sample(model, tuple(sorted_symbols(set(symbols))), count, seed, dps, extra, tuple(domain)))


@functools.lru_cache(maxsize=64)
def _sample(model: Model | None, symbols: tuple, count: int, seed: int, dps: int, extra, domain: tuple) -> list:
    symbols = list(symbols)
    rng = np.random.default_rng(seed)
    ranges = {symbol: (float(low), float(high)) for symbol, low, high in domain}
    free = [s for s in symbols if s in ranges]
    symbols = [s for s in symbols if s not in ranges]
    if model is None:
        if symbols:
            raise VerificationError(f"no model binds {', '.join(map(str, symbols))}; give them a domain")
        with mpmath.workdps(dps):
            return [{s: _decimal(rng.uniform(*ranges[s])) for s in free} for _ in range(count)]
    earliest, latest, absolute = time_window(symbols)
    # Two warm-up steps before the earliest time, so o_{t-2}, h_{t-3} and the like exist.
    offset = 0 if absolute else 2 - earliest
    steps = (latest if absolute else offset + latest) + 2
    points = []
    with mpmath.workdps(dps):
        for _ in range(count):
            trajectory = simulate(model, steps, rng)
            values = dict(extra(model, trajectory, offset, symbols, rng)) if extra else {}
            values.update(bind(model, [s for s in symbols if s not in values], trajectory, offset))
            values.update({s: _decimal(rng.uniform(*ranges[s])) for s in free})
            points.append(values)
    return points
