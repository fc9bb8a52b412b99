"""What authors actually write: each construct of the extended notation parsed, read and given a verdict, at
n = 1 and n = 2, with the reading confirmed independently (SymPy's own calculus or finite differences);
equivalent spellings read alike (hypothesis); the readings the engine chooses are said; errors suggest."""
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import models
from derive.errors import ClaimsFileError, FormulaSyntaxError, ShapeMismatchError, UnknownSymbolError
from derive.lab import numeric
from derive.notation import claimsfile, dsigma, parser
from derive.notation.reader import Context, Reader
from derive.notation.symbols import SymbolTable, variable_symbol
from derive.verify import Settings, verify
from helpers import central_differences

FAST = Settings(points=20)
HEAD = '[source]\nkey = "mine"\ntitle = "My notes"\nsite = "my blog"\n'
Z = variable_symbol("z")


def claim(latex, extra, claim_id="mine.one"):
    return HEAD + f'\n[[claim]]\nid = "{claim_id}"\nwhere = "eq. (1)"\nlatex = \'\'\'{latex}\'\'\'\n{extra}\n'


def readings(entry) -> str:
    """The claim's reading with the engine's readings, once its question was built."""
    return claimsfile.reading_with_notes(entry.claim)


def entry_of(text):
    entry = claimsfile.read_text(text, "mine.toml").entries[0]
    assert entry.error is None, entry.error
    return entry


def lstm(n, name="lstm_forget"):
    return f'model = {{ name = "{name}", n = {n}, bias = false }}'


NONE = 'model = "none"\nvariables = ["z", "w"]'

# (latex, claims-file keys, verdict): every construct of the issue, one claim each, at n = 1 and n = 2.
CONSTRUCTS = [
    (r"W_{fh}^{\top} h_{t-1} = W_{fh}^\top h_{t-1}", lstm, "agrees"),
    (r"(W_{fh}^{T})^{T} = W_{fh}", lstm, "agrees"),
    (r"\sigma^{\prime}(z) = \sigma'(z)", NONE, "agrees"),
    (r"\text{diag}(f_t) = \operatorname{diag}(f_t)", lstm, "agrees"),
    (r"\mathrm{sech}^2(z) = \tanh'(z)", NONE, "agrees"),
    (r"\sigma(z) = \frac{1}{1 + e^{-z}}", NONE, "agrees"),
    (r"c_t = f_t * c_{t-1} + i_t * \tilde{c}_t", lstm, "agrees"),
    (r"\partial c_t / \partial c_{t-1} = f_t", lstm, "agrees-when-truncated"),
    (r"\dot{\sigma}(z) = \sigma(z)(1 - \sigma(z))", NONE, "agrees"),
    (r"\frac{d}{dz}\sigma(z) = \frac{d\sigma}{dz}", NONE, "agrees"),
    (r"\max_z \sigma'(z) = \frac{1}{4}", NONE, "agrees"),
    (r"\sup_z \tanh'(z) = \frac{1}{2}", NONE, "differs"),
    (r"\frac{\partial c_t}{\partial c_{t-1}} = I", lambda n: lstm(n, "lstm_1997"), "agrees-when-truncated"),
    (r"\frac{\partial h_t}{\partial c_t} = o_t \odot (\mathbf{1} - \tanh^2(c_t))", lstm, "agrees"),
    (r"|\sigma'(z) w| \le \frac{|w|}{4}", NONE, "agrees"),
    (r"\frac{\partial c_T}{\partial c_0} = \prod_{k=1}^{T} f_k", lambda n: lstm(n) + "\nvalues = { T = 3 }",
     "agrees-when-truncated"),
    (r"\frac{\partial h_t}{\partial c_t} = o_t \odot \tanh'(c_t)",
     lambda n: lstm(n, "lstm_peephole") + '\nsemantics = "truncated"', "agrees-when-truncated"),
    (r"\frac{\partial c_t}{\partial c_{t-2}} = \sigma'(z_t) W_{rec} \sigma'(z_{t-1}) W_{rec}",
     lambda n: f'model = {{ name = "rnn", n = {n}, bias = false }}', "agrees"),
]


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("latex, keys, status", CONSTRUCTS, ids=[c[0][:40] for c in CONSTRUCTS])
def test_each_construct_gets_its_verdict(latex, keys, status, n):
    entry = entry_of(claim(latex, keys(n) if callable(keys) else keys))
    assert verify(entry.claim.question(), FAST).status == status


# -- the readings, confirmed independently ----------------------------------------------------
def value(latex, model=None, variables=("z", "w"), env=None, semantics="full", aliases=None):
    table = SymbolTable(model, aliases or {}, {v: variable_symbol(v) for v in variables} if model is None else {})
    return Reader(Context(table), semantics).evaluate(parser.parse(latex), None, env or {})


