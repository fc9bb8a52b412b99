"""Names and scripts in a formula: symbols, times, powers, functions, derivatives, adjoints (mixed into derive.formula.Reader).

A name is looked up in this order: an index bound by `values` or by \\prod
(k, t'), a term the claims file defines (A_t), the loss, then the model's
symbol table (through the file's aliases). Its subscript is either part of
the name (W_f, z_3, W_{rec}, the f of z_{f,t}) or its time (c_{t-1}).
"""
from __future__ import annotations

from dataclasses import dataclass

import lark
import sympy

from derive import adjoints, partials
from derive.activations import Sigmoid
from derive.errors import NotationError, ShapeMismatchError
from derive.models import scalar_or_matrix
from derive.notation import dsigma, dtanh
from derive.parser import Formula, position, text_of

LARGEST_EXPONENT = 64
MOST_PRIMES = 3
LONGEST_NUMBER = 30  # digits
_SYMPY = {"sigma": Sigmoid, "tanh": sympy.tanh, "exp": sympy.exp, "arctan": sympy.atan}
_FUNCTION_TOKENS = {r"\sigma": "sigma", r"\tanh": "tanh", "tanh": "tanh", r"\exp": "exp", r"\arctan": "arctan"}


@dataclass(frozen=True)
class Rel:
    """A time relative to the claim's step: t + offset."""

    offset: int


@dataclass(frozen=True)
class Split:
    """A weight with a recurrent and an input block (W_f = [W_fh, W_fx])."""

    recurrent: object
    input: object


@dataclass(frozen=True)
class Concat:
    """[a, b]: a concatenation, waiting to meet a split weight."""

    parts: tuple


@dataclass(frozen=True)
class Function:
    """σ, tanh, ... with `order` primes and an optional power (\\tanh^2)."""

    kind: str
    order: int = 0
    power: object = None


@dataclass(frozen=True)
class Definition:
    """A term the claims file defines, e.g. A_t := ..., with its time parameter (None if it has none)."""

    parameter: str | None
    formula: Formula


@dataclass(frozen=True)
class Loss:
    """A loss of unspecified form: `key` (e.g. E_{k}) is ℓ(`of`), and ∂ℓ/∂`of` is the drawn number `slope`."""

    key: str
    of: Formula
    slope: sympy.Symbol


def simple(node):
    """The leaf under a chain of one-child nodes (a name, number, style, dots or token), else None."""
    while isinstance(node, lark.Tree):
        if node.data in ("name", "number", "style", "dots", "decorated"):
            return node
        if len(node.children) != 1:
            return None
        node = node.children[0]
    return node


def base_key(primary) -> str:
    """The key of a name-like primary: c, \\tilde{c}, rec (of \\mathrm{rec}), \\tau."""
    if primary.data == "style":
        return str(primary.children[1])
    if primary.data == "decorated":
        return "%s{%s}" % (primary.children[0], primary.children[-1])
    return str(primary.children[0])


def _is_transpose(suparg) -> bool:
    leaf = simple(suparg) if isinstance(suparg, lark.Tree) else suparg
    if isinstance(leaf, lark.Tree) and leaf.data == "name":
        leaf = leaf.children[0]
    return isinstance(leaf, lark.Token) and (leaf.type == "TOP" or str(leaf) == "T")


def _elementwise(function, value):
    return value.applyfunc(function) if isinstance(value, sympy.MatrixBase) else function(value)


