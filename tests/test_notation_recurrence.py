"""Models a claims file defines by its equations: the built-ins again, the generated cell, located errors, fuzz."""
import re

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import exact, models
from derive.errors import ClaimsFileError, DeriveError
from derive.exact.leaves import to_leaves
from derive.lab import numeric
from derive.models.defined import EquationModel
from derive.notation import claimsfile
from derive.verify import Settings, points, verify

HEAD = '''[source]
key = "mine"
title = "My notes"
site = "my blog"
'''
LSTM = dict(equations=[r"f_t = \sigma(W_f [h_{t-1}, x_t] + b_f)", r"i_t = \sigma(W_i [h_{t-1}, x_t] + b_i)",
                       r"\tilde{c}_t = \tanh(W_c [h_{t-1}, x_t] + b_c)", r"o_t = \sigma(W_o [h_{t-1}, x_t] + b_o)",
                       r"c_t = f_t \odot c_{t-1} + i_t \odot \tilde{c}_t", r"h_t = o_t \odot \tanh(c_t)"],
            state=["c", "h"], inputs=["x"], truncate=["f", "i", r"\tilde{c}", "o"])
GRU = dict(equations=[r"z_t = \sigma(W_z x_t + U_z h_{t-1} + b_z)", r"r_t = \sigma(W_r x_t + U_r h_{t-1} + b_r)",
                      r"\tilde{h}_t = \tanh(W_h x_t + U_h (r_t \odot h_{t-1}) + b_h)",
                      r"h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde{h}_t"],
           state=["h"], inputs=["x"], truncate=["z", "r", r"\tilde{h}"])
GRU_TORCH = dict(equations=[r"z_t = \sigma(W_z x_t + U_z h_{t-1} + b_z)", r"r_t = \sigma(W_r x_t + U_r h_{t-1} + b_r)",
                            r"n_t = \tanh(W_n x_t + b_{in} + r_t \odot (U_n h_{t-1} + b_{hn}))",
                            r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}"],
                 state=["h"], inputs=["x"], truncate=["z", "r", "n"])
RNN = dict(equations=[r"c_t = \sigma(W_{rec} c_{t-1} + W_{in} x_t + b)"], state=["c"], inputs=["x"])
TWINS = [(LSTM, models.lstm_forget), (GRU, models.gru), (GRU_TORCH, models.gru_torch), (RNN, models.rnn)]


def toml_list(items):
    return "[" + ", ".join("'''%s'''" % item for item in items) + "]"


def model_table(spec, **options):
    lines = [f"{key} = {toml_list(spec[key])}" for key in ("equations", "state", "inputs", "truncate") if key in spec]
    lines += [f"{key} = {str(value).lower() if isinstance(value, bool) else value}" for key, value in options.items()]
    return "[model]\n" + "\n".join(lines) + "\n"


def claims_file(model_text, latex=r"h_t = h_t", claim_id="mine.one"):
    return HEAD + model_text + f"\n[[claim]]\nid = \"{claim_id}\"\nwhere = \"1\"\nlatex = '''{latex}'''\n"


def defined(spec, **options) -> EquationModel:
    return claimsfile.read_text(claims_file(model_table(spec, **options)), "mine.toml").entries[0].claim.model


def same(a, b, model_a, model_b) -> bool:
    """a and b are the same expression once every node is written in the step's leaves."""
    a, b = (sympy.Matrix([x]) if not isinstance(x, sympy.MatrixBase) else x for x in (a, b))
    return sympy.expand(to_leaves(a, model_a) - to_leaves(b, model_b)).is_zero_matrix


