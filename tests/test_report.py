"""Rendering: LaTeX escaping, atomic writes, the cells rendered by latexify-py, the models section."""
import os
from pathlib import Path

from derive import models
from derive.notation import claimsfile
from derive.report import tex
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


def test_the_grus_render_with_their_grouping_and_conventions():
    chung, pytorch = cell_latex(models.gru()), cell_latex(models.gru_torch())
    assert r"U_{h} \, \mathopen{}\left( r_{t} \odot h_{t-1} \mathclose{}\right)" in chung  # not (U r) ⊙ h
    assert r"r_{t} \odot \mathopen{}\left( U_{n} \, h_{t-1} + b_{hn} \mathclose{}\right)" in pytorch
    section = tex._models_section()
    assert "GRU (Chung et al. 2014)" in section and "nn.GRUCell" in section and "Cho et al." in section


def test_a_model_defined_by_equations_is_printed_as_the_file_writes_it():
    text = (Path(__file__).resolve().parent.parent / "examples" / "gru_notes.toml").read_text(encoding="utf-8")
    entries = claimsfile.read_text(text, "gru_notes.toml").entries
    section = tex._models_section([(entry.claim, None) for entry in entries])
    for equation in entries[0].claim.model.written:
        assert equation in section  # displayed at the body size, as written
    assert section.count(r"\tilde{h}_t = \tanh(W_h x_t + U_h (r_t \odot h_{t-1}) + b_h)") == 1  # once per model
    assert r"$U_{h}$ ($n \times n$)" in section and r"$W_{z}$ ($n \times m$)" in section
