"""The notation's parser: the articles' formulas parse, syntax errors say where, limits, fuzzing."""
import lark
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import models
from derive.errors import DeriveError, FormulaSyntaxError, InputTooLargeError
from derive.notation import parser
from derive.notation.statement import Spec, question

LSTM = models.lstm_forget(bias=False)
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
    (r"\text{for all } t = 1", "prose is not notation", 1),
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


# -- fuzzing: random and mutated LaTeX only ever raise derive's own errors ----------------------
TOKENS = [r"\frac", "{", "}", "(", ")", "[", "]", "_", "^", "'", r"\partial", r"\cdot", r"\odot", r"\otimes",
          r"\oplus", "c_t", "t-1", "=", r"\le", "<", "+", "-", r"\prod_{k=1}^{3}", r"\sum", r"\sigma", r"\tanh",
          "tanh", r"\delta", r"\dots", "0", "1.5", r"\tilde{c}", "W_f", "[h_{t-1}, x_t]", ",", r"\left(",
          r"\right)", r"\left|", r"\right|", "k", "t'", r"\mathrm{rec}", "T", r"\top", " ", r"\,", "|", "x_t",
          "99999999999", "^{-70}", "/", "0", r"\big(", "f^{t+1}", r"\bar{o}", "%", "\\", "σ", "\n",
          # the notation's later constructs: bars, norms, Leibniz, ∂⁺, extrema, Euler's e, I, 1, Greff's Δ
          "|", r"\|", "*", r"\ast", r"\partial^+", r"\max_z", r"\sup_{z}", "e^{", r"\dot{\sigma}", r"\dot",
          r"\frac{d}{dz}", "d", "dz", r"\mathbf{1}", "I_n", "I", r"\lVert", r"\rVert", r"\Vert", r"\infty", "_F",
          r"\text{diag}", r"\mathrm{sech}", r"\Delta^t", r"\delta W_z", r"^{\prime}", r"^{\top}", r"\bigl|"]
SEEDS = ARTICLE_FORMULAS + [
    r"A_t = \sigma'(W_f \cdot [h_{t-1}, x_t]) \cdot W_f \cdot o_{t-1} \otimes \tanh'(c_{t-1}) \cdot c_{t-1}",
    r"\frac{\partial}{\partial c_{t-1}}\left[i_t \odot \tilde{c}_t\right] = 0",
    r"\left\| \frac{\partial c_{k+1}}{\partial c_k} \right\| \le \|W_{rec}^T\| \, \|\mathrm{diag}(\sigma'(z_k))\|",
    r"|\sigma'(z_t) W_{rec}| \le \frac{|W_{rec}|}{4}", r"\partial c_t / \partial c_{t-1} = f_t * 1",
    r"\delta W_{fh} = \sum_{k=1}^{2} \delta z_f^k (h^{k-1})^\top", r"\frac{d c_k}{d W_{fh}} = e^{-z_{f,k}} I_n",
    r"\frac{\partial^+ c_k}{\partial W_{fh}} = \dot{\sigma}(z_{f,k}) \mathbf{1}"]
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
