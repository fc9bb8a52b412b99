"""Tracing a cell: plain array code run on symbolic arrays gives its named equations, in assignment order."""
import numpy as np
import sympy

from derive.models.trace import run_capturing_locals, trace
from derive.quantity import symbols_of
from derive.rules import Sigmoid, array_function

sigmoid = array_function("sigma")


def cell(h_prev, x, W, U, b):
    z = W @ x + U @ h_prev + b
    g = sigmoid(z)
    h = (1 - g) * h_prev + g * 2.0
    return h


def _arguments(n):
    return {"h_prev": symbols_of("h", -1, (n, 1)), "x": symbols_of("x", 0, (n, 1)),
            "W": symbols_of("W", None, (n, n)), "U": symbols_of("U", None, (n, n)), "b": symbols_of("b", None, (n, 1))}


def test_named_locals_become_equations_and_intermediates_are_inlined():
    traced = trace(cell, _arguments(1), lambda name, shape: symbols_of(name, 0, shape))
    assert list(traced.equations) == ["z", "g", "h"] and traced.outputs == ("h",)
    a = _arguments(1)
    z, g = symbols_of("z", 0)[0, 0], symbols_of("g", 0)[0, 0]
    assert sympy.expand(traced.equations["z"][0, 0] - (a["W"][0, 0] * a["x"][0, 0] + a["U"][0, 0] * a["h_prev"][0, 0]
                                                        + a["b"][0, 0])) == 0
    assert traced.equations["g"][0, 0] == Sigmoid(z)
    assert sympy.expand(traced.equations["h"][0, 0] - ((1 - g) * a["h_prev"][0, 0] + 2 * g)) == 0


def test_matrix_products_and_elementwise_products_keep_their_meaning():
    traced = trace(cell, _arguments(2), lambda name, shape: symbols_of(name, 0, shape))
    a = _arguments(2)
    assert traced.equations["z"] == a["W"] * a["x"] + a["U"] * a["h_prev"] + a["b"]
    assert traced.equations["h"].shape == (2, 1)


def test_the_same_cell_runs_on_numbers():
    values = {"h_prev": np.array([[0.5]]), "x": np.array([[1.0]]), "W": np.array([[0.3]]), "U": np.array([[-0.2]]),
              "b": np.array([[0.1]])}
    result, local = run_capturing_locals(cell, values)
    g = 1 / (1 + np.exp(-(0.3 - 0.1 + 0.1)))
    assert np.isclose(result[0, 0], (1 - g) * 0.5 + 2 * g) and np.isclose(local["g"][0, 0], g)
