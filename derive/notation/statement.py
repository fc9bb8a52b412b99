"""A parsed claim as a question: which side the engine computes exactly, the hand sides, Equal or Bound.

An equation a = b (= c ...) compares each hand member with the reference
member: the first one, unless only the last one holds a derivative, an
adjoint or a defined term. The reference is computed in both semantics
(derivatives in it taken full, then truncated), so the verdict can be
agrees-when-truncated; the hand members take their derivatives in the claim's
semantics (default full). With `values`, the claim is checked at every
combination of the listed values, and the members are stacked with labels.
A bound a \\le b (or <, \\ge, >) is a Bound over the reals of its symbols.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction

import lark
import sympy

from derive.errors import NotationError, ShapeMismatchError
from derive.exact import adjoints
from derive.models import Model
from derive.notation.operators import stack
from derive.notation.parser import Formula, parse, text_of
from derive.notation.reader import Context, Reader
from derive.notation.symbols import SymbolTable, variable_symbol
from derive.notation.values import Definition, Loss, base_key, is_matrix, shape
from derive.quantity import LatexSymbol, quantity_of, sorted_symbols
from derive.rules import Semantics
from derive.verify.adjoint_values import binder
from derive.verify.questions import Bound, Equal

MOST_CASES = 64  # combinations of `values`, times members
EQUAL_RANGE = (sympy.Integer(-3), sympy.Integer(3))  # default range of a free variable in an equation
SLOPE_RANGE = (sympy.Rational(1, 2), 2)  # the drawn ∂ℓ/∂(argument) of an unspecified loss
RELATIONS = {"<": "<", ">": ">", r"\lt": "<", r"\gt": ">", r"\le": "<=", r"\leq": "<=", r"\leqslant": "<=",
             r"\ge": ">=", r"\geq": ">=", r"\geqslant": ">="}
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


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


def context_of(spec: Spec) -> Context:
    variables = {key: variable_symbol(key.lstrip("\\")) for key in spec.variables}
    table = SymbolTable(spec.model, spec.aliases, variables)
    loss = None
    if spec.loss is not None:
        symbol, argument = spec.loss
        slope = LatexSymbol(r"\frac{\partial %s}{\partial %s}" % (symbol.text.strip(), argument.text.strip()))
        loss = Loss(text_of(symbol.tree.children[0]), argument, slope)
    return Context(table, dict(spec.definitions), spec.dots, loss)


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


def _computes(tree, context: Context) -> bool:
    """Does this member hold something only the engine can compute (∂, δ, a defined term)?"""
    for node in tree.iter_subtrees():
        if node.data in ("partial", "partial_operator", "adjoint"):
            return True
        if node.data in ("name", "style", "decorated") and base_key(node) in context.definitions:
            return True
    return False


def _check_finite(value, formula: Formula, node) -> None:
    for entry in (value if is_matrix(value) else [value]):
        if isinstance(entry, sympy.Basic) and entry.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise NotationError("the formula divides by zero or is infinite", node.meta.start_pos, formula)


def _fit(hand, reference, formula: Formula, node):
    """The hand value with the reference's shape: a lone 0 stands for a zero matrix; other shapes must agree."""
    if shape(hand) == shape(reference):
        return hand
    if not is_matrix(hand) and hand == 0:
        return sympy.zeros(*shape(reference))
    (r1, c1), (r2, c2) = shape(hand), shape(reference)
    hint = "; for a diagonal matrix write \\mathrm{diag}(...)" if c1 == 1 and r1 == r2 == c2 else ""
    raise ShapeMismatchError(f"the two sides have different shapes: this side is {r1}×{c1}, the reference side is "
                             f"{r2}×{c2}{hint}", node.meta.start_pos, formula)


def _check_times(values: list, formula: Formula) -> None:
    quantities = [quantity_of(s) for v in values for s in getattr(v, "free_symbols", ())]
    kinds = {q.absolute for q in quantities if q is not None and q.time is not None}
    if len(kinds) > 1:
        raise NotationError("the claim mixes absolute steps (an index with a value) with times relative to t; "
                            "give t a value too, or none", 0, formula)


