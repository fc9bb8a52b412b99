"""The report's layout: formulas broken (never scaled), diagnoses and corrections, safe math in text, order, tables."""
import math
import re
import shutil
import subprocess
from fractions import Fraction

import mpmath
import pytest
import sympy

from derive.claim import Claim, Source
from derive.evidence import (BoundCounterexample, BoundEvidence, Certificate, Comparison, Correction, Counterexample,
                             Diagnosis, EntryComparison, EqualAtPoints, Extremum, Measurements, Proof, TermPair,
                             Unresolved, Verdict)
from derive.report import math as report_math
from derive.report import tex
from derive.report.diagnosis_tex import diagnosis_lines, short_summary
from derive.report.evidence_tex import evidence_lines
from derive.report.highlight import highlight
from derive.report.measures import configuration, tables
from derive.report.order import article_order
from derive.report.prose import prose
from derive.rules import Method, Semantics, Status
from derive.verify import Settings

SOURCE = Source("notes", "My notes", "my blog", author="A. Author")
TOL = mpmath.mpf(10) ** -20
PRINTED = r"D_t = \sigma'(W_c \cdot [h_{t-1}, x_t]) \cdot W_c \cdot o_{t-1} \otimes \tanh'(c_{t-1}) \cdot i_t"
FIXED = PRINTED.replace(r"\sigma'", r"\tanh'")
CHANGED = (FIXED.index(r"\tanh'"), FIXED.index(r"\tanh'") + len(r"\tanh'"))
DIAGNOSIS = Diagnosis(
    "σ′(…) should be tanh′(…) in $D_t$",
    (TermPair("wrong factor", r"\sigma'(z_{c,t}) W_{ch} o_{t-1} i_t", r"\tanh'(z_{c,t}) W_{ch} o_{t-1} i_t",
              "σ′ where tanh′ belongs"),
     TermPair("agrees", "f_t", "f_t"), TermPair("missing", "", r"W_{oh} o_t (1 - o_t)", "the path via $o_t$")),
    Correction(FIXED, "σ′(…) should be tanh′(…) in $D_t$", Status.AGREES, Method.SYMBOLIC, "define D_t",
               (CHANGED,), r"\sigma'"), tried=12)


def long_sum(terms: int) -> str:
    """A sum of products as long as the Jacobians of the articles: no line could hold it."""
    c, f, o, w = sympy.symbols("c f o W")
    return sympy.latex(sum(w ** k * f * o * (1 - f) * (1 - sympy.tanh(c + k) ** 2) for k in range(terms)))


def equal_evidence(exact: str, hand: str = "x", equal=(False,), entries=()):
    comparisons = []
    for semantics, same in zip((Semantics.FULL, Semantics.TRUNCATED), equal):
        example = None if same else Counterexample((("z", mpmath.mpf("0.25")),), (mpmath.mpf(1),), (mpmath.mpf(2),),
                                                    mpmath.mpf("0.5"))
        comparisons.append(Comparison(semantics, same, mpmath.mpf(0 if same else 1), exact, entries, example))
    return EqualAtPoints(200, 30, 7, TOL, hand, tuple(comparisons))


def result(claim_id, evidence, status=Status.DIFFERS, diagnosis=None, where="eq. (1)", reading="Scalar."):
    claim = Claim(claim_id, SOURCE, where, PRINTED, reading, build=lambda: None)
    return claim, Verdict(status, Method.NUMERIC, evidence, diagnosis)


def render(results) -> str:
    return tex.render(results, title="A report", settings=Settings(), versions={"derive": "0.1"})


# -- formulas ----------------------------------------------------------------------------------
def test_a_short_formula_is_displayed_as_it_is():
    assert report_math.display("x = 1") == r"\[ x = 1 \]"


def test_a_long_sum_is_broken_into_aligned_rows_at_its_operators():
    shown = report_math.display(long_sum(8))
    assert r"\begin{align*}" in shown and r"&\quad{}+" in shown
    assert "resizebox" not in shown and "scalebox" not in shown


