"""Counterexamples to a bound: seeded sampling, local optimisation from the best samples, validated confirmation.

The search works on the violation v (expr − bound for ≤ and <, bound − expr
for ≥ and >): the bound fails where v > 0 (non-strict) or v ≥ 0 (strict).
Floats only propose points. A proposal is written as an exact decimal —
first as short a decimal as possible (so a maximum at 0 is tried at 0
exactly), at most the float's 17 significant digits — and counts only if an
arb ball of v at that exact point lies entirely on the failing side, and it
is then reported with 30-digit mpmath values. Float noise (v = 1e-17 where
the exact value is −1e-19) is thereby never a counterexample.
"""
from __future__ import annotations

import decimal
import itertools
import math
import warnings
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar

import mpmath
import numpy as np
import scipy.optimize
import sympy
from flint import arb, ctx

from derive.budget import cpu_seconds
from derive.rules import compiled
from derive.verify.intervals import ball, compile_arb

SAMPLES = 4096
STARTS = 8  # local optimisations, from the best distinct samples
PLACES = (0, 1, 2, 3, 4, 6, 8, 10, 12, 14)  # decimal places tried before the float's own 17 digits
SPECIAL = (0, 1, -1, Fraction(1, 2), Fraction(-1, 2), 2, -2)


@dataclass(frozen=True)
class Counterexample:
    """A point of the domain where the bound fails, confirmed by ball arithmetic at that exact point.

    `point` holds exact decimal coordinates; `expr_value` and `bound_value`
    are mpmath values there at `digits` digits; `violation` is a validated
    lower bound (arb) of how far the bound is broken: > 0, or ≥ 0 for a
    strict bound met with equality. `found_by` is "sampling", "local
    optimisation" or "branch and bound".
    """

    point: tuple  # ((symbol, Decimal), ...)
    expr_value: mpmath.mpf
    bound_value: mpmath.mpf
    violation: mpmath.mpf
    found_by: str
    digits: int
    kind: ClassVar[str] = "counterexample"

    @property
    def holds(self):
        return False


def to_mpf(value: arb) -> mpmath.mpf:
    """An exact arb number (an endpoint, `lower()` or `upper()`) as an mpf, without rounding."""
    if not value.is_finite():
        return mpmath.inf if value > 0 else -mpmath.inf
    mantissa, exponent = value.man_exp()
    return mpmath.mpf((int(mantissa), int(exponent)))


