"""Norm bounds: proved from known inequalities, refuted by a confirmed counterexample, or undecided — never
decided by sampling alone. A counterexample is confirmed independently with NumPy's matrix norms."""
import numpy as np
import pytest
import sympy

from derive.evidence import NormEvidence, to_json
from derive.notation import claimsfile
from derive.report.evidence_tex import evidence_lines
from derive.report.text import line
from derive.verify import Settings, verify
from derive.verify.norms import Norm, NormBound, matrix_norm

FAST = Settings(points=30)
HEAD = '[source]\nkey = "pascanu"\ntitle = "On the difficulty of training RNNs"\nsite = "ICML"\n'
PASCANU = 'aliases = { x = "z", u = "x" }\nvalues = { k = 2 }'


def claim(latex, n=2, model="rnn", extra=PASCANU):
    return HEAD + f'''
[[claim]]
id = "pascanu.norm"
where = "eq. (7)"
model = {{ name = "{model}", n = {n}, bias = false }}
{extra}
latex = \'\'\'{latex}\'\'\'
'''


def question_of(text):
    entry = claimsfile.read_text(text, "pascanu.toml").entries[0]
    assert entry.error is None, entry.error
    return entry.claim, entry.claim.question()


STEP = r"\left\| \frac{\partial x_{k+1}}{\partial x_k} \right\|"


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("right, rule", [
    (r"\left\| W_{rec}^T \right\| \left\| \mathrm{diag}(\sigma'(x_k)) \right\|", "diagonal"),
    (r"\frac{1}{4} \lVert W_{rec} \rVert", "function bound"),
    (r"\|W_{rec}^{\top}\|_2 \, \|\mathrm{diag}(\sigma'(x_k))\|_2", "submultiplicativity"),
])
def test_pascanus_bound_is_proved(n, right, rule):
    claim_, question = question_of(claim(f"{STEP} \\le {right}", n))
    assert isinstance(question, NormBound)
    verdict = verify(question, FAST)
    assert (verdict.status, verdict.method) == ("agrees", "symbolic")
    rules = (rule, "absolute value") if n == 1 else (rule,)  # at n = 1 every norm is |·|
    assert any(step.startswith(rules) for step in verdict.evidence.proof), verdict.evidence.proof
    assert not verdict.evidence.confirmed


@pytest.mark.parametrize("n", [1, 2])
def test_a_false_bound_is_refuted_by_a_counterexample_numpy_confirms(n):
    _, question = question_of(claim(f"{STEP} \\le \\frac{{1}}{{8}} \\|W_{{rec}}\\|", n))
    verdict = verify(question, FAST)
    assert (verdict.status, verdict.method) == ("differs", "numeric") and verdict.evidence.confirmed
    point = dict(verdict.evidence.point)
    values = {s: float(point[sympy.latex(s)]) for s in question.left.free_symbols | question.right.free_symbols}

    def with_numpy(side):
        side = side.replace(Norm, lambda m, kind, structure: sympy.Float(np.linalg.norm(
            np.array(m.xreplace(values), dtype=float), 2)))
        return float(side.xreplace(values))

    assert with_numpy(question.left) > with_numpy(question.right) * (1 + 1e-9)


def test_a_true_bound_beyond_the_rules_is_undecided():
    """‖W‖_F ≤ 2 ‖W‖₂ holds for 2×2 matrices (‖W‖_F ≤ √2 ‖W‖₂), but no rule relates the two norms."""
    _, question = question_of(claim(r"\|W_{rec}\|_F \le 2 \|W_{rec}\|", extra=""))
    verdict = verify(question, FAST)
    assert (verdict.status, verdict.method) == ("undecided", "numeric")
    assert verdict.evidence.proof == () and not verdict.evidence.confirmed


