"""Names and scripts in a formula: symbols, times, powers, functions, derivatives, adjoints.

Each function here reads one kind of parse-tree node for the Reader
(derive.notation.reader), which dispatches to it by the node's rule name. A
name is looked up in this order: an index bound by `values` or by \\prod
(k, t'), a term the claims file defines (A_t), the loss, then the model's
symbol table (through the file's aliases). Its subscript is either part of
the name (W_f, z_3, W_{rec}, the f of z_{f,t}) or its time (c_{t-1}).
"""
from __future__ import annotations

import lark
import sympy

from derive import budget, rules
from derive.errors import ShapeMismatchError
from derive.exact import adjoints, partials
from derive.notation import norms
from derive.notation.parser import position, text_of
from derive.notation.values import Concat, Function, Rel, Split, base_key, is_top, is_transpose, simple
from derive.quantity import scalar_or_matrix
from derive.rules import elementwise

LARGEST_EXPONENT = 64
MOST_PRIMES = 3
LONGEST_NUMBER = 30  # digits


def read_postfix(reader, node, env):
    """A primary with its subscript, superscript, primes and call: c_{t-1}, \\sigma'(z), W_f \\cdot [...], f^{t+1}."""
    primary, rest = node.children[0], node.children[1:]
    applied = rest[-1] if rest and rest[-1].data == "applied" else None
    call, after = (applied.children[0], applied.children[1:]) if applied is not None else (None, [])
    scripts = [s for s in rest if s is not applied]
    sub = next((s.children[0] for s in scripts if s.data == "sub"), None)
    sup = next((s.children[0] for s in scripts if s.data == "sup"), None)
    primes = sum(1 for s in scripts if s.data == "prime")
    if sup is not None and all(isinstance(c, lark.Token) and c.type == "PRIMECMD" for c in sup.children):
        sup, primes = None, primes + len(sup.children)  # f^\prime, f^{\prime\prime}
    if primary.data in ("name", "style", "decorated"):
        value = read_named(reader, node, primary, sub, sup, primes, env)
    elif primary.data in ("function", "dotted"):
        if sub is not None:
            reader.fail(sub, "a function takes no subscript")
        base = function_of(reader, primary)
        value = Function(base.kind, base.order + primes, None if sup is None else read_exponent(reader, sup, env))
    else:
        if sub is not None and primary.data != "norm":
            reader.fail(sub, "only a name or a norm takes a subscript")
        if primes:
            reader.fail(node, "a prime marks the derivative of a function, like \\sigma'(z)")
        value = norms.read_norm(reader, primary, sub, env) if primary.data == "norm" else reader.value(primary, env)
        if sup is not None:
            value = read_superscript(reader, value, sup, env)
    if call is None:
        if isinstance(value, Function):
            reader.fail(node, "a function needs its argument in parentheses, e.g. \\sigma(z)")
        return value
    return apply_call(reader, value, call, after, env)


def apply_call(reader, value, call, after, env):
    """X(Y) followed by scripts: σ(z)^2 is a power of σ(z), but a (b)^\\top multiplies a by bᵀ."""
    argument = read_callarg(reader, call, env)
    for script in after:
        if script.data != "sup":
            reader.fail(script, "after (...) only a superscript may follow, as in \\sigma(z)^2")
    if not isinstance(value, Function):
        for script in after:
            argument = read_superscript(reader, argument, script.children[0], env)
        return reader.multiply(value, argument, call)
    value = apply_function(reader, value, argument, call)
    for script in after:
        value = read_superscript(reader, value, script.children[0], env)
    return value


