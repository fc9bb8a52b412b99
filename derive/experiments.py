"""Numeric experiments behind the growth and decay claims: each returns the numbers a verdict rests on.

Every function takes a seed and returns a flat dict of named numbers (floats
rounded to 6 significant digits, so reports are deterministic). Rates are
log10 of the gradient norm per time step, fitted as total change over the span.
"""
from __future__ import annotations

import numpy as np
import sympy

from derive import jacobians, models, numeric
from derive.activations import NUMPY_NAMESPACE


def _round(value) -> float:
    return float(f"{float(value):.6g}")


def rate(result: numeric.ChainResult, steps: int, state: str | None = None) -> np.ndarray:
    """log10 ‖∂s_T/∂source_0‖₂ / T per draw, from a chain result (s: the first state by default)."""
    block = result.jacobian if state is None else result.blocks[state]
    with np.errstate(divide="ignore"):
        return (np.log10(np.linalg.norm(block, 2, axis=(-2, -1))) + result.log10_scale) / steps


def scalar_rnn_rates(seed: int, weights=(0.5, 1.0, 1.5, 2.0, 3.0, 3.9, 5.0, 8.0, -1.0, -3.0),
                     steps: int = 300, starts=(-0.9, 0.1, 0.9)) -> dict:
    """h_t = σ(w h_{t-1}): per-step rate of log10|∂h_T/∂h_0| for each w (median over the starts h_0)."""
    model = models.rnn(form="cv")
    numbers = {}
    for w in weights:
        params = {"w": np.full((len(starts), 1, 1), w)}
        initial = {"h": np.array(starts, dtype=float).reshape(-1, 1, 1)}
        result = numeric.chain(model, params, steps, np.random.default_rng(seed), inputs="zero",
                               initial=initial, record_every=steps)
        numbers[f"rate[w={w:g}]"] = _round(np.median(rate(result, steps)))
        numbers[f"bound[w={w:g}]"] = _round(np.log10(abs(w) / 4))  # |w σ'| <= |w|/4 per step
    numbers["steps"] = steps
    return numbers


def decay_rates(seed: int, n: int = 16, steps: int = 200, draws: int = 20, forget_biases=(0.0, 1.0, 3.0)) -> dict:
    """Median per-step rate of log10‖∂c_T/∂c_0‖ for the forget-gate LSTM (full and truncated) and RNNs."""
    numbers = {"n": n, "steps": steps, "draws": draws}
    rng = np.random.default_rng(seed)
    lstm = models.lstm_forget(n=n)
    for bias in forget_biases:
        params = numeric.draw_params(lstm, rng, draws=draws, forget_bias=bias)
        for semantics in ("full", "truncated"):
            result = numeric.chain(lstm, params, steps, np.random.default_rng(seed + 1), semantics=semantics,
                                   record_every=steps)
            numbers[f"lstm[b_f={bias:g},{semantics}]"] = _round(np.median(rate(result, steps)))
    for activation in ("sigmoid", "tanh"):
        rnn = models.rnn(n=n, activation=activation)
        params = numeric.draw_params(rnn, rng, draws=draws)
        result = numeric.chain(rnn, params, steps, np.random.default_rng(seed + 1), record_every=steps)
        numbers[f"rnn[{activation}]"] = _round(np.median(rate(result, steps)))
    return numbers


def lstm_explosion(seed: int, n: int = 16, steps: int = 200, draws: int = 10, factors=(1, 4, 8, 16, 32),
                   groups=(("R_o",), ("R_i",), ("R_f",), ("R_z",), ("R_z", "R_i", "R_f", "R_o"))) -> dict:
    """Peephole LSTM: median per-step rate of log10‖∂h_T/∂h_0‖ with recurrent matrices scaled up."""
    model = models.lstm_peephole(n=n)
    numbers = {"n": n, "steps": steps, "draws": draws}
    for group in groups:
        for factor in factors:
            rng = np.random.default_rng(seed)
            params = numeric.draw_params(model, rng, draws=draws, recurrent={name: factor for name in group})
            result = numeric.chain(model, params, steps, rng, source="h", record_every=steps)
            numbers[f"rate[{'+'.join(group)} x{factor}]"] = _round(np.median(rate(result, steps, "h")))
    return numbers


