"""Text from claims files in the report and on the terminal: controls, ANSI escapes, long words, accents."""
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from derive.errors import ReportError
from derive.report.latex import LONGEST_WORD, escape
from derive.report.pdf import compile_pdf, tex_errors
from derive.terminal import printable

ROOT = Path(__file__).resolve().parents[1]
ANSI = "\x1b[31mred\x1b[0m"
CONTROLS = "".join(map(chr, [*range(0, 32), *range(127, 160)]))
FAST = ["--points", "20", "--budget", "5"]


def test_escape_shows_every_control_character_as_its_code_point():
    out = escape(f"a{CONTROLS}b {ANSI}")
    assert all(32 <= ord(character) < 127 or character == "\n" for character in out)
    assert r"\texttt{[U+001B]}{[}31mred" in out and r"\texttt{[U+0085]}" in out


def test_escape_lets_a_long_word_break_anywhere_and_keeps_report_lines_short():
    out = escape("where " + "x" * 5000)
    assert out.startswith(r"where x\allowbreak{}x") and out.count("x") == 5000
    assert max(len(line) for line in out.splitlines()) < 1000
    assert r"\allowbreak" not in escape("y" * LONGEST_WORD)


def test_escape_writes_combining_accents_as_tex_accents():
    for name in ("Koutn\u00edk", "Koutni\u0301k"):
        assert escape(name) == r"Koutn\'{\i}k"
    assert escape(unicodedata.normalize("NFC", "Gödel, Erdős, Čech, façade")) == \
        r'G\"{o}del, Erd\H{o}s, \v{C}ech, fa\c{c}ade'
    assert escape("c̃_t") == r"\ensuremath{\tilde{c}}\_t"  # the notation's accents stay math


def test_escape_braces_brackets_that_would_open_an_optional_argument():
    assert escape("[1] x") == "{[}1{]} x"


def test_printable_shows_escapes_and_controls_but_keeps_lines():
    assert printable(f"{ANSI}\r\u202eab\ttab\nnext") == "\\x1b[31mred\\x1b[0m\\x0d\\u202eab\ttab\nnext"
    assert printable("a\nb", newlines=False) == "a\\nb"


def test_tex_errors_quote_the_error_and_its_line_not_the_tail():
    log = "\n".join(["This is pdfTeX", "! Undefined control sequence.", "<recently read> \\foo ", "",
                     "l.42 \\field{Where}\\foo", "                     bar", "Here is how much of TeX's memory",
                     *[f"Font Info {k}" for k in range(40)]])
    assert tex_errors(log) == ["! Undefined control sequence.", "l.42 \\field{Where}\\foo"]
    assert tex_errors("a\n\nb\nc\nd\n") == ["b", "c", "d"]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX engine")
def test_a_tex_failure_names_its_error_lines_and_keeps_the_log(tmp_path):
    tex = tmp_path / "report.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\nfine\n\\undefinedmacro{x}\n\\end{document}\n")
    with pytest.raises(ReportError) as error:
        compile_pdf(tex)
    message = str(error.value)
    assert "! Undefined control sequence. | l.4 \\undefinedmacro" in message and "report.log" in message
    assert (tmp_path / "report.log").exists() and not list(tmp_path.glob("derive-tex-*"))


NASTY = '''[source]
key = "nasty"
title = "Koutni\\u0301k's [notes] \\u001b[1mbold\\u001b[0m"
site = "https://example.org/{long}"

[model]
name = "lstm_forget"

[[claim]]
id = "nasty.long"
where = "{long}"
latex = \'\'\'\\frac{{\\partial c_t}}{{\\partial c_{{t-1}}}} = f_t\'\'\'

[[claim]]
id = "nasty.controls"
where = "eq. \\u001b[31m(3)\\u001b[0m \\u0007\\u0001 \\r over"
statement = "tab\\there, [bracket] first"
latex = \'\'\'\\frac{{\\partial c_t}}{{\\partial c_{{t-1}}}} = f_t\'\'\'
'''.replace("{long}", "x" * 5000).replace("{{", "{").replace("}}", "}")


def derive(*args):
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX engine")
def test_controls_escapes_long_fields_and_accents_compile_and_never_reach_the_terminal_raw(tmp_path):
    claims = tmp_path / "nasty.toml"
    claims.write_text(NASTY)
    done = derive("check", str(claims), "--report", str(tmp_path / "out"), *FAST, "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert r"Koutn\'{\i}k" in (tmp_path / "out" / "report.tex").read_text()
    listed = derive("list", "--file", str(claims))
    assert "\\x1b[31m(3)\\x1b[0m \\x07\\x01 \\x0d over" in listed.stdout
    for text in (done.stdout, done.stderr, listed.stdout, listed.stderr):
        assert "\x1b" not in text and "\r" not in text


def test_an_escape_sequence_in_a_formula_error_is_shown_not_obeyed(tmp_path):
    claims = tmp_path / "bad.toml"
    claims.write_text(NASTY.split("[[claim]]")[0] + '[[claim]]\nid = "nasty.bad"\nwhere = "w"\n'
                      'latex = "c_t = \\u001b[2J\\u001b[31m f_t"\n')
    done = derive("check", str(claims), *FAST)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "\x1b" not in done.stdout + done.stderr and "\\x1b[2J" in done.stdout
