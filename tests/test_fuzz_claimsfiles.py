"""Hypothesis fuzzing of whole claims files (issue 13): no input gives a Python traceback or internal exception
text, every error is located and printable, and no example runs over its time budget.

The files are generated as text: valid and broken TOML, a byte-order mark, control characters and other
Unicode, random keys and values, top-level defaults, defines, dots, values, domains and model tables, and
formulas from a grammar-aware strategy that mixes fragments of the notation (and of the built-in claims
files) with junk. Most examples take the reading path (claimsfile.read_bytes, then each claim's question,
which is where a formula is evaluated against its model); a smaller run takes the whole `derive check` in
process (verification, diagnosis, table and JSON) with few points and a small proof budget. Both are
derandomized, so CI sees the same examples every time.
"""
from __future__ import annotations

import io
import json
import re
import time
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from derive import check
from derive.errors import DeriveError
from derive.notation import claimsfile
from derive.terminal import printable
from derive.verify import Settings

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")  # what a terminal obeys
ROOT = Path(__file__).resolve().parent.parent
READING_EXAMPLES = int(__import__("os").environ.get("FUZZ_READING", 2000))
CHECKING_EXAMPLES = 300
READING_BUDGET = 10.0  # seconds for reading one file and building its questions
CHECKING_BUDGET = 60.0  # seconds for one whole `check` of a small file at 5 points
NAME = "fuzz.toml"
# A line where the error has one; a few errors are about the whole file.
LOCATED = re.compile(r"fuzz\.toml:\d+|claim id \S+ is defined twice: in fuzz\.toml:\d+|fuzz\.toml (is larger|has no "
                     r"claims|is nested too deeply|has \d+ claims)|fuzz\.toml: a \[source\] table")
# What only a crash writes: an exception's class name followed by its text ("TypeError: ...").
INTERNAL = re.compile(r"\b(?!Derive|Claim|Notation|Formula|Shape|UnknownSymbol|Model|Verification|InputTooLarge)"
                      r"[A-Z][A-Za-z]*(Error|Exception|Operation)\b|Traceback|object is not|maximum recursion")


def _corpus() -> list[str]:
    """The formulas of the built-in and example claims files: real notation to cut and splice."""
    formulas = []
    for path in sorted((ROOT / "checks").glob("*.toml")) + sorted((ROOT / "examples").glob("*.toml")):
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        for table in document.get("claim", []):
            formulas += [v for k, v in table.items() if k in ("latex", "dots") and isinstance(v, str)]
            formulas += [v for v in table.get("define", {}).values() if isinstance(v, str)]
    return formulas


CORPUS = _corpus()
FREE_ATOMS = ["z", "w", "x", "u", "1", "2", "0.5", "0", "e", "exp", "atan", "Sigmoid", "3.25", "A", "B", r"\exp(exp)",
              r"\arctan(atan)", r"\sigma(Sigmoid)"]
LSTM_ATOMS = ["c_t", "c_{t-1}", "c_{t-2}", "h_{t-1}", "h_t", "f_t", "i_t", "o_t", "o_{t-1}", "x_t", r"\tilde{c}_t",
              "W_f", "W_{fh}", "W_{fx}", "W_c", "W_i", "b_f", "1", "2", r"\mathbf{1}", "A_t", "A_{t-1}", "z_{f,t}", "f_{t-k}",
              r"\delta c^t", r"W_f \cdot [h_{t-1}, x_t]", r"W_c \cdot [h_{t-1}, x_t]"]
RNN_ATOMS = ["c_t", "c_{t-1}", "z_t", "x_t", "W_{rec}", "W_{in}", "b", "1", "A_t", "c_{t-k}", r"W \cdot [c_{t-1}, x_t]"]
ATOMS = ["z", "w", "x", "u", "1", "2", "0.5", "0", "c_t", "c_{t-1}", "c_{t+1}", "h_{t-1}", "h_t", "f_t", "i_t",
         "o_t", "x_t", r"\tilde{c}_t", "W_f", "W_{fh}", "W_c", "b_f", "A_t", "A_{t-1}", "k", "t", "T", "e", "I",
         r"\mathbf{1}", "s_t", "W", "y^t", r"\delta c^t", r"\delta h^t", "E_k", "exp", "atan", "Sigmoid", "c_2",
         "h_{k}", r"\pi", r"\infty", "z_{f,t}", "q", r"\dots"]