def test_a_very_long_sum_shows_its_structure_and_first_terms():
    shown = report_math.display(long_sum(80))
    assert re.search(r"a sum of 80 terms; the first \d+ are shown", shown)
    assert r"\cdots" in shown and shown.count(r"\\") <= report_math.MAX_ROWS + 2


def test_repeated_long_groups_are_named_once_and_defined_after_the_formula():
    group = r"\left(" + " + ".join(rf"W_{{{k}}} c_{{{k}}} \left(1 - f_{{{k}}}\right)" for k in range(6)) + r"\right)"
    latex = " + ".join(rf"a_{{{k}}} {group} {group}" for k in range(5))
    shown = report_math.display(latex, letter="E")
    assert r"\mathcal{E}_{1}" in shown and "where" in shown
    assert shown.count(r"\mathcal{E}_{1} &=") == 1


def test_a_wide_column_is_shown_entry_by_entry_under_its_labels():
    entry = long_sum(3)
    matrix = r"\left[\begin{matrix}" + r"\\".join([entry] * 3) + r"\end{matrix}\right]"
    shown = report_math.display(matrix, labels=("k = 2", "k = 3", "k = 4"))
    assert "k = 2:" in shown and "k = 4:" in shown and r"\begin{matrix}" not in shown


def test_fractions_in_running_text_keep_the_body_size():
    assert report_math.inline(r"\frac{\partial c_t}{\partial c_{t-1}}") == r"{\partial c_t}/{\partial c_{t-1}}"
    assert report_math.inline(r"\frac{1}{z + 1}") == r"{1}/(z + 1)"
    assert report_math.inline(r"\frac{\partial c}{\partial c} \cdot f") == r"{\partial c}/{\partial c} \cdot f"


# -- evidence ----------------------------------------------------------------------------------
def test_a_counterexample_under_an_agreeing_verdict_names_its_semantics():
    evidence = equal_evidence("x", equal=(False, True))
    text = "\n".join(evidence_lines(evidence, {}, Status.TRUNCATED))
    assert "Counterexample, full semantics" in text and "not the full result" in text
    assert "verdict is about the truncated semantics" in text


def test_a_counterexample_without_a_point_says_the_sides_are_constants():
    evidence = EqualAtPoints(200, 30, 7, TOL, "0", (Comparison(Semantics.FULL, False, mpmath.mpf(1), "1", (),
                                                               Counterexample((), (0,), (1,), 1)),))
    text = "\n".join(evidence_lines(evidence, {}, Status.DIFFERS))
    assert "at :" not in text and "both sides are constants" in text


def test_proofs_are_told_in_words():
    evidence = EqualAtPoints(200, 30, 7, TOL, "x", (Comparison(Semantics.FULL, True, 0, "x"),),
                             proof=Proof("expand, adjoints expanded, in leaves"))
    text = "\n".join(evidence_lines(evidence, {}, Status.AGREES))
    assert "expanding the difference gave 0" in text and "adjoint" in text and "earliest state" in text


@pytest.mark.parametrize("found, phrase", [
    (Extremum(True, "1", mpmath.mpf(1), (), True), "the expression is a constant"),
    (Extremum(True, "1", mpmath.mpf(1), (("c_t", "0"),), False), "approached, not attained, as $c_t = 0$"),
    (Extremum(True, "1", mpmath.mpf(1), (), False), "approached, not attained"),
    (Certificate(12, mpmath.mpf("0.5"), ((("f_t", Fraction(0), math.inf),),)), r"$f_t \in [0.0, +\infty]$"),
    (BoundCounterexample((("z", mpmath.mpf(0)),), mpmath.mpf("0.25"), mpmath.mpf("0.25"), mpmath.mpf(0), "sampling"),
     "reaches the bound, which the strict inequality excludes"),
    (Unresolved(300), "300 boxes"),
])
def test_bound_evidence_reads_well(found, phrase):
    evidence = BoundEvidence("g", "<", "1", None, found, "as written", (r"f_t \in (0, 1)",),
                             (("proof", "no exact extremum"),))
    text = "\n".join(evidence_lines(evidence, {}, Status.UNDECIDED))
    assert phrase in text and "—" not in text and "attained at ," not in text
    assert r"$f_t \in (0, 1)$" in text and "no exact extremum" in text


