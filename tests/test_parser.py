"""The notation's parser and reader: the articles' formulas, the symbol table, every error path, fuzzing."""
import lark
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import exact, models
from derive.exact import adjoints
from derive.notation import parser
from derive.errors import (DeriveError, FormulaSyntaxError, InputTooLargeError, NotationError, ShapeMismatchError,
                           UnknownSymbolError)
from derive.notation.reader import Context, Reader
from derive.notation import dsigma, dtanh
from derive.notation.statement import Spec, definition, question
from derive.notation.symbols import SymbolTable
from derive.quantity import retime

LSTM = models.lstm_forget(bias=False)
LSTM_BIAS = models.lstm_forget()
LSTM_2 = models.lstm_forget(n=2, bias=False)
PEEPHOLE_2 = models.lstm_peephole(n=2)
RNN = models.rnn(bias=False)
RNN_CV = models.rnn(form="cv")
CHAIN = models.ff_chain()

# Formulas as the articles print them (Arbel writes tanh without a backslash, \big( and \left[).
ARTICLE_FORMULAS = [
    r"\frac{\partial c_t}{\partial c_{t-1}} = \sigma'(W_{rec} \cdot c_{t-1} + W_{in} \cdot x_t) \cdot W_{rec}",
    r"c_t = c_{t-1} \otimes f_t \oplus \tilde{c}_t \otimes i_t",
    r"tanh(W_c \cdot [h_{t-1}, x_t]) \otimes \sigma(W_i \cdot [h_{t-1}, x_t])",
    r"f_t = \sigma \big( W_f \cdot [h_{t-1}, x_t] \big)",
    r"\frac{\partial c_k}{\partial c_1} = \prod_{t=2}^k \left[A_t + B_t + C_t + D_t\right]",
    r"\frac{\partial E_k}{\partial W} = \frac{\partial E_k}{\partial h_k} \frac{\partial h_k}{\partial c_k}"
    r"\left(\prod_{t=2}^k \frac{\partial c_t}{\partial c_{t-1}}\right) \frac{\partial c_1}{\partial W}",
    r"\frac{\partial h_{t'}}{\partial h_t} = \prod_{k=1}^{t' - t} w \sigma'(w h_{t'-k}) "
    r"= w^{t' - t}\prod_{k=1}^{t' - t} \sigma'(w h_{t'-k})",
    r"\delta c^t = \dots + \delta c^{t+1} \odot f^{t+1}",
    r"\left|\frac{\partial h_t}{\partial c_t}\right| \le 1",
    r"\frac{\partial f_t}{\partial c_{t-1}} \cdot c_{t-1} = \frac{\partial}{\partial c_{t-1}} "
    r"\left[ \sigma \big( W_f \cdot [h_{t-1}, x_t] \big) \right] \cdot c_{t-1}",
    r"\sigma'(z) < 0.25",
    r"W_{\mathrm{rec}}^\top c_{t-1} \ge -\frac{1}{2}\,x_t",
]


def value(latex, model=LSTM, env=None, semantics="full", **context):
    """The SymPy value of a formula that is one expression."""
    table = SymbolTable(model, context.pop("aliases", {}), context.pop("variables", {}))
    return Reader(Context(table, **context), semantics).evaluate(parser.parse(latex), None, env or {})


def error_of(latex, model=LSTM, **context):
    with pytest.raises(DeriveError) as caught:
        value(latex, model, **context)
    return caught.value


# -- parsing -------------------------------------------------------------------------------
@pytest.mark.parametrize("latex", ARTICLE_FORMULAS)
def test_the_articles_formulas_parse(latex):
    formula = parser.parse(latex)
    assert formula.text == latex and isinstance(formula.tree, lark.Tree)


def test_relations_and_members():
    tree = parser.parse(r"a = b = c").tree
    assert [str(t) for t in tree.children if isinstance(t, lark.Token)] == ["=", "="]
    for relation in (r"\le", r"\leq", "<", r"\ge", ">"):
        assert str(parser.parse(f"a {relation} 1").tree.children[1]) == relation