def _labels(env: dict, varying: list, line: str, value) -> list[str]:
    head = [f"{name} = {env[name]}" for name in varying] + ([line] if line else [])
    count = len(value) if is_matrix(value) else 1
    if count == 1:
        return [", ".join(head) or "value"]
    return [", ".join(head + [f"entry {k + 1}"]) for k in range(count)]


def question(spec: Spec):
    """The Equal or Bound that checks the claim; NotationError (with a position) when it cannot be read."""
    tree = spec.formula.tree
    members = [c for c in tree.children if isinstance(c, lark.Tree)]
    relations = [str(c) for c in tree.children if isinstance(c, lark.Token)]
    if not relations:
        raise NotationError("a claim is an equation (a = b) or a bound (a \\le b); this formula has no relation",
                            0, spec.formula)
    context = context_of(spec)
    if all(r == "=" for r in relations):
        return _equal(spec, context, members)
    if len(relations) == 1:
        return _bound(spec, context, members, RELATIONS[relations[0]])
    raise NotationError("a chain of relations must be all '=' (a = b = c); a bound has one relation",
                        0, spec.formula)


def reference_member(spec: Spec, context: Context | None = None) -> int:
    """Which member of an equation the engine computes: the first, unless only the last holds ∂, δ or a defined term."""
    context = context or context_of(spec)
    members = [c for c in spec.formula.tree.children if isinstance(c, lark.Tree)]
    last = len(members) - 1
    return 0 if _computes(members[0], context) or not _computes(members[last], context) else last


def _equal(spec: Spec, context: Context, members: list) -> Equal:
    model, formula = spec.model, spec.formula
    reference = reference_member(spec, context)
    hands = [k for k in range(len(members)) if k != reference]
    readers = {semantics: Reader(context, semantics) for semantics in Semantics}
    hand_reader = readers[spec.semantics]
    envs = environments(spec.values)
    if len(envs) * len(hands) > MOST_CASES:
        raise NotationError(f"{len(envs) * len(hands)} comparisons; the limit is {MOST_CASES}", 0, formula)
    varying = [name for name, v in spec.values.items() if isinstance(v, list) and len(v) > 1]
    hand_values, full_values, truncated_values, labels = [], [], [], []
    for env in envs:
        full = readers[Semantics.FULL].evaluate(formula, members[reference], env)
        truncated = readers[Semantics.TRUNCATED].evaluate(formula, members[reference], env) \
            if model is not None and model.gates else full
        _check_finite(full, formula, members[reference])
        _check_finite(truncated, formula, members[reference])
        for position, k in enumerate(hands, 2):
            hand = _fit(hand_reader.evaluate(formula, members[k], env), full, formula, members[k])
            _check_finite(hand, formula, members[k])
            hand_values.append(hand)
            full_values.append(full)
            truncated_values.append(truncated)
            labels += _labels(env, varying, f"line {position}" if len(hands) > 1 else "", hand)
    _check_times(hand_values + full_values + truncated_values, formula)
    if len(hand_values) == 1:
        hand, full, truncated, labels = hand_values[0], full_values[0], truncated_values[0], ()
    else:
        hand, full, truncated = stack(*hand_values), stack(*full_values), stack(*truncated_values)
        labels = tuple(labels)
    differs = (sympy.Matrix(stack(full)) != sympy.Matrix(stack(truncated)))
    symbols = set().union(*[getattr(v, "free_symbols", set()) for v in (hand, full, truncated)])
    deltas = adjoints.adjoint_names(symbols)
    return Equal(hand, full, model, truncated=truncated if differs else None,
                 extra=binder if deltas else None, canonical=_canonical(model, full, hand),
                 labels=labels, domain=_domain(spec, context, symbols, EQUAL_RANGE, bound=False))


def _canonical(model: Model | None, reference, hand):
    """For a reference that is an adjoint δq^t: expand the adjoints down to those the hand side is written in."""
    if model is None:
        return None
    infos = {quantity_of(s) for s in getattr(reference, "free_symbols", ())}
    if not infos or None in infos or any(not i.adjoint or i.absolute for i in infos):
        return None
    if any(i.name == model.state[-1] for i in infos):
        return None  # δh also carries the loss's own Δ; it is not expanded
    keep = {s for s in getattr(hand, "free_symbols", ()) if quantity_of(s) is not None and quantity_of(s).adjoint}

    def expand(expr):
        return adjoints.expand_until(expr, model, keep)

    return expand


