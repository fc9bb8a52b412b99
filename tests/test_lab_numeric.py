"""The numeric chain: exact against differences and PyTorch, log-scale over long spans, seeded draws."""
import numpy as np
import pytest
import torch

from derive import models
from derive.lab import numeric
from derive.lab.linearization import linearization
from derive.lab.peers import torch_lstm_cell
from helpers import assert_jacobian

MODELS = [
    lambda: models.rnn(n=3), lambda: models.rnn(n=3, activation="tanh"), lambda: models.rnn(n=2, form="cv"),
    lambda: models.lstm_1997(n=3), lambda: models.lstm_forget(n=3), lambda: models.lstm_peephole(n=3),
    lambda: models.gru(n=3), lambda: models.gru_torch(n=3), lambda: models.gru(n=2, m=3),
]


@pytest.mark.parametrize("build", MODELS)
def test_chain_equals_central_differences(build):
    model = build()
    rng = np.random.default_rng(0)
    params = numeric.draw_params(model, rng, draws=1, init="normal", scale=0.9)
    initial = {s: rng.normal(size=(1, model.n, 1)) * 0.5 for s in model.state}
    inputs = rng.normal(size=(6, 1, model.m, 1))
    result = numeric.chain(model, params, 6, rng, inputs=inputs, initial=initial)
    first = model.state[0]

    def final(c):
        state = dict(initial)
        state[first] = c.reshape(1, model.n, 1)
        return numeric.run(model, params, 6, rng, inputs=inputs, initial=state)[-1][first].ravel()
    exact = result.jacobian[0] * 10 ** result.log10_scale[0]
    assert_jacobian(final, initial[first].ravel(), exact, rtol=1e-6)


def test_truncated_chain_is_the_product_of_forget_gates():
    model = models.lstm_forget(n=4)
    rng = np.random.default_rng(1)
    params = numeric.draw_params(model, rng, draws=3)
    inputs = rng.normal(size=(20, 3, 4, 1))
    history = numeric.run(model, params, 20, rng, inputs=inputs)
    result = numeric.chain(model, params, 20, rng, semantics="truncated", inputs=inputs)
    product = np.prod([history[k]["f"][..., 0] for k in range(1, 21)], axis=0)
    ours = result.jacobian * (10 ** result.log10_scale)[:, None, None]
    assert np.allclose(ours, np.eye(4) * product[:, :, None], rtol=1e-10)


@pytest.mark.parametrize("build, kept", [(models.gru, lambda z: 1 - z), (models.gru_torch, lambda z: z)])
def test_truncated_chain_of_a_gru_is_the_product_of_its_update_gates(build, kept):
    model = build(n=4)
    rng = np.random.default_rng(5)
    params = numeric.draw_params(model, rng, draws=3)
    inputs = rng.normal(size=(25, 3, 4, 1))
    history = numeric.run(model, params, 25, rng, inputs=inputs)
    result = numeric.chain(model, params, 25, rng, semantics="truncated", inputs=inputs)
    product = np.prod([kept(history[k]["z"][..., 0]) for k in range(1, 26)], axis=0)
    ours = result.jacobian * (10 ** result.log10_scale)[:, None, None]
    assert np.allclose(ours, np.eye(4) * product[:, :, None], rtol=1e-10)


def test_a_weight_times_a_gated_state_is_a_composite_product():
    """Chung's U_h (r_t ⊙ h_{t-1}): the block carries U_h (diag(r_t) + diag(h_{t-1} σ'(a_r)) U_r); PyTorch's form
    multiplies h_{t-1} alone and needs none."""
    (composite,) = linearization(models.gru(n=2)).chain_plan("full").composite
    assert composite.weight == "U_h" and set(composite.states) == {"h"}
    assert list(composite.products) == [("state", "h", linearization(models.gru(n=2)).chain_plan("full")
                                         .weights["h"].index("U_r"))]
    assert not linearization(models.gru_torch(n=2)).chain_plan("full").composite
    assert not linearization(models.gru(n=2)).chain_plan("truncated").composite  # the candidate is held


