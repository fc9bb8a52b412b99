"""The articles' operators on SymPy scalars and matrices: ⊙, diag, transpose, σ, σ', tanh, tanh', products.

Claims written in Python (checks/*.py) transcribe hand formulas with these, so
a scalar formula and its vector reading are written the same way; the
functions and their derivatives are those of derive.rules.
"""
from __future__ import annotations

import functools

import sympy

from derive.rules import apply


def _is_matrix(value) -> bool:
    return isinstance(value, sympy.MatrixBase)


def hadamard(*factors):
    """a ⊙ b ⊙ ...: the elementwise product (an ordinary product for scalars)."""
    def pair(a, b):
        if _is_matrix(a) and _is_matrix(b):
            return a.multiply_elementwise(b)
        return a * b
    return functools.reduce(pair, factors)


def diag(vector):
    """The diagonal matrix of a column vector; a scalar unchanged."""
    return sympy.diag(*vector) if _is_matrix(vector) else vector


def transpose(value):
    return value.T if _is_matrix(value) else value


def matmul(*factors):
    """Matrix product in the order given (an ordinary product for scalars)."""
    return functools.reduce(lambda a, b: a * b, factors)


def sigma(z):
    return apply("sigma", z)


def dsigma(z):
    """σ'(z) = σ(z)(1 − σ(z)), elementwise."""
    return apply("sigma", z, 1)


def tanh(z):
    return apply("tanh", z)


def dtanh(z):
    """tanh'(z) = 1 − tanh(z)², elementwise."""
    return apply("tanh", z, 1)


def stack(*values):
    """Stack scalars or matrices into one column, for checking several equalities at once."""
    entries = []
    for value in values:
        entries.extend(list(value) if _is_matrix(value) else [value])
    return sympy.Matrix(entries)
