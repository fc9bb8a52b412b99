"""The notation's reader: the symbol table, the reading rules, exact derivatives and adjoints, errors of meaning."""
import numpy as np
import pytest
import sympy

from derive import models
from derive.errors import DeriveError, NotationError, ShapeMismatchError, UnknownSymbolError
from derive.lab import numeric
from derive.notation import dsigma, dtanh, parser
from derive.notation.reader import Context, Reader
from derive.notation.statement import Spec, definition, question
from derive.notation.symbols import SymbolTable
from derive.quantity import QuantitySymbol, quantity_of, retime
from helpers import central_differences

LSTM = models.lstm_forget(bias=False)
LSTM_BIAS = models.lstm_forget()
LSTM_2 = models.lstm_forget(n=2, bias=False)
PEEPHOLE_2 = models.lstm_peephole(n=2)
RNN = models.rnn(bias=False)
RNN_CV = models.rnn(form="cv")
CHAIN = models.ff_chain()

def value(latex, model=LSTM, env=None, semantics="full", **context):
    """The SymPy value of a formula that is one expression."""
    table = SymbolTable(model, context.pop("aliases", {}), context.pop("variables", {}))
    return Reader(Context(table, **context), semantics).evaluate(parser.parse(latex), None, env or {})


def error_of(latex, model=LSTM, **context):
    with pytest.raises(DeriveError) as caught:
        value(latex, model, **context)
    return caught.value


# -- the symbol table and the reading rules ---------------------------------------------------
def test_quantities_at_times():
    s, later = LSTM.at(0), LSTM.at(1)
    assert value("c_{t-1}") == s.c_prev and value(r"\tilde{c}_t") == s.c_tilde and value("z_{f,t}") == s.z_f
    assert value("f^{t+1}") == later.f  # Greff et al.'s superscript time
    assert value("c_t^2") == s.c ** 2  # with a subscript time, a superscript is a power
    assert value("c_3") == LSTM.at(3, absolute=True).c
    assert value("c_t", env={"t": 2}) == LSTM.at(2, absolute=True).c


def test_split_weight_and_its_concatenation_with_and_without_bias():
    s = LSTM.sym
    assert value(r"W_f \cdot [h_{t-1}, x_t]") == s.W_fh * s.h_prev + s.W_fx * s.x
    assert value(r"W_f") == s.W_fh  # a lone W_f is the recurrent block
    b = LSTM_BIAS.sym
    assert value(r"W_f \cdot [h_{t-1}, x_t]", LSTM_BIAS) == b.W_fh * b.h_prev + b.W_fx * b.x  # no implicit b_f
    assert value(r"W_f \cdot [h_{t-1}, x_t] + b_f", LSTM_BIAS) == b.W_fh * b.h_prev + b.W_fx * b.x + b.b_f
    with pytest.raises(UnknownSymbolError, match="bias = false"):
        value("b_f", LSTM)  # the model was built without biases
    assert value(r"W \cdot [c_{t-1}, x_t]", RNN) == RNN.sym.W_rec * RNN.sym.c_prev + RNN.sym.W_in * RNN.sym.x


def test_functions_and_their_primes():
    z = LSTM.sym.z_f
    assert value(r"\sigma'(z_{f,t})") == dsigma(z)
    assert value(r"\tanh'(z_{f,t})") == dtanh(z) == value(r"tanh'(z_{f,t})")
    assert value(r"\sigma(z_{f,t})^2") == value(r"\sigma(z_{f,t}) \sigma(z_{f,t})")
    assert value(r"\tanh^2(z_{f,t})") == sympy.tanh(z) ** 2
    assert value(r"\arctan'(z_{f,t})") == 1 / (z ** 2 + 1)


def test_vector_products():
    s = LSTM_2.sym
    assert value(r"W_{fh} h_{t-1}", LSTM_2) == s.W_fh * s.h_prev
    assert value(r"\sigma'(z_{f,t}) \cdot W_{fh}", LSTM_2) == sympy.diag(*dsigma(s.z_f)) * s.W_fh
    assert value(r"f_t \odot c_{t-1}", LSTM_2) == s.f.multiply_elementwise(s.c_prev)
    assert value(r"W_{fh}^T", LSTM_2) == s.W_fh.T
    assert value(r"\mathrm{diag}(f_t)", LSTM_2) == sympy.diag(*s.f)
    with pytest.raises(ShapeMismatchError, match=r"\\odot"):
        value(r"f_t \cdot c_{t-1}", LSTM_2)
    with pytest.raises(ShapeMismatchError):
        value(r"f_t + W_{fh}", LSTM_2)


