"""δ notation: reverse accumulation against central differences of the summed loss."""
import mpmath
import numpy as np
import sympy

from derive import models
from derive.exact import adjoints
from derive.verify import points
from derive.verify.adjoint_values import adjoints as adjoint_values
from derive.models.cells import sigmoid, tanh
from helpers import central_differences


def _float(array):
    return np.array(array.tolist(), dtype=float)


def test_adjoint_of_the_cell_state_is_the_loss_derivative():
    model = models.lstm_peephole(n=2)
    rng = np.random.default_rng(5)
    with mpmath.workdps(30):
        trajectory = points.simulate(model, 4, rng)
        weights = [None] + [np.array([[mpmath.mpf("0.5")], [mpmath.mpf("-0.25")]], dtype=object)] * 4
        deltas = adjoint_values(model, trajectory, weights)
    p = {k: _float(v) for k, v in trajectory.params.items()}
    steps = [{k: _float(v) for k, v in step.items()} for step in trajectory.steps]
    w = np.array([0.5, -0.25])

    def loss_from(c2):
        """L = Σ_k Δ_k·h_k with c_2 perturbed as a node: h_2 (through o_2's peephole) and later steps respond."""
        c2 = c2.reshape(2, 1)
        o2 = sigmoid(p["W_o"] @ steps[2]["x"] + p["R_o"] @ steps[1]["h"] + p["p_o"] * c2 + p["b_o"])
        h2 = o2 * tanh(c2)
        total = sum(w @ steps[k]["h"][:, 0] for k in (1,)) + w @ h2[:, 0]
        c, h = c2, h2
        for k in (3, 4):
            x = steps[k]["x"]
            z = tanh(p["W_z"] @ x + p["R_z"] @ h + p["b_z"])
            i = sigmoid(p["W_i"] @ x + p["R_i"] @ h + p["p_i"] * c + p["b_i"])
            f = sigmoid(p["W_f"] @ x + p["R_f"] @ h + p["p_f"] * c + p["b_f"])
            c = z * i + c * f
            o = sigmoid(p["W_o"] @ x + p["R_o"] @ h + p["p_o"] * c + p["b_o"])
            h = o * tanh(c)
            total = total + w @ h[:, 0]
        return np.array([total])
    approximate = central_differences(loss_from, steps[2]["c"].ravel())[0]
    assert np.allclose(_float(deltas[2]["c"]).ravel(), approximate, rtol=1e-7, atol=1e-10)


def test_backprop_rule_is_greffs_recursion():
    model = models.lstm_peephole()
    s, later = model.at(0), model.at(1)
    rule = adjoints.backprop_rule(model, "c", 0)[0, 0]
    d = lambda name, t=0: adjoints.delta(model, name, t)  # noqa: E731
    greff = (d("h") * s.o * (1 - sympy.tanh(s.c) ** 2) + s.p_o * d("o_bar") + s.p_i * d("i_bar", 1)
             + s.p_f * d("f_bar", 1) + d("c", 1) * later.f)
    assert sympy.expand(rule - greff) == 0