@pytest.mark.parametrize("latex, closed_form", [
    (r"\mathrm{sech}^2(z)", 4 / (sympy.exp(Z) + sympy.exp(-Z)) ** 2),
    (r"e^{-z}", sympy.exp(-Z)),
    (r"\dot{\sigma}(z)", sympy.diff(1 / (1 + sympy.exp(-Z)), Z)),
    (r"\ddot{\sigma}(z)", sympy.diff(1 / (1 + sympy.exp(-Z)), Z, 2)),
    (r"\frac{d}{dz}\tanh(z)", sympy.diff(sympy.tanh(Z), Z)),
    (r"\frac{d\sigma}{dz}", sympy.diff(1 / (1 + sympy.exp(-Z)), Z)),
    (r"\frac{\partial}{\partial z} e^{z^2}", 2 * Z * sympy.exp(Z ** 2)),
])
def test_functions_and_derivatives_read_as_their_closed_forms(latex, closed_form):
    read = value(latex)
    for point in ("-1.3", "0.2", "2.1"):
        assert abs((read - closed_form).evalf(30, subs={Z: sympy.Rational(point)})) < 1e-25


def test_extrema_are_exact_and_said_in_the_reading():
    entry = entry_of(claim(r"\max_z \sigma'(z) = 0.25", NONE))
    entry.claim.question()  # read when its question is built, in the claim's own process
    assert r"\max_z \sigma'(z) = \frac{1}{4}, found exactly (attained at z = 0)" in readings(entry)
    grid = np.linspace(-8, 8, 16001)
    assert abs(np.max(np.exp(-grid) / (1 + np.exp(-grid)) ** 2) - 0.25) < 1e-8  # the same maximum, by brute force
    assert value(r"\min_z \sigma(z)^2 + 1") == 1  # approached, not attained: the infimum


@pytest.mark.parametrize("n", [1, 2])
def test_a_vector_gate_without_diag_reads_as_its_diagonal_matrix_and_says_so(n):
    entry = entry_of(claim(r"\frac{\partial c_t}{\partial c_{t-1}} = f_t", lstm(n)))
    question = entry.claim.question()
    f = models.lstm_forget(n=n, bias=False).sym.f
    assert question.hand == (sympy.diag(*f) if n > 1 else f)
    assert ("read as \\mathrm{diag}(f_t)" in readings(entry)) == (n > 1)


def test_sigma_prime_between_matrices_is_diag_each_time_and_said():
    model = models.rnn(n=2, bias=False)
    now, before = model.at(0), model.at(-1)
    latex = r"\frac{\partial c_t}{\partial c_{t-2}} = \sigma'(z_t) W_{rec} \sigma'(z_{t-1}) W_{rec}"
    entry = entry_of(claim(latex, 'model = { name = "rnn", n = 2, bias = false }'))
    expected = sympy.diag(*dsigma(now.z)) * now.W_rec * sympy.diag(*dsigma(before.z)) * now.W_rec
    assert (entry.claim.question().hand - expected).applyfunc(sympy.expand).is_zero_matrix
    assert r"\sigma'(z_{t-1}) stands between matrices: read as \mathrm{diag}(\sigma'(z_{t-1}))" in readings(entry)


def test_a_matrix_times_a_column_against_a_matrix_names_both_readings():
    text = claim(r"\frac{\partial z_t}{\partial z_{t-1}} = W_{rec} \sigma'(z_{t-1})",
                 'model = { name = "rnn", n = 2, bias = false }')
    with pytest.raises(ShapeMismatchError) as caught:
        entry_of(text).claim.question()
    message = str(caught.value)
    assert r"W_{rec} \mathrm{diag}(\sigma'(z_{t-1}))" in message and r"\mathrm{diag}(W_{rec} \sigma'(z_{t-1}))" in message
    assert "mine.toml:" in message and "^" in message  # located, with a caret


def test_a_product_of_matrix_vector_factors_is_refused_not_read_elementwise():
    text = claim(r"\frac{\partial z_t}{\partial z_{t-2}} = \prod_{i=1}^{2} W_{rec} \sigma'(z_{t-i})",
                 'model = { name = "rnn", n = 2, bias = false }')
    with pytest.raises(ShapeMismatchError, match=r"two ways: W_\{rec\} \\mathrm\{diag\}"):
        entry_of(text).claim.question()


