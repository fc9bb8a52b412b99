"""One table of the notation's functions (σ, tanh, exp, arctan, softplus, sech, ...) and the enums of verdicts and semantics.

Each function is declared once, as a `Rule`: its LaTeX spellings, its SymPy
form, its derivative, its NumPy and mpmath forms and its range. The grammar,
the parser, the reader, the numeric backends, the proofs and the report all
read this table; a name missing from it fails loudly with the name. Adding a
function to the notation is one `Rule(...)` in `FUNCTIONS` below (see the
README, "Extending derive").
"""
from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Callable

import mpmath
import numpy as np
import sympy


class Status(enum.StrEnum):
    """What a verdict says of a claim."""

    AGREES = "agrees"
    TRUNCATED = "agrees-when-truncated"
    DIFFERS = "differs"
    UNDECIDED = "undecided"


class Method(enum.StrEnum):
    """What decided a verdict."""

    SYMBOLIC = "symbolic"
    CERTIFICATE = "certificate"
    NUMERIC = "numeric"
    EXPERIMENT = "experiment"
    NONE = "none"  # nothing decided: the verdict is undecided


class Semantics(enum.StrEnum):
    """How derivatives through gates are taken: every path, or gates held constant (the truncated gradient)."""

    FULL = "full"
    TRUNCATED = "truncated"


def semantics(value) -> Semantics:
    """`value` as Semantics; a clear error for anything else."""
    try:
        return Semantics(value)
    except ValueError:
        from derive.errors import ModelError

        raise ModelError(f"semantics must be 'full' or 'truncated', got {value!r}") from None


@dataclass(frozen=True)
class Rule:
    """A function of the notation, declared once.

    `commands` are its backslash spellings (\\sigma), `words` its upright ones
    (tanh, \\mathrm{softplus}, \\operatorname{softplus}); `sympy` is the SymPy
    function, `derivative(z)` its first derivative written as the articles
    write it (σ'(z) = σ(z)(1 − σ(z))), `numpy` and `mpmath` its numeric forms
    (only needed where SymPy's printers do not know the function), `range`
    the ends of its values over the reals (never reached, except one a value
    attains, as sech(0) = 1), `inverse(u)` the z where it takes the value u
    (for proofs that substitute u = f(z)); `arb(ball)` its validated ball form
    (a certificate needs it); `increasing` whether it is increasing (ranges of
    model quantities follow it through the function).
    """

    name: str
    latex: str
    sympy: Callable
    derivative: Callable
    range: tuple
    commands: tuple = ()
    words: tuple = ()
    numpy: Callable | None = None
    mpmath: Callable | None = None
    inverse: Callable | None = None
    arb: Callable | None = None  # its validated form on python-flint arb balls (certificates)
    increasing: bool = True  # the image of an interval is the interval between the images of its ends


def defined_function(name: str, latex: str, closed_form: Callable, derivative: Callable,
                     positive: bool = False, special: dict | None = None) -> type:
    """A SymPy function kept as one atom (so Jacobians stay short), with its derivative and closed form.

    `closed_form(z)` writes it with exp/log (for proofs and high-precision
    evaluation); `special` maps arguments to exact values (σ(0) = 1/2).
    """
    special = special or {}

    def fdiff(self, argindex=1):
        return derivative(self.args[0])

    @classmethod
    def eval(cls, z):
        if z in special:
            return special[z]
        if isinstance(z, sympy.Float):
            return closed_form(z)
        return None

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return closed_form(z)

    def _eval_evalf(self, prec):
        return closed_form(self.args[0])._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        return True if positive and self.args[0].is_real else None

    def _latex(self, printer, exp=None):
        body = r"%s\left(%s\right)" % (latex, printer._print(self.args[0]))
        return body if exp is None else r"%s^{%s}" % (body, exp)

    namespace = dict(fdiff=fdiff, eval=eval, _eval_rewrite_as_exp=_eval_rewrite_as_exp, _eval_evalf=_eval_evalf,
                     _eval_is_real=_eval_is_real, _eval_is_positive=_eval_is_positive, _latex=_latex,
                     __doc__=f"{name} as one SymPy atom; rewrite(sympy.exp) gives its closed form.")
    return type(name, (sympy.Function,), namespace)


# σ' is written in terms of σ itself, σ(1 − σ), so Jacobians stay polynomial in the gate activations.
Sigmoid = defined_function("Sigmoid", r"\sigma", lambda z: 1 / (1 + sympy.exp(-z)),
                           lambda z: Sigmoid(z) * (1 - Sigmoid(z)), positive=True,
                           special={sympy.S.Zero: sympy.Rational(1, 2), sympy.S.Infinity: sympy.S.One,
                                    sympy.S.NegativeInfinity: sympy.S.Zero})
Softplus = defined_function("Softplus", r"\operatorname{softplus}", lambda z: sympy.log(1 + sympy.exp(z)),
                            lambda z: Sigmoid(z), positive=True,
                            special={sympy.S.Infinity: sympy.S.Infinity, sympy.S.NegativeInfinity: sympy.S.Zero})


def _numpy_sigmoid(z):
    # 0.5 (1 + tanh(z/2)) is σ exactly and never overflows, unlike 1/(1+exp(-z)).
    return 0.5 * (1.0 + np.tanh(0.5 * z))


