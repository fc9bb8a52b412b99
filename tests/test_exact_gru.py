"""The GRUs: gru_torch against torch.nn.GRUCell, gru against central differences, path terms, truncation."""
import numpy as np
import pytest
import sympy
import torch

from derive import exact, models
from derive.errors import ModelError
from derive.lab import numeric
from derive.lab.peers import torch_gru_cell
from helpers import assert_jacobian


def _value(expr, model, params, history, step):
    """A scalar or Matrix expression on draw 0 of a run, time t = step."""
    matrix = expr if isinstance(expr, sympy.MatrixBase) else sympy.Matrix([[expr]])
    return np.array([[numeric.evaluate(e, model, params, history, step)[0] for e in row] for row in matrix.tolist()])


def _run(model, seed=0, steps=2):
    rng = np.random.default_rng(seed)
    params = numeric.draw_params(model, rng, draws=1, init="normal", scale=0.9)
    inputs = rng.normal(size=(steps, 1, model.m, 1))
    initial = {"h": rng.normal(size=(1, model.n, 1)) * 0.6}
    return params, inputs, initial, numeric.run(model, params, steps, rng, inputs=inputs, initial=initial)


@pytest.mark.parametrize("n", [1, 3])
def test_gru_torch_is_torch_gru_cell_in_values_and_jacobian(n):
    model = models.gru_torch(n=n)
    params, inputs, initial, history = _run(model, seed=n, steps=1)
    cell = torch_gru_cell(params)
    x, h0 = torch.tensor(inputs[0, 0, :, 0])[None], torch.tensor(initial["h"][0, :, 0])
    assert np.allclose(cell(x, h0[None]).detach().numpy()[0], history[1]["h"][0, :, 0], rtol=1e-14, atol=1e-15)
    autograd = torch.autograd.functional.jacobian(lambda h: cell(x, h[None])[0], h0).numpy()
    ours = _value(exact.dc_dc_prev(model, "full"), model, params, history, 1)
    assert np.allclose(ours, autograd, rtol=1e-12, atol=1e-14)
    summed = sum(_value(term, model, params, history, 1) for term in exact.path_terms(model).values())
    assert np.allclose(summed, autograd, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n", [1, 2])
def test_gru_one_step_block_matches_central_differences(n):
    model = models.gru(n=n, m=2)
    params, inputs, initial, history = _run(model)

    def step(h):
        return numeric.run(model, params, 1, None, inputs=inputs[1:], initial={"h": h.reshape(1, n, 1)})[1]["h"].ravel()
    block = exact.one_step_blocks(model)[("h", "h")]
    assert_jacobian(step, history[1]["h"].ravel(), _value(block, model, params, history, 2))


@pytest.mark.parametrize("build", [models.gru, models.gru_torch])
def test_path_terms_are_one_per_gate_and_sum_to_the_full_derivative(build):
    model = build()
    terms = exact.path_terms(model)
    assert list(terms) == ["direct"] + [f"via_{g}" for g in model.gates]
    assert sympy.expand(sum(terms.values()) - exact.dc_dc_prev(model, "full")) == 0
    vector = build(n=2)
    full = exact.dc_dc_prev(vector, "full")
    assert sympy.expand(sum(exact.path_terms(vector).values(), sympy.zeros(2, 2)) - full).is_zero_matrix


def test_the_reset_path_runs_through_the_candidate():
    s = models.gru().sym
    terms = exact.path_terms(models.gru())
    sigma_r = s.r * (1 - s.r)
    tanh_h = 1 - s.h_tilde ** 2
    assert sympy.expand(terms["via_r"] - s.z * tanh_h * s.U_h * s.h_prev * sigma_r * s.U_r) == 0
    assert sympy.expand(terms["via_h_tilde"] - s.z * tanh_h * s.U_h * s.r) == 0
    assert sympy.expand(terms["via_z"] - (s.h_tilde - s.h_prev) * s.z * (1 - s.z) * s.U_z) == 0


def test_truncated_semantics_hold_gates_and_candidate():
    chung, torch_form = models.gru(n=2), models.gru_torch(n=2)
    z = chung.at(0).z
    assert exact.dc_dc_prev(chung, "truncated") == sympy.diag(*[1 - entry for entry in z])
    assert exact.dc_dc_prev(torch_form, "truncated") == sympy.diag(*torch_form.at(0).z)
    assert exact.multi_step(models.gru(), 0, 3, "truncated") == \
        sympy.prod([1 - models.gru().at(k, absolute=True).z for k in (1, 2, 3)])
    for gate in chung.gates:
        assert exact.d_dc_prev(chung, gate, "truncated").is_zero_matrix


def test_the_two_gru_forms_are_different_functions():
    chung, torch_form = models.gru(), models.gru_torch()
    assert set(chung.gates) == {"z", "r", "h_tilde"} and set(torch_form.gates) == {"z", "r", "n"}
    params = {name: np.full((1, 1, 1), 0.7) for name in chung.param_shapes}
    torch_params = {**params, "W_n": params["W_h"], "U_n": params["U_h"], "b_in": params["b_h"],
                    "b_hn": np.zeros((1, 1, 1))}
    inputs, initial = np.full((1, 1, 1, 1), 0.5), {"h": np.full((1, 1, 1), -0.4)}
    ours = numeric.run(chung, params, 1, None, inputs=inputs, initial=initial)[1]["h"]
    theirs = numeric.run(torch_form, {k: torch_params[k] for k in torch_form.param_shapes}, 1, None, inputs=inputs,
                         initial=initial)[1]["h"]
    assert abs(ours.item() - theirs.item()) > 1e-2


def test_gate_routes_and_readouts_belong_to_two_state_models():
    with pytest.raises(ModelError, match="has one"):
        exact.gate_route(models.gru(), "z")
    with pytest.raises(ModelError, match="no readout"):
        exact.readout(models.gru())
    with pytest.raises(ModelError, match="no gates"):
        exact.path_terms(models.rnn())
