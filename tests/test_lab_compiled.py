"""The numba-compiled chain computes what the NumPy chain computes, and is compiled once per machine."""
import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_one_kernel_serves_every_size():
    for n in (2, 5, 17):  # 17: the vectorised loops' remainders
        model = models.lstm_forget(n=n)
        rng = np.random.default_rng(n)
        params = numeric.draw_params(model, rng, draws=1)
        inputs = rng.normal(size=(12, 1, n, 1))
        initial = {s: rng.normal(size=(1, n, 1)) for s in model.state}
        expected = numeric.chain(model, params, 12, rng, inputs=inputs, initial=initial, record_every=0)
        jacobian, log10_scale = compiled.chain(model, params, 12, inputs, initial)
        ours, theirs = jacobian * 10.0 ** log10_scale[:, None, None], expected.jacobian * 10.0 ** expected.log10_scale
        assert np.abs(ours - theirs).max() <= 1e-12 * np.abs(theirs).max()
    assert len({compiled._module(models.lstm_forget(n=n), "full") for n in (2, 5, 17)}) == 1


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


@pytest.mark.parametrize("scale", [0.9, 60.0])  # 60: saturated units shrink P by ~1e-40 a step, so a stretch
def test_rescaling_every_k_steps_equals_every_step(scale):  # of 8 leaves the safe range and is redone step by step
    model = models.rnn(n=4)
    rng = np.random.default_rng(2)
    params = numeric.draw_params(model, rng, draws=2, init="normal", scale=scale)
    inputs = rng.normal(size=(203, 2, 4, 1))
    initial = {"c": rng.normal(size=(2, 4, 1))}
    every_step = compiled.chain(model, params, 203, inputs, initial, every=1)
    for every in (2, 8, 64):
        jacobian, log10_scale = compiled.chain(model, params, 203, inputs, initial, every=every)
        assert np.array_equal(jacobian, every_step[0]) and np.array_equal(log10_scale, every_step[1])
    ours = np.log10(np.linalg.norm(every_step[0], 2, axis=(1, 2))) + every_step[1]
    if scale > 1:  # the case that needs the step-by-step redo: without it, stretches of 8 underflow to 0
        assert np.all(np.isfinite(ours)) and ours.max() < -3000
    else:
        expected = numeric.chain(model, params, 203, rng, inputs=inputs, initial=initial, record_every=0)
        theirs = np.log10(np.linalg.norm(expected.jacobian, 2, axis=(1, 2))) + expected.log10_scale
        assert np.allclose(ours, theirs, rtol=1e-10, atol=0)


def test_the_first_steps_multiply_a_selection_without_blas():
    module = compiled._module(models.lstm_forget(n=3), "full")
    rng = np.random.default_rng(4)
    A, rows = rng.normal(size=(10, 5)), np.empty(4, dtype=np.int64)
    selection = np.zeros((5, 4))
    selection[[3, 0, 3], [0, 1, 3]] = rng.normal(size=3)  # column 2 empty, row 3 twice (in two columns)
    Y = np.full((10, 4), np.nan)
    assert module.product(A, selection, Y, rows, True)
    assert np.array_equal(Y, A @ selection) and list(rows) == [3, 0, -1, 3]
    dense = selection.copy()
    dense[1, 0] = 0.5  # two nonzeros in column 0
    assert not module.product(A, dense, Y, rows, True) and np.allclose(Y, A @ dense, rtol=1e-15, atol=0)
    assert not module.product(A, selection, Y, rows, False)  # once dense, BLAS for the rest of the draw
    assert np.allclose(Y, A @ selection, rtol=1e-15, atol=0)


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_chains_of_a_few_steps_equal_the_numpy_chain(steps):  # the steps that multiply a selection
    model = models.lstm_forget(n=20)
    rng = np.random.default_rng(steps)
    params = numeric.draw_params(model, rng, draws=1)
    inputs = rng.normal(size=(steps, 1, 20, 1))
    initial = {s: rng.normal(size=(1, 20, 1)) for s in model.state}
    expected = numeric.chain(model, params, steps, rng, inputs=inputs, initial=initial, record_every=0)
    jacobian, log10_scale = compiled.chain(model, params, steps, inputs, initial)
    ours, theirs = jacobian * 10.0 ** log10_scale[:, None, None], expected.jacobian * 10.0 ** expected.log10_scale
    assert np.abs(ours - theirs).max() <= 1e-13 * np.abs(theirs).max()


def test_draws_in_parallel_give_the_same_numbers():
    model = models.lstm_forget(n=3)
    rng = np.random.default_rng(3)
    params = numeric.draw_params(model, rng, draws=3)
    inputs = rng.normal(size=(30, 3, 3, 1))
    initial = {s: rng.normal(size=(3, 3, 1)) for s in model.state}
    serial = compiled.chain(model, params, 30, inputs, initial)
    parallel = compiled.chain(model, params, 30, inputs, initial, parallel=True)
    assert np.array_equal(serial[0], parallel[0]) and np.array_equal(serial[1], parallel[1])


