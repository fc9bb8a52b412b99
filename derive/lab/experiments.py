"""The gradient-flow laboratory: experiments whose numbers back the growth and decay claims.

Each experiment takes a seed (and `quick` for a shorter preview) and returns a
flat dict of named numbers, rounded to 6 significant digits so that reports
are deterministic, plus a "series" entry with the curves its figure draws.
A rate is the slope of log10 of the gradient norm per time step, fitted by
least squares over the second half of the span (after the transient).
"""
from __future__ import annotations

import numpy as np
import sympy

from derive import models
from derive.exact import path_terms
from derive.exact.leaves import to_leaves
from derive.lab import numeric
from derive.quantity import sorted_symbols
from derive.rules import namespace

RECORDS = 50  # points per curve in the figures


def _round(value) -> float:
    return float(f"{float(value):.6g}")


def _rounded(values) -> list:
    return [_round(v) for v in values]


def fitted_rate(steps: np.ndarray, log10_norms: np.ndarray) -> float:
    """Slope of log10‖·‖ against the step over the second half of the records (a number per draw, median)."""
    half = len(steps) // 2
    x = steps[half:]
    slopes = [np.polyfit(x, y[half:], 1)[0] for y in log10_norms.T]
    return float(np.median(slopes))


def _curve(model, params, steps, seed, **options):
    """The recorded steps, the per-draw log10 norms and their median, for one configuration."""
    every = max(1, steps // RECORDS)
    result = numeric.chain(model, params, steps, np.random.default_rng(seed + 1), record_every=every, **options)
    recorded = np.array([k for k in range(1, steps + 1) if k % every == 0 or k == steps])
    return recorded, result.log10_norms, np.median(result.log10_norms, axis=1)


# -- cv-lstm.rnn-weight-factor ----------------------------------------------------------------
def scalar_rnn_rates(seed: int, quick: bool = False,
                     weights=(0.5, 1.0, 1.5, 2.0, 3.0, 3.9, 5.0, 8.0, -1.0, -3.0), starts=(-0.9, 0.1, 0.9)) -> dict:
    """h_t = σ(w h_{t-1}): the rate of log10|∂h_T/∂h_0| for each w (median over the starts h_0), and the bound (|w|/4)^T."""
    steps = 100 if quick else 300
    model = models.rnn(form="cv")
    numbers: dict = {"steps": steps, "starts": len(starts)}
    series: dict = {}
    for w in weights:
        params = {"w": np.full((len(starts), 1, 1), w)}
        initial = {"h": np.array(starts, dtype=float).reshape(-1, 1, 1)}
        recorded, norms, median = _curve(model, params, steps, seed, inputs="zero", initial=initial)
        numbers[f"rate[w={w:g}]"] = _round(fitted_rate(recorded, norms))
        numbers[f"bound[w={w:g}]"] = _round(np.log10(abs(w) / 4))  # |w σ'| <= |w|/4 in every step
        series[f"w={w:g}"] = {"x": recorded.tolist(), "y": _rounded(median)}
    numbers["series"] = series
    return numbers


# -- experiment 1: RNN against the sufficient condition of Pascanu et al. (2013) --------------
RNN_SCALES = {"sigmoid": (1.0, 2.0, 4.0, 8.0, 16.0, 32.0), "tanh": (0.5, 0.9, 1.1, 2.0, 4.0, 8.0)}
GAMMA = {"sigmoid": 0.25, "tanh": 1.0}  # the bound of φ': σ' <= 1/4, tanh' <= 1


def rnn_spectral(seed: int, quick: bool = False, n: int = 32) -> dict:
    """log10‖∂c_T/∂c_0‖ for RNNs with W_rec scaled to largest singular values s on both sides of 1/γ.

    Pascanu et al.: ‖∂c_T/∂c_0‖ <= η^T with η = γ s, so the gradient must vanish when η < 1.
    `bound_excess` is the largest log10‖∂c_k/∂c_0‖ − k log10 η over all draws and records (<= 0: the bound holds).
    """
    steps, draws = (200, 4) if quick else (1000, 8)
    numbers: dict = {"n": n, "steps": steps, "draws": draws}
    series: dict = {}
    for activation, scales in RNN_SCALES.items():
        model = models.rnn(n=n, activation=activation)
        for scale in scales:
            params = numeric.draw_params(model, np.random.default_rng(seed), draws=draws, recurrent_norm=scale)
            recorded, norms, median = _curve(model, params, steps, seed)
            eta = GAMMA[activation] * scale
            key = f"{activation},s={scale:g}"
            numbers[f"rate[{key}]"] = _round(fitted_rate(recorded, norms))
            numbers[f"eta[{key}]"] = _round(eta)
            numbers[f"bound_excess[{key}]"] = _round(np.max(norms - recorded[:, None] * np.log10(eta)))
            series[key] = {"x": recorded.tolist(), "y": _rounded(median), "eta": eta}
    numbers["series"] = series
    return numbers


# -- experiment 2: forget-gate LSTM, full and truncated, against RNNs ------------------------------
def lstm_decay(seed: int, quick: bool = False, n: int = 32, forget_biases=(0.0, 1.0, 3.0)) -> dict:
    """Decay of ‖∂c_T/∂c_0‖: forget-gate LSTM (full and truncated, forget bias 0, 1, 3) and RNNs, PyTorch init."""
    steps, draws = (200, 4) if quick else (1000, 8)
    numbers: dict = {"n": n, "steps": steps, "draws": draws}
    series: dict = {}
    lstm = models.lstm_forget(n=n)
    for bias in forget_biases:
        params = numeric.draw_params(lstm, np.random.default_rng(seed), draws=draws, forget_bias=bias)
        for semantics in ("full", "truncated"):
            recorded, norms, median = _curve(lstm, params, steps, seed, semantics=semantics)
            numbers[f"rate[LSTM, b_f={bias:g}, {semantics}]"] = _round(fitted_rate(recorded, norms))
            series[f"lstm[b_f={bias:g},{semantics}]"] = {"x": recorded.tolist(), "y": _rounded(median)}
    for activation in ("sigmoid", "tanh"):
        rnn = models.rnn(n=n, activation=activation)
        params = numeric.draw_params(rnn, np.random.default_rng(seed), draws=draws)
        recorded, norms, median = _curve(rnn, params, steps, seed)
        numbers[f"rate[RNN, {activation}]"] = _round(fitted_rate(recorded, norms))
        series[f"rnn[{activation}]"] = {"x": recorded.tolist(), "y": _rounded(median)}
    numbers["series"] = series
    return numbers


# -- experiment 3: exploding LSTM ---------------------------------------------------------------------
EXPLOSION_GROUPS = (("R_o",), ("R_i",), ("R_f",), ("R_z",), ("R_z", "R_i", "R_f", "R_o"))
EXPLOSION_FACTORS = (1, 2, 4, 8, 16, 32)


def lstm_explosion(seed: int, quick: bool = False, n: int = 16) -> dict:
    """Peephole LSTM: rate of log10‖∂h_T/∂h_0‖ with its recurrent matrices multiplied by a factor."""
    steps, draws = (150, 4) if quick else (500, 8)
    model = models.lstm_peephole(n=n)
    numbers: dict = {"n": n, "steps": steps, "draws": draws}
    series: dict = {}
    for group in EXPLOSION_GROUPS:
        name = "+".join(group)
        rates = []
        for factor in EXPLOSION_FACTORS:
            params = numeric.draw_params(model, np.random.default_rng(seed), draws=draws,
                                         recurrent={weight: factor for weight in group})
            recorded, norms, _ = _curve(model, params, steps, seed, source="h", target="h")
            rates.append(fitted_rate(recorded, norms))
            numbers[f"rate[{name} x{factor}]"] = _round(rates[-1])
        series[name] = {"x": list(EXPLOSION_FACTORS), "y": _rounded(rates)}
    numbers["series"] = series
    return numbers


# -- experiment 4: Arbel's balance argument -------------------------------------------------------------
BALANCE_TARGET = {"A": 0.1, "B": 0.7, "C": 0.1, "D": 0.1}
_TERMS = {"A": "via_f", "B": "direct", "C": "via_i", "D": "via_c_tilde"}
BINS = np.linspace(-0.5, 1.5, 81)


def balance(seed: int, quick: bool = False) -> dict:
    """Arbel's A_t..D_t (the exact path terms, scalar forget-gate LSTM without biases).

    Their distribution over random draws (weights U(-1, 1), inputs N(0, 1)) and
    steps; how often the sum lies in [0.9, 1.1]; and a parameter point where
    (A, B, C, D) = (0.1, 0.7, 0.1, 0.1), found by least squares and confirmed at 30 digits.
    """
    from scipy.optimize import least_squares

    draws, steps = (500, 30) if quick else (2000, 30)
    model = models.lstm_forget(bias=False)
    terms = path_terms(model)
    rng = np.random.default_rng(seed)
    params = numeric.draw_params(model, rng, draws=draws, init="uniform", scale=1.0)
    history = numeric.run(model, params, steps, rng)
    values = {k: np.concatenate([numeric.evaluate(terms[v], model, params, history, t)
                                 for t in range(2, steps + 1)]) for k, v in _TERMS.items()}
    total = sum(values.values())
    numbers: dict = {"draws": draws, "steps": steps,
                     "fraction_sum_in_0.9_1.1": _round(np.mean((total >= 0.9) & (total <= 1.1))),
                     "median_sum": _round(np.median(total))}
    near = np.all([np.abs(values[k] - BALANCE_TARGET[k]) <= 0.05 for k in BALANCE_TARGET], axis=0)
    numbers["fraction_near_target"] = _round(np.mean(near))
    for k in _TERMS:
        numbers[f"median_{k}"] = _round(np.median(values[k]))

    # Search in the step's leaves: weights, x_t, c_{t-1}, and o_{t-1} (kept in (0, 1) through σ).
    leaves = {k: to_leaves(terms[v], model) for k, v in _TERMS.items()}
    symbols = sorted_symbols(set().union(*(e.free_symbols for e in leaves.values())))
    o_prev = model.at(0).o_prev
    function = sympy.lambdify(symbols, [leaves[k] - BALANCE_TARGET[k] for k in BALANCE_TARGET],
                              modules=[namespace("numpy"), "numpy"])

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
    point = {s: round(float(1 / (1 + np.exp(-v)) if s == o_prev else v), 4) for s, v in zip(symbols, best.x)}
    reached = {k: float(sympy.N(leaves[k].subs(point), 30)) for k in BALANCE_TARGET}
    numbers["target_reached_max_error"] = _round(max(abs(reached[k] - BALANCE_TARGET[k]) for k in reached))
    numbers["sum_at_point"] = _round(sum(reached.values()))
    for k, v in reached.items():
        numbers[f"{k}_at_point"] = _round(v)
    numbers["point"] = {sympy.latex(s): f"{v:g}" for s, v in point.items()}
    centres = (BINS[:-1] + BINS[1:]) / 2
    numbers["series"] = {k: {"x": _rounded(centres), "y": np.histogram(v, BINS)[0].tolist()}
                         for k, v in {**values, "sum": total}.items()}
    return numbers
