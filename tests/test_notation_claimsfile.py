"""Claims files (TOML): schema, limits, located errors, the built-in .toml claims, and articles copied verbatim."""
import tomllib
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive import claims, models
from derive.notation import claimsfile
from derive.errors import (ClaimError, ClaimsFileError, DeriveError, FormulaSyntaxError, InputTooLargeError,
                           NotationError, ShapeMismatchError, UnknownSymbolError)
from derive.notation import dsigma, dtanh, sigma
from derive.verify import Equal, Settings, verify
from expected import EXPECTED

FAST = Settings(points=40)
CHECKS = Path(claims.builtin_directory())
HEAD = '''[source]
key = "mine"
title = "My notes"
site = "my blog"
'''


def claim(latex, extra="", claim_id="mine.one"):
    return f'''
[[claim]]
id = "{claim_id}"
where = "eq. (1)"
latex = \'\'\'{latex}\'\'\'
{extra}
'''


def read(text):
    return claimsfile.read_text(text, "mine.toml")


def only(text):
    entry = read(text).entries[0]
    assert entry.error is None, entry.error
    return entry


def verdict_of(text, settings=FAST):
    return verify(only(text).claim.question(), settings)


LSTM = 'model = { name = "lstm_forget", bias = false }'


# -- the built-in claims files --------------------------------------------------------------
def test_builtin_toml_claims_print_the_very_formula_they_parse():
    for path in sorted(CHECKS.glob("*.toml")):
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        loaded = {c.id: c for c in claimsfile.load(path)}
        assert set(loaded) == {c["id"] for c in document["claim"]}
        for table in document["claim"]:
            assert loaded[table["id"]].printed == table["latex"].strip()


def test_builtin_ids_are_unique_across_python_and_toml():
    everything = claims.load_all()
    assert len({c.id for c in everything}) == len(everything)
    toml_ids = {c.id for path in CHECKS.glob("*.toml") for c in claimsfile.load(path)}
    assert {"arbel.eq2", "arbel.D_t", "blog.dW3", "cv-lstm.forget-product", "cv-explode.cec-term"} <= toml_ids


def test_claims_load_dispatches_toml():
    loaded = claims.load(CHECKS / "cv_lstm.toml")
    assert loaded and all(c.source.key == "cv-lstm" for c in loaded)


# -- a user's own file ------------------------------------------------------------------------
def test_expect_is_compared_never_used():
    text = HEAD + claim(r"\frac{\partial \tilde{c}_t}{\partial c_{t-1}} = \sigma'(W_c \cdot [h_{t-1}, x_t]) "
                        r"\cdot W_c \cdot o_{t-1} \otimes \tanh'(c_{t-1})", LSTM + '\nexpect = "agrees"')
    entry = only(text)
    assert entry.expect == "agrees"
    assert verify(entry.claim.question(), FAST).status == "differs"  # computed, whatever was expected


def test_agrees_when_truncated_is_reachable_and_semantics_applies_to_the_hand_side():
    assert verdict_of(HEAD + claim(r"\frac{\partial c_t}{\partial c_{t-1}} = f_t", LSTM)).status == \
        "agrees-when-truncated"
    same = r"\frac{\partial c_t}{\partial c_{t-1}} = \frac{\partial c_t}{\partial c_{t-1}}"
    assert verdict_of(HEAD + claim(same, LSTM)).status == "agrees"
    truncated = verdict_of(HEAD + claim(same, LSTM + '\nsemantics = "truncated"'))
    assert truncated.status == "agrees-when-truncated"


def test_defaults_aliases_values_and_definitions():
    text = HEAD + '''
[model]
name = "lstm_forget"
bias = false

[aliases]
"s_t" = "c_t"
''' + claim(r"\frac{\partial s_k}{\partial s_1} = \prod_{t=2}^{k} B_t",
            'values = { k = [2, 3] }\ndefine = { B_t = "f_t" }\nexpect = "agrees-when-truncated"')
    entry = only(text)
    question = entry.claim.question()
    assert isinstance(question, Equal) and question.labels == ("k = 2", "k = 3")
    assert verify(question, FAST).status == "agrees-when-truncated"


