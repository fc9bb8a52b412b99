"""The values a formula's parts read to besides SymPy expressions: times, split weights, concatenations, functions.

Also the small tree helpers every part of the reader shares (the leaf under
one-child nodes, a name's table key, whether a superscript transposes).
"""
from __future__ import annotations

from dataclasses import dataclass

import lark
import sympy

from derive.notation.parser import Formula


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


def is_transpose(suparg) -> bool:
    """^T, ^\\top, ^{T}, ^{\\top}."""
    return is_top(suparg) or _leaf(suparg) == "T"


def is_top(suparg) -> bool:
    """^\\top or ^{\\top}: a transpose whatever T stands for."""
    leaf = _leaf(suparg)
    return isinstance(leaf, lark.Token) and leaf.type == "TOP"


def _leaf(suparg):
    leaf = simple(suparg) if isinstance(suparg, lark.Tree) else suparg
    if isinstance(leaf, lark.Tree) and leaf.data == "name":
        leaf = leaf.children[0]
    return leaf


def is_matrix(value) -> bool:
    return isinstance(value, sympy.MatrixBase)


def shape(value) -> tuple:
    return value.shape if is_matrix(value) else (1, 1)


def is_column(value) -> bool:
    """A column of more than one entry (a vector gate, σ'(z) at n > 1)."""
    return is_matrix(value) and value.shape[1] == 1 and value.shape[0] > 1


