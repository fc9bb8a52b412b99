"""`derive check`: the table, exit codes 0/1/2, --json, --stdin, --report, and no traceback on any input."""
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from derive.notation import claimsfile
from derive.cli import main

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--points", "20", "--jobs", "1"]
HEAD = '''[source]
key = "mine"
title = "My notes"
site = "my blog"

[model]
name = "lstm_forget"
bias = false
'''
GOOD = HEAD + r"""
[[claim]]
id = "mine.cell"
where = "eq. (3)"
latex = '''\frac{\partial c_t}{\partial c_{t-1}} = f_t'''
expect = "agrees-when-truncated"

[[claim]]
id = "mine.candidate"
where = "eq. (4)"
latex = '''\frac{\partial \tilde{c}_t}{\partial c_{t-1}} = \sigma'(W_c \cdot [h_{t-1}, x_t]) \cdot W_c \cdot o_{t-1} \otimes \tanh'(c_{t-1})'''
expect = "differs"

[[claim]]
id = "mine.free"
where = "eq. (5)"
latex = '''c_t = c_{t-1} \otimes f_t \oplus \tilde{c}_t \otimes i_t'''
"""
TYPO = HEAD + r"""
[[claim]]
id = "mine.typo"
where = "eq. (6)"
latex = '''\frac{\partial c_t}{\partial c_{t-1}} = f_t \cdot (1 + }'''
"""


def write(tmp_path, text, name="mine.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_all_expectations_met_exit_0_and_a_table(tmp_path, capsys):
    assert main(["check", write(tmp_path, GOOD), *FAST]) == 0
    out = capsys.readouterr().out
    header, *rows = out.splitlines()[:4]
    assert header.split() == ["ID", "VERDICT", "METHOD", "EXPECT", "EVIDENCE"]
    assert rows[0].split()[:4] == ["mine.cell", "agrees-when-truncated", "symbolic", "met"]
    assert rows[1].split()[:4] == ["mine.candidate", "differs", "numeric", "met"]
    assert rows[2].split()[:4] == ["mine.free", "agrees", "symbolic", "-"]
    assert "3 claims" in out and "2 met, 0 unmet" in out


def test_an_unmet_expectation_exits_1(tmp_path, capsys):
    assert main(["check", write(tmp_path, GOOD.replace('expect = "differs"', 'expect = "agrees"')), *FAST]) == 1
    assert "UNMET (agrees)" in capsys.readouterr().out


def test_a_syntax_error_exits_1_and_shows_claim_line_column_and_caret(tmp_path, capsys):
    path = write(tmp_path, GOOD + TYPO[len(HEAD):])
    assert main(["check", path, *FAST]) == 1
    out = capsys.readouterr().out
    assert "mine.typo" in out and "error" in out and "Traceback" not in out
    located = next(line for line in out.splitlines() if line.startswith(path))
    assert "claim mine.typo (latex): unexpected '}'" in located
    line, column = map(int, located[len(path) + 1:].split(":")[:2])
    assert Path(path).read_text().splitlines()[line - 1][column - 1] == "}"
    shown, mark = out.splitlines()[out.splitlines().index(located) + 1:][:2]
    assert shown[mark.index("^")] == "}"


@pytest.mark.parametrize("text, fragment", [
    ("not toml [", "not valid TOML"),
    (HEAD, "no claims"),
    (HEAD + '[[claim]]\nid = "x"\nwhere = "y"\nlatex = "c_t = c_t"\nmodle = 1\n', "unknown key modle"),
])
def test_unusable_input_exits_2(tmp_path, capsys, text, fragment):
    assert main(["check", write(tmp_path, text), *FAST]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_missing_and_oversized_files_exit_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nowhere.toml")]) == 2
    big = write(tmp_path, "#" * (claimsfile.LARGEST_FILE + 10), "big.toml")
    assert main(["check", big]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "larger than" in err


def test_usage_errors_exit_2(capsys):
    assert main(["check"]) == 2
    assert main(["check", "x.toml", "--no-pdf"]) == 2
    with pytest.raises(SystemExit) as caught:
        main(["check", "--points", "0", "x.toml"])
    assert caught.value.code == 2


def test_the_same_id_in_two_files_is_unusable(tmp_path, capsys):
    first, second = write(tmp_path, GOOD, "a.toml"), write(tmp_path, GOOD, "b.toml")
    assert main(["check", first, second, *FAST]) == 2
    assert "defined twice" in capsys.readouterr().err


def test_json_output(tmp_path, capsys):
    assert main(["check", write(tmp_path, GOOD + TYPO[len(HEAD):]), "--json", *FAST]) == 1
    document = json.loads(capsys.readouterr().out)
    rows = {row["id"]: row for row in document["claims"]}
    assert document["exit_code"] == 1 and document["unusable"] == []
    assert rows["mine.cell"]["verdict"] == "agrees-when-truncated" and rows["mine.cell"]["expectation_met"] is True
    assert rows["mine.cell"]["printed"] == r"\frac{\partial c_t}{\partial c_{t-1}} = f_t"
    assert "truncated" in rows["mine.cell"]["evidence"]["semantics"]
    assert rows["mine.typo"]["verdict"] == "error" and "unexpected" in rows["mine.typo"]["error"]
    assert rows["mine.free"]["expect"] is None and rows["mine.free"]["expectation_met"] is None


def test_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(GOOD.encode("utf-8"))))
    assert main(["check", "--stdin", *FAST]) == 0
    assert "<stdin>" not in capsys.readouterr().out  # no errors to locate
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(TYPO.encode("utf-8"))))
    assert main(["check", "--stdin", *FAST]) == 1
    assert "<stdin>:" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"#" * (claimsfile.LARGEST_FILE + 5))))
    assert main(["check", "--stdin"]) == 2