def test_alias_keys_take_any_spelling_of_time():
    assert claimsfile.notation_key("y^t", "alias") == "y"
    assert claimsfile.notation_key("s_{t}", "alias") == "s"
    assert claimsfile.notation_key(r"\tilde{C}_t", "alias") == r"\tilde{C}"
    assert claimsfile.notation_key("z_{f,t}", "alias") == "z_f"
    assert claimsfile.notation_key(r"\sigma", "alias") == r"\sigma"
    with pytest.raises(NotationError):
        claimsfile.notation_key("s_{t-1}", "alias")


def test_bounds_with_variables_and_domains():
    none = 'model = "none"\nvariables = ["z"]'
    assert verdict_of(HEAD + claim(r"\sigma'(z) \le \frac{1}{4}", none)).status == "agrees"
    assert verdict_of(HEAD + claim(r"\sigma'(z) < 0.25", none)).status == "differs"
    assert verdict_of(HEAD + claim(r"0.25 \ge \sigma'(z)", none)).status == "agrees"  # the number may lead
    narrow = verdict_of(HEAD + claim(r"z^2 \le 1", none + '\ndomain = { z = [-1, 1] }'))
    assert narrow.status == "agrees"
    squash = verdict_of(HEAD + claim(r"\left|\frac{\partial h_t}{\partial c_t}\right| \le 1",
                                     'model = { name = "lstm_1997" }'))
    assert squash.status == "agrees" and squash.method == "symbolic"


def test_a_loss_of_unspecified_form():
    text = HEAD + claim(r"\frac{\partial L}{\partial W_3} = \frac{\partial L}{\partial a_3} \cdot "
                        r"\frac{\partial a_3}{\partial W_3}", 'model = "ff_chain"\nloss = { symbol = "L", of = "a_3" }')
    assert verdict_of(text).status == "agrees"


def test_delta_notation_with_dots():
    text = HEAD + claim(r"\delta c^t = \dots + \delta c^{t+1} \odot f^{t+1}",
                        'model = { name = "lstm_peephole" }\naliases = { y = "h" }\n'
                        "dots = '''\\delta y^t \\odot o^t \\odot \\tanh'(c^t) + p_o \\odot \\delta \\bar{o}^t "
                        "+ p_i \\odot \\delta \\bar{\\imath}^{t+1} + p_f \\odot \\delta \\bar{f}^{t+1}'''")
    result = verdict_of(text)
    assert (result.status, result.method) == ("agrees", "symbolic")
    missing = HEAD + claim(r"\delta c^t = \dots + \delta c^{t+1} \odot f^{t+1}", 'model = { name = "lstm_peephole" }')
    with pytest.raises(NotationError, match="dots"):
        only(missing).claim.question()


# -- errors: located, clean, never executed --------------------------------------------------
def test_a_syntax_error_names_file_claim_line_column_and_draws_a_caret():
    text = HEAD + claim(r"\frac{\partial c_t}{\partial c_{t-1}} = f_t \cdot (1 + }", LSTM, "mine.typo")
    entry = read(text).entries[0]
    assert isinstance(entry.error, FormulaSyntaxError) and entry.claim is None
    message = str(entry.error)
    line = next(n for n, l in enumerate(text.splitlines(), 1) if "(1 + }" in l)
    column = text.splitlines()[line - 1].index("}", text.splitlines()[line - 1].index("(1 +")) + 1
    assert message.startswith(f"mine.toml:{line}:{column}: claim mine.typo (latex): unexpected '}}'")
    shown, mark = message.splitlines()[1:3]
    assert shown[mark.index("^")] == "}"


def test_an_unknown_symbol_is_located_and_lists_the_known_ones():
    entry = only(HEAD + claim(r"\frac{\partial c_t}{\partial c_{t-1}} = g_t", LSTM))
    with pytest.raises(UnknownSymbolError) as caught:
        entry.claim.question()
    message = str(caught.value)
    assert "mine.toml:" in message and "claim mine.one" in message and "unknown symbol g_{t}" in message
    assert r"W_f = [W_{fh}, W_{fx}]" in message and r"\tilde{c}_t" in message and "^" in message