def test_products_sums_and_their_order():
    s = {k: LSTM_2.at(k, absolute=True) for k in (1, 2, 3)}
    product = value(r"\prod_{k=1}^{3} W_{fh} \mathrm{diag}(f_k)", LSTM_2)
    expected = [s[k].W_fh * sympy.diag(*s[k].f) for k in (1, 2, 3)]
    assert (product - expected[2] * expected[1] * expected[0]).applyfunc(sympy.expand).is_zero_matrix  # later left
    assert not (product - expected[0] * expected[1] * expected[2]).applyfunc(sympy.expand).is_zero_matrix
    assert value(r"\sum_{k=1}^{3} f_k") == sum(LSTM.at(k, absolute=True).f for k in (1, 2, 3))
    assert value(r"\prod_{k=2}^{1} f_k") == 1


def _on_a_run(expr, model, step):
    """`expr` (time t = `step`) evaluated on draw 0 of a seeded NumPy run of the model."""
    rng = np.random.default_rng(3)
    params = numeric.draw_params(model, rng, draws=1, init="normal", scale=0.8)
    history = numeric.run(model, params, step + 1, rng)
    return numeric.evaluate(sympy.sympify(expr), model, params, history, step)[0]


def test_exact_derivatives_are_the_hand_derivations():
    """Each ∂ the notation names, against the derivative written out by hand (not by derive.exact)."""
    s = LSTM.sym
    tanh_prime = 1 - sympy.tanh(s.c_prev) ** 2
    via_h = s.W_fh * s.o_prev * tanh_prime  # ∂(W_fh h_{t-1})/∂c_{t-1}, h_{t-1} = o_{t-1} tanh(c_{t-1})
    by_hand = (s.f + s.c_prev * s.f * (1 - s.f) * via_h
               + s.c_tilde * s.i * (1 - s.i) * s.W_ih * s.o_prev * tanh_prime
               + s.i * (1 - s.c_tilde ** 2) * s.W_ch * s.o_prev * tanh_prime)
    assert sympy.expand(value(r"\frac{\partial c_t}{\partial c_{t-1}}") - by_hand) == 0
    assert value(r"\frac{\partial c_t}{\partial c_{t-1}}", semantics="truncated") == s.f
    assert sympy.expand(value(r"\frac{\partial f_t}{\partial c_{t-1}}") - s.f * (1 - s.f) * via_h) == 0
    assert sympy.expand(value(r"\frac{\partial h_t}{\partial c_t}") - s.o * (1 - sympy.tanh(s.c) ** 2)) == 0
    assert value(r"\frac{\partial c_t}{\partial c_t}") == 1
    chain = CHAIN.sym
    assert sympy.expand(value(r"\frac{\partial a_3}{\partial a_2}", CHAIN) - chain.a_3 * (1 - chain.a_3) * chain.W_3) == 0
    # σ(W_f · [h_{t-1}, x_t]) is f_t; differentiated through h_{t-1} = o_{t-1} tanh(c_{t-1}) (chain rule)
    operator = value(r"\frac{\partial}{\partial c_{t-1}}\left[\sigma(W_f \cdot [h_{t-1}, x_t])\right]")
    assert sympy.expand(operator - s.f * (1 - s.f) * via_h) == 0
    assert value(r"\frac{\partial}{\partial c_{t-1}}\left[i_t \odot \tilde{c}_t\right]", semantics="truncated") == 0


def test_a_multi_step_derivative_is_the_finite_difference_of_the_unrolled_cell():
    """∂c_4/∂c_1 as the notation reads it, against central differences of the cell run from step 1.

    In the full semantics c_1 is perturbed as a node: h_1 = o_1 tanh(c_1) responds with it.
    """
    model = models.lstm_forget()
    read = value(r"\frac{\partial c_4}{\partial c_1}", model)
    rng = np.random.default_rng(3)
    params = numeric.draw_params(model, rng, draws=1, init="normal", scale=0.8)
    inputs = rng.normal(size=(4, 1, 1, 1))
    history = numeric.run(model, params, 4, rng, inputs=inputs)

    def c4(c1):
        initial = {"c": c1.reshape(1, 1, 1), "h": history[1]["o"] * np.tanh(c1.reshape(1, 1, 1))}
        return numeric.run(model, params, 3, rng, inputs=inputs[1:], initial=initial)[-1]["c"].ravel()

    expected = central_differences(c4, history[1]["c"].ravel())[0, 0]
    assert abs(numeric.evaluate(read, model, params, history, 0)[0] - expected) < 1e-7