def rnn_explosion(seed: int, n: int = 32, steps: int = 200, draws: int = 10,
                  norms=(0.5, 1, 2, 4, 8, 16, 32), activation: str = "sigmoid") -> dict:
    """RNN: median per-step rate of log10‖∂c_T/∂c_0‖ with W_rec rescaled to a largest singular value."""
    model = models.rnn(n=n, activation=activation)
    numbers = {"n": n, "steps": steps, "draws": draws}
    for norm in norms:
        rng = np.random.default_rng(seed)
        params = numeric.draw_params(model, rng, draws=draws, recurrent_norm=norm)
        result = numeric.chain(model, params, steps, rng, record_every=steps)
        numbers[f"rate[{activation},||W_rec||={norm:g}]"] = _round(np.median(rate(result, steps)))
    return numbers


BALANCE_TARGET = {"A": 0.1, "B": 0.7, "C": 0.1, "D": 0.1}
_TERMS = {"A": "via_f", "B": "direct", "C": "via_i", "D": "via_c_tilde"}


def balance(seed: int, draws: int = 2000, steps: int = 30) -> dict:
    """Arbel's A_t..D_t (the exact path terms, scalar forget-gate LSTM without biases).

    How often their sum lies in [0.9, 1.1] over random draws and steps, and a
    parameter point where (A, B, C, D) = (0.1, 0.7, 0.1, 0.1), found by least
    squares and confirmed at 30 digits.
    """
    from scipy.optimize import least_squares

    model = models.lstm_forget(bias=False)
    terms = jacobians.path_terms(model)
    rng = np.random.default_rng(seed)
    params = numeric.draw_params(model, rng, draws=draws, init="uniform", scale=1.0)
    history = numeric.run(model, params, steps, rng)
    values = {k: np.concatenate([numeric.evaluate(terms[v], model, params, history, t)
                                 for t in range(2, steps + 1)]) for k, v in _TERMS.items()}
    total = sum(values.values())
    numbers = {"draws": draws, "steps": steps,
               "fraction_sum_in_0.9_1.1": _round(np.mean((total >= 0.9) & (total <= 1.1))),
               "median_sum": _round(np.median(total))}
    near = np.all([np.abs(values[k] - BALANCE_TARGET[k]) <= 0.05 for k in BALANCE_TARGET], axis=0)
    numbers["fraction_near_target"] = _round(np.mean(near))
    for k in _TERMS:
        numbers[f"median_{k}"] = _round(np.median(values[k]))

    # Search in the step's leaves: weights, x_t, c_{t-1}, and o_{t-1} (kept in (0, 1) through σ).
    leaves = {k: jacobians.to_leaves(terms[v], model) for k, v in _TERMS.items()}
    symbols = sorted(set().union(*(e.free_symbols for e in leaves.values())), key=str)
    o_prev = model.at(0).o_prev
    function = sympy.lambdify(symbols, [leaves[k] - BALANCE_TARGET[k] for k in BALANCE_TARGET],
                              modules=[NUMPY_NAMESPACE, "numpy"])

    def residual(u):
        arguments = [1 / (1 + np.exp(-v)) if s == o_prev else v for s, v in zip(symbols, u)]
        return np.array(function(*arguments), dtype=float)

    best = None
    for _ in range(20):
        fit = least_squares(residual, rng.uniform(-1, 1, size=len(symbols)))
        if best is None or fit.cost < best.cost:
            best = fit
        if best.cost < 1e-20:
            break
    point = {s: (1 / (1 + np.exp(-v)) if s == o_prev else v) for s, v in zip(symbols, best.x)}
    point = {s: round(float(v), 4) for s, v in point.items()}
    reached = {k: float(sympy.N(leaves[k].subs(point), 30)) for k in BALANCE_TARGET}
    numbers["target_reached_max_error"] = _round(max(abs(reached[k] - BALANCE_TARGET[k]) for k in reached))
    numbers["sum_at_point"] = _round(sum(reached.values()))
    for k, v in reached.items():
        numbers[f"{k}_at_point"] = _round(v)
    numbers["point"] = ", ".join(f"{sympy.latex(s)} = {v:g}" for s, v in point.items())
    return numbers
