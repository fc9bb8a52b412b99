"""What a claims file says about one claim's formula (Spec), and what its questions share: context, values, domains.

`context(spec)` makes the symbol table and reading context a formula is read
against; `environments` the combinations of `values`; `domain` the ranges of
the symbols no trajectory binds. derive.notation.statement (equations) and
derive.notation.bounds (bounds) build their questions from these.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction

import sympy

from derive.errors import NotationError
from derive.models import Model
from derive.notation.parser import Formula, parse, text_of
from derive.notation.reader import Context, Reader
from derive.notation.symbols import SymbolTable, variable_symbol
from derive.notation.values import Loss, is_matrix
from derive.quantity import LatexSymbol, quantity_of, sorted_symbols

MOST_CASES = 64  # combinations of `values`, times members
SLOPE_RANGE = (sympy.Rational(1, 2), 2)  # the drawn ∂ℓ/∂(argument) of an unspecified loss


@dataclass(frozen=True)
class Spec:
    """Everything a claims file says about one claim's formula, parsed but not yet evaluated."""

    formula: Formula
    model: Model | None = None
    semantics: str = "full"
    aliases: dict = field(default_factory=dict)
    variables: tuple = ()
    domain: dict = field(default_factory=dict)  # variable or quantity (LaTeX) -> (low, high), numbers or ±"inf"
    values: dict = field(default_factory=dict)  # index name -> list of whole numbers
    definitions: dict = field(default_factory=dict)  # base key -> Definition
    dots: Formula | None = None
    loss: tuple | None = None  # (symbol Formula, argument Formula)


def context(spec: Spec) -> Context:
    """The symbol table and reading context of the claim (its variables' ranges too, for \\max_z)."""
    variables = {key: variable_symbol(key.lstrip("\\")) for key in spec.variables}
    table = SymbolTable(spec.model, spec.aliases, variables)
    loss = None
    if spec.loss is not None:
        symbol, argument = spec.loss
        slope = LatexSymbol(r"\frac{\partial %s}{\partial %s}" % (symbol.text.strip(), argument.text.strip()))
        loss = Loss(text_of(symbol.tree.children[0]), argument, slope)
    ranges = {variables[key]: (number(low, key, spec.formula), number(high, key, spec.formula))
              for key, (low, high) in spec.domain.items() if key in variables}
    return Context(table, dict(spec.definitions), spec.dots, loss, ranges=ranges)


def environments(values: dict) -> list[dict]:
    """Every combination of the listed values, in order."""
    names = list(values)
    lists = [v if isinstance(v, list) else [v] for v in values.values()]
    count = 1
    for items in lists:
        count *= len(items)
    if count > MOST_CASES:
        raise NotationError(f"values give {count} combinations; the limit is {MOST_CASES}")
    return [dict(zip(names, combination)) for combination in itertools.product(*lists)]


def check_finite(value, formula: Formula, node) -> None:
    for entry in (value if is_matrix(value) else [value]):
        if isinstance(entry, sympy.Basic) and entry.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise NotationError("the formula divides by zero or is infinite", node.meta.start_pos, formula)


def number(value, name: str, formula: Formula):
    if isinstance(value, str) and value.strip().lstrip("+-") in ("inf", "oo", "infinity"):
        return -sympy.oo if value.strip().startswith("-") else sympy.oo
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise NotationError(f"domain of {name}: the ends are numbers, or \"-inf\" and \"inf\"", 0, formula)
    if value in (float("inf"), float("-inf")):
        return sympy.oo if value > 0 else -sympy.oo
    fraction = Fraction(str(value))
    return sympy.Rational(fraction.numerator, fraction.denominator)


def domain(spec: Spec, context: Context, symbols: set, default, bound: bool) -> tuple:
    """(symbol, low, high) for the symbols no trajectory binds (declared variables, the loss's slope) and
    for the quantities `domain` narrows. In a bound a variable without a range ranges over all reals and a
    model quantity over the values its equations give it (derive.verify.ranges, the trajectories of a norm bound).
    """
    given = {}
    reader = Reader(context, spec.semantics)
    for key, (low, high) in spec.domain.items():
        value = reader.evaluate(parse(key, f"domain key {key}"))
        if not isinstance(value, sympy.Symbol):
            raise NotationError(f"domain key {key} must name one symbol", 0, spec.formula)
        if not bound and quantity_of(value) is not None:
            raise NotationError(f"domain key {key} is a quantity of the model: in an equation its values come from "
                                f"the simulated trajectory; a domain is for the claim's free variables", 0, spec.formula)
        given[value] = (number(low, key, spec.formula), number(high, key, spec.formula))
    result = []
    slope = context.loss.slope if context.loss else None
    for symbol in sorted_symbols(symbols):
        if symbol == slope:
            result.append((symbol, *SLOPE_RANGE))
        elif symbol in given or quantity_of(symbol) is None:
            low, high = given.get(symbol, default)
            if not bound and not (low.is_finite and high.is_finite):
                raise NotationError(f"the variable {symbol} of an equation needs a finite range", 0, spec.formula)
            if not low < high:
                raise NotationError(f"the range of {symbol} is empty: [{low}, {high}]", 0, spec.formula)
            result.append((symbol, low, high))
    return tuple(result)