def function_of(reader, primary) -> Function:
    """The function a primary names: \\sigma, tanh, or a dotted one (\\dot{\\sigma} is σ', \\ddot{f} is f'')."""
    if primary.data == "function":
        return Function(rules.by_spelling()[str(primary.children[0])])
    accent, inner = primary.children[0], primary.children[-1]
    if isinstance(inner, lark.Token) and inner.type in ("FUNC", "WORDFUNC"):
        kind = rules.by_spelling()[str(inner)]
    else:
        key = str(inner) if isinstance(inner, lark.Token) else base_key(inner)
        entry = reader.context.table.lookup(key)
        if entry is None or entry.kind != "function":
            reader.fail(primary, f"\\dot marks the derivative of a function, like \\dot{{\\sigma}}(z); {key} is not "
                                 f"a function here")
        kind = entry.name
    if kind == "diag":
        reader.fail(primary, "diag has no derivative")
    order = 2 if str(accent).startswith("\\dd") else 1
    reader.note(f"{reader.spelled(primary)} read as the derivative {rules.rule(kind).latex}{chr(39) * order}")
    return Function(kind, order)


def read_callarg(reader, call, env):
    parts = [reader.value(c, env) for c in call.children if isinstance(c, lark.Tree)]
    return parts[0] if len(parts) == 1 else Concat(tuple(parts))


# -- names -----------------------------------------------------------------------------
def read_named(reader, node, primary, sub, sup, primes, env):
    base = base_key(primary)
    if sub is None and sup is None and base + "'" * primes in env:
        value = env[base + "'" * primes]
        if isinstance(value, Rel):
            reader.fail(node, f"{base} is a time relative to t, not a number; give t a value in values")
        return sympy.Integer(value)
    definition = reader.context.definitions.get(base)
    if definition is not None and not primes:
        return read_definition(reader, node, base, definition, sub, sup, env)
    loss = reader.context.loss
    if loss is not None and text_of(lark.Tree("postfix", [primary] + [s for s in node.children[1:]
                                                                     if s.data != "applied"])) == loss.key:
        reader.fail(node, f"the loss {base} appears here undifferentiated; it can only be differentiated, "
                        f"as in \\frac{{\\partial {loss.key}}}{{\\partial ...}}")
    label, time_tree = subscript_parts(reader, sub)
    table = reader.context.table
    entry, used = table.resolve(base, label)
    spelled = base + ("" if sub is None else "_{" + text_of(sub) + "}")
    if entry is None:
        constant = read_constant(reader, primary, base, sub, sup, env)
        if constant is not None:
            return constant
        hint = " (t is the claim's time step, a subscript)" if base in ("t", "k", "s") else ""
        if base == "b" and table.model is not None and table.model.removed:
            hint = " (the claim's model was built with bias = false)"
        raise table.unknown(spelled, position(node), reader.formula, hint, f"{base}_{label}" if label else base)
    if not used:
        time_tree = sub
        if sub is not None and len(sub.children) > 1:
            raise table.unknown(spelled, position(node), reader.formula)
    if entry.kind == "function":
        if time_tree is not None:
            reader.fail(node, f"the function {spelled} takes no subscript")
        return Function(entry.name, primes, None if sup is None else read_exponent(reader, sup, env))
    if primes:
        reader.fail(node, f"{spelled}' : a prime marks the derivative of a function, like \\sigma'(z)")
    if entry.kind == "variable":
        value = entry.symbol
    elif entry.kind in ("parameter", "split"):
        if time_tree is not None:
            raise table.unknown(spelled, position(node), reader.formula, f" ({base} alone is a parameter: it "
                                                                      f"takes no time)")
        model = table.model
        if entry.kind == "split":
            value = Split(*[scalar_or_matrix(model.q(p)) for p in entry.parts])
        else:
            value = scalar_or_matrix(model.q(entry.name))
    elif not entry.timed:
        if time_tree is not None:
            raise table.unknown(spelled, position(node), reader.formula, f" ({table.model_name} has no time steps)")
        value = scalar_or_matrix(table.model.q(entry.name))
    else:
        if time_tree is None and sup is not None and (not is_transpose(sup) or ("T" in env and not is_top(sup))):
            if is_transpose(sup):  # y^T with T a step the claim gives: the time, as Greff et al. write y^T
                reader.note(f"{spelled}^T read as {spelled} at step T, not as a transpose")
            time_tree, sup = sup, None  # Greff et al.'s c^t: the superscript is the time
        if time_tree is None:
            reader.fail(node, f"{spelled} needs a time: {base}_t, {base}_{{t-1}} or {base}^t")
        time = reader.index(time_tree, env)
        if not isinstance(time, Rel) and time < 0:
            reader.fail(time_tree, f"step {time}: absolute steps start at 0 (the initial state)")
        at = (time.offset, False) if isinstance(time, Rel) else (time, True)
        # Δ^t, the loss's own term ∂L^t/∂y^t, is drawn with the adjoints; everything else is the model's.
        value = adjoints.loss_weight(table.model, *at) if entry.kind == "loss weight" else \
            scalar_or_matrix(table.model.q(entry.name, *at))
    return value if sup is None else read_superscript(reader, value, sup, env)


