"""The fixed source of every compiled-chain kernel module: its helpers, and the loop over steps it fills in.

`derive.lab.compiled_source` generates what depends on the model (the loop over
units, the rows of the blocks, the update) and puts it between `HELPERS` and
`DRAW`; `derive.lab.compiled` writes the whole to its disk cache.
"""

# The helpers every kernel module starts with. exp and expm1 are a Cody–Waite reduction x = k ln2 + r and
# the degree-13 Taylor polynomial of expm1(r) (|r| <= ln2/2: truncation 1e-17, a few ulp in all), with
# 2^k made from its bits in two halves so that results underflow to 0 or overflow to inf as libm's do.
# Branch-free, so LLVM vectorises the loop over units; libm's exp is a call per element.
# `magnitude` is a reduction: reassociation lets it vectorise (the loops over units get only "contract",
# which keeps the reduction x - k ln2 exact and the polynomial in order).
HELPERS = '''
import math

import numba
import numpy
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
SAFE = 2.0 ** 900  # a stretch of steps may move Σ|P| to within [1/SAFE, SAFE]: far from over- and underflow


@intrinsic
def _float_from_bits(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@numba.njit(inline="always")
def _reduced(x):
    x = x if x > -1400.0 else -1400.0
    x = x if x < 1400.0 else 1400.0
    k = numpy.floor(x * _INV_LN2 + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040 + r * (
        1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (1 / 39916800 + r * (1 / 479001600 + r * (
            1 / 6227020800)))))))))))))
    whole = numpy.int64(k)
    half = whole >> 1
    return p, _float_from_bits((half + 1023) << 52), _float_from_bits((whole - half + 1023) << 52)


@numba.njit(inline="always")
def _exp(x):
    p, low, high = _reduced(x)
    return ((p + 1.0) * low) * high


@numba.njit(inline="always")
def _expm1(x):
    p, low, high = _reduced(x)
    power = low * high
    return p * power + (power - 1.0)


@numba.njit(inline="always")
def _sigmoid(z):
    return 1.0 / (1.0 + _exp(-z))


@numba.njit(inline="always")
def _tanh(z):
    t = _expm1(-2.0 * abs(z))
    r = -t / (t + 2.0)
    return r if z >= 0 else -r


@numba.njit(fastmath={"reassoc", "nsz"}, error_model="numpy", cache=True)
def magnitude(P):
    """Σ|P|: a sum vectorises where a running maximum does not; any power of two near it rescales as well."""
    flat = P.reshape(-1)
    total = 0.0
    for k in range(flat.shape[0]):
        total += abs(flat[k])
    return total


@numba.njit(error_model="numpy", cache=True)
def product(A, P, Y, rows, structured):
    """Y = A P; returns whether P was a selection: at most one nonzero in each column (then P's row in `rows`).

    A tangent starts as a selection (an identity block, zeros for the other
    states), so the first steps need no BLAS product: Y[:, j] = A[:, k] P[k, j],
    the number the product gives, as every other term of its sum is A[i, l]·0.
    `structured` False (P was not a selection at an earlier step) goes straight to BLAS.
    """
    if structured:
        rows[:] = -1
        for k in range(P.shape[0]):
            for j in range(P.shape[1]):
                if P[k, j] != 0.0:
                    structured = structured and rows[j] < 0
                    rows[j] = k
            if not structured:
                break
    if not structured:
        numpy.dot(A, P, Y)
        return False
    for i in range(A.shape[0]):
        for j in range(P.shape[1]):
            Y[i, j] = A[i, rows[j]] * P[rows[j], j] if rows[j] >= 0 else 0.0
    return True


@numba.njit(error_model="numpy", cache=True)
def rescale(P, exponent):
    """P times 2^-exponent: exact, so the stride of the rescaling never changes a number."""
    factor = math.ldexp(1.0, -exponent)
    flat = P.reshape(-1)
    for k in range(flat.shape[0]):
        flat[k] *= factor
'''

# The loops over units: "contract" only, which keeps the reduction x - k ln2 exact and the polynomial in order.
UNIT_FLAGS = '@numba.njit(fastmath={"contract"}, error_model="numpy", cache=True)'
# The loops over matrix rows: their dot products are reductions, which vectorise only if reassociated.
ROW_FLAGS = '@numba.njit(fastmath={"contract", "reassoc", "nsz"}, error_model="numpy", cache=True)'

# One draw: the forward run and the tangent, stretch by stretch; `{...}` are filled per model.
DRAW = """


@numba.njit(error_model="numpy", nogil=True, cache=True)
def one_draw(steps, every, inputs, input_stack, weights, vectors, initial, P):
    # The tangent P (states, n, columns) carried through `steps` steps; returns its power-of-two exponent.
    n = P.shape[1]
    previous = initial.copy()
    saved_previous = numpy.empty_like(previous)
    current = P.copy()  # the tangent, and the buffer its next step is written to
    following = numpy.empty_like(P)
    saved = numpy.empty_like(P)
    work = numpy.empty(({rows}, n))  # the next states, then the blocks' coefficients
    products = numpy.empty(weights.shape[0])  # the weights times the previous states
    projections = {projections}
{setup}
    rows = numpy.empty(P.shape[2], numpy.int64)  # a selection's rows, see `product`
    exponent = 0
    t = 0
    stride = every
    redo_until = 0
    last = 1.0  # Σ|P| at the last check: P was not zero then, so a zero now is an underflow
    while t < steps:
        stop = min(t + stride, steps)
        if stride > 1:
            saved[:] = current
            saved_previous[:] = previous
        for step in range(t, stop):
{step}
        total = magnitude(current)
        if stride > 1 and not (total >= 1.0 / SAFE and total <= SAFE) and not (total == 0.0 and last == 0.0):
            # The stretch left the safe range (underflowed or overflowed): redo it rescaling at every step.
            current[:] = saved
            previous[:] = saved_previous
{restart}
            redo_until = stop
            stride = 1
            continue
        if total > 0.0 and total <= 1.7e308:
            shift = math.frexp(total)[1]
            rescale(current, shift)
            exponent += shift
        last = total
        t = stop
        if t >= redo_until:
            stride = every
    P[:] = current
    return exponent


@numba.njit(cache=True, parallel=True)
def parallel(steps, every, inputs, input_stack, weights, vectors, initial, P, exponents, owner):
    # Every tangent P[j] (a draw's columns, or a part of them) on numba's threads; P[j] belongs to draw owner[j].
    for j in numba.prange(P.shape[0]):
        d = owner[j]
        exponents[j] = one_draw(steps, every, inputs[d], input_stack[d], weights[d], vectors[d], initial[d], P[j])
"""