def test_report_of_just_these_claims(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["check", write(tmp_path, GOOD), "--report", str(out), "--no-pdf", *FAST]) == 0
    tex = (out / "report.tex").read_text(encoding="utf-8")
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [c["id"] for c in data["claims"]] == ["mine.cell", "mine.candidate", "mine.free"]
    assert r"\section*{Summary}" in tex and r"\field{As printed}" in tex and r"\section{The models}" in tex
    assert r"\[ \frac{\partial c_t}{\partial c_{t-1}} = f_t \]" in tex  # the very formula that was parsed
    assert r"\section{My notes}" in tex and "mine.cell" in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX engine")
def test_report_pdf(tmp_path):
    out = tmp_path / "report"
    assert main(["check", write(tmp_path, GOOD), "--report", str(out), *FAST]) == 0
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_no_traceback_from_the_command_line(tmp_path):
    path = write(tmp_path, HEAD + '[[claim]]\nid = "x.y"\nwhere = "w"\nlatex = "\\\\frac{"\n')
    done = subprocess.run([sys.executable, "-m", "derive", "check", path, *FAST], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "ends too early" in done.stdout


def test_the_readme_example_meets_its_expectations(capsys):
    assert main(["check", str(ROOT / "examples" / "lstm_notes.toml"), *FAST]) == 0
    assert "5 met, 0 unmet" in capsys.readouterr().out


def test_formulas_copied_from_papers_meet_their_expectations_and_the_readings_are_shown(capsys):
    assert main(["check", str(ROOT / "examples" / "papers.toml"), *FAST]) == 0
    out = capsys.readouterr().out
    assert "7 met, 0 unmet" in out and "Readings the engine chose:" in out
    assert r"olah.gradient: f_t is a column at n = 2, the other side a matrix: read as \mathrm{diag}(f_t)" in out


def test_json_output_carries_the_reading(capsys):
    main(["check", str(ROOT / "examples" / "papers.toml"), "--json", "--points", "8", "--jobs", "1"])
    claims = {c["id"]: c for c in json.loads(capsys.readouterr().out)["claims"]}
    assert "Read by the engine:" in claims["olah.gradient"]["reading"]


def test_a_builtin_claims_file_checks_clean(capsys):
    assert main(["check", str(ROOT / "checks" / "cv_lstm.toml"), *FAST]) == 0
    out = capsys.readouterr().out
    assert "cv-lstm.forget-product" in out and "agrees-when-truncated" in out


def test_the_gru_example_meets_its_expectations(capsys):
    assert main(["check", str(ROOT / "examples" / "gru_notes.toml"), *FAST]) == 0
    assert "5 met, 0 unmet" in capsys.readouterr().out


def test_the_gru_examples_wrong_derivation_flips_when_its_missing_path_is_restored(tmp_path, capsys):
    """A mutation test: the verdict follows the formula, not the `expect`."""
    text = (ROOT / "examples" / "gru_notes.toml").read_text(encoding="utf-8")
    wrong = r"U_h \mathrm{diag}(r_t)'''"
    right = r"U_h (\mathrm{diag}(r_t) + \mathrm{diag}(h_{t-1} \odot r_t \odot (1 - r_t)) U_r)'''"
    assert text.count(wrong) == 1 and right in text
    path = write(tmp_path, text.replace(wrong, right), "gru_fixed.toml")
    assert main(["check", path, "--json", *FAST]) == 1  # its expect ("differs") is now unmet
    verdicts = {c["id"]: c["verdict"] for c in json.loads(capsys.readouterr().out)["claims"]}
    assert verdicts["gru-notes.no-reset-path"] == "agrees"
    assert verdicts["gru-notes.exact"] == "agrees"


def test_bad_model_equations_make_the_file_unusable_with_their_position(tmp_path, capsys):
    text = GOOD.replace('name = "lstm_forget"\nbias = false\n', "equations = ['''h_t = \\tanh(W h_{t-1} + U z_t)''']\n"
                        "state = ['h']\n")
    assert main(["check", write(tmp_path, text), *FAST]) == 2
    err = capsys.readouterr().err
    assert "mine.toml:7:43: model (equation 1): z_{t}: no equation defines z" in err and err.rstrip().endswith("^")
