"""Derivatives between any two quantities at any two steps, against central differences of the unrolled cell.

Each derivative is read from the notation (so the reading is tested too) and compared, at a point of a
seeded NumPy run, with central differences of a forward pass written here: the node perturbed, every later
node recomputed, at n = 1 and n = 2.
"""
import numpy as np
import pytest
import sympy

from derive import models
from derive.lab import numeric
from derive.models.cells import sigmoid, tanh
from derive.notation import parser
from derive.notation.reader import Context, Reader
from derive.notation.symbols import SymbolTable
from helpers import assert_jacobian

PASCANU = {"x": "z", "u": "x"}  # x_t = W_rec σ(x_{t-1}) + W_in u_t is the RNN's pre-activation z_t


def read(latex, model, env=None, semantics="full", aliases=None):
    table = SymbolTable(model, aliases or {})
    return Reader(Context(table), semantics).evaluate(parser.parse(latex), None, env or {})


def _run(model, steps=5, seed=2):
    rng = np.random.default_rng(seed)
    params = numeric.draw_params(model, rng, draws=1, init="normal", scale=0.9)
    initial = {s: rng.normal(size=(1, model.n, 1)) * 0.7 for s in model.state}
    inputs = rng.normal(size=(steps, 1, model.m, 1))
    return params, numeric.run(model, params, steps, rng, inputs=inputs, initial=initial)


def _at(expr, model, params, history, step=0):
    """A read value on the run (time t = step; absolute symbols need step 0), as an array."""
    matrix = expr if isinstance(expr, sympy.MatrixBase) else sympy.Matrix([expr])
    return np.array([[numeric.evaluate(sympy.sympify(e), model, params, history, step)[0] for e in row]
                     for row in matrix.tolist()])


def _p(params):
    return {k: v[0] for k, v in params.items()}


@pytest.mark.parametrize("n", [1, 2])
def test_pre_activations_of_the_rnn_at_any_two_steps(n):
    """Pascanu's ∂x_t/∂x_k for x_t = W_rec σ(x_{t-1}) + W_in u_t, over one and three steps."""
    model = models.rnn(n=n, bias=False)
    params, history = _run(model)
    p = _p(params)

    def forward(first, last):
        def z_last(z):
            value = z.reshape(n, 1)
            for step in range(first + 1, last + 1):
                value = p["W_rec"] @ sigmoid(value) + p["W_in"] @ history[step]["x"][0]
            return value.ravel()
        return z_last

    for latex, env, first, last in ((r"\frac{\partial x_t}{\partial x_{t-1}}", {"t": 4}, 3, 4),
                                    (r"\partial x_t / \partial x_k", {"t": 4, "k": 1}, 1, 4)):
        exact = _at(read(latex, model, env, aliases=PASCANU), model, params, history)
        assert_jacobian(forward(first, last), history[first]["z"][0].ravel(), exact)


@pytest.mark.parametrize("n", [1, 2])
def test_an_output_by_an_earlier_input_and_a_gate_by_an_earlier_cell(n):
    model = models.lstm_forget(n=n)
    params, history = _run(model)
    p = _p(params)

    def run_from(step, c, h, inputs, last, node):
        for k in range(step, last + 1):
            x = inputs.get(k, history[k]["x"][0])
            z = {g: p[f"W_{g}h"] @ h + p[f"W_{g}x"] @ x + p[f"b_{g}"] for g in "fico"}
            f, i, o, c_tilde = sigmoid(z["f"]), sigmoid(z["i"]), sigmoid(z["o"]), tanh(z["c"])
            if k == last and node == "f":
                return f
            c = f * c + i * c_tilde
            h = o * tanh(c)
        return h

    state = lambda k: (history[k]["c"][0], history[k]["h"][0])  # noqa: E731
    by_input = read(r"\frac{\partial h_4}{\partial x_2}", model)
    assert_jacobian(lambda x: run_from(2, *state(1), {2: x.reshape(n, 1)}, 4, "h").ravel(),
                    history[2]["x"][0].ravel(), _at(by_input, model, params, history))
    # f_4 by c_2, c_2 perturbed as a node: h_2 = o_2 tanh(c_2) responds, o_2 does not
    by_cell = read(r"\frac{\partial f_4}{\partial c_2}", model)
    o2 = history[2]["o"][0]
    assert_jacobian(lambda c: run_from(3, c.reshape(n, 1), o2 * tanh(c.reshape(n, 1)), {}, 4, "f").ravel(),
                    history[2]["c"][0].ravel(), _at(by_cell, model, params, history))