def subscript_parts(reader, sub):
    """(label, time tree) of a subscript: z_{f,t} -> ("f", t); W_{rec} -> ("rec", None); c_{t-1} -> (None, None)."""
    if sub is None:
        return None, None
    items = sub.children
    if len(items) > 2:
        reader.fail(sub, "a subscript holds a label and a time at most, like z_{f,t}")
    leaf = simple(items[0]) if isinstance(items[0], lark.Tree) else items[0]
    if isinstance(leaf, lark.Tree) and leaf.data in ("name", "number", "style"):
        label = str(leaf.children[-1])
    elif isinstance(leaf, lark.Token) and leaf.type in ("CHAR", "GREEK", "NAME", "NUMBER"):
        label = str(leaf)
    else:
        label = None
    return label, (items[1] if len(items) == 2 else None)


def read_constant(reader, primary, base, sub, sup, env):
    """Euler's e (e^{x} is exp(x)), the identity I (I_n), and the vectors \\mathbf{1}, \\mathbf{0}; None if not one."""
    size = reader.context.model.n if reader.context.model is not None else 1
    if base == "e" and sub is None:
        if sup is None:
            return sympy.E
        if is_transpose(sup):
            reader.fail(sup, "e cannot be transposed")
        return rules.apply("exp", script_value(reader, sup, env))  # real for every real exponent
    if base == "I" and (sub is None or text_of(sub) in ("n", str(size))):
        identity = scalar_or_matrix(sympy.eye(size))
        return identity if sup is None else read_superscript(reader, identity, sup, env)
    if primary.data == "style" and base in ("0", "1") and sub is None and sup is None:
        if str(primary.children[0]) not in ("\\mathbf", "\\boldsymbol", "\\mathbb"):
            return sympy.Integer(base)
        if size > 1:
            reader.note(f"{reader.spelled(primary)} read as the column of {size} {'ones' if base == '1' else 'zeros'}")
        return scalar_or_matrix(sympy.ones(size, 1) * int(base))
    return None


def read_definition(reader, node, base, definition, sub, sup, env):
    if base in reader._expanding:
        reader.fail(node, f"{base} is defined in terms of itself")
    reader.spend(node)
    inner = dict(env)
    if definition.parameter is not None:
        if sub is None:
            reader.fail(node, f"{base} is defined with a time ({base}_{definition.parameter}); give it one")
        inner[definition.parameter] = reader.index(sub.children[0] if len(sub.children) == 1 else sub, env)
    elif sub is not None:
        reader.fail(sub, f"{base} is defined without a time")
    reader._expanding.append(base)
    try:
        value = reader.evaluate(definition.formula, None, inner)
    finally:
        reader._expanding.pop()
    return value if sup is None else read_superscript(reader, value, sup, env)


# -- scripts ---------------------------------------------------------------------------
def script_value(reader, suparg, env):
    child = suparg.children[0]
    if isinstance(child, lark.Token):
        if child.isdigit():
            return sympy.Integer(int(child))
        if str(child) in env:
            return sympy.Integer(reader.integer(child, env))
        reader.fail(child, f"the exponent {child} is not a number")
    return reader.plain(reader.value(child, env), child)


def read_exponent(reader, suparg, env):
    if is_transpose(suparg):
        reader.fail(suparg, "a function cannot be transposed")
    exponent = script_value(reader, suparg, env)
    if not isinstance(exponent, sympy.Integer) or abs(exponent) > LARGEST_EXPONENT:
        # Whole exponents only: c_t^{0.5} would turn complex where c_t < 0, and a claim must stay real.
        reader.fail(suparg, f"an exponent must be a whole number of magnitude at most {LARGEST_EXPONENT}")
    return exponent


