"""Validated enclosures of a SymPy expression over a box, in arb ball arithmetic (python-flint).

Why arb: every arb operation returns a ball that provably contains the exact
result (FLINT's rigorous error propagation), for +, −, ×, ÷, powers, exp,
log, tanh, atan, √ alike. mpmath's `iv` context was the alternative; its
maintainers say little beyond basic arithmetic is guaranteed there, and its
exp is known to miss the true value by an ulp, so it is not used.

Balls cannot hold a half-line [M, +∞), so a box with an infinite side is
compactified: for x ∈ [M, +∞) the expression is rewritten exactly (SymPy)
in t = e^{−x} ∈ (0, e^{−M}], in r = 1/x ∈ (0, 1/M], and in both at once (t in
exponentials, r elsewhere); each rewriting is evaluated on the closed t and
r ranges, whose end 0 stands for x = +∞, and the enclosures that succeed are
intersected. An expression in
which x survives both rewritings unbounded (x·σ(x), e^{x}) gives no finite
enclosure there, and that tail is left undecided, never guessed.
"""
from __future__ import annotations

import math
from fractions import Fraction

import sympy
from flint import arb, ctx, fmpq

from derive.rules import FUNCTIONS, to_exp

BOX_PRECISION = 64  # bits for box enclosures; point confirmations ask for more
INFINITY = math.inf


class Unsupported(ValueError):
    """The expression holds something without a validated arb evaluation (an unknown function, I, ...)."""


def exact(expr):
    """`expr` with each Float replaced by the decimal it prints (0.999 → 999/1000): intervals see exact numbers."""
    expr = sympy.sympify(expr)
    return expr.xreplace({f: sympy.Rational(str(f)) for f in expr.atoms(sympy.Float)})


def ball(value) -> arb:
    """An exact rational (Fraction, int, Decimal via Fraction) as an arb ball."""
    value = Fraction(value)
    return arb(fmpq(value.numerator, value.denominator))


def hull(low, high) -> arb:
    """A ball containing the closed interval [low, high] of finite rationals."""
    return ball(low).union(ball(high))


def _abs(x: arb) -> arb:
    # arb's abs keeps a ball around 0 when x contains 0; |x| ≥ 0 is restored from arb's own bounds.
    if not x.is_finite():
        return arb.nan()
    return arb(x.abs_lower()).union(arb(x.abs_upper()))


def _power(base: arb, exponent) -> arb:
    if exponent.is_Integer:
        n = int(exponent)
        if n % 2 == 0 and n > 0:
            # x ↦ xⁿ increases on [0, ∞): the ball of |x|'s two bounds keeps xⁿ ≥ 0, which arb's power loses.
            return (arb(base.abs_lower()) ** n).union(arb(base.abs_upper()) ** n) if base.is_finite() else arb.nan()
        return base ** n if n >= 0 else 1 / base ** (-n)
    if exponent == sympy.Rational(1, 2):
        return base.sqrt()
    return base ** arb(fmpq(int(exponent.p), int(exponent.q)))


# The notation's functions in their validated ball form (derive.rules), and what their rewritings bring in.
_FUNCTIONS = {**{rule.sympy: rule.arb for rule in FUNCTIONS.values() if rule.arb is not None},
              sympy.log: lambda a: a.log(), sympy.erf: lambda a: a.erf(), sympy.sin: lambda a: a.sin(),
              sympy.cos: lambda a: a.cos(), sympy.Abs: _abs}
# Functions that rewrite into exponentials for a tail (rules.to_exp): all of the table but exp and arctan.
_TO_EXP = tuple(rule.sympy for rule in FUNCTIONS.values() if rule.sympy not in (sympy.exp, sympy.atan))