FUNCTIONS = {rule.name: rule for rule in (
    Rule("sigma", r"\sigma", Sigmoid, lambda z: Sigmoid(z) * (1 - Sigmoid(z)), (0, 1), commands=("sigma",),
         numpy=_numpy_sigmoid, mpmath=lambda z: 1 / (1 + mpmath.exp(-z)),
         inverse=lambda u: sympy.log(u / (1 - u)), arb=lambda a: 1 / (1 + (-a).exp())),
    Rule("tanh", r"\tanh", sympy.tanh, lambda z: 1 - sympy.tanh(z) ** 2, (-1, 1), commands=("tanh",),
         words=("tanh",), inverse=sympy.atanh, arb=lambda a: a.tanh()),
    Rule("exp", r"\exp", sympy.exp, sympy.exp, (0, sympy.oo), commands=("exp",), arb=lambda a: a.exp()),
    Rule("arctan", r"\arctan", sympy.atan, lambda z: 1 / (1 + z ** 2), (-sympy.pi / 2, sympy.pi / 2),
         commands=("arctan",), arb=lambda a: a.atan()),
    Rule("softplus", r"\operatorname{softplus}", Softplus, Sigmoid, (0, sympy.oo), words=("softplus",),
         numpy=lambda z: np.logaddexp(0.0, z), mpmath=lambda z: mpmath.log1p(mpmath.exp(z)),
         arb=lambda a: (1 + a.exp()).log()),
    # sech² = tanh', as tutorials write the derivative of tanh.
    Rule("sech", r"\operatorname{sech}", sympy.sech, lambda z: -sympy.tanh(z) * sympy.sech(z), (0, 1),
         words=("sech",), numpy=lambda z: 1.0 / np.cosh(z), arb=lambda a: 1 / a.cosh(), increasing=False),
)}


def rule(name: str) -> Rule:
    """The rule named `name`; a missing one fails loudly with its name."""
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise KeyError(f"no rule for the function {name!r}; the notation knows {', '.join(FUNCTIONS)}") from None


def rule_of(function) -> Rule | None:
    """The rule whose SymPy form is `function` (a class such as Sigmoid or sympy.tanh), or None."""
    for entry in FUNCTIONS.values():
        if entry.sympy is function:
            return entry
    return None


def by_spelling() -> dict:
    """Every spelling -> rule name: '\\sigma' and 'sigma' style keys as the symbol tables look them up."""
    spellings = {}
    for entry in FUNCTIONS.values():
        for command in entry.commands:
            spellings["\\" + command] = entry.name
        for word in entry.words:
            spellings[word] = entry.name
    return spellings


def namespace(backend: str) -> dict:
    """sympy.lambdify's extra namespace for 'numpy' or 'mpmath': the functions SymPy's printers do not know."""
    table = {}
    for entry in FUNCTIONS.values():
        form = entry.numpy if backend == "numpy" else entry.mpmath
        if form is not None:
            table[entry.sympy.__name__] = form
    return table


def compiled(symbols, expr, backend: str):
    """sympy.lambdify of `expr` in the symbols for 'numpy' or 'mpmath', with the table's functions.

    The symbols are renamed x0, x1, ... first, so that a claims file's variable named like a function of the
    generated code (exp, atan, Sigmoid, mpf) cannot shadow it; lambdify then needs no work to make LaTeX
    names into Python identifiers either, which was most of its time.
    """
    plain = {symbol: sympy.Symbol(f"x{k}") for k, symbol in enumerate(symbols)}
    renamed = [e.xreplace(plain) for e in expr] if isinstance(expr, (list, tuple)) else expr.xreplace(plain)
    return sympy.lambdify(list(plain.values()), renamed, modules=[namespace(backend), backend])


def to_exp(expr):
    """Every defined function of the table written in its closed form (exp/log); nothing else rewritten.

    tanh is rewritten too, so that σ(2z) and tanh(z) meet in one form.
    """
    for entry in FUNCTIONS.values():
        if entry.sympy is not sympy.exp and expr.has(entry.sympy):
            expr = expr.rewrite(entry.sympy, sympy.exp)
    return expr


def elementwise(function, value):
    """Apply a scalar function to every entry of a Matrix, or to a scalar."""
    return value.applyfunc(function) if isinstance(value, sympy.MatrixBase) else function(value)


def apply(name: str, value, order: int = 0):
    """The function `name` (or its `order`-th derivative) applied elementwise to `value`."""
    entry = rule(name)
    if order == 0:
        return elementwise(entry.sympy, value)
    if order == 1:
        return elementwise(entry.derivative, value)
    dummy = sympy.Dummy("u")
    derivative = sympy.diff(entry.sympy(dummy), dummy, order)
    return elementwise(lambda e: derivative.xreplace({dummy: e}), value)


@functools.cache
def array_function(name: str) -> Callable:
    """The function on arrays, as the cells call it: NumPy floats, NumPy objects of mpmath numbers, or traced symbols."""
    entry = rule(name)
    numpy_form = entry.numpy or sympy.lambdify(_U, entry.sympy(_U), "numpy")
    mpmath_form = np.frompyfunc(entry.mpmath or sympy.lambdify(_U, entry.sympy(_U), "mpmath"), 1, 1)

    def apply_to_array(z):
        if hasattr(z, "elementwise"):  # a traced symbolic array (derive.models.trace)
            return z.elementwise(entry.sympy)
        z = np.asarray(z)
        return mpmath_form(z) if z.dtype == object else numpy_form(z)

    apply_to_array.__name__ = name
    return apply_to_array


_U = sympy.Symbol("u")