def test_spellings_that_mean_the_same_name_normalize_alike():
    assert parser.text_of(parser.parse("E_k").tree) == parser.text_of(parser.parse("E_{k}").tree)
    assert parser.text_of(parser.parse(r"W_{\mathrm{rec}}").tree) == parser.text_of(parser.parse("W_{rec}").tree)


def test_left_is_not_read_as_le():
    assert parser.parse(r"\left(a\right) = b")
    with pytest.raises(FormulaSyntaxError, match=r"unknown command \\lefty"):
        parser.parse(r"\lefty = 1")


@pytest.mark.parametrize("latex, fragment, column", [
    (r"\frac{a}{b", "ends too early", 11),
    (r"c_t = }", "unexpected '}'", 7),
    (r"\sigma'(z", "ends too early", 10),
    (r"a^b^c = 1", "double superscript", 4),
    (r"a_b_c = 1", "double subscript", 4),
    (r"f^2' = 1", "prime after a superscript", 4),
    (r"\foo{x} = 1", r"unknown command \foo", 1),
    (r"\text{everywhere} = 1", r"\text is prose", 1),
    ("σ'(z) = 1", r"write \sigma", 1),
    ("a = b % comment", "no meaning", 7),
    ("a = b\n\n+ c", "empty line", 1),
    ("", "empty", 1),
])
def test_syntax_errors_say_where(latex, fragment, column):
    with pytest.raises(FormulaSyntaxError) as caught:
        parser.parse(latex)
    error = caught.value
    assert fragment in str(error)
    assert parser.locate(latex, error.position)[1] == column
    assert parser.caret(latex, error.position).splitlines()[-1].strip() == "^"


def test_the_caret_is_under_the_culprit():
    latex = r"\frac{\partial c_t}{\partial c_{t-1}} = f_t \cdot (1 + o_t}"
    with pytest.raises(FormulaSyntaxError) as caught:
        parser.parse(latex)
    shown, mark = parser.caret(latex, caught.value.position).splitlines()
    assert shown.strip() == latex and shown[mark.index("^")] == "}"


def test_oversized_and_overnested_formulas_are_refused():
    with pytest.raises(InputTooLargeError):
        parser.parse("a + " * 1001 + "a = 1")
    with pytest.raises(FormulaSyntaxError, match="nested too deeply"):
        parser.parse("{" * 60 + "a" + "}" * 60 + " = 1")


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


def test_exact_derivatives():
    s = LSTM.sym
    assert value(r"\frac{\partial c_t}{\partial c_{t-1}}") == exact.dc_dc_prev(LSTM, "full")
    assert value(r"\frac{\partial c_t}{\partial c_{t-1}}", semantics="truncated") == s.f
    assert value(r"\frac{\partial f_t}{\partial c_{t-1}}") == exact.d_dc_prev(LSTM, "f")
    assert value(r"\frac{\partial c_4}{\partial c_1}") == exact.multi_step(LSTM, 1, 4)
    assert value(r"\frac{\partial h_t}{\partial c_t}") == exact.output_derivative(LSTM)
    assert value(r"\frac{\partial c_t}{\partial c_t}") == 1
    assert value(r"\frac{\partial a_3}{\partial a_2}", CHAIN) == exact.node_derivative(CHAIN, "a_3", "a_2")
    # σ(W_f · [h_{t-1}, x_t]) is f_t; differentiated through h_{t-1} = o_{t-1} tanh(c_{t-1}) (chain rule)
    operator = value(r"\frac{\partial}{\partial c_{t-1}}\left[\sigma(W_f \cdot [h_{t-1}, x_t])\right]")
    assert sympy.expand(operator - s.f * (1 - s.f) * s.W_fh * s.o_prev * dtanh(s.c_prev)) == 0
    mixed = value(r"\frac{\partial}{\partial c_{t-1}}\left[i_t \odot \tilde{c}_t + x_t\right]")
    assert sympy.expand(mixed - exact.d_dc_prev(LSTM, "i") * s.c_tilde
                        - exact.d_dc_prev(LSTM, "c_tilde") * s.i) == 0
    assert value(r"\frac{\partial}{\partial c_{t-1}}\left[i_t \odot \tilde{c}_t\right]", semantics="truncated") == 0