def _decimal(value: Fraction) -> Decimal | None:
    """A Fraction as an exact Decimal, or None when its expansion does not end (1/3)."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return None
    with decimal.localcontext(decimal.Context(prec=200)):
        return Decimal(value.numerator) / Decimal(value.denominator)


def inside(value, low, high) -> bool:
    """Is the exact number `value` (Decimal or Fraction) strictly inside the open range (low, high)?"""
    value = Fraction(value)
    x = sympy.Rational(value.numerator, value.denominator)
    return bool(low < x) and bool(x < high)


class Search:
    """Violations of one bound: propose points with floats, confirm them exactly."""

    def __init__(self, expr, bound, upper: bool, strict: bool, variables, ranges, digits: int):
        self.expr, self.bound, self.strict, self.digits = expr, bound, strict, digits
        self.variables = tuple(variables)
        self.ranges = tuple((sympy.sympify(low), sympy.sympify(high)) for low, high in ranges)
        self.violation = (expr - bound) if upper else (bound - expr)
        self.exact = compile_arb(self.violation, self.variables)
        self.floats = compiled(self.variables, self.violation, "numpy")
        self.mp = compiled(self.variables, [expr, bound], "mpmath")

    # -- float side ------------------------------------------------------------------------
    def values(self, points: np.ndarray) -> np.ndarray:
        """v at each row of `points` in floats; −inf where it is not a finite number (a pole, an overflow)."""
        with np.errstate(all="ignore"):
            try:
                v = np.asarray(self.floats(*points.T), dtype=float)
            except Exception:  # noqa: BLE001 - a point set the float code cannot evaluate proposes nothing
                return np.full(len(points), -np.inf)
        v = np.broadcast_to(v, (len(points),)).copy()
        v[~np.isfinite(v)] = -np.inf
        return v

    def _to_x(self, t: np.ndarray) -> np.ndarray:
        """Unconstrained coordinates t to points strictly inside the ranges (up to float rounding)."""
        columns = []
        with np.errstate(all="ignore"):
            for k, (low, high) in enumerate(self.ranges):
                # Clipped so a finite end is approached to about 1e-13 but never reached in floats.
                near_end = np.clip(t[..., k], -30, 30)
                if low.is_finite and high.is_finite:
                    lo, hi = float(low), float(high)
                    columns.append(lo + (hi - lo) * 0.5 * (1 + np.tanh(0.5 * near_end)))
                elif low.is_finite:
                    columns.append(float(low) + np.exp(np.maximum(t[..., k], -30)))
                elif high.is_finite:
                    columns.append(float(high) - np.exp(np.maximum(t[..., k], -30)))
                else:
                    columns.append(np.sinh(t[..., k]))
        return np.stack(columns, axis=-1)

    def _samples(self, count: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """(t, x): uniform on finite ranges; sinh or exp of N(0, 3²) on infinite ones (10⁻⁴ to 10⁴ all explored)."""
        t = np.empty((count, len(self.ranges)))
        for k, (low, high) in enumerate(self.ranges):
            if low.is_finite and high.is_finite:
                u = rng.uniform(1e-12, 1 - 1e-12, count)
                t[:, k] = np.log(u / (1 - u))
            else:
                t[:, k] = rng.normal(0.0, 3.0, count)
        return t, self._to_x(t)

    def _special(self) -> list[tuple]:
        """Simple exact points (0, ±1, ±1/2, ±2, the middle of a finite range), where extrema often sit."""
        choices = []
        for low, high in self.ranges:
            options = [Fraction(v) for v in SPECIAL]
            if low.is_Rational and high.is_Rational:
                options.append((Fraction(int(low.p), int(low.q)) + Fraction(int(high.p), int(high.q))) / 2)
            options = [d for d in map(_decimal, options) if d is not None and inside(d, low, high)]
            if not options:
                return []
            choices.append(options)
        return list(itertools.islice(itertools.product(*choices), 512))

    # -- search ----------------------------------------------------------------------------
    def find(self, seed: int, samples: int = SAMPLES, starts: int = STARTS, deadline: float = math.inf):
        """(the first confirmed Counterexample or None, the number of points sampled).

        Cheapest first: the simple points, then the best seeded samples as they
        are, then a local optimisation from each of the `starts` best samples.
        """
        special = self._special()
        for point in special:
            found = self.confirm(point, "sampling")
            if found:
                return found, len(special)
        if not self.ranges:  # a constant: the one point () was checked exactly above
            return None, len(special)
        rng = np.random.default_rng(seed)
        t, x = self._samples(samples, rng)
        v = self.values(x)
        count = len(special) + samples
        # Proposals within float noise of the bound are worth an exact look (a strict bound met with equality).
        noise = 1e-9 * (1 + float(np.max(np.abs(v[np.isfinite(v)]), initial=0.0)))
        best = [i for i in np.argsort(-v, kind="stable")[:starts] if np.isfinite(v[i])]
        for i in best:
            if v[i] >= -noise:
                found = self._confirm_near(x[i], "sampling")
                if found:
                    return found, count
        for i in best:
            if cpu_seconds() > deadline:
                break
            # Powell: derivative-free (|·| has kinks), and cheap per step.
            with np.errstate(all="ignore"), warnings.catch_warnings():  # overflow on a huge range: a poor step, no news
                warnings.simplefilter("ignore", RuntimeWarning)
                result = scipy.optimize.minimize(self._objective, t[i], method="Powell",
                                                 options={"maxiter": 100, "xtol": 1e-10, "ftol": 1e-16})
            point = self._to_x(np.asarray(result.x))
            if self.values(point[None, :])[0] >= -noise:
                found = self._confirm_near(point, "local optimisation")
                if found:
                    return found, count
        return None, count

    def _objective(self, t):
        value = self.values(self._to_x(np.asarray(t))[None, :])[0]
        return -value if np.isfinite(value) else 1e300

    def _confirm_near(self, point, how: str):
        """Try exact decimals near a float point: few places first (0 before 1e-9), then the float's 17 digits."""
        if not all(math.isfinite(float(coordinate)) for coordinate in point):
            return None  # an optimisation that ran off to infinity (near a pole) proposes nothing
        seen = set()
        for places in PLACES + (None,):
            candidate = []
            for coordinate in point:
                exact = Decimal(repr(float(coordinate)))
                if places is not None and exact.adjusted() + places < 60:
                    with decimal.localcontext(decimal.Context(prec=80)):
                        exact = exact.quantize(Decimal(1).scaleb(-places))
                candidate.append(exact)
            key = tuple(candidate)
            if key not in seen:
                seen.add(key)
                found = self.confirm(key, how)
                if found:
                    return found
        return None

    def confirm(self, point, how: str):
        """A Counterexample at the exact decimal point if a ball of v there is on the failing side, else None."""
        if any(not inside(c, low, high) for c, (low, high) in zip(point, self.ranges)):
            return None
        bits = int(self.digits * 3.33) + 32
        for precision in (bits, 4 * bits):
            with ctx.workprec(precision):
                try:
                    v = self.exact([ball(Fraction(c)) for c in point])
                except Exception:  # noqa: BLE001 - a point on a pole is skipped
                    return None
                if not v.is_finite():
                    return None
                if (v >= 0) if self.strict else (v > 0):
                    return self._report(point, to_mpf(v.lower()), how)
                if (v < 0) if self.strict else (v <= 0):
                    return None  # certainly not violated here
        return None

    def _report(self, point, violation, how: str) -> Counterexample:
        with mpmath.workdps(self.digits):
            expr_value, bound_value = (mpmath.mpf(v) for v in self.mp(*[mpmath.mpf(str(c)) for c in point]))
        return Counterexample(tuple(zip(self.variables, point)), +expr_value, +bound_value,
                              max(violation, mpmath.mpf(0)), how, self.digits)