def compile_arb(expr, variables):
    """A function of arb balls (one per variable) enclosing `expr`; raises Unsupported for what arb cannot do."""
    position = {symbol: k for k, symbol in enumerate(variables)}

    def build(node):
        if node.is_Symbol:
            if node not in position:
                raise Unsupported(f"the symbol {node} has no range")
            k = position[node]
            return lambda values: values[k]
        if node.is_Rational:
            p, q = int(node.p), int(node.q)
            return lambda values: arb(fmpq(p, q))
        if node is sympy.pi:
            return lambda values: arb.pi()
        if node is sympy.E:
            return lambda values: arb(1).exp()
        if node.is_Add or node.is_Mul:
            parts = [build(a) for a in node.args]
            if node.is_Add:
                return lambda values: _fold(parts, values, lambda a, b: a + b)
            return lambda values: _fold(parts, values, lambda a, b: a * b)
        if node.is_Pow and node.exp.is_Rational:
            base, exponent = build(node.base), node.exp
            return lambda values: _power(base(values), exponent)
        if isinstance(node, (sympy.Max, sympy.Min)):
            parts = [build(a) for a in node.args]
            pick = (lambda a, b: a.max(b)) if isinstance(node, sympy.Max) else (lambda a, b: a.min(b))
            return lambda values: _fold(parts, values, pick)
        function = _FUNCTIONS.get(type(node))
        if function is not None and len(node.args) == 1:
            inner = build(node.args[0])
            return lambda values: function(inner(values))
        raise Unsupported(f"no validated evaluation of {type(node).__name__} (in {node})")

    return build(exact(expr))


def _fold(parts, values, combine):
    result = parts[0](values)
    for part in parts[1:]:
        result = combine(result, part(values))
    return result


def at_point(expr, variables, point, bits: int) -> arb:
    """A ball containing `expr` at an exact point (Fractions, or exact SymPy numbers), at `bits` precision."""
    function = compile_arb(expr, variables)
    with ctx.workprec(bits):
        values = [compile_arb(c, ())(()) if isinstance(c, sympy.Basic) else ball(c) for c in point]
        return function(values)


# -- tails ---------------------------------------------------------------------------------
TAIL_KINDS = ("exp", "inverse", "mixed")
MOST_OPERATIONS = 200


def _compactified(expr, variable, side: int, kind: str):
    """`expr` rewritten for variable x ∈ [M, +∞) (side +1) or (−∞, M] (side −1) in bounded new variables.

    kind "exp": x = −side·log t, t = e^{−side·x} → 0 at the infinite end;
    "inverse": x = 1/r; "mixed": t inside exponentials (σ and tanh written
    with exp), r elsewhere, and atan(x) = side·π/2 − atan(r). In "mixed", t
    and r are bounded separately — the pair (e^{−side·x}, 1/x) lies in the
    product of their ranges, so the enclosure stays sound. Returns
    (expression, new symbols), or None when SymPy cannot rewrite it.
    """
    if sympy.count_ops(expr) > MOST_OPERATIONS:
        return None  # SymPy's cancel runs in this process, unbudgeted: large expressions keep their tails open
    t = sympy.Symbol(f"t_{variable.name}", nonnegative=True)
    r = sympy.Symbol(f"r_{variable.name}", real=True)
    try:
        local = expr
        if kind in ("exp", "mixed"):
            local = local.replace(lambda a: isinstance(a, _TO_EXP) and a.has(variable), to_exp)
        if kind == "exp":
            local, fresh = local.subs(variable, -side * sympy.log(t)), (t,)
        elif kind == "inverse":
            local, fresh = local.subs(variable, 1 / r), (r,)
        else:
            local = local.replace(lambda a: isinstance(a, sympy.exp) and a.has(variable),
                                  lambda a: sympy.exp(sympy.expand(a.args[0].subs(variable, -side * sympy.log(t)))))
            local = local.replace(lambda a: isinstance(a, sympy.atan) and a.args[0] == variable,
                                  lambda a: side * sympy.pi / 2 - sympy.atan(r))
            local, fresh = local.subs(variable, 1 / r), (t, r)
        local = sympy.powsimp(sympy.expand_power_exp(local) if kind == "mixed" else local)
    except Exception:  # noqa: BLE001 - a rewriting SymPy cannot do only loses one enclosure
        return None
    # Cancelling in the new variables removes 1/t against 1/t (tanh = (1/t − t)/(1/t + t)), so t = 0 is no pole.
    for cancel in (lambda e: sympy.cancel(sympy.together(e), *fresh), lambda e: sympy.cancel(sympy.together(e))):
        try:
            return cancel(local), fresh
        except Exception:  # noqa: BLE001 - e.g. t inside atan is no polynomial generator: try the next form
            continue
    return local, fresh


