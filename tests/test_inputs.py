"""Wrong or unlocated results from odd but legal inputs (issue 13): powers of a group, variables named like
functions, accents in typeset text, sample points on a pole, a byte-order mark, FIFOs, and every error of a
claims file located (file, claim, line)."""
import os
import re

import pytest
import sympy

from derive.cli import main
from derive.notation import claimsfile
from derive.report.latex import escape
from derive.verify import Settings, points, verify

FAST = ["--points", "20", "--jobs", "1"]
SOURCE = """[source]
key = "x"
title = "t"
site = "s"
"""


def claims_text(*claims, top: str = "") -> str:
    """A claims file: `top` (top-level entries), the source, and one [[claim]] per (id, latex, more) triple."""
    text = top + SOURCE
    for claim_id, latex, more in claims:
        text += f"\n[[claim]]\nid = \"{claim_id}\"\nwhere = \"w\"\nlatex = '''{latex}'''\n{more}"
    return text


FREE = 'model = "none"\nvariables = ["z", "w", "exp", "atan", "Sigmoid"]\n'


def question(latex: str, more: str = FREE, top: str = ""):
    entry = claimsfile.read_text(claims_text(("x.a", latex, more), top=top), "f.toml").entries[0]
    assert entry.error is None, entry.error
    return entry.claim.question()


def verdict(latex: str, more: str = FREE):
    return verify(question(latex, more), Settings(points=20))


def error_of(text: str) -> str:
    """The message of the first error a claims file gives, reading or building its first claim."""
    try:
        entry = claimsfile.read_text(text, "f.toml").entries[0]
        if entry.error is not None:
            return str(entry.error)
        entry.claim.question()
    except claimsfile.ClaimError as error:
        return str(error)
    raise AssertionError("no error")


# -- a power binds to the parenthesised group only -------------------------------------------------------
def test_a_power_after_a_group_is_a_power_of_the_group_only():
    z = sympy.Symbol("z", real=True)
    assert sympy.simplify(question("2(z)^{2} = 0").full - 2 * z ** 2) == 0
    assert verdict("2(z)^{2} = 2 z^2").status == "agrees"
    assert verdict("2(z)^{2} = 4 z^2").status == "differs"
    assert verdict("w(z+1)^{2} = w z^2 + 2 w z + w").status == "agrees"


# -- a variable named like a function ---------------------------------------------------------------------
@pytest.mark.parametrize("latex, status", [
    (r"\exp(exp) \le 3", "differs"),  # exp = 2 gives e² > 3
    (r"\sigma(exp) < 1", "agrees"),
    (r"\arctan(atan) + \sigma(Sigmoid) = \sigma(Sigmoid) + \arctan(atan)", "agrees"),
    (r"\exp(exp) = exp", "differs"),
])
def test_a_variable_named_like_a_function_is_a_variable(latex, status):
    read = question(latex)
    side = read.expr if hasattr(read, "expr") else read.hand
    assert {str(symbol) for symbol in side.free_symbols} & {"exp", "atan"}  # a variable, not the function
    assert verify(read, Settings(points=20)).status == status


def test_check_of_variables_named_like_functions_has_no_type_error(tmp_path, capsys):
    path = tmp_path / "f.toml"
    path.write_text(claims_text(("x.a", r"\exp(exp) \le 3", FREE), ("x.b", r"\sigma(Sigmoid) < 1", FREE)))
    assert main(["check", str(path), *FAST]) == 0
    out = capsys.readouterr().out
    assert "TypeError" not in out and "not callable" not in out
    assert re.search(r"x\.a\s+differs", out) and re.search(r"x\.b\s+agrees", out)


# -- accents in typeset text --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, latex", [
    ("Koutni\u0301k", r"Koutn\'{\i}k"),  # a combining acute accent (NFD), as the shipped report had it
    ("Koutn\u00edk", r"Koutn\'{\i}k"),  # the same name precomposed
    ("Dvořák", r"Dvo\v{r}\'{a}k"), ("Jürgen", r'J\"{u}rgen'), ("Erdős", r"Erd\H{o}s"),
    ("Łukasz Søren", r"{\L}ukasz S{\o}ren"), ("ﬁne", "fine"),
])
def test_accented_letters_become_tex_accents(text, latex):
    assert escape(text) == latex
    assert "[U+" not in escape(text)


def test_the_pdf_metadata_keeps_an_accented_letter_s_letter():
    from derive.report.tex import _pdf_text

    assert _pdf_text("J. Koutni\u0301k and A. Dvořák") == "J. Koutnik and A. Dvorak"


# -- a sample point on a pole --------------------------------------------------------------------------------
def test_a_claim_with_a_pole_at_a_sampled_point_is_decided():
    z = sympy.Symbol("z", real=True)
    first = points.sample(None, [z], 20, Settings().seed, 30, None, ((z, -3, 3),))[1][z]
    pole = str(first)
    identity = rf"\frac{{z}}{{z - {pole}}} = 1 + \frac{{{pole}}}{{z - {pole}}}"
    result = verdict(identity)
    assert result.status == "agrees"
    assert result.evidence.points == 20
    again = verdict(identity)  # the same seed gives the same points
    assert again.evidence.comparisons[0].max_relative_error == result.evidence.comparisons[0].max_relative_error
    wrong = verdict(rf"\frac{{z}}{{z - {pole}}} = 1 + \frac{{2}}{{z - {pole}}}")
    assert wrong.status == "differs"
    assert pole not in {str(value) for _, value in wrong.evidence.comparisons[0].counterexample.point}