def _number(value, name: str, formula: Formula):
    if isinstance(value, str) and value.strip().lstrip("+-") in ("inf", "oo", "infinity"):
        return -sympy.oo if value.strip().startswith("-") else sympy.oo
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise NotationError(f"domain of {name}: the ends are numbers, or \"-inf\" and \"inf\"", 0, formula)
    if value in (float("inf"), float("-inf")):
        return sympy.oo if value > 0 else -sympy.oo
    fraction = Fraction(str(value))
    return sympy.Rational(fraction.numerator, fraction.denominator)


def _domain(spec: Spec, context: Context, symbols: set, default, bound: bool) -> tuple:
    """(symbol, low, high) for the symbols no trajectory binds (declared variables, the loss's slope) and
    for the quantities `domain` narrows. In a bound a variable without a range ranges over all reals and a
    model quantity over the values its equations give it (derive.verify.ranges).
    """
    given = {}
    reader = Reader(context, spec.semantics)
    for key, (low, high) in spec.domain.items():
        value = reader.evaluate(parse(key, f"domain key {key}"))
        if not isinstance(value, sympy.Symbol):
            raise NotationError(f"domain key {key} must name one symbol", 0, spec.formula)
        given[value] = (_number(low, key, spec.formula), _number(high, key, spec.formula))
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


def _basic(value):
    """A value of a formula as a SymPy object (a formula's plain Python integer becomes an Integer)."""
    return sympy.Integer(value) if isinstance(value, int) else value


def _bound(spec: Spec, context: Context, members: list, relation: str) -> Bound:
    formula, model = spec.formula, spec.model
    envs = environments(spec.values)
    if len(envs) != 1:
        raise NotationError("a bound is checked at one set of values; give each index one value", 0, formula)
    reader = Reader(context, spec.semantics)
    left, right = (reader.evaluate(formula, member, envs[0]) for member in members)
    for value, member in ((left, members[0]), (right, members[1])):
        if is_matrix(value):
            raise ShapeMismatchError("a bound compares scalars; this side is a matrix", member.meta.start_pos, formula)
        _check_finite(value, formula, member)
    left, right = _basic(left), _basic(right)
    if right.free_symbols and not left.free_symbols:
        left, right, relation = right, left, _FLIP[relation]
    if right.free_symbols:
        raise NotationError("one side of a bound must be a number", members[1].meta.start_pos, formula)
    if adjoints.adjoint_names(left.free_symbols):
        raise NotationError("a bound on an adjoint δq is not part of the notation", 0, formula)
    return Bound(left, relation, right, _domain(spec, context, left.free_symbols, (-sympy.oo, sympy.oo), bound=True),
                 model)


def definition(key: Formula, formula: Formula) -> tuple[str, Definition]:
    """(base key, Definition) from a claims file's `define` entry such as A_t = '...'."""
    leaf = key.tree.children[0] if len(key.tree.children) == 1 else None
    postfix = leaf
    while isinstance(postfix, lark.Tree) and postfix.data != "postfix" and len(postfix.children) == 1:
        postfix = postfix.children[0]
    if not isinstance(postfix, lark.Tree) or postfix.data != "postfix" or \
            postfix.children[0].data not in ("name", "style", "decorated") or len(postfix.children) > 2:
        raise NotationError("a defined term is a name with an optional time, like A_t", 0, key)
    parameter = None
    if len(postfix.children) == 2:
        script = postfix.children[1]
        inner = script.children[0] if script.data == "sub" else None
        name = text_of(inner) if inner is not None and len(inner.children) == 1 else ""
        if not name.replace("'", "").isalpha():
            raise NotationError("a defined term's subscript is its time index, like the t of A_t", 0, key)
        parameter = name
    return base_key(postfix.children[0]), Definition(parameter, formula)
