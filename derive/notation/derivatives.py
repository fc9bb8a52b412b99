"""Derivatives as the articles write them: ∂a/∂b (displayed or inline), ∂⁺, d/dz, dσ/dz, and their operator forms.

Each function reads one spelling for the Reader (derive.notation.reader):

- \\frac{\\partial a}{\\partial b} and a ∂a / ∂b written inline: the exact derivative
  (derive.exact.partials), in the reader's semantics; \\partial^+ a is the
  immediate partial of Pascanu et al. (2013), the state before a's step held;
- \\frac{\\partial}{\\partial b} X: the same, of the expression X;
- Leibniz's \\frac{da}{db}, \\frac{d}{dz} X and \\frac{d\\sigma}{dz}: the total derivative
  (every earlier step responds); by a free variable z of the claim, SymPy's
  derivative, and dσ/dz is σ'(z).

The grammar reads ∂ (or ∂⁺) before one postfix as a `differential`; a
fraction is a derivative when both its numerator and its denominator lead
with one (or both lead with the differential d, where d names nothing else).
"""
from __future__ import annotations

import lark

from derive.errors import NotationError
from derive.exact import partials
from derive.notation.names import apply_function, function_of
from derive.notation.parser import text_of
from derive.notation.values import Function, base_key

_MODES = {"PARTIAL": partials.PARTIAL, "PARTIALPLUS": partials.IMMEDIATE}
BARE = object()  # a lone d, as in \frac{d}{dz}: an operator waiting for its operand


def _leading(node, strip):
    """`node` with its leftmost leaf rewritten by `strip` (None: not that kind of leaf; BARE: the leaf was all)."""
    if not isinstance(node, lark.Tree):
        return None
    found = strip(node)
    if found is not None:
        return found
    if not node.children or not isinstance(node.children[0], lark.Tree):
        return None
    inner = _leading(node.children[0], strip)
    if inner is None:
        return None
    rest = node.children[1:]
    if inner is BARE:
        if node.data not in ("product", "postfix") or (node.data == "postfix" and rest):
            return None if rest else BARE
        if rest and isinstance(rest[0], lark.Token):  # the \cdot after a lone d
            rest = rest[1:]
        return lark.Tree(node.data, rest, node.meta) if rest else BARE
    return lark.Tree(node.data, [inner] + rest, node.meta)


def leading_differential(node):
    """(the tree after ∂, mode) when `node` leads with ∂a or ∂⁺a; None otherwise."""
    mode = [None]

    def strip(tree):
        if tree.data == "differential":
            mode[0] = _MODES[tree.children[0].type]
            return tree.children[1]
        return None

    rest = _leading(node, strip)
    return None if rest is None or rest is BARE else (rest, mode[0])


def leading_d(context, node):
    """The tree after a leading Leibniz d (dz -> z, d\\sigma -> \\sigma), BARE for a lone d, None for none.

    A d that the claim defines or whose name the symbol table knows (a variable dz) is not a differential.
    """
    def strip(tree):
        if tree.data == "style" and str(tree.children[-1]) == "d":
            return BARE
        if tree.data != "name" or not str(tree.children[0]).startswith("d"):
            return None
        token = tree.children[0]
        if context.table.lookup(str(token)) is not None or str(token) in context.definitions:
            return None
        if len(token) == 1:
            return BARE
        rest = lark.Token(token.type, str(token)[1:], start_pos=token.start_pos + 1, line=token.line,
                          column=token.column + 1, end_pos=token.end_pos)
        return lark.Tree("name", [rest], tree.meta)

    return _leading(node, strip)


def is_derivative(context, node) -> bool:
    """Does this node (a fraction or an operator form) stand for a derivative the engine computes?"""
    if node.data in ("differential", "partial_operator"):
        return True
    if node.data == "fraction":
        _, numerator, denominator = node.children
        rest = leading_d(context, denominator)
        return rest is not None and rest is not BARE and leading_d(context, numerator) is not None
    return False