# -- a byte-order mark, FIFOs ------------------------------------------------------------------------------
def test_a_byte_order_mark_is_accepted(tmp_path, capsys):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + claims_text(("x.a", "2(z)^{2} = 2 z^2", FREE)).encode())
    assert main(["check", str(path), *FAST]) == 0
    assert "agrees" in capsys.readouterr().out
    assert claimsfile.read_text("\ufeff" + claims_text(("x.a", "z = z", FREE)), "f.toml").entries[0].error is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_opening_it(tmp_path, capsys):
    fifo = tmp_path / "claims.toml"
    os.mkfifo(fifo)
    assert main(["check", str(fifo), *FAST]) == 2  # would block forever if it were opened
    err = capsys.readouterr().err
    assert "not a regular file" in err and len(err.strip().splitlines()) == 1


# -- every error located ---------------------------------------------------------------------------------
def line_of(text: str, fragment: str) -> int:
    return text[:text.index(fragment)].count("\n") + 1


def test_an_error_in_a_top_level_define_is_placed_at_that_define():
    top = '[define]\nA = "q + 1"\n\n'
    text = claims_text(("x.a", "A = 1", FREE), top=top)
    message = error_of(text)
    assert message.startswith(f"f.toml:{line_of(text, 'A = ')}:")
    assert "(define A)" in message and "unknown symbol q" in message


def test_a_syntax_error_in_a_top_level_define_is_placed_at_that_define():
    text = claims_text(("x.a", "A = 1", FREE), top='[define]\nA = "z +"\n\n')
    assert error_of(text).startswith(f"f.toml:{line_of(text, 'A = ')}:")


@pytest.mark.parametrize("more", [
    FREE + 'dots = "z + \\\\dots"\n',
    FREE + 'dots = "B"\n[claim.define]\nB = "w + \\\\dots"\n',
])
def test_dots_referring_to_themselves_give_a_located_message(more):
    text = claims_text(("x.a", r"z + \dots = 1", more))
    message = error_of(text)
    assert "RecursionError" not in message and "recursion" not in message
    assert re.match(r"f\.toml:\d+:\d+: claim x\.a \((dots|define B)\): the terms of dots contain \\dots again",
                    message)


@pytest.mark.parametrize("more, key", [
    (FREE + "[claim.values]\nk = 100\n", "k = 100"),
    (FREE + '[claim.values]\nk = "a"\n', 'k = "a"'),
    (FREE + "values = 3\n", "values = 3"),
    (FREE + "[claim.domain]\nz = [1]\n", "z = [1]"),
    (FREE + '[claim.domain]\nz = ["a", 2]\n', 'z = ["a", 2]'),
    (FREE + "[claim.domain]\nz = [2, 0]\n", "z = [2, 0]"),
    (FREE + 'semantics = "x"\n', 'semantics = "x"'),
    (FREE + "reading = 3\n", "reading = 3"),
    (FREE + 'expect = "x"\n', 'expect = "x"'),
    (FREE + "loss = 3\n", "loss = 3"),
    (FREE + "foo = 1\n", "foo = 1"),
    ('model = "lstmx"\n', 'model = "lstmx"'),
])
def test_an_entry_error_names_the_file_claim_and_line(more, key):
    text = claims_text(("x.a", "z = z", more))
    message = error_of(text)
    assert message.startswith(f"f.toml:{line_of(text, key)}:"), message
    assert "\n" not in message and "Error" not in message.split(":", 2)[-1]


@pytest.mark.parametrize("text, fragment", [
    (claims_text(("x.a", "z = z", FREE), top="dots = 'z'\n"), "dots = "),
    (claims_text(("x.a", "z = z", FREE)).replace("title", "titel"), "titel"),
    (claims_text(("x.a", "z = z", FREE)) + "x = = 1\n", "x = = 1"),
    (claims_text(("x.a", "z = z", FREE), ("x.a", "z = z", FREE)), None),
])
def test_a_file_level_error_names_the_line(text, fragment):
    message = error_of(text)
    if fragment is None:  # a repeated id: both places
        assert re.search(r"f\.toml:\d+, claim 1 and f\.toml:\d+, claim 2", message)
    else:
        assert message.startswith(f"f.toml:{line_of(text, fragment)}"), message


def test_sympy_refusing_a_formula_is_said_in_words_at_the_claims_line(monkeypatch):
    from derive.notation import claimsfile as module

    def refuse(spec):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(module, "read", refuse)
    text = claims_text(("x.b", "z = z + 0", FREE))
    message = error_of(text)
    assert message.startswith(f"f.toml:{line_of(text, 'id = ')}: claim x.b: the formula cannot be evaluated")
    assert "nested too deeply" in message and "RecursionError" not in message
