"""Greff et al.'s backward pass (appendix A.2) in δ notation: each recursion proved symbolically, mutations refuted."""
import pytest

from derive.notation.claimsfile import read_text
from derive.verify import Settings, verify

RECURSIONS = {
    "output gate": r"\delta \bar{o}^t = \delta y^t \odot \tanh(c^t) \odot \sigma'(\bar{o}^t)",
    "cell": r"\delta c^t = \delta y^t \odot o^t \odot \tanh'(c^t) + p_o \odot \delta \bar{o}^t + p_i \odot "
            r"\delta \bar{\imath}^{t+1} + p_f \odot \delta \bar{f}^{t+1} + \delta c^{t+1} \odot f^{t+1}",
    "forget gate": r"\delta \bar{f}^t = \delta c^t \odot c^{t-1} \odot \sigma'(\bar{f}^t)",
    "input gate": r"\delta \bar{\imath}^t = \delta c^t \odot z^t \odot \sigma'(\bar{\imath}^t)",
    "block input": r"\delta \bar{z}^t = \delta c^t \odot i^t \odot \tanh'(\bar{z}^t)",
}
MUTANTS = {
    "cell without the output peephole": RECURSIONS["cell"].replace(r"p_o \odot \delta \bar{o}^t + ", ""),
    "forget gate with c^t for c^{t-1}": RECURSIONS["forget gate"].replace("c^{t-1}", "c^t"),
    "block input with sigma'": RECURSIONS["block input"].replace(r"\tanh'", r"\sigma'"),
}


def verdict(latex, n):
    text = f'''aliases = {{ y = "h" }}
model = {{ name = "lstm_peephole", n = {n} }}

[source]
key = "greff"
title = "LSTM: A Search Space Odyssey"
site = "arXiv"

[[claim]]
id = "greff.one"
where = "appendix A.2"
latex = \'\'\'{latex}\'\'\'
'''
    entry = read_text(text, "greff.toml").entries[0]
    assert entry.error is None, entry.error
    return verify(entry.claim.question(), Settings(points=30))


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("name", sorted(RECURSIONS))
def test_each_recursion_is_proved(name, n):
    result = verdict(RECURSIONS[name], n)
    assert (result.status, result.method) == ("agrees", "symbolic"), result.evidence


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_mutated_recursion_differs(name):
    assert verdict(MUTANTS[name], 2).status == "differs"