UNARY = [r"\sigma({})", r"\tanh({})", r"\exp({})", r"\arctan({})", r"\sigma'({})", r"\tanh'({})", "tanh({})",
         "({})", "{{{}}}", r"\left({}\right)", "|{}|", r"\|{}\|", "{}^{{2}}", "{}^2", "{}^T", "{}^{{-1}}",
         "{}^{{100}}", r"\frac{{\partial {}}}{{\partial c_{{t-1}}}}", r"\frac{{d}}{{dz}} {}", r"\mathrm{{diag}}({})",
         "-{}", r"\prod_{{k=1}}^{{3}} {}", r"\sum_{{k=1}}^{{2}} {}", r"\max_z {}", "2({})^{{2}}", r"\dot{{\sigma}}({})",
         r"\frac{{\partial^+ {}}}{{\partial h_{{t-1}}}}", r"\frac{{1}}{{{}}}"]
BINARY = ["{} + {}", "{} - {}", r"{} \cdot {}", "{} {}", r"{} \odot {}", r"{} \otimes {}", r"\frac{{{}}}{{{}}}",
          "{} / {}", "{} * {}", "[{}, {}]", r"{} \oplus {}", r"W_f \cdot [{}, {}]", r"\frac{{\partial {}}}{{\partial {}}}"]
RELATIONS = [" = ", r" \le ", " < ", r" \ge ", " > ", " = ", " = "]
JUNK = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
NOTATION_CHARACTERS = st.lists(st.sampled_from(list("zwxct_^{}()[]|+-*/=<>'., 0123456789\\") +
                                               [r"\sigma", r"\frac", r"\partial", r"\cdot", r"\left", r"\right",
                                                r"\prod", r"\dots", r"\|", "\x1b[31m", "\t", "\n", "é", "σ"]),
                                max_size=25).map("".join)


def expressions(depth: int, atoms: tuple = tuple(ATOMS)):
    """A formula's expression: atoms, functions and operators of the notation, nested up to `depth`."""
    atom = st.sampled_from(atoms)
    if depth == 0:
        return atom
    inner = st.deferred(lambda: expressions(depth - 1, atoms))
    return st.one_of(
        atom,
        st.tuples(st.sampled_from(UNARY), inner).map(lambda p: p[0].format(p[1])),
        st.tuples(st.sampled_from(BINARY), inner, inner).map(lambda p: p[0].format(p[1], p[2])),
    )


@st.composite
def spliced(draw):
    """A real formula from the claims files, cut and spliced with another or with junk."""
    text = draw(st.sampled_from(CORPUS))
    cut = draw(st.integers(0, len(text)))
    insert = draw(st.one_of(st.just(""), NOTATION_CHARACTERS, JUNK, st.sampled_from(CORPUS)))
    end = draw(st.integers(cut, len(text)))
    return text[:cut] + insert + text[end:]


def formulas(depth: int = 3, atoms: tuple = tuple(ATOMS), wild: bool = True):
    relation = st.tuples(expressions(depth, atoms), st.sampled_from(RELATIONS), expressions(depth, atoms)).map("".join)
    chain = st.tuples(relation, st.sampled_from(RELATIONS), expressions(1, atoms)).map("".join)
    if not wild:
        return relation
    return st.one_of(*[relation] * 6, chain, expressions(depth, atoms), spliced(), NOTATION_CHARACTERS, JUNK)


# A claim's model and the atoms its formulas are made of (most claims are about what their model knows).
VOCABULARIES = [('model = "none"\nvariables = ["z", "w", "x", "u", "exp", "atan", "Sigmoid"]', tuple(FREE_ATOMS)),
                ('model = { name = "lstm_forget", n = 1 }', tuple(LSTM_ATOMS)),
                ('model = { name = "lstm_forget", n = 2, bias = false }', tuple(LSTM_ATOMS)),
                ('model = "rnn"', tuple(RNN_ATOMS)),
                ("", tuple(ATOMS))]


def toml_string(draw, text: str) -> str:
    """`text` as a TOML string: usually a literal '''...''' as people write LaTeX, else an escaped basic one."""
    if "'''" not in text and not text.endswith("'") and draw(st.integers(0, 3)):
        return f"'''{text}'''"
    return json.dumps(text, ensure_ascii=draw(st.booleans()))