# -- the built-ins, written as equations -----------------------------------------------------
@pytest.mark.parametrize("spec, build", TWINS, ids=["lstm_forget", "gru", "gru_torch", "rnn"])
@pytest.mark.parametrize("n", [1, 2])
def test_equations_of_a_builtin_give_its_exact_jacobians(spec, build, n):
    ours, theirs = defined(spec, n=n), build(n=n)
    assert ours.param_shapes == theirs.param_shapes
    assert ours.state == theirs.state and len(ours.gates) == len(theirs.gates)
    for semantics in ("full", "truncated"):
        assert same(exact.dc_dc_prev(ours, semantics), exact.dc_dc_prev(theirs, semantics), ours, theirs)
        for pair, block in exact.one_step_blocks(ours, semantics == "truncated").items():
            assert same(block, exact.one_step_blocks(theirs, semantics == "truncated")[pair], ours, theirs)
    if theirs.gates and n == 1:
        ours_terms, theirs_terms = exact.path_terms(ours), exact.path_terms(theirs)
        assert list(ours_terms) == list(theirs_terms)
        for name, term in theirs_terms.items():
            assert same(ours_terms[name], term, ours, theirs), name


@pytest.mark.parametrize("spec, build", TWINS, ids=["lstm_forget", "gru", "gru_torch", "rnn"])
def test_the_generated_cell_runs_as_the_builtin_cell(spec, build):
    ours, theirs = defined(spec, n=3), build(n=3)
    rng = np.random.default_rng(0)
    params = numeric.draw_params(theirs, rng, draws=2)
    inputs = rng.normal(size=(4, 2, 3, 1))
    mine = numeric.run(ours, params, 4, rng, inputs=inputs)
    builtin = numeric.run(theirs, params, 4, rng, inputs=inputs)
    for name in ours.equations:  # the same arithmetic, up to the order SymPy writes a sum in
        assert np.allclose(mine[4][name], builtin[4][name], rtol=1e-14, atol=1e-15), name
    with mpmath.workdps(30):
        precise, exact_points = points.simulate(ours, 3, np.random.default_rng(7)), \
            points.simulate(theirs, 3, np.random.default_rng(7))
    for state in ours.state:  # 30 digits, and mpmath numbers, as the verifier's points
        assert max(abs(a - b) for a, b in zip(precise.steps[3][state].ravel(), exact_points.steps[3][state].ravel())) \
            < 1e-27


def test_the_numeric_chain_of_an_equation_model_is_the_builtins():
    ours, theirs = defined(GRU, n=3), models.gru(n=3)
    rng = np.random.default_rng(3)
    params = numeric.draw_params(theirs, rng, draws=2)
    inputs = rng.normal(size=(30, 2, 3, 1))
    for semantics in ("full", "truncated"):
        a = numeric.chain(ours, params, 30, rng, semantics=semantics, inputs=inputs)
        b = numeric.chain(theirs, params, 30, rng, semantics=semantics, inputs=inputs)
        assert np.allclose(a.jacobian * 10 ** a.log10_scale[:, None, None],
                           b.jacobian * 10 ** b.log10_scale[:, None, None], rtol=1e-12, atol=0)


def test_parameter_shapes_are_inferred_from_their_use():
    model = defined(dict(equations=[r"a_t = \tanh(W x_t + U (g \odot h_{t-1}) + p \odot h_{t-1} + b)",
                                    r"h_t = a_t + V [h_{t-1}, x_t]"], state=["h"], inputs=["x"]), n=2, m=3)
    assert model.param_shapes == {"W": (2, 3), "U": (2, 2), "g": (2, 1), "p": (2, 1), "b": (2, 1), "V_h": (2, 2),
                                  "V_x": (2, 3)}
    assert model.splits == {"V": ("V_h", "V_x")}
    assert model.input_weights == {"W", "V_x"}


def test_claims_share_one_model_and_a_file_holds_several():
    text = HEAD + model_table(GRU) + "".join(
        f"\n[[claim]]\nid = \"mine.{k}\"\nwhere = \"1\"\nlatex = '''h_t = h_t'''\n" for k in range(3))
    text += "\n[[claim]]\nid = \"mine.torch\"\nwhere = \"2\"\nlatex = '''n_t = n_t'''\n" + \
        "model = { " + ", ".join(f"{k} = {toml_list(v)}" for k, v in GRU_TORCH.items()) + " }\n"
    entries = claimsfile.read_text(text, "mine.toml").entries
    assert entries[0].claim.model is entries[1].claim.model is entries[2].claim.model
    assert set(entries[3].claim.model.gates) == {"z", "r", "n"}
    assert entries[0].claim.model.resized(2).resized(1) is entries[0].claim.model


