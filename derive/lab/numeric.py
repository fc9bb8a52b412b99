"""Fast numeric Jacobians: the lambdified one-step blocks evaluated along NumPy runs, multiplied in log scale.

A multi-step Jacobian is a chain of the structured blocks of
derive.lab.linearization applied to a perturbation matrix, renormalised
every step with the scale kept as a log10, so a gradient of 1e-400 is -400,
never 0. The cell runs forward through derive.models.simulate, the same
simulator the verifier's 30-digit points use.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from derive.errors import ModelError
from derive.lab.linearization import linearization
from derive.models import Model
from derive.models.simulate import forward
from derive.quantity import quantity_of, sorted_symbols
from derive.rules import namespace, semantics as as_semantics


def draw_params(model: Model, rng: np.random.Generator, draws: int = 1, init: str = "pytorch",
                scale: float | None = None, recurrent_norm: float | None = None,
                recurrent: dict | None = None, forget_bias: float | None = None,
                orthogonal: bool = False) -> dict:
    """Seeded parameter draws, batched: name -> array (draws, rows, cols).

    init 'pytorch': U(-1/√n, 1/√n) as torch.nn.LSTM/RNN; 'normal': N(0, scale²)
    (scale defaults to 1/√n); 'uniform': U(-scale, scale). `orthogonal` makes
    the recurrent matrices random orthogonal; `recurrent_norm` rescales them to
    that largest singular value; `recurrent` multiplies named ones by a factor;
    `forget_bias` sets b_f.
    """
    if init not in ("pytorch", "normal", "uniform"):
        raise ModelError(f"init must be 'pytorch', 'normal' or 'uniform', got {init!r}")
    n = model.n
    bound = 1 / np.sqrt(n) if scale is None else scale
    linear = linearization(model)
    params = {}
    for name, matrix_shape in model.param_shapes.items():
        shape = (draws,) + matrix_shape
        if init == "normal":
            value = rng.normal(0.0, bound, size=shape)
        else:
            value = rng.uniform(-bound, bound, size=shape)
        if name in linear.recurrent:
            if orthogonal:
                q, r = np.linalg.qr(rng.normal(size=shape))
                value = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
            if recurrent_norm is not None:
                value = value * (recurrent_norm / np.linalg.norm(value, 2, axis=(-2, -1)))[..., None, None]
            if recurrent and name in recurrent:
                value = value * recurrent[name]
        params[name] = value
    if forget_bias is not None:
        if "b_f" not in params:
            raise ModelError(f"{model.name} has no forget-gate bias b_f")
        params["b_f"] = np.full_like(params["b_f"], forget_bias)
    return params


def _inputs(model: Model, inputs, step: int, rng: np.random.Generator, draws: int) -> dict:
    """The inputs of one step: 'normal' draws N(0, 1), 'zero' none, an array (steps, draws, m, 1) is read."""
    if isinstance(inputs, np.ndarray):
        return {name: inputs[step - 1] for name in model.inputs}
    if inputs == "normal":
        return {name: rng.normal(size=(draws, model.m, 1)) for name in model.inputs}
    if inputs == "zero":
        return {name: np.zeros((draws, model.m, 1)) for name in model.inputs}
    raise ModelError(f"inputs must be 'normal', 'zero' or an array, got {inputs!r}")


@dataclass
class ChainResult:
    """Multi-step Jacobian of the first state at the last step w.r.t. the first state at step 0."""

    log10_norms: np.ndarray  # (records, draws): log10 of the spectral norm of ∂target_k/∂source_0 at each record
    log10_scale: np.ndarray  # (draws,): the factor taken out of `jacobian`
    jacobian: np.ndarray  # (draws, n, n), equal to ∂c_T/∂c_0 divided by 10**log10_scale
    blocks: dict  # state -> (draws, n, n): ∂s_T/∂c_0 divided by 10**log10_scale


CHUNK_ELEMENTS = 2 ** 16  # the coefficients are made for this many (step × draw × unit) values at a time


def chain(model: Model, params: dict, steps: int, rng: np.random.Generator, semantics: str = "full",
          inputs="normal", initial: dict | None = None, record_every: int = 1,
          source: str | None = None, target: str | None = None) -> ChainResult:
    """Exact ∂(state_T)/∂(source_0) along a NumPy run of the cell, for every draw at once.

    `source` is the state perturbed at step 0 (default: the first state, c);
    the other initial states are held, as the (c_0, h_0) of an unrolled network
    are independent. Inputs are N(0, 1) (`inputs='zero'` for none, or an
    array of shape (steps, draws, m, 1)). With semantics 'truncated' the gates
    are held constant in every step. Every `record_every` steps the log10 of
    the spectral norm of ∂target_k/∂source_0 is recorded (0: only at the end).

    The run goes in chunks of steps: the cell runs forward through a chunk, the
    blocks' coefficients of the whole chunk come from one vectorised call, and
    then the perturbation matrix is carried through the chunk's blocks.
    """
    semantics = as_semantics(semantics)
    linear = linearization(model)
    plan = linear.chain_plan(semantics)
    draws = next(iter(params.values())).shape[0] if params else 1
    n, states = model.n, model.state
    source = source or states[0]
    target = target or states[0]
    if source not in states or target not in states:
        raise ModelError(f"source and target must be states of {model.name}: {', '.join(states)}")
    perturbation = np.zeros((draws, len(states), n, n))  # block s holds ∂s_k/∂source_0, rescaled
    perturbation[:, states.index(source)] = np.eye(n)
    forward = _forward(model, params, steps, rng, inputs, initial)
    stacks = {r: np.concatenate([params[w] for w in plan.weights[r]], axis=-2) for r in states if plan.weights[r]}
    log10_scale = np.zeros(draws)
    norms = []
    chunk = max(1, CHUNK_ELEMENTS // (draws * n))
    for start in range(1, steps + 1, chunk):
        length = min(chunk, steps + 1 - start)
        recorded = []
        for _ in range(length):
            _, previous, nodes = next(forward)
            recorded.append(linear.values(params, previous, nodes))
        values = [np.stack([step_values[k] for step_values in recorded]) for k in range(len(linear.symbols))]
        outputs = [np.broadcast_to(np.asarray(v, dtype=float), (length, draws, n)) for v in plan.function(*values)]
        zero = np.zeros((length, draws, n))
        direct = {r: np.stack([outputs[i] if i is not None else zero for i in plan.direct[r]], axis=2)
                  for r in states if any(i is not None for i in plan.direct[r])}
        gains = {r: np.stack([np.stack([outputs[i] if i is not None else zero for i in row], axis=2)
                              for row in plan.gains[r]], axis=2) for r in stacks}  # (length, draws, S, k, n)
        for offset in range(length):
            updated = np.zeros_like(perturbation)
            for r, coefficients in direct.items():
                updated += coefficients[offset][..., None] * perturbation[:, states.index(r), None]
            tangents = {}  # the tangent of each product, W times the tangent of its operand
            for r, stacked in stacks.items():
                products = (stacked @ perturbation[:, states.index(r)]).reshape(draws, -1, n, n)
                updated += np.einsum("dskn,dknm->dsnm", gains[r][offset], products)
                tangents.update({("state", r, k): products[:, k] for k in range(products.shape[1])})
            for index, composite in enumerate(plan.composite):
                operand = sum((outputs[i][offset][..., None] * perturbation[:, states.index(r)]
                               for r, i in composite.states.items()), np.zeros((draws, n, n)))
                operand = sum((outputs[i][offset][..., None] * tangents[reference]
                               for reference, i in composite.products.items()), operand)
                tangent = tangents[("composite", index)] = params[composite.weight] @ operand
                for s_index, i in enumerate(composite.gains):
                    if i is not None:
                        updated[:, s_index] += outputs[i][offset][..., None] * tangent
            scale = np.abs(updated).max(axis=(1, 2, 3))
            scale = np.where(scale > 0, scale, 1.0)
            perturbation = updated / scale[:, None, None, None]
            log10_scale += np.log10(scale)
            step = start + offset
            if (record_every and step % record_every == 0) or step == steps:
                with np.errstate(divide="ignore"):
                    norm = np.linalg.norm(perturbation[:, states.index(target)], 2, axis=(-2, -1))
                    norms.append(np.log10(norm) + log10_scale)
    blocks = {s: perturbation[:, k] for k, s in enumerate(states)}
    return ChainResult(np.array(norms), log10_scale, blocks[states[0]], blocks)


def _forward(model: Model, params: dict, steps: int, rng: np.random.Generator, inputs="normal",
             initial: dict | None = None):
    """Run the cell step by step on every draw: yields (inputs, previous state, node values) per step."""
    draws = next(iter(params.values())).shape[0] if params else 1
    state = initial or {s: np.zeros((draws, model.n, 1)) for s in model.state}
    return forward(model, params, state, lambda step: _inputs(model, inputs, step, rng, draws), steps,
                   lambda shape: np.zeros((draws,) + shape))


def run(model: Model, params: dict, steps: int, rng: np.random.Generator, inputs="normal",
        initial: dict | None = None) -> list[dict]:
    """Run the cell for `steps` steps on every draw; the node values of each step (index 0: initial state)."""
    draws = next(iter(params.values())).shape[0] if params else 1
    history = [dict(initial or {s: np.zeros((draws, model.n, 1)) for s in model.state})]
    for xs, _, nodes in _forward(model, params, steps, rng, inputs, initial):
        history.append({**xs, **{k: nodes[k] for k in model.equations}})
    return history


def evaluate(expr, model: Model, params: dict, history: list[dict], step: int) -> np.ndarray:
    """Evaluate a scalar expression in the symbols of time t (and t-1, ...) with t = `step` of a run.

    Returns one value per draw (entries of vectors are read from the symbol's index).
    """
    symbols = sorted_symbols(expr.free_symbols)
    arguments = []
    for symbol in symbols:
        info = quantity_of(symbol)
        if info is None:
            raise ModelError(f"{symbol} is not a quantity of {model.name}")
        array = params[info.name] if info.time is None else history[step + info.time][info.name]
        index = tuple(i - 1 for i in info.index) if info.index else (0, 0)
        if len(index) == 1:
            index = (index[0], 0)
        arguments.append(array[(slice(None),) + index])
    function = sympy.lambdify(symbols, expr, modules=[namespace("numpy"), "numpy"])
    return np.asarray(function(*arguments), dtype=float) * np.ones(len(history[0][model.state[0]]))
