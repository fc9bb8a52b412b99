"""Fast numeric Jacobians: lambdified one-step blocks evaluated along NumPy runs, multiplied in log scale.

Every cell mixes units only through matrix products `W @ state` inside its
pre-activations; everything after a pre-activation is elementwise. So each
exact one-step block has the form

    ∂s_t/∂r_{t-1} = diag(direct) + Σ_k diag(gain_k) · W_k,

where `direct` and `gain_k` are scalar SymPy derivatives of the one-unit model,
lambdified and evaluated elementwise on the node values of a batched NumPy run
of the cell. A multi-step Jacobian is then a chain of such blocks applied to a
perturbation matrix, renormalised every step with the scale kept as a log10,
so a gradient of 1e-400 is -400, never 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from derive import jacobians
from derive.activations import NUMPY_NAMESPACE
from derive.errors import ModelError
from derive.models import SYMBOLS, Model
from derive.trace import run_capturing_locals


@dataclass(frozen=True)
class Coupling:
    """One block ∂s_t/∂r_{t-1} = diag(direct) + Σ diag(gain) · weight, as scalar SymPy expressions."""

    direct: object  # SymPy expression in the step's scalar symbols (0 when there is none)
    mixed: tuple  # ((gain expression, weight name), ...)


@dataclass(frozen=True)
class Plan:
    """Every coefficient of the one-step blocks in one lambdified function (common subexpressions shared).

    For each previous state r: `direct[r][s]` and `gains[r][s][k]` index the
    function's outputs (None: zero), `weights[r]` names the matrices that multiply r.
    """

    function: object
    direct: dict
    weights: dict
    gains: dict
    expressions: tuple = ()  # the function's outputs as SymPy expressions


def _lambdify(expr, symbols):
    return sympy.lambdify(symbols, expr, modules=[NUMPY_NAMESPACE, "numpy"])


class Linearization:
    """The structured one-step blocks of a model, derived once from its one-unit twin.

    `couplings[(s, r)]` is ∂s_t/∂r_{t-1} (full Markov block; `truncated_couplings`
    with gates held constant), `plan(semantics)` their coefficients compiled in one function.
    """

    def __init__(self, model: Model):
        if not model.state:
            raise ModelError(f"{model.name} is not a recurrence")
        self.model = model
        scalar = model.resized(1) if model.n != 1 else model
        self.scalar = scalar
        # Which parameters are matrices is read off the two-unit shapes: in one unit all are 1×1.
        self.matrix_params = {name for name, shape in model.resized(2).param_shapes.items() if shape[1] > 1}
        self.symbols = sorted(self._step_symbols(scalar), key=str)
        self.mixing = self._mixing_nodes(scalar)
        self._plans: dict = {}
        self.couplings = self._couplings(scalar, truncated=False)
        self.truncated_couplings = self._couplings(scalar, truncated=True) if model.gates else self.couplings
        self.recurrent = sorted({w for c in self.couplings.values() for _, w in c.mixed})

    # -- derivation ---------------------------------------------------------------------
    def _step_symbols(self, scalar: Model) -> set:
        symbols = set()
        for name in scalar.equations:
            symbols |= set(scalar.q(name, 0))
        for state in scalar.state:
            symbols |= set(scalar.q(state, -1))
        for name in scalar.inputs:
            symbols |= set(scalar.q(name, 0))
        for name, matrix in scalar.params.items():
            if name not in self.matrix_params:
                symbols |= set(matrix)
        return symbols

    def _mixing_nodes(self, scalar: Model) -> dict:
        """Pre-activation nodes that multiply a previous state by a weight matrix: name -> {state: weights}."""
        mixing = {}
        for name, definition in scalar.equations.items():
            for state in scalar.state:
                coefficient = sympy.expand(definition[0, 0].diff(scalar.q(state, -1)[0, 0]))
                weights = [t for t in sympy.Add.make_args(coefficient) if t.is_Symbol and
                           SYMBOLS.get(t) and SYMBOLS[t].name in self.matrix_params]
                if weights:
                    mixing.setdefault(name, {})[state] = weights
        return mixing

    def _check_elementwise(self, exprs) -> None:
        leftovers = {s for e in exprs for s in e.free_symbols if s not in self.symbols}
        if leftovers:
            raise ModelError(f"{self.model.name}: an elementwise derivative still holds {sorted(map(str, leftovers))}")

    def _couplings(self, scalar: Model, truncated: bool) -> dict:
        """Each block as {None: direct, weight: gain}: diag(direct) + Σ diag(gain) · weight.

        Pre-activations may depend on earlier ones elementwise (a peephole on
        this step's c), so their derivatives are accumulated in equation order:
        diag(a) · (diag(d) + Σ diag(g) W) = diag(a d) + Σ diag(a g) W.
        """
        keep = tuple(self.mixing) + (tuple(scalar.gates) if truncated else ())
        expanded = jacobians._expanded_except(scalar, keep, 0)
        mixing_symbols = {node: scalar.q(node, 0)[0, 0] for node in self.mixing}

        def derivative(expr, r, totals):
            """{None: elementwise part, weight: gain} of d expr / d r_{t-1}."""
            previous = scalar.q(r, -1)[0, 0]
            result = {None: expr.diff(previous)}
            for node, symbol in mixing_symbols.items():
                if node not in totals:
                    continue
                gain = expr.diff(symbol)
                if gain != 0:
                    for key, value in totals[node].items():
                        result[key] = result.get(key, 0) + gain * value
            return result

        couplings = {}
        for r in scalar.state:
            previous = scalar.q(r, -1)[0, 0]
            totals: dict = {}
            for node in self.mixing:  # equation order
                definition = expanded[node][0, 0]
                weights = self.mixing[node].get(r, [])
                elementwise = definition - sum((w * previous for w in weights), sympy.S.Zero)
                total = derivative(elementwise, r, totals)
                for weight in weights:
                    key = SYMBOLS[weight].name
                    total[key] = total.get(key, 0) + 1
                totals[node] = total
            for s in scalar.state:
                total = derivative(expanded[s][0, 0], r, totals)
                direct = self._collapsed(total.pop(None), scalar)
                mixed = tuple((self._collapsed(g, scalar), w) for w, g in sorted(total.items())
                              if self._collapsed(g, scalar) != 0)
                self._check_elementwise([direct] + [g for g, _ in mixed])
                couplings[(s, r)] = Coupling(direct, mixed)
        return couplings

    def plan(self, semantics: str) -> Plan:
        """The compiled coefficients of the full or truncated blocks (made once per semantics)."""
        if semantics not in self._plans:
            couplings = self.truncated_couplings if semantics == "truncated" else self.couplings
            outputs: list = []

            def slot(expr):
                if expr == 0:
                    return None
                outputs.append(expr)
                return len(outputs) - 1

            states = self.model.state
            direct = {r: [slot(couplings[(s, r)].direct) for s in states] for r in states}
            weights = {r: tuple(sorted({w for s in states for _, w in couplings[(s, r)].mixed})) for r in states}
            gains = {r: [[slot(next((g for g, name in couplings[(s, r)].mixed if name == w), 0))
                          for w in weights[r]] for s in states] for r in states}
            function = sympy.lambdify(self.symbols, outputs, modules=[NUMPY_NAMESPACE, "numpy"], cse=True)
            self._plans[semantics] = Plan(function, direct, weights, gains, tuple(outputs))
        return self._plans[semantics]

    @staticmethod
    def _collapsed(expr, scalar: Model):
        return sympy.expand(jacobians.collapse(sympy.Matrix([[expr]]), scalar, (0,))[0, 0])

    # -- evaluation -----------------------------------------------------------------------
    def values(self, params: dict, previous: dict, nodes: dict) -> list:
        """Arguments for the lambdified pieces: one (B, n) array per scalar symbol of the step."""
        arguments = []
        for symbol in self.symbols:
            info = SYMBOLS[symbol]
            if info.time is None:
                array = params[info.name]
            elif info.time == -1:
                array = previous[info.name]
            else:
                array = nodes[info.name]
            arguments.append(array[..., 0])
        return arguments


_LINEARIZATIONS: dict = {}


def linearization(model: Model) -> Linearization:
    """The Linearization of `model`, derived once per model kind and size."""
    key = (model.n, tuple(sorted((k, str(v)) for k, v in model.options.items())))
    if key not in _LINEARIZATIONS:
        _LINEARIZATIONS[key] = Linearization(model)
    return _LINEARIZATIONS[key]


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


def _cell_arguments(model: Model, params: dict, draws: int) -> dict:
    """Parameters plus zero biases (bias=False) and the activation, ready for the cell."""
    arguments = dict(params)
    arguments.update({name: np.zeros((draws,) + model.argument_shapes[name]) for name in model.removed})
    if model.phi is not None:
        arguments["phi"] = model.phi
    return arguments


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
    jacobians._check_semantics(semantics)
    linear = linearization(model)
    plan = linear.plan(semantics)
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
            for r, stacked in stacks.items():
                products = (stacked @ perturbation[:, states.index(r)]).reshape(draws, -1, n, n)
                updated += np.einsum("dskn,dknm->dsnm", gains[r][offset], products)
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
    arguments = _cell_arguments(model, params, draws)
    for step in range(1, steps + 1):
        xs = _inputs(model, inputs, step, rng, draws)
        _, nodes = run_capturing_locals(model.cell, {**arguments, **xs, **{f"{s}_prev": state[s] for s in state}})
        yield xs, state, nodes
        state = {s: nodes[s] for s in model.state}


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
    symbols = sorted(expr.free_symbols, key=str)
    arguments = []
    for symbol in symbols:
        info = SYMBOLS.get(symbol)
        if info is None:
            raise ModelError(f"{symbol} is not a quantity of {model.name}")
        array = params[info.name] if info.time is None else history[step + info.time][info.name]
        index = tuple(i - 1 for i in info.index) if info.index else (0, 0)
        if len(index) == 1:
            index = (index[0], 0)
        arguments.append(array[(slice(None),) + index])
    return np.asarray(_lambdify(expr, symbols)(*arguments), dtype=float) * np.ones(len(history[0][model.state[0]]))