class NameRules:
    """The postfix rules: a primary with its subscript, superscript, primes and call."""

    def _postfix(self, node, env):
        primary, rest = node.children[0], node.children[1:]
        applied = rest[-1] if rest and rest[-1].data == "applied" else None
        call, after = (applied.children[0], applied.children[1:]) if applied is not None else (None, [])
        scripts = [s for s in rest if s is not applied]
        sub = next((s.children[0] for s in scripts if s.data == "sub"), None)
        sup = next((s.children[0] for s in scripts if s.data == "sup"), None)
        primes = sum(1 for s in scripts if s.data == "prime")
        if sup is not None and isinstance(sup.children[0], lark.Token) and sup.children[0].type == "PRIMECMD":
            sup, primes = None, primes + 1
        if primary.data in ("name", "style", "decorated"):
            value = self._named(node, primary, sub, sup, primes, env)
        elif primary.data == "function":
            if sub is not None:
                self.fail(sub, "a function takes no subscript")
            value = Function(_FUNCTION_TOKENS[str(primary.children[0])], primes,
                             None if sup is None else self._exponent(sup, env))
        else:
            if sub is not None:
                self.fail(sub, "only a name takes a subscript")
            if primes:
                self.fail(node, "a prime marks the derivative of a function, like \\sigma'(z)")
            value = self.value(primary, env)
            if sup is not None:
                value = self._superscript(value, sup, env)
        if call is None:
            if isinstance(value, Function):
                self.fail(node, "a function needs its argument in parentheses, e.g. \\sigma(z)")
            return value
        argument = self._callarg(call, env)
        if isinstance(value, Function):
            value = self._apply(value, argument, call)
        else:
            value = self.multiply(value, argument, call)
        for script in after:  # \sigma(z)^2: a power of the result
            if script.data != "sup":
                self.fail(script, "after (...) only a superscript may follow, as in \\sigma(z)^2")
            value = self._superscript(value, script.children[0], env)
        return value

    def _callarg(self, call, env):
        parts = [self.value(c, env) for c in call.children if isinstance(c, lark.Tree)]
        return parts[0] if len(parts) == 1 else Concat(tuple(parts))

    # -- names -----------------------------------------------------------------------------
    def _named(self, node, primary, sub, sup, primes, env):
        base = base_key(primary)
        if sub is None and sup is None and base + "'" * primes in env:
            value = env[base + "'" * primes]
            if isinstance(value, Rel):
                self.fail(node, f"{base} is a time relative to t, not a number; give t a value in values")
            return sympy.Integer(value)
        definition = self.context.definitions.get(base)
        if definition is not None and not primes:
            return self._use_definition(node, base, definition, sub, sup, env)
        loss = self.context.loss
        if loss is not None and text_of(lark.Tree("postfix", [primary] + [s for s in node.children[1:]
                                                                         if s.data != "applied"])) == loss.key:
            self.fail(node, f"the loss {base} appears here undifferentiated; it can only be differentiated, "
                            f"as in \\frac{{\\partial {loss.key}}}{{\\partial ...}}")
        label, time_tree = self._label(sub)
        table = self.context.table
        entry, used = table.resolve(base, label)
        spelled = base + ("" if sub is None else "_{" + text_of(sub) + "}")
        if entry is None:
            hint = " (t is the claim's time step, a subscript)" if base in ("t", "k", "s") else ""
            if base == "b" and table.model is not None and table.model.removed:
                hint = " (the claim's model was built with bias = false)"
            raise table.unknown(spelled, position(node), self.formula, hint)
        if not used:
            time_tree = sub
            if sub is not None and len(sub.children) > 1:
                raise table.unknown(spelled, position(node), self.formula)
        if entry.kind == "function":
            if time_tree is not None:
                self.fail(node, f"the function {spelled} takes no subscript")
            return Function(entry.name, primes, None if sup is None else self._exponent(sup, env))
        if primes:
            self.fail(node, f"{spelled}' : a prime marks the derivative of a function, like \\sigma'(z)")
        if entry.kind == "variable":
            value = entry.symbol
        elif entry.kind in ("parameter", "split"):
            if time_tree is not None:
                raise table.unknown(spelled, position(node), self.formula, f" ({base} alone is a parameter: it "
                                                                          f"takes no time)")
            model = table.model
            if entry.kind == "split":
                value = Split(*[scalar_or_matrix(model.q(p)) for p in entry.parts])
            else:
                value = scalar_or_matrix(model.q(entry.name))
        elif not entry.timed:
            if time_tree is not None:
                raise table.unknown(spelled, position(node), self.formula, f" ({table.model_name} has no time steps)")
            value = scalar_or_matrix(table.model.q(entry.name))
        else:
            if time_tree is None and sup is not None and not _is_transpose(sup):
                time_tree, sup = sup, None  # Greff et al.'s c^t: the superscript is the time
            if time_tree is None:
                self.fail(node, f"{spelled} needs a time: {base}_t, {base}_{{t-1}} or {base}^t")
            time = self.index(time_tree, env)
            if isinstance(time, Rel):
                value = table.model.q(entry.name, time.offset, False)
            else:
                if time < 0:
                    self.fail(time_tree, f"step {time}: absolute steps start at 0 (the initial state)")
                value = table.model.q(entry.name, time, True)
            value = scalar_or_matrix(value)
        return value if sup is None else self._superscript(value, sup, env)

    def _label(self, sub):
        """(label, time tree) of a subscript: z_{f,t} -> ("f", t); W_{rec} -> ("rec", None); c_{t-1} -> (None, None)."""
        if sub is None:
            return None, None
        items = sub.children
        if len(items) > 2:
            self.fail(sub, "a subscript holds a label and a time at most, like z_{f,t}")
        leaf = simple(items[0]) if isinstance(items[0], lark.Tree) else items[0]
        if isinstance(leaf, lark.Tree) and leaf.data in ("name", "number", "style"):
            label = str(leaf.children[-1])
        elif isinstance(leaf, lark.Token) and leaf.type in ("CHAR", "GREEK", "NAME", "NUMBER"):
            label = str(leaf)
        else:
            label = None
        return label, (items[1] if len(items) == 2 else None)

    def _use_definition(self, node, base, definition, sub, sup, env):
        if base in self._expanding:
            self.fail(node, f"{base} is defined in terms of itself")
        self._spend(node)
        inner = dict(env)
        if definition.parameter is not None:
            if sub is None:
                self.fail(node, f"{base} is defined with a time ({base}_{definition.parameter}); give it one")
            inner[definition.parameter] = self.index(sub.children[0] if len(sub.children) == 1 else sub, env)
        elif sub is not None:
            self.fail(sub, f"{base} is defined without a time")
        self._expanding.append(base)
        try:
            value = self.evaluate(definition.formula, None, inner)
        finally:
            self._expanding.pop()
        return value if sup is None else self._superscript(value, sup, env)

    # -- scripts ---------------------------------------------------------------------------
    def _script_value(self, suparg, env):
        child = suparg.children[0]
        if isinstance(child, lark.Token):
            if child.isdigit():
                return sympy.Integer(int(child))
            if str(child) in env:
                return sympy.Integer(self.integer(child, env))
            self.fail(child, f"the exponent {child} is not a number")
        return self.plain(self.value(child, env), child)

    def _exponent(self, suparg, env):
        if _is_transpose(suparg):
            self.fail(suparg, "a function cannot be transposed")
        exponent = self._script_value(suparg, env)
        if not isinstance(exponent, sympy.Integer) or abs(exponent) > LARGEST_EXPONENT:
            # Whole exponents only: c_t^{0.5} would turn complex where c_t < 0, and a claim must stay real.
            self.fail(suparg, f"an exponent must be a whole number of magnitude at most {LARGEST_EXPONENT}")
        return exponent

    def _superscript(self, value, suparg, env):
        value = self.plain(value, suparg) if not isinstance(value, Split) else value.recurrent
        if _is_transpose(suparg):
            return value.T if isinstance(value, sympy.MatrixBase) else value
        exponent = self._exponent(suparg, env)
        if isinstance(value, sympy.MatrixBase):
            self.fail(suparg, "a power of a matrix or vector is not part of the notation (^T transposes)",
                      ShapeMismatchError)
        return value ** exponent

    # -- functions -------------------------------------------------------------------------
    def _apply(self, function: Function, argument, node):
        if isinstance(argument, Concat):
            self.fail(node, "a function takes one argument")
        argument = self.plain(argument, node)
        if function.order > MOST_PRIMES:
            self.fail(node, f"at most {MOST_PRIMES} primes")
        if function.kind == "diag":
            if function.order or function.power is not None:
                self.fail(node, "diag takes no prime and no power")
            if isinstance(argument, sympy.MatrixBase) and argument.shape[1] != 1:
                self.fail(node, "diag(v) takes a column v", ShapeMismatchError)
            return sympy.diag(*argument) if isinstance(argument, sympy.MatrixBase) else argument
        sympy_function = _SYMPY[function.kind]
        if function.order == 0:
            result = _elementwise(sympy_function, argument)
        elif function.order == 1 and function.kind in ("sigma", "tanh"):
            result = (dsigma if function.kind == "sigma" else dtanh)(argument)  # σ(z)(1−σ(z)), 1 − tanh(z)²
        else:
            dummy = sympy.Dummy("u")
            derivative = sympy.diff(sympy_function(dummy), dummy, function.order)
            result = _elementwise(lambda e: derivative.xreplace({dummy: e}), argument)
        if function.power is not None:
            result = _elementwise(lambda e: e ** function.power, result)
        return result

    def _function(self, node, env):
        return Function(_FUNCTION_TOKENS[str(node.children[0])])

    # -- other primaries -------------------------------------------------------------------
    def _name(self, node, env):
        return self._named(node, node, None, None, 0, env)

    _style = _decorated = _name

    def _number(self, node, env):
        text = str(node.children[0])
        if len(text.replace(".", "")) > LONGEST_NUMBER:
            self.fail(node, f"a number of more than {LONGEST_NUMBER} digits")
        whole, _, fraction = text.partition(".")
        return sympy.Integer(int(whole + fraction)) / sympy.Integer(10) ** len(fraction)

    def _group(self, node, env):
        return self.value([c for c in node.children if isinstance(c, lark.Tree)][0], env)

    def _bracket(self, node, env):
        parts = [self.value(c, env) for c in node.children if isinstance(c, lark.Tree)]
        return parts[0] if len(parts) == 1 else Concat(tuple(parts))

    def _abs(self, node, env):
        return _elementwise(sympy.Abs, self.plain(self.value(node.children[1], env), node))

    def _fraction(self, node, env):
        _, numerator, denominator = node.children
        return self.multiply(self.value(numerator, env), self.value(denominator, env), node, divide=True)

    def _dots(self, node, env):
        self.fail(node, "\\dots stands for left-out terms, so it may only be a term of a sum (a + \\dots)")

    def _partial(self, node, env):
        _, _, numerator, _, denominator = node.children
        self._spend(node)
        den = self.plain(self.value(denominator, env), denominator)
        loss = self.context.loss
        if loss is not None and text_of(numerator) == loss.key:
            inner = self._derivative(self.evaluate(loss.of, None, env), den, node)
            return self.multiply(loss.slope, inner, node)
        return self._derivative(self.plain(self.value(numerator, env), numerator), den, node)

    def _partial_operator(self, node, env):
        _, _, _, denominator, operand = node.children
        self._spend(node)
        den = self.plain(self.value(denominator, env), denominator)
        return self._derivative(self.plain(self.value(operand, env), operand), den, node)

    def _derivative(self, numerator, denominator, node):
        try:
            return partials.derivative(self.context.model, numerator, denominator, self.semantics)
        except NotationError as error:
            if error.position is not None:
                raise
            self.fail(node, error.message, type(error))

    def _adjoint(self, node, env):
        inner = node.children[1]
        model = self.context.model
        value = self.plain(self.value(inner, env), inner)
        ref = partials.identify(model, value) if model is not None else None
        if ref is None or ref.time is None:
            self.fail(node, "\\delta marks the adjoint ∂L/∂q^t of a quantity q of the model at a time, like "
                            "\\delta c^t")
        return adjoints.delta(model, ref.name, ref.time, ref.absolute)
