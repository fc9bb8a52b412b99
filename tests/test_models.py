"""Models: the traced SymPy equations are the NumPy cells, in every shape and option."""
import numpy as np
import pytest
import sympy

from derive import models
from derive.lab import numeric
from derive.rules import Sigmoid, namespace
from derive.errors import ModelError
from derive.quantity import quantity_of

BUILDERS = [
    lambda n: models.rnn(n=n),
    lambda n: models.rnn(n=n, activation="tanh"),
    lambda n: models.rnn(n=n, form="cv"),
    lambda n: models.lstm_1997(n=n),
    lambda n: models.lstm_forget(n=n),
    lambda n: models.lstm_forget(n=n, bias=False),
    lambda n: models.lstm_peephole(n=n),
    lambda n: models.gru(n=n),
    lambda n: models.gru_torch(n=n, bias=False),
]


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_traced_equations_compute_what_the_cell_computes(build, n):
    model = build(n)
    rng = np.random.default_rng(n)
    params = numeric.draw_params(model, rng, draws=2, init="normal", scale=0.7)
    history = numeric.run(model, params, 3, rng, initial={s: rng.normal(size=(2, n, 1)) for s in model.state})
    for name, expanded in model.expanded(0).items():
        for row in range(n):
            entry = expanded[row, 0]
            value = numeric.evaluate(entry, model, params, history, 2)
            assert np.allclose(value, history[2][name][:, row, 0], rtol=1e-12, atol=1e-12), name


@pytest.mark.parametrize("build", BUILDERS)
def test_the_one_unit_program_is_the_step_with_its_products_kept(build):
    """Multiplying each product out gives the traced equations back."""
    model = build(1)
    products: dict = {}
    for product in model.program.products:
        weight = model.params[product.weight][0, 0]
        products[product.symbol[0, 0]] = weight * product.operand[0, 0].xreplace(products)
    for name, definition in model.program.equations.items():
        assert sympy.expand(definition[0, 0].xreplace(products) - model.equations[name][0, 0]) == 0, name


def test_forget_lstm_equations_read_like_the_paper():
    model = models.lstm_forget()
    s = model.sym
    assert list(model.equations) == ["z_f", "f", "z_i", "i", "z_c", "c_tilde", "z_o", "o", "c", "h"]
    assert sympy.expand(model.equations["c"][0, 0] - (s.f * s.c_prev + s.i * s.c_tilde)) == 0
    assert sympy.expand(model.equations["z_f"][0, 0] - (s.W_fh * s.h_prev + s.W_fx * s.x + s.b_f)) == 0
    assert model.gates == ("f", "i", "c_tilde", "o")


def test_vector_models_have_matrix_weights_and_vector_gates():
    model = models.lstm_peephole(n=3, m=2)
    assert model.params["R_f"].shape == (3, 3)
    assert model.params["W_f"].shape == (3, 2)
    assert model.params["p_f"].shape == (3, 1)
    assert model.equations["f"].shape == (3, 1)
    assert isinstance(model.at(0).f, sympy.Matrix)


def test_without_biases_the_biases_are_gone():
    model = models.lstm_forget(bias=False)
    assert not any(name.startswith("b") for name in model.params)
    assert "b_f" in model.removed
    s = model.sym
    assert sympy.expand(model.equations["z_f"][0, 0] - (s.W_fh * s.h_prev + s.W_fx * s.x)) == 0


def test_time_indices_and_absolute_steps_are_distinct_symbols():
    lstm = models.lstm_forget()
    assert lstm.at(0).c_prev == lstm.at(-1).c
    assert lstm.at(3, absolute=True).f != lstm.at(3).f
    chain = models.ff_chain()
    rnn = models.rnn(form="cv")
    # the blog's z_1 (first layer) is not the RNN's z at step 1, though both print as z_{1}
    assert chain.sym.z_1 != rnn.at(1, absolute=True).z
    assert sympy.latex(chain.sym.z_1) == sympy.latex(rnn.at(1, absolute=True).z) == "z_{1}"
    assert quantity_of(rnn.at(1, absolute=True).z).absolute


def test_resized_keeps_the_options():
    model = models.rnn(activation="tanh", bias=False).resized(4)
    assert model.n == 4 and model.activation == "tanh" and not model.bias


@pytest.mark.parametrize("call, message", [
    (lambda: models.lstm_forget(n=0), "n must be a positive whole number"),
    (lambda: models.rnn(activation="relu"), "activation must be"),
    (lambda: models.rnn(form="elman"), "form must be"),
    (lambda: models.lstm_forget().shape("q"), "has no quantity"),
])
def test_bad_options_fail_with_a_clear_error(call, message):
    with pytest.raises(ModelError, match=message):
        call()


def test_large_models_do_not_trace_until_asked():
    model = models.lstm_forget(n=256)
    assert model.param_shapes["W_fh"] == (256, 256)
    assert "_traced" not in model.__dict__


def test_lambdified_sigmoid_is_stable_for_large_arguments():
    z = sympy.Symbol("z")
    function = sympy.lambdify([z], Sigmoid(z), modules=[namespace("numpy"), "numpy"])
    with np.errstate(all="raise"):
        assert function(np.array([-800.0, 0.0, 800.0])).tolist() == [0.0, 0.5, 1.0]