# -- readings --------------------------------------------------------------------------------
def read_fraction(reader, node, env):
    """\\frac{a}{b}: a derivative when both lead with ∂ (or d), else a division."""
    _, numerator, denominator = node.children
    over = leading_differential(denominator)
    top = leading_differential(numerator)
    if top is not None and over is not None:
        return _derivative(reader, top[0], over[0], top[1], node, env, over[1])
    if is_derivative(reader.context, node):
        top, over = leading_d(reader.context, numerator), leading_d(reader.context, denominator)
        if top is BARE:
            reader.fail(node, "\\frac{d}{dz} differentiates what follows it: write \\frac{d}{dz}\\sigma(z)")
        return _derivative(reader, top, over, partials.TOTAL, node, env)
    if top is not None or over is not None:
        reader.fail(node, "a derivative has ∂ in its numerator and its denominator: \\frac{\\partial a}{\\partial b}")
    return reader.multiply(reader.value(numerator, env), reader.value(denominator, env), node, divide=True)


def read_partial_operator(reader, node, env):
    """\\frac{\\partial}{\\partial b} X: the derivative of the expression X."""
    _, token, denominator, operand = node.children
    over = leading_differential(denominator)
    if over is None:
        reader.fail(denominator, "the denominator of \\frac{\\partial}{\\partial b} is ∂ and one quantity")
    return _derivative(reader, operand, over[0], _MODES[token.type], node, env, over[1])


def read_differential(reader, node, env):
    reader.fail(node, "∂a stands in a derivative: write \\frac{\\partial a}{\\partial b} or \\partial a / \\partial b")


def inline(reader, left, right, env):
    """∂a / ∂b written inline, `left` and `right` the two factors of the product."""
    top, over = leading_differential(left), leading_differential(right)
    if top is None or over is None:
        reader.fail(left, "a derivative written inline is \\partial a / \\partial b")
    return _derivative(reader, top[0], over[0], top[1], left, env, over[1])


def d_operator(context, factor):
    """The denominator's tree when `factor` (a factor of a product) is the operator \\frac{d}{dz}; else None."""
    node = factor
    while isinstance(node, lark.Tree) and node.data != "fraction" and len(node.children) == 1:
        node = node.children[0]
    if not isinstance(node, lark.Tree) or node.data != "fraction":
        return None
    _, numerator, denominator = node.children
    over = leading_d(context, denominator)
    if leading_d(context, numerator) is not BARE or over is None or over is BARE:
        return None
    return over


def apply_d_operator(reader, factor, operand, env):
    """\\frac{d}{dz} applied to the next factor of the product."""
    return _derivative(reader, operand, d_operator(reader.context, factor), partials.TOTAL, factor, env)


def _derivative(reader, numerator, denominator, mode, node, env, denominator_mode=None):
    if denominator_mode == partials.IMMEDIATE:
        reader.fail(node, "∂⁺ marks the numerator (\\partial^+ x_k / \\partial \\theta), not the denominator")
    reader.spend(node)
    den = reader.plain(reader.value(denominator, env), denominator)
    loss = reader.context.loss
    if loss is not None and text_of(numerator) == loss.key:
        inner = take_derivative(reader, reader.evaluate(loss.of, None, env), den, node, mode)
        return reader.multiply(loss.slope, inner, node)
    function = _bare_function(reader, numerator)
    if function is not None:  # dσ/dz: the derivative of the function, at the variable z
        return apply_function(reader, Function(function.kind, function.order + 1), den, node)
    return take_derivative(reader, reader.plain(reader.value(numerator, env), numerator), den, node, mode)


def _bare_function(reader, tree) -> Function | None:
    """The function a numerator names without an argument (the σ of dσ/dz, with its primes), else None."""
    while isinstance(tree, lark.Tree) and tree.data != "postfix" and len(tree.children) == 1:
        tree = tree.children[0]
    if not isinstance(tree, lark.Tree) or tree.data != "postfix":
        return None
    primary, scripts = tree.children[0], tree.children[1:]
    if any(s.data != "prime" for s in scripts):
        return None
    if primary.data in ("function", "dotted"):
        function = function_of(reader, primary)
    elif primary.data in ("name", "style"):
        entry = reader.context.table.lookup(base_key(primary))
        if entry is None or entry.kind != "function":
            return None
        function = Function(entry.name)
    else:
        return None
    return Function(function.kind, function.order + len(scripts))


def take_derivative(reader, numerator, denominator, node, mode=partials.PARTIAL):
    try:
        return partials.derivative(reader.context.model, numerator, denominator, reader.semantics, mode)
    except NotationError as error:
        if error.position is not None:
            raise
        reader.fail(node, error.message, type(error))