def test_measurements_are_labelled_tables_with_units():
    numbers = {"n": 8, "steps": 100, "rate[sigmoid,s=2]": -0.5, "eta[sigmoid,s=2]": 0.5, "median_sum": 0.5,
               "rate[R_o x1]": -0.2}
    text = "\n".join(tables(numbers))
    assert "decades/step" in text and r"$\eta$" in text and "median of $A_t + B_t + C_t + D_t$" in text
    assert "rate[" not in text and "state size $n$: $8$" in text
    assert configuration("sigmoid,s=2") == "sigmoid, $s = 2$"
    assert configuration("R_z+R_i+R_f+R_o x4") == r"all four $\times\,4$"


def test_an_experiments_figure_is_referenced_from_its_claim():
    evidence = Measurements("rate > 0", {"rate[w=1]": 0.5}, "rnn-scalar", {})
    text = "\n".join(evidence_lines(evidence, {"rnn-scalar": r"\label{fig:rnn-scalar}"}, Status.AGREES))
    assert r"Figure~\ref{fig:rnn-scalar}" in text


# -- diagnosis ---------------------------------------------------------------------------------
def test_a_correction_frames_the_changed_part_and_shows_its_own_verdict():
    text = "\n".join(diagnosis_lines(DIAGNOSIS))
    assert r"\fix{\tanh'}(W_c" in text
    assert r"Its own verdict: \agrees, proved symbolically" in text and "of the definition of $D_t$" in text
    assert r"\field{Correction of the definition of $D_t$}\ensuremath{\sigma}" in text
    assert r"What is wrong}" in text and "wrong factor" in text and "missing" in text
    assert r"$\displaystyle \tanh'(z_{c,t}) \allowbreak W_{ch}" in text


def test_without_a_correction_the_note_says_why():
    text = "\n".join(diagnosis_lines(Diagnosis("two terms are missing", note="no single edit made it agree",
                                               tried=40)))
    assert "none offered: no single edit made it agree." in text
    text = "\n".join(diagnosis_lines(Diagnosis("two terms are missing", tried=1)))
    assert "none offered: no edit of the formula made it agree (1 candidate edit was verified)." in text


@pytest.mark.parametrize("latex, span, framed", [
    (r"c_{t-1} + x", (0, 1), r"\fix{c_{t-1}} + x"),  # a base with its scripts
    (r"c_{t-1} + x", (3, 6), r"c_{\fix{t-1}} + x"),  # inside a script's braces
    (r"\frac{a}{b} = c", (3, 8), r"\fix{\frac{a}{b}} = c"),  # a command with its arguments
    (r"\left(a + b\right) c", (10, 11), r"\left(a + \fix{b}\right) c"),
    (r"\left(a + b\right) c", (7, 11), r"\left(a \fix{+ b}\right) c"),  # a sign framed with its term
    (r"\left[\begin{matrix}a & b\end{matrix}\right]", (20, 25), r"\left[\fix{\begin{matrix}a & b\end{matrix}}\right]"),
    (r"a + b", (3, 3), r"a + b"),  # an empty span frames nothing
])
def test_highlighting_keeps_the_formula_balanced(latex, span, framed):
    assert highlight(latex, [span]) == framed