@pytest.mark.parametrize("n", [1, 2])
def test_an_inline_fraction_is_the_finite_difference(n):
    """∂x_t/∂x_{t-1} of Pascanu's x_t = W_rec σ(x_{t-1}) + W_in u_t, written inline, on a NumPy run."""
    model = models.rnn(n=n, bias=False)
    read = value(r"\partial x_t / \partial x_{t-1}", model, aliases={"x": "z", "u": "x"})
    rng = np.random.default_rng(4)
    params = numeric.draw_params(model, rng, draws=1, init="normal", scale=0.9)
    history = numeric.run(model, params, 3, rng)
    w_rec, w_in = params["W_rec"][0], params["W_in"][0]
    exact = np.array(sympy.Matrix([read]).applyfunc(
        lambda e: numeric.evaluate(sympy.sympify(e), model, params, history, 3)[0]).tolist(), dtype=float)
    approx = central_differences(lambda z: (w_rec @ (1 / (1 + np.exp(-z.reshape(n, 1)))) + w_in @ history[3]["x"][0])
                                 .ravel(), history[2]["z"][0].ravel())
    assert np.allclose(exact.reshape(approx.shape), approx, rtol=1e-7, atol=1e-9)


# -- equivalent spellings read alike ------------------------------------------------------------
SPELLINGS = {  # a construct -> its spellings, all of which must read alike
    "transpose": [r"W_{fh}^\top", r"W_{fh}^{\top}", r"W_{fh}^T", r"W_{fh}^{T}"],
    "exp": [r"e^{z_{f,t}}", r"\exp(z_{f,t})", r"\exp\left(z_{f,t}\right)"],
    "hadamard": [r"f_t \odot c_{t-1}", r"f_t * c_{t-1}", r"f_t \ast c_{t-1}", r"f_t \circ c_{t-1}"],
    "partial": [r"\frac{\partial c_t}{\partial c_{t-1}}", r"\partial c_t / \partial c_{t-1}",
                r"\dfrac{\partial c_t}{\partial c_{t-1}}"],
    "prime": [r"\sigma'(z_{f,t})", r"\sigma^{\prime}(z_{f,t})", r"\dot{\sigma}(z_{f,t})", r"\dot\sigma(z_{f,t})"],
    "diag": [r"\mathrm{diag}(f_t)", r"\text{diag}(f_t)", r"\operatorname{diag}(f_t)"],
    "norm": [r"\|W_{fh}\|", r"\left\| W_{fh} \right\|", r"\lVert W_{fh} \rVert", r"\|W_{fh}\|_2", r"\Vert W_{fh} \Vert"],
    "abs": [r"|c_t|", r"\left| c_t \right|", r"\lvert c_t \rvert"],
}
TERMS = ["c_t", "h_{t-1}", r"\tilde{c}_t"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SPELLINGS)), st.data(), st.sampled_from([1, 2]))
def test_equivalent_spellings_give_identical_readings(construct, data, n):
    model = models.lstm_forget(n=n, bias=False)
    first, second = (data.draw(st.sampled_from(SPELLINGS[construct])) for _ in range(2))
    term = data.draw(st.sampled_from(TERMS))
    wrap = (lambda s: f"{s} + 2 {term}") if construct in ("exp", "hadamard", "abs") else (lambda s: s)
    a, b = value(wrap(first), model), value(wrap(second), model)
    difference = sympy.Matrix([a]) - sympy.Matrix([b]) if not isinstance(a, sympy.MatrixBase) else a - b
    assert difference.applyfunc(sympy.expand).is_zero_matrix, (first, second)


# -- errors suggest the nearest known names, located ----------------------------------------------
def test_an_unknown_command_suggests_the_nearest():
    with pytest.raises(FormulaSyntaxError, match=r"unknown command \\tanhh: did you mean \\tanh\?"):
        parser.parse(r"\tanhh(z) = 1")
    with pytest.raises(FormulaSyntaxError, match=r"did you mean \\sigma"):
        parser.parse(r"\sigmoid(z) = 1")


def test_an_unknown_symbol_suggests_the_nearest():
    entry = entry_of(claim(r"\frac{\partial c_t}{\partial c_{t-1}} = \tilde{C}_t", lstm(1)))
    with pytest.raises(UnknownSymbolError, match=r"unknown symbol \\tilde\{C\}_\{t\}; did you mean \\tilde\{c\}_t\?"):
        entry.claim.question()


def test_an_unknown_model_names_the_file_line_and_claim():
    text = claim("c_t = c_t", 'model = { name = "lstm_forgot" }', claim_id="mine.typo")
    line = next(k for k, row in enumerate(text.splitlines(), 1) if row.startswith("model"))
    with pytest.raises(ClaimsFileError) as caught:
        claimsfile.read_text(text, "mine.toml")
    assert str(caught.value).startswith(f"mine.toml:{line}: claim mine.typo: model")
    assert "did you mean lstm_forget" in str(caught.value)
