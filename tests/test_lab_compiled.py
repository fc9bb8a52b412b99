"""The numba-compiled chain computes what the NumPy chain computes."""
import numpy as np
import pytest

from derive import models
from derive.errors import ModelError
from derive.lab import compiled, numeric
from derive.notation import recurrence

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba is not installed")


@pytest.mark.parametrize("build, semantics", [
    (lambda: models.lstm_forget(n=3), "full"), (lambda: models.lstm_forget(n=3), "truncated"),
    (lambda: models.lstm_peephole(n=3), "full"), (lambda: models.lstm_1997(n=2, bias=False), "full"),
    (lambda: models.rnn(n=3, activation="tanh"), "full"),
])
def test_compiled_chain_equals_the_numpy_chain(build, semantics):
    model = build()
    rng = np.random.default_rng(0)
    params = numeric.draw_params(model, rng, draws=2, init="normal", scale=0.9)
    inputs = rng.normal(size=(40, 2, model.m, 1))
    initial = {s: rng.normal(size=(2, model.n, 1)) * 0.5 for s in model.state}
    expected = numeric.chain(model, params, 40, rng, semantics=semantics, inputs=inputs, initial=initial,
                             record_every=0)
    jacobian, log10_scale = compiled.chain(model, params, 40, inputs, initial, semantics=semantics)
    ours = jacobian * 10.0 ** log10_scale[:, None, None]
    theirs = expected.jacobian * 10.0 ** expected.log10_scale[:, None, None]
    assert np.abs(ours - theirs).max() <= 1e-12 * np.abs(theirs).max()


def test_compiled_chain_keeps_its_scale_over_spans_that_underflow():
    model = models.rnn(n=4)
    rng = np.random.default_rng(1)
    params = numeric.draw_params(model, rng, draws=1)
    inputs = rng.normal(size=(3000, 1, 4, 1))
    initial = {"c": np.zeros((1, 4, 1))}
    jacobian, log10_scale = compiled.chain(model, params, 3000, inputs, initial)
    expected = numeric.chain(model, params, 3000, rng, inputs=inputs, initial=initial, record_every=0)
    ours = np.log10(np.linalg.norm(jacobian[0], 2)) + log10_scale[0]
    theirs = np.log10(np.linalg.norm(expected.jacobian[0], 2)) + expected.log10_scale[0]
    assert ours < -1000 and np.isfinite(ours)
    assert abs(ours - theirs) < 1e-9 * abs(theirs)


@pytest.mark.parametrize("build", [models.gru, models.gru_torch])
def test_the_grus_are_refused_cleanly(build):
    """Their weights do not all sit in pre-activations Σ W·(state or input), the form the kernel generates."""
    model = build(n=2)
    rng = np.random.default_rng(0)
    params = numeric.draw_params(model, rng, draws=1)
    with pytest.raises(ModelError, match="numeric.chain"):
        compiled.chain(model, params, 5, rng.normal(size=(5, 1, 2, 1)), {"h": np.zeros((1, 2, 1))})


def test_a_model_of_equations_compiles_when_its_weights_sit_in_pre_activations():
    model = recurrence.model_of(dict(equations=[r"a_t = W h_{t-1} + U x_t + b", r"h_t = \tanh(a_t)"], state=["h"],
                                     inputs=["x"], n=3))
    rng = np.random.default_rng(2)
    params = numeric.draw_params(model, rng, draws=2)
    inputs, initial = rng.normal(size=(30, 2, 3, 1)), {"h": rng.normal(size=(2, 3, 1)) * 0.5}
    expected = numeric.chain(model, params, 30, rng, inputs=inputs, initial=initial, record_every=0)
    jacobian, log10_scale = compiled.chain(model, params, 30, inputs, initial)
    theirs = expected.jacobian * 10.0 ** expected.log10_scale[:, None, None]
    assert np.abs(jacobian * 10.0 ** log10_scale[:, None, None] - theirs).max() <= 1e-12 * np.abs(theirs).max()
    one_line = recurrence.model_of(dict(equations=[r"h_t = \tanh(W h_{t-1} + U x_t + b)"], state=["h"], inputs=["x"],
                                        n=3))
    with pytest.raises(ModelError, match="pre-activation"):
        compiled.chain(one_line, params, 30, inputs, initial)
