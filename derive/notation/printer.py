"""SymPy expressions written back in a claim's own notation: its aliases, its function names, LaTeX it can read.

The engine's results use the models' names (c_t, W_{ch}, z_{f,t}); an
article writes s_t for c_t or f for σ. `NotationPrinter` prints quantities
under the claim's aliases, the notation's functions as the articles write
them (\\tanh(x), not SymPy's \\tanh{\\left(x\\right)}) and a
derivative written as its `Slope` atom as σ'(x): the text parses back with
derive.notation.parser and reads as the same value, so a correction made of
printed terms can be re-verified like any claim.
"""
from __future__ import annotations

import sympy
from sympy.printing.latex import LatexPrinter

from derive.quantity import QuantitySymbol, notation_key, time_label
from derive.rules import FUNCTIONS, rule_of


class Slope(sympy.Function):
    """f'(x) for a function f of the rule table, kept as one atom while terms are compared: Slope(name, x)."""

    @property
    def rule(self):
        return FUNCTIONS[str(self.args[0])]

    def value(self):
        """The derivative itself (σ(x)(1 − σ(x)) for σ), as the rule table writes it."""
        return self.rule.derivative(self.args[1])


def slope(name: str, argument) -> Slope:
    return Slope(sympy.Symbol(name), argument)


def _key_typeset(key: str, labels: list[str]) -> str:
    """A notation key with extra subscripts: z_f + [t] -> z_{f,t}; \\tilde{C} + [t] -> \\tilde{C}_{t}."""
    if "_" in key and not key.startswith("\\"):
        base, label = key.split("_", 1)
        labels = [label] + labels
    else:
        base = key
    return base + ("_{" + ",".join(labels) + "}" if labels else "")


class NotationPrinter(LatexPrinter):
    """LaTeX of an expression in a claim's notation; `aliases` maps the claim's keys to the model's (s -> c)."""

    def __init__(self, aliases: dict | None = None):
        super().__init__()
        self.spelled: dict = {}
        for alias, target in (aliases or {}).items():
            self.spelled.setdefault(target, alias)  # the first alias of a key is how the claim spells it

    def quantity(self, symbol: QuantitySymbol) -> str:
        q = symbol.quantity
        key = self.spelled.get(notation_key(q.name), notation_key(q.name))
        labels = [] if q.time is None else [time_label(q.time, q.absolute)]
        if q.index:
            labels.append(("" if max(q.index) < 10 else ",").join(map(str, q.index)))
        text = _key_typeset(key, labels) if key != notation_key(q.name) else symbol.name
        return r"\delta " + text if q.adjoint and not text.startswith(r"\delta") else text

    def _print(self, expr, **kwargs):
        # Before SymPy's own `_latex` methods (QuantitySymbol's, the table's functions'), which know no aliases.
        if isinstance(expr, QuantitySymbol):
            return self.quantity(expr)
        if isinstance(expr, sympy.Function) and rule_of(type(expr)) is not None:
            return self._print_Function(expr, **kwargs)
        return super()._print(expr, **kwargs)

    def _function_name(self, name: str) -> str:
        rule = FUNCTIONS[name]
        return self.spelled.get(rule.latex, self.spelled.get("\\" + name, rule.latex))

    def _print_Function(self, expr, exp=None):
        rule = rule_of(type(expr))
        if rule is None:
            return super()._print_Function(expr, exp)
        text = r"%s(%s)" % (self._function_name(rule.name), self._print(expr.args[0]))
        return text if exp is None else r"%s^{%s}" % (text, exp)

    _print_exp = _print_tanh = _print_atan = _print_Function

    def _print_Slope(self, expr, exp=None):
        text = r"%s'(%s)" % (self._function_name(str(expr.args[0])), self._print(expr.args[1]))
        return text if exp is None else r"%s^{%s}" % (text, exp)

    def _print_Abs(self, expr, exp=None):
        text = r"\left|%s\right|" % self._print(expr.args[0])
        return text if exp is None else r"%s^{%s}" % (text, exp)


def in_notation(expr, aliases: dict | None = None) -> str:
    """`expr` as LaTeX in the notation of a claim with these aliases (a scalar expression)."""
    return NotationPrinter(aliases).doprint(expr)