def test_relative_multi_step_is_the_absolute_one_moved():
    relative = value(r"\frac{\partial c_t}{\partial c_{t-2}}")
    absolute = value(r"\frac{\partial c_5}{\partial c_3}")
    assert relative.xreplace({sym: retime(sym, absolute_base=5) for sym in relative.free_symbols}) \
        == absolute


def test_adjoints():
    assert value(r"\delta c^t", PEEPHOLE_2) == adjoints.delta(PEEPHOLE_2, "c", 0)
    assert value(r"\delta \bar{o}^{t+1}", PEEPHOLE_2) == adjoints.delta(PEEPHOLE_2, "o_bar", 1)
    assert value(r"\delta y^t", PEEPHOLE_2, aliases={"y": "h"}) == adjoints.delta(PEEPHOLE_2, "h", 0)


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
    (r"\delta W_{fh}", r"\delta marks the adjoint"),
    (r"\frac{\partial c_t}{\partial (c_{t-1} + 1)}", "one quantity"),
    (r"\frac{\partial c_t}{\partial f_{t-1}}", "no exact"),
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
    spec = Spec(parser.parse(r"\frac{\partial c_t}{\partial c_{t-1}} = f_t"), LSTM_2)
    with pytest.raises(ShapeMismatchError, match="different shapes.*2×1.*2×2"):
        question(spec)


# -- fuzzing: random and mutated LaTeX only ever raise derive's own errors ----------------------
TOKENS = [r"\frac", "{", "}", "(", ")", "[", "]", "_", "^", "'", r"\partial", r"\cdot", r"\odot", r"\otimes",
          r"\oplus", "c_t", "t-1", "=", r"\le", "<", "+", "-", r"\prod_{k=1}^{3}", r"\sum", r"\sigma", r"\tanh",
          "tanh", r"\delta", r"\dots", "0", "1.5", r"\tilde{c}", "W_f", "[h_{t-1}, x_t]", ",", r"\left(",
          r"\right)", r"\left|", r"\right|", "k", "t'", r"\mathrm{rec}", "T", r"\top", " ", r"\,", "|", "x_t",
          "99999999999", "^{-70}", "/", "0", r"\big(", "f^{t+1}", r"\bar{o}", "%", "\\", "σ", "\n"]
SEEDS = ARTICLE_FORMULAS + [
    r"A_t = \sigma'(W_f \cdot [h_{t-1}, x_t]) \cdot W_f \cdot o_{t-1} \otimes \tanh'(c_{t-1}) \cdot c_{t-1}",
    r"\frac{\partial}{\partial c_{t-1}}\left[i_t \odot \tilde{c}_t\right] = 0"]
FUZZ_MODELS = [LSTM, LSTM_2, PEEPHOLE_2, RNN, RNN_CV, CHAIN]


def _read(latex, model):
    formula = parser.parse(latex)
    spec = Spec(formula, model, values={"k": 2, "t'": 2} if "k" in latex or "t'" in latex else {},
                dots=parser.parse("c_t"))
    return question(spec)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=14).map("".join) | st.text(max_size=60))
def test_random_text_gives_only_clean_errors(text):
    try:
        parser.parse(text)
    except DeriveError:
        pass


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 2), st.sampled_from(TOKENS)),
                                        max_size=3), st.sampled_from(FUZZ_MODELS))
def test_mutated_formulas_give_only_clean_errors(seed, edits, model):
    text = seed
    for position, kind, token in edits:
        position %= len(text) + 1
        text = text[:position] + token + text[position:] if kind == 0 else \
            text[:position] + text[position + 1 + kind:] if kind == 1 else text[:position] + token
    try:
        _read(text, model)
    except DeriveError:
        pass