def test_bad_input_gives_a_model_error():
    model = models.rnn(n=3)
    params = numeric.draw_params(model, np.random.default_rng(0), draws=1)
    with pytest.raises(ModelError, match="shape"):
        compiled.chain(model, params, 5, np.zeros((4, 1, 3, 1)), {"c": np.zeros((1, 3, 1))})
    with pytest.raises(ModelError, match="every"):
        compiled.chain(model, params, 5, np.zeros((5, 1, 3, 1)), {"c": np.zeros((1, 3, 1))}, every=0)


RUN_ONCE = """
import json, numpy as np
from derive import models
from derive.lab import compiled, numeric
model = models.rnn(n=3, activation="tanh")
params = numeric.draw_params(model, np.random.default_rng(0), draws=1)
jacobian, scale = compiled.chain(model, params, 5, np.ones((5, 1, 3, 1)), {"c": np.zeros((1, 3, 1))})
print(json.dumps({"compiled": compiled.compilations(), "value": float(jacobian.sum() * 10 ** scale[0])}))
"""


def test_a_second_process_compiles_nothing(tmp_path):
    """The kernel and its machine code are written to the disk cache once; a later process only loads them."""
    env = {**os.environ, "DERIVE_CACHE_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}

    def run():
        output = subprocess.run([sys.executable, "-c", RUN_ONCE], env=env, capture_output=True, text=True, check=True)
        return json.loads(output.stdout.strip().splitlines()[-1])

    first, second = run(), run()
    assert first["compiled"] > 0
    assert second["compiled"] == 0
    assert second["value"] == first["value"]
    assert list(tmp_path.glob("chain_rnn_full_*.py")) and list(tmp_path.glob("__pycache__/*.nbi"))


@pytest.mark.parametrize("n", [48, 49])  # 49 on two threads: parts of 25 columns, the last padded with a zero one
def test_a_draw_in_parts_on_any_number_of_threads(n):
    """A single draw's columns run in parts, one per thread: the same Jacobian, to powers of two, as in one part."""
    import numba

    model = models.lstm_forget(n=n)
    rng = np.random.default_rng(4)
    params = numeric.draw_params(model, rng, draws=1)
    inputs = rng.normal(size=(40, 1, n, 1))
    initial = {s: rng.normal(size=(1, n, 1)) for s in model.state}
    expected = numeric.chain(model, params, 40, rng, inputs=inputs, initial=initial, record_every=0)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        alone = compiled.chain(model, params, 40, inputs, initial)
    finally:
        numba.set_num_threads(threads)
    assert len(compiled.column_parts(n)) == min(threads, n // compiled.COLUMNS_PER_PART)
    together = compiled.chain(model, params, 40, inputs, initial)
    shift = np.rint((alone[1] - together[1]) / compiled.LOG10_2).astype(int)
    assert np.abs(np.ldexp(alone[0], shift[:, None, None]) - together[0]).max() <= 1e-14 * np.abs(together[0]).max()
    ours, theirs = alone[0] * 10.0 ** alone[1][:, None, None], expected.jacobian * 10.0 ** expected.log10_scale
    assert np.abs(ours - theirs).max() <= 1e-12 * np.abs(theirs).max()


def test_the_parts_of_a_draw_cover_its_columns_once_and_none_is_empty(monkeypatch):
    """Whatever the number of threads: with 62 threads, n = 1000 in parts of 17 would leave three parts empty."""
    for threads in (1, 2, 3, 7, 62, 256):
        monkeypatch.setattr(compiled, "_threads", lambda threads=threads: threads)
        for n in (1, 15, 16, 33, 49, 64, 100, 1000, 1023):
            columns = compiled.column_parts(n)
            assert [c.start for c in columns] == [0] + [c.stop for c in columns[:-1]] and columns[-1].stop == n
            assert all(c.stop > c.start for c in columns) and len(columns) <= max(1, threads)
            assert len({c.stop - c.start for c in columns[:-1]}) <= 1
            assert compiled.column_parts(n, draws=3, parallel=False) == [slice(0, n)]


def test_importing_derive_loads_no_compiler_nor_peer():
    """numba, torch and JAX are loaded only when a chain is compiled or a peer is asked for."""
    probe = "import sys, derive, derive.lab.compiled; print(sorted({'numba', 'torch', 'jax'} & set(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                        os.environ.get("PYTHONPATH", "")])}
    output = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"


def test_a_kernel_of_equations_is_keyed_by_the_code_that_read_them():
    """The same equations read by edited notation code may give another program: its kernel is not reused."""
    model = recurrence.model_of(dict(equations=[r"a_t = W h_{t-1} + U x_t + b", r"h_t = \tanh(a_t)"], state=["h"],
                                     inputs=["x"], n=2))
    read = {path.relative_to(compiled._ROOT).as_posix() for path in compiled._sources(compiled._generators(model))}
    built = {path.relative_to(compiled._ROOT).as_posix()
             for path in compiled._sources(compiled._generators(models.rnn(n=2)))}
    assert {"derive/notation/recurrence.py", "derive/lab/compiled_source.py"} <= read
    assert {"derive/models/cells.py", "derive/lab/linearization.py"} <= built