def read_superscript(reader, value, suparg, env):
    value = reader.plain(value, suparg) if not isinstance(value, Split) else value.recurrent
    if is_transpose(suparg):
        return value.T if isinstance(value, sympy.MatrixBase) else value
    exponent = read_exponent(reader, suparg, env)
    if isinstance(value, sympy.MatrixBase):
        reader.fail(suparg, "a power of a matrix or vector is not part of the notation (^T transposes)",
                  ShapeMismatchError)
    return value ** exponent


# -- functions -------------------------------------------------------------------------
def apply_function(reader, function: Function, argument, node):
    if isinstance(argument, Concat):
        reader.fail(node, "a function takes one argument")
    argument = reader.plain(argument, node)
    if function.order > MOST_PRIMES:
        reader.fail(node, f"at most {MOST_PRIMES} primes")
    if function.kind == "diag":
        if function.order or function.power is not None:
            reader.fail(node, "diag takes no prime and no power")
        if isinstance(argument, sympy.MatrixBase) and argument.shape[1] != 1:
            reader.fail(node, "diag(v) takes a column v", ShapeMismatchError)
        return sympy.diag(*argument) if isinstance(argument, sympy.MatrixBase) else argument
    result = rules.apply(function.kind, argument, function.order)  # σ'(z) = σ(z)(1−σ(z)), as the table writes it
    if function.power is not None:
        result = elementwise(lambda e: e ** function.power, result)
    refused = budget.nesting_refused(result)  # through defined terms and \dots too, which the parser's depth misses
    if refused:
        reader.fail(node, refused)
    return result


def function_of_node(reader, node, env):
    return function_of(reader, node)


def read_function(reader, node, env):
    return Function(rules.by_spelling()[str(node.children[0])])


# -- other primaries -------------------------------------------------------------------
def read_name(reader, node, env):
    return read_named(reader, node, node, None, None, 0, env)

read_style = read_decorated = read_name


def read_number(reader, node, env):
    text = str(node.children[0])
    if len(text.replace(".", "")) > LONGEST_NUMBER:
        reader.fail(node, f"a number of more than {LONGEST_NUMBER} digits")
    whole, _, fraction = text.partition(".")
    return sympy.Integer(int(whole + fraction)) / sympy.Integer(10) ** len(fraction)


def read_group(reader, node, env):
    return reader.value([c for c in node.children if isinstance(c, lark.Tree)][0], env)


def read_bracket(reader, node, env):
    parts = [reader.value(c, env) for c in node.children if isinstance(c, lark.Tree)]
    return parts[0] if len(parts) == 1 else Concat(tuple(parts))


def read_dots(reader, node, env):
    reader.fail(node, "\\dots stands for left-out terms, so it may only be a term of a sum (a + \\dots)")


def read_adjoint(reader, node, env):
    """\\delta q^t, the adjoint ∂L/∂q^t; a call after it, \\delta z^t (x^t)^\\top, multiplies the adjoint."""
    inner = node.children[1]
    applied = inner.children[-1] if inner.children[-1].data == "applied" else None
    if applied is not None:
        quantity = lark.Tree("postfix", inner.children[:-1], inner.meta)
        adjoint = read_adjoint(reader, lark.Tree("adjoint", [node.children[0], quantity], node.meta), env)
        return apply_call(reader, adjoint, applied.children[0], applied.children[1:], env)
    model = reader.context.model
    value = reader.plain(reader.value(inner, env), inner)
    ref = partials.identify(model, value) if model is not None and model.state else None
    if ref is None or (ref.time is None and ref.name not in model.param_shapes):
        reader.fail(node, "\\delta marks the adjoint ∂L/∂q of a quantity q of a recurrent model at a time, like "
                        "\\delta c^t or \\delta x^t, or of a parameter summed over the steps, like \\delta W_z")
    return adjoints.delta(model, ref.name, ref.time, ref.absolute)