MODELS = ['"none"', '"rnn"', '"lstm_forget"', '{ name = "lstm_forget", n = 1, bias = false }', '"gru"',
          '{ name = "rnn", n = 2 }', '"lstm_peephole"', '"nonesuch"', "3", '{ name = "rnn", n = 9 }',
          '{ equations = [\'\'\'h_t = \\tanh(W h_{t-1} + U x_t + b)\'\'\'], state = ["h"], inputs = ["x"] }',
          '{ equations = [\'\'\'h_t = \\frac{1}{h_{t-1} - x_t}\'\'\'], state = ["h"], inputs = ["x"] }',
          '{ equations = [\'\'\'h_t = h_{t-1} +\'\'\'], state = ["h"], inputs = ["x"] }',
          '{ equations = ["h_t = q_t"], state = ["h", "c"], inputs = ["y"] }']
VALUES = ["1", "-3", "100", '"a"', "[1, 2, 3]", "[]", "true", "1.5", '["x"]', "{ a = 1 }", "[2, 0]", '["-inf", "inf"]',
          "[-1, 1]", '[0, "oo"]', "[1]", "inf", "nan"]
NAMES = ["z", "w", "x", "k", "t", "A_t", "A", "B", '"A_t"', '"\\\\tilde{c}"', "s", "y", "exp", "E_k", "q", '"z+"',
         '"\\\\dots"', '"é"']
KEYS = ["id", "where", "latex", "expect", "model", "semantics", "variables", "domain", "values", "define", "dots",
        "aliases", "loss", "reading", "statement", "verbatim", "define", "dots", "values", "domain", "define", "dots"]


@st.composite
def entries(draw, key: str, depth: int, atoms: tuple = tuple(ATOMS), wild: bool = True):
    """One `key = value` line (or a [table]) of a claim or of the file's defaults."""
    if key == "model":
        return f"model = {draw(st.sampled_from(MODELS))}"
    if key == "semantics":
        return "semantics = " + draw(st.sampled_from(['"full"', '"truncated"', '"exact"', "1"]))
    if key == "expect":
        return "expect = " + draw(st.sampled_from(['"agrees"', '"differs"', '"undecided"', '"maybe"', "true"]))
    if key == "variables":
        names = draw(st.lists(st.sampled_from(["z", "w", "x", "u", "exp", "atan", "Sigmoid", "c_t", "z+", "",
                                               "\\sigma", "k", "é"]), max_size=4))
        return "variables = " + draw(st.sampled_from([json.dumps(names), '"z"', "[1]"]))
    if key in ("domain", "values", "aliases"):
        pairs = draw(st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES + ['"z"', '"c"', '"h"'])),
                              max_size=3, unique_by=lambda p: p[0]))
        return f"{key} = {{ " + ", ".join(f"{k} = {v}" for k, v in pairs) + " }"
    if key == "define":
        pairs = draw(st.lists(st.tuples(st.sampled_from(["A_t", "A", "B_t", "B", "C", "z", "c_t", "2", "A_{t-1}"]),
                                        formulas(depth, atoms) if chance(draw, 4) else expressions(depth, atoms)),
                              max_size=3, unique_by=lambda p: p[0]))
        return "define = { " + ", ".join(f'{json.dumps(k)} = {toml_string(draw, v)}' for k, v in pairs) + " }"
    if key == "dots":
        return f"dots = {toml_string(draw, draw(expressions(depth, atoms)))}"
    if key == "loss":
        return draw(st.sampled_from(['loss = { symbol = "E_k", of = "h_k" }', 'loss = { symbol = "L" }', "loss = 3",
                                     'loss = { symbol = "E", of = "h_t", x = 1 }']))
    if key == "latex":
        return f"latex = {toml_string(draw, draw(formulas(depth, atoms, wild)))}"
    if key == "verbatim":
        return f"verbatim = {draw(st.sampled_from(['true', 'false', '1']))}"
    return f"{key} = {toml_string(draw, draw(st.one_of(st.sampled_from(['w', 'eq. (3)', '']), JUNK)))}"


def chance(draw, one_in: int) -> bool:
    """True about once in `one_in` draws (hypothesis favours small integers, so not integers(0, n) == 0)."""
    return draw(st.sampled_from([False] * (one_in - 1) + [True]))  # True last: the simplest draw is False