def test_triangle_inequality_and_transposes():
    lstm = 'model = { name = "lstm_forget", n = 2, bias = false }'
    text = HEAD + f'''
[[claim]]
id = "mine.triangle"
where = "x"
{lstm}
latex = \'\'\'\\|W_{{fh}} + W_{{ih}}^\\top\\| \\le \\|W_{{fh}}\\| + \\|W_{{ih}}\\|\'\'\'
'''
    verdict = verify(question_of(text)[1], FAST)
    assert verdict.status == "agrees" and any(s.startswith("triangle") for s in verdict.evidence.proof)


def test_truncated_cell_gradient_is_at_most_one():
    """‖∂c_t/∂c_{t-1}‖ ≤ 1 when the gates are held: diag(f_t), and σ < 1 (the constant error carousel)."""
    text = claim(r"\left\| \frac{\partial c_t}{\partial c_{t-1}} \right\| \le 1", model="lstm_forget",
                 extra='semantics = "truncated"')
    verdict = verify(question_of(text)[1], FAST)
    assert (verdict.status, verdict.method) == ("agrees", "symbolic")


@pytest.mark.parametrize("latex, status", [
    (r"\|h_t\|_\infty \le 1", "agrees"),  # h = o ⊙ tanh(c): each entry below 1, by its definition
    (r"\|h_t\|^2 \le 2", "agrees"),  # ‖v‖₂ ≤ √n max|v_i|
    (r"\| f_t \odot c_{t-1} \| \le \|c_{t-1}\|", "agrees"),  # f ⊙ c = diag(f) c, and σ < 1
    (r"\|W_{fh} h_{t-1}\|_1 \le \|W_{fh}\|_1 \|h_{t-1}\|_1", "agrees"),
    (r"\|W_{fh}\| < \|W_{fh}\|", "differs"),  # the same on both sides: a < a fails everywhere
])
def test_vectors_elementwise_products_and_strict_bounds(latex, status):
    text = claim(latex, model="lstm_forget", extra="")
    assert verify(question_of(text)[1], FAST).status == status


@pytest.mark.parametrize("last, status", [(r"\frac{1}{4}", "agrees"), (r"\frac{1}{8}", "differs")])
def test_a_chain_of_bounds_as_pascanu_prints_it_is_decided_link_by_link(last, status):
    latex = f"{STEP} \\le \\left\\| W_{{rec}}^{{\\top}} \\right\\| \\left\\| \\mathrm{{diag}}(\\sigma'(x_k)) \\right\\| " \
            f"\\le {last} \\|W_{{rec}}\\|"
    _, question = question_of(claim(latex))
    verdict = verify(question, FAST)
    assert verdict.status == status and [link.status for link in verdict.evidence.links] == ["agrees", status]
    assert [link["verdict"] for link in to_json(verdict.evidence)["links"]] == ["agrees", status]
    assert "Link 2" in "".join(evidence_lines(verdict.evidence, {}))


def test_matrix_norms_are_the_textbook_ones():
    import mpmath
    a = np.array([[1.0, -2.0], [3.0, 0.5]])
    m = mpmath.matrix(a.tolist())
    for kind, order in (("2", 2), ("F", "fro"), ("1", 1), ("inf", np.inf)):
        assert abs(float(matrix_norm(m, kind)) - np.linalg.norm(a, order)) < 1e-12
    assert abs(float(matrix_norm(mpmath.matrix([[3.0], [4.0]]), "2")) - 5) < 1e-12


def test_the_evidence_is_rendered_everywhere():
    _, question = question_of(claim(f"{STEP} \\le \\frac{{1}}{{4}} \\|W_{{rec}}\\|"))
    verdict = verify(question, Settings(points=8))
    assert isinstance(verdict.evidence, NormEvidence)
    data = to_json(verdict.evidence)
    assert data["proof"] and data["counterexample"] is False and "left" in data["closest"]
    assert "Proof" in "".join(evidence_lines(verdict.evidence, {}))
    assert line(verdict.evidence, verdict.status).startswith("proved by submultiplicativity")