def test_sides_of_different_shapes_say_so():
    entry = only(HEAD + claim(r"\frac{\partial c_t}{\partial c_{t-1}} = x_t^\top", 'model = { name = "lstm_forget", n = 2 }'))
    with pytest.raises(ShapeMismatchError, match=r"different shapes: this side is 1×2, the reference side is 2×2"):
        entry.claim.question()


def test_claims_load_refuses_a_file_with_a_broken_claim(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(HEAD + claim("c_t = (", LSTM), encoding="utf-8")
    with pytest.raises(ClaimError, match="broken.toml"):
        claims.load(path)


@pytest.mark.parametrize("text, fragment", [
    ("not toml [", "not valid TOML"),
    (HEAD, "no claims"),
    (claim("c_t = c_t"), "[source] table"),
    (HEAD + claim("c_t = c_t", "colour = 1"), "unknown key colour"),
    (HEAD + '[[claim]]\nid = "a"\nwhere = "x"\n', "needs latex"),
    (HEAD + claim("c_t = c_t", 'model = { name = "mgu" }'), "model name must be one of"),
    (HEAD + claim("c_t = c_t", 'model = { name = "lstm_forget", activation = "tanh" }'), "has no option activation"),
    (HEAD + claim("c_t = c_t", 'model = { name = "rnn", form = "elman" }'), "form must be"),
    (HEAD + claim("c_t = c_t", 'expect = "maybe"'), "expect must be one of"),
    (HEAD + claim("c_t = c_t", 'semantics = "half"'), "semantics must be"),
    (HEAD + claim("c_t = c_t") + claim("c_t = c_t"), "defined twice"),
    (HEAD + claim("c_t = c_t", "values = { k = [1.5] }"), "whole numbers"),
    (HEAD + claim("c_t = c_t").replace('"mine.one"', '"mine one"'), "must be letters"),
])
def test_unusable_files(text, fragment):
    with pytest.raises(ClaimsFileError, match=fragment.replace("[", r"\[")):
        read(text)


def test_limits_refuse_at_once(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text(HEAD + "# " + "x" * claimsfile.LARGEST_FILE + "\n", encoding="utf-8")
    with pytest.raises(InputTooLargeError, match="larger than"):
        claimsfile.read_path(big)
    with pytest.raises(InputTooLargeError):
        claimsfile.read_bytes(b"#" * (claimsfile.LARGEST_FILE + 1))
    with pytest.raises(InputTooLargeError, match="formula has"):
        read(HEAD + claim("c_t = " + "c_t + " * 800 + "c_t"))
    with pytest.raises(InputTooLargeError, match="claims"):
        read(HEAD + "".join(claim("c_t = c_t", claim_id=f"m.{k}") for k in range(claimsfile.MOST_CLAIMS + 1)))
    with pytest.raises(InputTooLargeError, match="units"):
        read(HEAD + claim("c_t = c_t", 'model = { name = "lstm_forget", n = 40 }'))
    with pytest.raises(ClaimsFileError, match="cannot read"):
        claimsfile.read_path(tmp_path / "missing.toml")
    with pytest.raises(ClaimsFileError, match="UTF-8"):
        claimsfile.read_bytes(b"\xff\xfe[source]")


def test_input_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    entry = read(HEAD + claim(payload, f'reading = "{payload}"')).entries[0]
    assert isinstance(entry.error, FormulaSyntaxError)
    entry = read(HEAD + claim(r"c_t = c_t", f'reading = "{payload}"\n' + LSTM)).entries[0]
    assert verify(entry.claim.question(), FAST).status == "agrees"
    assert not marker.exists()


# -- a user copies an equation from an article: read as an independent transcription reads it ----
# Each formula is copied from the article as printed (Arbel's eq. (2) display joined into one chain,
# his \tag{2} left out); the extra keys are what a reader needs to say which model is meant. The
# reading is compared with the same formula transcribed by hand with derive.notation's operators,
# and the verdict with the derivation suite's table.
def _arbel_eq2():
    rnn = models.rnn(bias=False)
    s = rnn.sym
    return dsigma(s.W_rec * s.c_prev + s.W_in * s.x) * s.W_rec


def _arbel_d_t():
    lstm = models.lstm_forget(bias=False)
    s = lstm.sym
    return dsigma(s.W_ch * s.h_prev + s.W_cx * s.x) * s.W_ch * s.o_prev * dtanh(s.c_prev) * s.i


def _forget_product():
    lstm = models.lstm_forget()
    at = {k: lstm.at(k, absolute=True) for k in (2, 3)}
    return sympy.Matrix([sigma(at[2].z_f), sigma(at[2].z_f) * sigma(at[3].z_f)])


COPIED = [
    ("arbel.eq2", r"\frac{\partial C_t}{\partial C_{t-1}} = \sigma'(W_{rec} \cdot c_{t-1} + W_{in} \cdot x_t) \cdot "
                  r"\frac{\partial}{\partial C_{t-1}} [W_{rec} \cdot c_{t-1} + W_{in} \cdot x_t] "
                  r"= \sigma'(W_{rec} \cdot c_{t-1} + W_{in} \cdot x_t) \cdot W_{rec}",
     'model = { name = "rnn", bias = false }\naliases = { C = "c" }', lambda: sympy.Matrix([_arbel_eq2()] * 2)),
    ("arbel.D_t", r"D_{t} = \sigma'(W_{c} \cdot [h_{t-1}, x_{t}]) \cdot W_{c} \cdot o_{t-1} \otimes tanh'(c_{t-1}) "
                  r"\cdot i_{t}",
     LSTM + "\ndefine = { D_t = '''\\frac{\\partial \\tilde{c}_t}{\\partial c_{t-1}} \\cdot i_t''' }", _arbel_d_t),
    ("cv-lstm.forget-product", r"\frac{\partial s_{t'}}{\partial s_t} = \prod_{k=1}^{t' - t} \sigma(v_{t+k})",
     'model = "lstm_forget"\naliases = { s = "c", v = "z_f" }\nvalues = { t = 1, "t\'" = [2, 3] }', _forget_product),
]


@pytest.mark.parametrize("claim_id, latex, extra, transcription", COPIED, ids=[c[0] for c in COPIED])
def test_an_equation_copied_from_an_article_reads_as_transcribed_and_gets_its_verdict(claim_id, latex, extra,
                                                                                       transcription):
    question = only(HEAD + claim(latex, extra)).claim.question()
    read, written = (list(sympy.Matrix([value])) for value in (question.hand, transcription()))
    assert len(read) == len(written) and all(sympy.expand(a - b) == 0 for a, b in zip(read, written))
    assert verify(question, FAST).status == EXPECTED[claim_id]


def test_models_are_shared_between_claims():
    assert claimsfile.model_from({"name": "lstm_forget", "bias": False}, "m") is \
        claimsfile.model_from({"bias": False, "name": "lstm_forget"}, "m")
    assert claimsfile.model_from("none", "m") is None
    assert isinstance(claimsfile.model_from("rnn", "m"), models.Model)


# -- fuzzing the file level: any mix of keys and values gives only clean errors ------------------
VALUES = ['1', '"x"', '[]', '{}', '[1, 2]', '{ name = "rnn" }', '"none"', 'true', '1.5', 'inf', '"c_t = c_t"',
          "'''\\sigma'(z) < 1'''", '{ k = [2, 3] }', '{ z = [0, 1] }', '{ z = ["-inf", "inf"] }', '["z"]',
          '{ s = "c" }', '{ A_t = "f_t" }', '{ symbol = "L", of = "a_3" }', '{ name = "lstm_forget", n = 2 }',
          '"agrees"', '"truncated"', '[[1]]', '{ z = [1, 0] }', '{ z = "q" }', '{ "s_{t-1}" = "c" }']


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(claimsfile.CLAIM_KEYS - {"id"}) + ["colour"]),
                       st.sampled_from(VALUES), max_size=5))
def test_any_claim_table_gives_only_clean_errors(chosen):
    table = {"id": '"a.b"', "where": '"w"', "latex": "'''c_t = f_t'''", **chosen}
    text = HEAD + "[[claim]]\n" + "\n".join(f"{key} = {value}" for key, value in table.items())
    try:
        for entry in read(text).entries:
            if entry.claim is not None:
                entry.claim.question()
    except DeriveError:
        pass