@st.composite
def claims_files(draw, depth: int = 3, most_claims: int = 3, wild: bool = True) -> bytes:
    """A claims file as bytes; `wild` adds broken formulas, damaged text and a BOM, else most claims are legal."""
    lines = []
    for key in draw(st.lists(st.sampled_from(["model", "semantics", "variables", "domain", "values", "define",
                                              "aliases"] if wild else ["define"]), max_size=3, unique=True)):
        lines.append(draw(entries(key, depth)))
    source = ['key = "fz"', 'title = "Fuzz"', 'site = "here"']
    if chance(draw, 20):
        source = draw(st.lists(st.sampled_from(source + ["author = 3", 'nonsense = "x"']), max_size=4))
    lines += ["", "[source]"] + source
    for number in range(draw(st.integers(1, most_claims))):
        claim_id = draw(st.sampled_from([f"fz.c{number}"] * 12 + ["fz.c0", "bad id", "fz.é"])) if wild else \
            f"fz.c{number}"
        model, atoms = draw(st.sampled_from(VOCABULARIES))
        lines += ["", "[[claim]]", f'id = "{claim_id}"', 'where = "eq. 1"',
                  draw(entries("latex", depth, atoms, wild))]
        if model:
            lines.append(model)
        keys = (KEYS + ["foo"] if chance(draw, 10) else KEYS) if wild else ["define", "dots", "expect"]
        for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
            if key not in ("id", "where", "latex") and not (model and key in ("model", "variables")):
                lines.append(draw(entries(key, depth, atoms)))
    text = "\n".join(lines) + "\n"
    damage = draw(st.sampled_from(range(16))) if wild else 0
    if damage == 15:  # a stray line anywhere: usually broken TOML
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.one_of(JUNK, NOTATION_CHARACTERS)) + text[at:]
    elif damage == 14:  # a control character anywhere
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["\x00", "\x1b[2J", "\x7f", "\r", "\x0b", "\u202e"])) + text[at:]
    data = text.encode("utf-8")
    if wild and chance(draw, 10):
        data = b"\xef\xbb\xbf" + data
    if wild and chance(draw, 50):
        data = data[:draw(st.integers(0, len(data)))] + b"\xff" + data[len(data) // 2:]
    return data


def assert_clean(message: str, data: bytes) -> None:
    """A message for the user: located, no exception text, printable after derive.terminal.printable."""
    first = message.split("\n")[0]
    assert not INTERNAL.search(message), f"internal exception text in {message!r}\nfile:\n{data.decode('utf-8', 'replace')}"
    assert LOCATED.match(first), f"no file and line: {first!r}\nfile:\n{data.decode('utf-8', 'replace')}"
    assert len(message.split("\n")) <= 3, f"more than a message, a formula and a caret: {message!r}"
    shown = printable(message)
    assert not UNSAFE.search(shown), repr(shown)


@settings(max_examples=READING_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(claims_files())
def test_reading_any_claims_file_gives_claims_or_located_errors(data):
    started = time.monotonic()
    try:
        document = claimsfile.read_bytes(data, NAME)
    except DeriveError as error:
        event("file refused: " + re.sub(r"^\S+:\d+(:\d+)?: ", "", str(error))[:30])
        assert_clean(str(error), data)
        return
    for entry in document.entries:
        if entry.error is not None:
            event("claim not read: " + re.sub(r"^\S+:\d+(:\d+)?: ", "", str(entry.error))[:40])
            assert_clean(str(entry.error), data)
            continue
        try:
            entry.claim.question()
        except DeriveError as error:
            event("claim not built: " + re.sub(r"^\S+:\d+(:\d+)?: ", "", str(error))[:40])
            assert_clean(str(error), data)
        else:
            event("question built")
    assert time.monotonic() - started < READING_BUDGET


@settings(max_examples=CHECKING_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.one_of(claims_files(depth=2, most_claims=2), claims_files(depth=2, most_claims=2, wild=False)))
def test_checking_any_claims_file_gives_verdicts_or_located_errors(data):
    started = time.monotonic()
    out, err = io.StringIO(), io.StringIO()
    code = check.run([], data, Settings(points=5, budget=1.0), jobs=1, as_json_output=True, out=out, err=err)
    assert code in (0, 1, 2)
    result = json.loads(out.getvalue())
    for message in result["unusable"]:
        assert_clean(message.replace("<stdin>", NAME), data)
    for claim in result["claims"]:
        if claim["error"]:
            assert_clean(claim["error"].replace("<stdin>", NAME), data)
        note = (claim["diagnosis"] or {}).get("note") or ""
        assert not INTERNAL.search(note), note
    assert time.monotonic() - started < CHECKING_BUDGET