# -- bad equations: clean errors at the line and column ---------------------------------------
BAD = [
    (dict(equations=[r"h_t = \tanh(W h_{t-1} + U z_t)", r"z_t = \sigma(V x_t)"], state=["h"], inputs=["x"]),
     "z_t is used before it is defined", "z_t)"),
    (dict(equations=[r"a_t = \tanh(W h_{t-1} + b_t)", r"b_t = \sigma(a_t)", "h_t = a_t"], state=["h"]),
     "a cycle", "b_t)"),
    (dict(equations=[r"h_t = \tanh(W h_t)"], state=["h"]), "defined by this very equation", "h_t)"),
    (dict(equations=[r"z_t = \tanh(W h_{t-1})"], state=["h"]), "state h has no equation", "h'''"),
    (dict(equations=[r"h_t = \tanh(W h_{t-1}) + x_t \cdot h_{t-1}"], state=["h"], inputs=["x"]),
     "cannot multiply shapes", "h_{t-1}'''"),
    (dict(equations=[r"h_t = \tanh(W h_{t-1} + U x_t)"], state=["h"], inputs=["u"]),
     "neither a state nor an input", "x_t)"),
    (dict(equations=[r"h_t = \tanh(W h_{t-1})"], state=["h", "c"]), "state c has no equation", "c'''"),
    (dict(equations=[r"h_t = exp(W h_{t-1})"], state=["h"]), "names a function", "exp("),
    (dict(equations=[r"h_t = \tanh(W h_{t-1})"], state=["tanh"]), "names a function", "tanh'''"),
    (dict(equations=[r"h_t = \tanh(W h_{t-1})"], state=["h"], inputs=["x"]), "input x appears in no equation",
     "x'''"),
    (dict(equations=[r"z_t = \sigma(W h_{t-1})", r"h_t = z_{t-1} \odot h_{t-1}"], state=["h"]),
     "only the states", "z_{t-1}"),
    (dict(equations=[r"h_t = \tanh(W h_{t-1}) + W \odot h_{t-1}"], state=["h"]), "used elementwise", "W h_{t-1})"),
    (dict(equations=[r"h_{t-1} = \tanh(W h_{t-1})"], state=["h"]), "the left side", r"h_{t-1} ="),
    (dict(equations=[r"h_t = \tanh(W^T h_{t-1})"], state=["h"]), "cannot transpose", "^T"),
    (dict(equations=[r"h_t = \tanh(W h_{t-1}"], state=["h"]), "ends too early", ""),
    (dict(equations=[r"h_t = \tanh(W h_{t-1})"], state=["h"], truncate=["h"]), "is a state", "h''']"),
    (dict(equations=["a_t = a_{t-1}", "b_t = b_{t-1}", "c_t = c_{t-1}"], state=["a", "b", "c"]), "one state",
     "c'''"),
]


@pytest.mark.parametrize("spec, message, at", BAD, ids=[b[1] for b in BAD])
def test_bad_model_equations_stop_the_file_at_their_line_and_column(spec, message, at):
    text = claims_file(model_table(spec))
    with pytest.raises(ClaimsFileError) as raised:
        claimsfile.read_text(text, "mine.toml")
    error = str(raised.value)
    assert message in error
    located = re.match(r"mine\.toml:(\d+):(\d+): model \(", error)
    assert located, error
    line, column = int(located.group(1)), int(located.group(2))
    assert "\n" in error and error.rstrip().endswith("^")  # the line and a caret under the culprit
    if at:
        assert text.split("\n")[line - 1][column - 1:].startswith(at), (error, at)