def _tail_ball(symbol, side: int, end) -> arb | None:
    """The closed range of a compactifying variable: t ∈ [0, e^{−side·end}], r between 0 and 1/end."""
    if symbol.name.startswith("t_"):
        return arb(0).union((-side * ball(end)).exp())
    if end * side > 0:
        return arb(0).union(1 / ball(end))
    return None  # r = 1/x needs x to keep one sign on the tail


class Enclosure:
    """Enclosures of one expression over boxes: finite sides in the variables, infinite ones compactified.

    A box is a tuple of (low, high) per variable, Fractions or ±math.inf.
    `over(box)` returns a ball containing the expression over the closed box,
    or None when no finite enclosure was obtained.
    """

    def __init__(self, expr, variables):
        self.expr, self.variables = exact(expr), tuple(variables)
        self.function = compile_arb(self.expr, self.variables)  # raises Unsupported
        self._gradient = None
        self._tails: dict = {}

    def gradient(self):
        if self._gradient is None:
            try:
                # factor_terms pulls out common factors (σ(1−σ)(1−2σ), not a difference of two near-equal terms).
                self._gradient = [compile_arb(sympy.factor_terms(sympy.diff(self.expr, v)), self.variables)
                                  for v in self.variables]
            except Unsupported:  # e.g. Abs differentiates to sign: no mean-value form, plain enclosures only
                self._gradient = []
        return self._gradient

    def over(self, box) -> arb | None:
        with ctx.workprec(BOX_PRECISION):
            try:
                if all(math.isfinite(low) and math.isfinite(high) for low, high in box):
                    return self._finite(box)
                return self._tail(box)
            except Exception:  # noqa: BLE001 - a box that cannot be evaluated is split or left undecided
                return None

    def _finite(self, box):
        values = [hull(low, high) for low, high in box]
        plain = _finite_or_none(self.function(values))
        if plain is not None and plain.rad() == 0:
            return plain
        # Mean-value form f(m) + Σ ∂ᵢf(X)(Xᵢ − mᵢ): its width shrinks quadratically with the box.
        gradient = self.gradient()
        if not gradient:
            return plain
        middle = [(low + high) / 2 for low, high in box]
        centred = self.function([ball(m) for m in middle])
        for partial, (low, high), m in zip(gradient, box, middle):
            centred += partial(values) * (hull(low, high) - ball(m))
        centred = _finite_or_none(centred)
        if plain is None or centred is None:
            return plain or centred
        return _meet(plain, centred)

    def _tail(self, box):
        if any(not math.isfinite(low) and not math.isfinite(high) for low, high in box):
            return None  # (−∞, +∞) is split at 0 before it is evaluated
        sides = tuple(0 if math.isfinite(low) and math.isfinite(high) else (1 if math.isfinite(low) else -1)
                      for low, high in box)
        result = None
        for kind in TAIL_KINDS:
            compiled = self._compiled_tail(sides, kind)
            if compiled is None:
                continue
            function, fresh = compiled
            values = []
            for (low, high), side, symbols in zip(box, sides, fresh):
                if side == 0:
                    values.append(hull(low, high))
                    continue
                values += [_tail_ball(symbol, side, low if side > 0 else high) for symbol in symbols]
            if any(v is None for v in values):
                continue
            enclosure = _finite_or_none(function(values))
            if enclosure is not None:
                result = enclosure if result is None else _meet(result, enclosure)
                if result is None:
                    return None
        return result

    def _compiled_tail(self, sides, kind):
        """(function of the balls, new symbols per variable) for this pattern of tails, or None; cached."""
        key = (sides, kind)
        if key not in self._tails:
            expr, fresh = self.expr, [(v,) for v in self.variables]
            self._tails[key] = None
            for k, side in enumerate(sides):
                if side != 0:
                    rewritten = _compactified(expr, self.variables[k], side, kind)
                    if rewritten is None:
                        return None
                    expr, fresh[k] = rewritten
            try:
                function = compile_arb(expr, [s for symbols in fresh for s in symbols])
            except Unsupported:
                return None
            self._tails[key] = (function, fresh)
        return self._tails[key]


def _finite_or_none(value: arb):
    return value if value.is_finite() else None


def _meet(a: arb, b: arb):
    """The intersection of two enclosures of one quantity; None if they are disjoint (then one is wrong)."""
    return a.intersection(b) if a.overlaps(b) else None