@pytest.mark.parametrize("n", [1, 2])
def test_from_the_start_of_a_trajectory_h0_is_given(n):
    """∂c_T/∂c_0 with T = 3: c_0 perturbed, h_0 held (it is drawn, not o_0 tanh(c_0))."""
    model = models.lstm_forget(n=n, bias=False)
    params, history = _run(model)
    exact = _at(read(r"\frac{\partial c_T}{\partial c_0}", model, {"T": 3}), model, params, history)
    h0 = history[0]["h"]

    def c3(c0):
        initial = {"c": c0.reshape(1, n, 1), "h": h0}
        inputs = np.stack([history[k]["x"] for k in (1, 2, 3)])
        return numeric.run(model, params, 3, np.random.default_rng(0), inputs=inputs, initial=initial)[3]["c"].ravel()

    assert_jacobian(c3, history[0]["c"].ravel(), exact)


@pytest.mark.parametrize("n", [1, 2])
def test_truncated_semantics_holds_the_output_gate_within_the_step(n):
    model = models.lstm_peephole(n=n)
    params, history = _run(model)
    truncated = _at(read(r"\frac{\partial h_t}{\partial c_t}", model, semantics="truncated"), model, params,
                    history, step=3)
    o, c = history[3]["o"][0], history[3]["c"][0]
    assert np.allclose(truncated, np.diag((o * (1 - np.tanh(c) ** 2)).ravel()), rtol=1e-12)
    full = _at(read(r"\frac{\partial h_t}{\partial c_t}", model), model, params, history, step=3)
    assert not np.allclose(full, truncated)  # the peephole o_t(c_t) responds in the full semantics


def test_immediate_and_total_derivatives_by_a_weight():
    """∂⁺x_k/∂W holds x_{k-1}; dx_k/dW lets every earlier step respond (Pascanu et al. 2013, eq. 3-5)."""
    model = models.rnn(bias=False)
    params, history = _run(model)
    p = _p(params)
    x = lambda k: history[k]["x"][0]  # noqa: E731
    immediate = _at(read(r"\frac{\partial^+ x_k}{\partial W_{rec}}", model, {"k": 3}, aliases=PASCANU),
                    model, params, history)
    total = _at(read(r"\frac{d x_k}{d W_{rec}}", model, {"k": 3}, aliases=PASCANU), model, params, history)

    def held(w):
        return (w.reshape(1, 1) @ sigmoid(history[2]["z"][0]) + p["W_in"] @ x(3)).ravel()

    def unrolled(w):
        c = history[0]["c"][0]
        for k in (1, 2, 3):
            z = w.reshape(1, 1) @ c + p["W_in"] @ x(k)
            c = sigmoid(z)
        return z.ravel()

    assert_jacobian(held, p["W_rec"].ravel(), immediate)
    assert_jacobian(unrolled, p["W_rec"].ravel(), total)
    assert not np.allclose(immediate, total)


def test_existing_cases_keep_their_results():
    """The cases of derive.exact.blocks are still what a formula reads (node symbols, same expressions)."""
    from derive import exact
    lstm = models.lstm_forget(bias=False)
    assert read(r"\frac{\partial c_t}{\partial c_{t-1}}", lstm) == exact.dc_dc_prev(lstm, "full")
    assert read(r"\frac{\partial c_5}{\partial c_3}", lstm) == exact.multi_step(lstm, 3, 5, "full")
    assert read(r"\frac{\partial h_t}{\partial c_t}", lstm) == exact.output_derivative(lstm)