def test_relative_multi_step_is_the_absolute_one_moved():
    relative = value(r"\frac{\partial c_t}{\partial c_{t-2}}")
    absolute = value(r"\frac{\partial c_5}{\partial c_3}")
    assert relative.xreplace({sym: retime(sym, absolute_base=5) for sym in relative.free_symbols}) \
        == absolute


def test_adjoints():
    for latex, name, time in ((r"\delta c^t", "c", 0), (r"\delta \bar{o}^{t+1}", "o_bar", 1)):
        read = value(latex, PEEPHOLE_2)
        assert [quantity_of(e) for e in read] == [quantity_of(e).__class__(name, time, False, (k,), True)
                                                  for k, e in enumerate(read, 1)]
    assert value(r"\delta y^t", PEEPHOLE_2, aliases={"y": "h"}) == value(r"\delta h^t", PEEPHOLE_2)


def test_aliases_definitions_and_index_values():
    s = LSTM.sym
    assert value("s_{t-1}", aliases={"s": "c"}) == s.c_prev
    assert value("v_t", aliases={"v": "z_f"}) == s.z_f
    assert value(r"g'(z_{f,t})", aliases={"g": r"\sigma"}) == dsigma(s.z_f)
    key, defined = definition(parser.parse("A_t"), parser.parse(r"f_t \cdot c_{t-1}"))
    assert key == "A" and defined.parameter == "t"
    assert value("A_{t+1}", definitions={"A": defined}) == LSTM.at(1).f * s.c
    assert value("w^{t'-t}", RNN_CV, env={"t'": 3, "t": 1}) == RNN_CV.sym.w ** 2


# -- errors of meaning ---------------------------------------------------------------------
def test_unknown_symbols_list_what_the_model_knows():
    error = error_of("g_t + f_t")
    assert isinstance(error, UnknownSymbolError) and "unknown symbol g_{t}" in str(error)
    for known in ("c_t", r"\tilde{c}_t", "z_{f,t}", "W_f = [W_{fh}, W_{fx}]", r"\sigma", "x_t"):
        assert known in str(error)
    assert "p_i" in str(error_of("q_t", PEEPHOLE_2)) and "R_o" in str(error_of("q_t", PEEPHOLE_2))
    assert error.position == 0


@pytest.mark.parametrize("latex, fragment", [
    ("c", "needs a time"),
    ("c_k", "the index k has no value"),
    ("c_{t+t}", "two times relative to t cannot be added"),
    ("w^{t}", "t is the claim's time step"),
    (r"\sigma + 1", "needs its argument"),
    (r"c_t'", "a prime marks the derivative of a function"),
    (r"c_t^{0.5}", "whole number"),
    (r"\dots + c_t", "dots"),
    (r"c_t \cdot \dots", "only be a term of a sum"),
    (r"\delta (c_t + 1)", r"\delta marks the adjoint"),
    (r"\frac{\partial c_t}{\partial (c_{t-1} + 1)}", "one quantity"),
    (r"\frac{\partial c_3}{\partial o_0}", "step 0 holds only the initial state"),
    (r"c_{99}", "beyond"),
    (r"\prod_{k=1}^{100} f_k", "beyond"),
    (r"\prod_{k=-20}^{20} f_k", "limit"),
    (r"W_{fh}_{t}", "double subscript"),
])
def test_meaning_errors(latex, fragment):
    error = error_of(latex, RNN_CV if latex.startswith("w^") else LSTM)
    assert fragment in str(error), str(error)
    assert not isinstance(error, NotationError) or error.position is not None or "subscript" in str(error)


def test_variables_cannot_hide_model_quantities():
    with pytest.raises(NotationError, match="hide"):
        SymbolTable(LSTM, variables={"f": sympy.Symbol("f")})


def test_alias_to_unknown_target_lists_known():
    with pytest.raises(UnknownSymbolError, match="knows"):
        SymbolTable(LSTM, aliases={"s": "q"})


def test_sides_of_different_shapes_are_refused():
    spec = Spec(parser.parse(r"\frac{\partial c_t}{\partial c_{t-1}} = c_{t-1}^T"), LSTM_2)
    with pytest.raises(ShapeMismatchError, match="different shapes.*1×2.*2×2"):
        question(spec)
