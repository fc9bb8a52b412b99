"""Activation functions in every backend derive uses: SymPy, NumPy (float64), mpmath (object arrays).

The cells in `derive.cells` call `sigmoid` and `tanh` from here; the same call
works on NumPy arrays, on NumPy object arrays of mpmath numbers (30-digit
checks) and on traced symbolic arrays (`derive.trace.Traced`).
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy


class Sigmoid(sympy.Function):
    """The logistic function σ(z) = 1 / (1 + e^{-z}), kept as one SymPy atom.

    Its derivative is written in terms of itself, σ' = σ(1 − σ), so Jacobians
    stay small and polynomial in the gate activations; `rewrite(sympy.exp)`
    gives the closed form when a proof or a limit needs it.
    """

    def fdiff(self, argindex=1):
        s = Sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, z):
        if z is sympy.S.Zero:
            return sympy.Rational(1, 2)
        if z is sympy.S.Infinity:
            return sympy.S.One
        if z is sympy.S.NegativeInfinity:
            return sympy.S.Zero
        if isinstance(z, sympy.Float):
            return 1 / (1 + sympy.exp(-z))
        return None

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sympy.exp(-z))

    def _eval_evalf(self, prec):
        return self.rewrite(sympy.exp)._eval_evalf(prec)

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_is_positive(self):
        if self.args[0].is_real:
            return True
        return None

    def _latex(self, printer, exp=None):
        body = r"\sigma\left(%s\right)" % printer._print(self.args[0])
        return body if exp is None else r"%s^{%s}" % (body, exp)


def dsigmoid(z):
    """σ'(z) = σ(z)(1 − σ(z)) as a SymPy expression."""
    s = Sigmoid(z)
    return s * (1 - s)


def dtanh(z):
    """tanh'(z) = 1 − tanh(z)² as a SymPy expression."""
    return 1 - sympy.tanh(z) ** 2


def _mp_sigmoid(z):
    return 1 / (1 + mpmath.exp(-z))


_mp_sigmoid_array = np.frompyfunc(_mp_sigmoid, 1, 1)
_mp_tanh_array = np.frompyfunc(mpmath.tanh, 1, 1)

# Namespaces for sympy.lambdify: the name SymPy prints for `Sigmoid` is resolved here.
NUMPY_NAMESPACE = {"Sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))}
MPMATH_NAMESPACE = {"Sigmoid": _mp_sigmoid}


def sigmoid(z):
    """σ(z), elementwise, for NumPy, mpmath-object or traced symbolic arrays."""
    if hasattr(z, "elementwise"):
        return z.elementwise(Sigmoid)
    z = np.asarray(z)
    if z.dtype == object:
        return _mp_sigmoid_array(z)
    # 0.5 (1 + tanh(z/2)) is σ exactly and never overflows, unlike 1/(1+exp(-z)).
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def tanh(z):
    """tanh(z), elementwise, for NumPy, mpmath-object or traced symbolic arrays."""
    if hasattr(z, "elementwise"):
        return z.elementwise(sympy.tanh)
    z = np.asarray(z)
    if z.dtype == object:
        return _mp_tanh_array(z)
    return np.tanh(z)