def test_log_scale_tracking_survives_a_span_that_underflows_float64():
    """σ'(z) w over 3000 steps is about 1e-2000: float64 gives 0; the chain gives its log10 exactly."""
    model = models.rnn(form="cv")
    w = 0.5
    params = {"w": np.full((1, 1, 1), w)}
    initial = {"h": np.full((1, 1, 1), 0.3)}
    steps = 3000
    result = numeric.chain(model, params, steps, np.random.default_rng(0), inputs="zero", initial=initial)
    history = numeric.run(model, params, steps, np.random.default_rng(0), inputs="zero", initial=initial)
    factors = np.array([w * history[k]["h"][0, 0, 0] * (1 - history[k]["h"][0, 0, 0]) for k in range(1, steps + 1)])
    assert np.prod(factors) == 0.0  # the naive product underflows
    expected = np.sum(np.log10(np.abs(factors)))
    assert expected < -1000
    assert np.isfinite(result.log10_norms[-1, 0])
    assert abs(result.log10_norms[-1, 0] - expected) < 1e-8 * abs(expected)
    assert np.all(np.diff(result.log10_norms[:, 0]) < 0)


def test_log_scale_tracking_survives_a_span_that_overflows_float64():
    model = models.rnn(n=32, activation="tanh")
    rng = np.random.default_rng(2)
    params = numeric.draw_params(model, rng, draws=2, recurrent_norm=8.0)
    result = numeric.chain(model, params, 4000, rng, record_every=1000)
    assert np.all(np.isfinite(result.log10_norms))
    assert np.all(result.log10_norms[-1] > 320)  # beyond float64's largest number, 1.8e308


def test_chain_agrees_with_torch_autograd_n16_t50():
    model = models.lstm_forget(n=16)
    rng = np.random.default_rng(4)
    params = numeric.draw_params(model, rng, draws=1)
    steps = 50
    inputs = rng.normal(size=(steps, 1, 16, 1))
    c0, h0 = rng.normal(size=(16,)) * 0.5, rng.normal(size=(16,)) * 0.5
    cell = torch_lstm_cell(params)
    xs = torch.tensor(inputs[:, 0, :, 0])

    def unrolled(c_start):
        h, c = torch.tensor(h0)[None], c_start[None]
        for x in xs:
            h, c = cell(x[None], (h, c))
        return c[0]
    expected = torch.autograd.functional.jacobian(unrolled, torch.tensor(c0), vectorize=True).numpy()
    result = numeric.chain(model, params, steps, rng, inputs=inputs,
                           initial={"c": c0.reshape(1, 16, 1), "h": h0.reshape(1, 16, 1)})
    ours = result.jacobian[0] * 10 ** result.log10_scale[0]
    assert np.abs(ours - expected).max() <= 1e-10 * np.abs(expected).max()


def test_draws_are_seeded_and_initialisations_do_what_they_say():
    model = models.lstm_forget(n=8)
    a = numeric.draw_params(model, np.random.default_rng(9), draws=2)
    b = numeric.draw_params(model, np.random.default_rng(9), draws=2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert np.abs(a["W_fh"]).max() <= 1 / np.sqrt(8)  # PyTorch: U(-1/√n, 1/√n)
    orthogonal = numeric.draw_params(model, np.random.default_rng(1), draws=2, orthogonal=True)
    q = orthogonal["W_fh"]
    assert np.allclose(q @ np.swapaxes(q, -1, -2), np.eye(8))
    scaled = numeric.draw_params(model, np.random.default_rng(1), draws=2, recurrent_norm=3.0)
    assert np.allclose(np.linalg.norm(scaled["W_ih"], 2, axis=(-2, -1)), 3.0)
    assert not np.allclose(np.linalg.norm(scaled["W_ix"], 2, axis=(-2, -1)), 3.0)  # input weights untouched
    biased = numeric.draw_params(model, np.random.default_rng(1), forget_bias=3.0)
    assert np.all(biased["b_f"] == 3.0)


def test_long_spans_and_large_sizes_run_in_bounded_memory():
    """T = 10,000 steps at n = 8 and a few steps at n = 256, every block and both semantics."""
    model = models.lstm_forget(n=8)
    rng = np.random.default_rng(3)
    params = numeric.draw_params(model, rng, draws=3, forget_bias=1.0)
    for semantics in ("full", "truncated"):
        result = numeric.chain(model, params, 10_000, rng, semantics=semantics, record_every=1000, target="h")
        assert result.log10_norms.shape == (10, 3) and np.all(np.isfinite(result.log10_norms))
        assert set(result.blocks) == {"c", "h"}
    big = models.lstm_forget(n=256)
    params = numeric.draw_params(big, rng, draws=1)
    result = numeric.chain(big, params, 5, rng, record_every=0)
    assert result.jacobian.shape == (1, 256, 256) and np.all(np.isfinite(result.jacobian))