# -- text from claims --------------------------------------------------------------------------
def test_notation_in_text_is_typeset_and_anything_else_escaped():
    assert prose(r"the state $c_{t-1}$ of $W_{rec}$") == r"the state $c_{t-1}$ of $W_{rec}$"
    attack = prose(r"see $\input{/etc/passwd}$ and $x^^5c$")
    assert r"\input" not in attack and "^^" not in attack and r"\$" in attack
    assert prose("a lone $ sign") == r"a lone \$ sign"
    assert prose("$|w| < 4$ and $<$") == r"$|w| < 4$ and $<$"  # bars are notation; a lone relation is safe


# -- the document ------------------------------------------------------------------------------
def test_the_document_has_contents_metadata_a_what_is_wrong_column_and_section_summaries():
    results = [result("notes.b", equal_evidence("x"), where="eq. (2)", diagnosis=DIAGNOSIS),
               result("notes.a", equal_evidence("x", equal=(True,)), Status.AGREES, where="eq. (1)",
                      reading=r"Reads $c_{t-1}$; not $\input{x}$.")]
    document = render(results)
    assert r"\tableofcontents" in document and r"pdftitle={A report}" in document
    assert "what is wrong" in document and "should be tanh" in document
    assert r"\textbf{Verdicts.} 2 claims: 1 agrees, 1 differs." in document
    assert document.index(r"\label{claim:notes-a}") < document.index(r"\label{claim:notes-b}")  # article order
    assert r"Reads $c_{t-1}$" in document and r"\input{x}" not in document
    for scaling in (r"\resizebox", r"\scalebox", r"\fitmath", r"\scriptsize"):
        assert scaling not in document


def test_claims_follow_the_articles_order():
    def claim(claim_id, where):
        return Claim(claim_id, SOURCE, where, "x", "", build=lambda: None)

    claims = [claim("app", "appendix, first computation"), claim("eq6", "eq. (6)"), claim("later", "after eq. (2)"),
              claim("eq2", "eq. (2)"), claim("comment", "comment on the question"), claim("a2", "answer 2"),
              claim("q", "question")]
    assert [c.id for c in article_order(claims)] == ["q", "eq2", "later", "eq6", "a2", "comment", "app"]
    assert short_summary(DIAGNOSIS, 12).endswith(r"\ensuremath{\dots}")  # cut at a word, marked


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX engine")
def test_long_formulas_compile_without_overfull_displays(tmp_path):
    entries = [EntryComparison(f"k = {k}", False, 1, long_sum(k + 4)) for k in range(3)]
    exact = r"\left[\begin{matrix}" + r"\\".join(long_sum(k + 6) for k in range(3)) + r"\end{matrix}\right]"
    evidence = equal_evidence(exact, hand=exact, entries=tuple(entries))
    results = [result("notes.long", evidence, diagnosis=DIAGNOSIS),
               result("notes.huge", equal_evidence(long_sum(90)))]
    (tmp_path / "report.tex").write_text(render(results), encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "report.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    log = (tmp_path / "report.log").read_text(errors="replace")
    assert done.returncode == 0, log[-2000:]
    overfull = [float(m) for m in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert all(points <= 5.0 for points in overfull), overfull


def test_the_builtin_claims_math_is_all_typeset():
    from derive import claims as claims_module

    for claim in claims_module.load_all(None):
        for text in (claim.reading, claim.statement, claim.where):
            assert r"\$" not in prose(text), (claim.id, text)  # every $…$ parsed as notation


def test_accented_names_are_text_accents():
    from derive.report.latex import escape

    assert escape("Koutník") == r"Koutn\'{\i}k" and "U+" not in escape("Schmidhuber, é, ü")


def test_many_aligned_terms_list_what_differs_and_count_the_rest():
    terms = tuple(TermPair("agrees", f"f_{k}", f"f_{k}") for k in range(9)) + (TermPair("missing", "", "o_t", "via o"),)
    text = "\n".join(diagnosis_lines(Diagnosis("one term is missing", terms)))
    assert "9 further terms are the same on both sides" in text and "f_3" not in text and "o_t" in text