def test_bad_model_tables_are_refused_by_key():
    for table, message in ((model_table(GRU, bias=False), "unknown key bias"),
                           ("[model]\nequations = 'h_t = h_{t-1}'\nstate = ['h']\n", "list of strings"),
                           (model_table(GRU, n=0), "1 to 3 units"), (model_table(GRU, n=2.5), "positive whole"),
                           (model_table(GRU, n=4), "1 to 3 units")):
        with pytest.raises(ClaimsFileError, match=message):
            claimsfile.read_text(claims_file(table), "mine.toml")


# -- any equations: a model or a clean error, never a traceback --------------------------------
NAMES = ["h", "z", "r", "a", r"\tilde{h}", "c"]
WRONG = ["z_t", r"\tilde{h}_t", "h_t", "z_{t-1}", "q_t", r"\alpha", "W^T", "x_{t-1}", "exp", "W_f [b, W]", "(a_t)^2"]
BINARY = [" + ", " - ", r" \odot ", " ", r" \cdot "]


def _expressions(valid):
    """Expressions over `valid` atoms (the state at t-1, the input, earlier quantities, parameters) and a few
    wrong ones, which must fail cleanly."""
    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(BINARY), inner).map("".join),
            st.tuples(inner, st.sampled_from(BINARY), inner).map("".join),
            st.tuples(st.sampled_from([r"\sigma", r"\tanh", r"\exp", r"\sigma'"]), inner)
            .map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(["W", "U_z", "V"]), inner).map(lambda t: f"{t[0]} ({t[1]})"))
    return st.recursive(st.sampled_from(valid * 3 + WRONG), extend, max_leaves=6)


@st.composite
def equation_lists(draw):
    lefts = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    state = draw(st.sampled_from(lefts))
    inputs = draw(st.sampled_from([["x"]] * 6 + [[], ["u"], ["tanh"]]))
    equations = []
    for k, left in enumerate(lefts):
        valid = [f"{state}_{{t-1}}", "W", "U", "b", "p", "1", r"\frac{1}{2}"] + [f"{q}_t" for q in lefts[:k]]
        valid += ["x_t", "x_t", f"W_f [{state}_{{t-1}}, x_t]"] if inputs == ["x"] else []
        equations.append(f"{left}_t = {draw(_expressions(valid))}")
    if draw(st.integers(0, 19)) == 0:  # now and then, text that is not an expression at all
        equations.insert(draw(st.integers(0, len(equations))),
                         draw(st.text(alphabet="h_t=\\tanh(){}[],+-^' xW", min_size=1, max_size=20)))
    rest = [name for name in lefts if name != state]
    return dict(equations=equations, state=[state] + draw(st.sampled_from([[]] * 7 + [["q"]])), inputs=inputs,
                truncate=draw(st.lists(st.sampled_from(rest), max_size=2, unique=True)) if rest else [])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=equation_lists(), n=st.sampled_from([1, 2]))
def test_any_equation_list_reads_to_a_model_or_a_clean_error(spec, n):
    try:
        model = defined(spec, n=n)
    except DeriveError as error:
        assert "Traceback" not in str(error)
        return
    trajectory = points.simulate(model, 2, np.random.default_rng(0))  # the generated cell runs
    assert set(model.state) <= set(trajectory.steps[2])


def test_claims_about_a_model_of_equations_reach_adjoints_and_multi_step_chains():
    text = HEAD + model_table(GRU, n=2) + "".join(
        f"\n[[claim]]\nid = \"mine.{k}\"\nwhere = \"1\"\nlatex = '''{latex}'''\n" for k, latex in enumerate((
            r"\delta \tilde{h}_t = z_t \odot \delta h_t",
            r"\frac{\partial h_{t}}{\partial h_{t-2}} = \mathrm{diag}(1 - z_t) \mathrm{diag}(1 - z_{t-1})")))
    fast = Settings(points=20, budget=5)
    verdicts = [verify(entry.claim.question(), fast).status for entry in claimsfile.read_text(text, "m.toml").entries]
    assert verdicts == ["agrees", "agrees-when-truncated"]
