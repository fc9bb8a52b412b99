"""The rule table: every function of the notation declared once, and a new one added with one entry."""
import mpmath
import numpy as np
import pytest
import sympy

from derive import rules
from derive.errors import ModelError
from derive.notation import parser
from derive.notation.claimsfile import read_text
from derive.notation.reader import Context, Reader
from derive.notation.symbols import SymbolTable
from derive.verify import Settings, verify

Z = sympy.Symbol("z", real=True)


@pytest.mark.parametrize("name", sorted(rules.FUNCTIONS))
def test_each_rule_is_consistent(name):
    rule = rules.rule(name)
    # the declared derivative is the derivative of the SymPy form
    assert sympy.simplify(sympy.diff(rule.sympy(Z), Z) - rule.derivative(Z)) == 0
    # the array form (NumPy and 30-digit mpmath) agrees with SymPy's value, and stays within the declared range
    low, high = (float(sympy.sympify(end)) for end in rule.range)
    for value in (-3.0, -0.5, 0.0, 0.7, 2.5):
        exact = float(sympy.N(rule.sympy(sympy.Float(value)), 30))
        assert np.isclose(rules.array_function(name)(np.array(value)), exact, rtol=1e-14)
        with mpmath.workdps(30):
            assert abs(rules.array_function(name)(np.array(mpmath.mpf(value), dtype=object)) - exact) < 1e-14
        assert low <= exact <= high and (low < exact or exact < high)


def test_lambdify_knows_every_function():
    for rule in rules.FUNCTIONS.values():
        numpy_value = sympy.lambdify(Z, rule.sympy(Z), modules=[rules.namespace("numpy"), "numpy"])(0.3)
        mpmath_value = sympy.lambdify(Z, rule.sympy(Z), modules=[rules.namespace("mpmath"), "mpmath"])(0.3)
        assert np.isclose(float(numpy_value), float(mpmath_value))


def test_unknown_functions_fail_loudly_with_their_name():
    with pytest.raises(KeyError, match="gelu"):
        rules.rule("gelu")


def _value(latex, model=None, variables=("z",)):
    table = SymbolTable(model, {}, {v: sympy.Symbol(v, real=True) for v in variables})
    return Reader(Context(table)).evaluate(parser.parse(latex))


def test_softplus_is_one_entry_and_works_everywhere():
    """softplus was added to derive by its entry in rules.FUNCTIONS alone: read, differentiated, checked, printed."""
    z = sympy.Symbol("z", real=True)
    assert _value(r"\mathrm{softplus}(z)") == rules.Softplus(z) == _value(r"\operatorname{softplus}(z)")
    assert _value(r"\mathrm{softplus}'(z)") == rules.Sigmoid(z)
    assert sympy.latex(rules.Softplus(z)) == r"\operatorname{softplus}\left(z\right)"
    document = read_text('''[source]
key = "sp"
title = "softplus"
site = "here"

[[claim]]
id = "sp.derivative"
where = "eq. 1"
model = "none"
variables = ["z"]
domain = { z = [-4, 4] }
latex = \'\'\'\\mathrm{softplus}'(z) = \\sigma(z)\'\'\'

[[claim]]
id = "sp.bound"
where = "eq. 2"
model = "none"
variables = ["z"]
latex = \'\'\'\\mathrm{softplus}'(z) \\le 1\'\'\'
''', "sp.toml")
    equal, bound = (entry.claim.question() for entry in document.entries)
    assert verify(equal, Settings(points=20)).status == "agrees"
    assert verify(bound).status == "agrees"


def test_a_new_function_needs_only_its_rule(monkeypatch):
    """A function registered at run time (here the Gaussian e^{-z²}) is read, differentiated and evaluated."""
    gauss = rules.defined_function("Gauss", r"\mathrm{gauss}", lambda z: sympy.exp(-z ** 2),
                                   lambda z: -2 * z * sympy.exp(-z ** 2), positive=True)
    entry = rules.Rule("gauss", r"\mathrm{gauss}", gauss, lambda z: -2 * z * gauss(z), (0, 1), words=("gauss",),
                       numpy=lambda z: np.exp(-z ** 2), mpmath=lambda z: mpmath.exp(-z ** 2))
    monkeypatch.setitem(rules.FUNCTIONS, "gauss", entry)
    z = sympy.Symbol("z", real=True)
    assert _value(r"\mathrm{gauss}'(z)") == -2 * z * gauss(z)
    assert np.isclose(sympy.lambdify(z, gauss(z), modules=[rules.namespace("numpy"), "numpy"])(1.0), np.exp(-1))


def test_the_enums_are_the_words_users_see():
    assert [str(s) for s in rules.Status] == ["agrees", "agrees-when-truncated", "differs", "undecided"]
    assert rules.semantics("truncated") is rules.Semantics.TRUNCATED
    with pytest.raises(ModelError, match="semantics"):
        rules.semantics("half")
