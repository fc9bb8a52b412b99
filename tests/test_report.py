"""Rendering: LaTeX escaping, atomic writes, the cells rendered by latexify-py."""
import os

from derive import models
from derive.report.code import cell_latex
from derive.report.files import write_atomic
from derive.report.latex import escape


def test_special_characters_are_escaped():
    text = r"50% of $x & y # {a_b} ~ ^ \input{/etc/passwd}"
    out = escape(text)
    for raw in ("%", "$", "&", "#", "{a", "\\input"):
        assert raw not in out.replace(r"\%", "").replace(r"\$", "").replace(r"\&", "").replace(r"\#", "") \
            .replace(r"\{", "").replace(r"\textbackslash{}", "")
    assert r"\textbackslash{}input" in out


def test_the_notations_unicode_becomes_math_and_unknown_characters_are_harmless():
    assert escape("σ'(z) ≤ ¼") .startswith(r"\ensuremath{\sigma}'(z) \ensuremath{\le} \texttt{[U+00BC]}")
    assert escape("c̃_t") == r"\ensuremath{\tilde{c}}\_t"
    assert escape("ī") == r"\ensuremath{\bar{\imath}}"


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "report.json"
    write_atomic(target, "old")
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["report.json"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


def test_cells_render_with_hadamard_and_matrix_products():
    latex = cell_latex(models.lstm_forget())
    assert r"c_{t} = f_{t} \odot c_{t-1} + i_{t} \odot \tilde{c}_{t}" in latex
    assert r"W_{fh} \, h_{t-1}" in latex
    assert r"\sigma" in latex
