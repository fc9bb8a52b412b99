"""Budgeted proofs: an identity reduced to 0 by the cheapest rewriting that works; suprema found exactly; no hang."""
import time

import sympy

from derive.rules import Sigmoid
from derive.verify import extrema, proof

Z = sympy.Symbol("z", real=True)


def test_the_cheapest_rewriting_that_proves_is_named():
    a, b = sympy.symbols("a b", real=True)
    assert proof.prove_zero(a - a) == "structural"
    assert proof.prove_zero((a + b) ** 2 - a ** 2 - 2 * a * b - b ** 2) == "expand"
    assert proof.prove_zero(1 / (a + 1) + a / (a + 1) - 1) == "cancel"
    # σ(2z) = (1 + tanh z)/2 needs the closed forms of both
    assert proof.prove_zero(Sigmoid(2 * Z) - (1 + sympy.tanh(Z)) / 2).startswith("simplify")


def test_a_rewriting_of_the_caller_is_tried_too():
    x = sympy.Symbol("x", real=True)
    hidden = sympy.Symbol("h", real=True)
    rewritings = [("h is x squared", lambda e: e.xreplace({hidden: x ** 2}))]
    assert proof.prove_zero(hidden - x ** 2, rewritings=rewritings) == "expand, h is x squared"
    assert proof.prove_zero(hidden - x ** 3, budget=3, rewritings=rewritings) is None


def test_no_proof_of_a_false_identity():
    assert proof.prove_zero(Sigmoid(Z) - sympy.tanh(Z), budget=3) is None


def test_a_proof_attempt_never_outlives_its_budget():
    x = sympy.Symbol("x")
    hard = sympy.sin(x) ** 40 * sympy.cos(x) ** 37 - sympy.expand((sympy.sin(x) + sympy.cos(x)) ** 40) / 3
    started = time.monotonic()
    assert proof.prove_zero(hard, budget=0.5) is None
    assert time.monotonic() - started < 5


def _supremum(expr):
    found = extrema.extremes(expr, {Z: (-sympy.oo, sympy.oo)})
    return None if found is None else found[1]


def test_suprema_of_one_variable():
    top = _supremum(Sigmoid(Z) * (1 - Sigmoid(Z)))
    assert (top.value, top.point, top.attained) == (sympy.Rational(1, 4), ((Z, 0),), True)
    top = _supremum(sympy.tanh(Z))
    assert top.value == 1 and not top.attained and top.point == ((Z, sympy.oo),)
    top = _supremum(1 / (1 + Z ** 2))
    assert top.value == 1 and top.attained


def test_no_supremum_across_a_pole_and_none_rounded():
    assert _supremum(1 / Z) is None  # unbounded: no extremum, never 0
    assert _supremum(1 / (10 ** 40 * Z)) is None
    tiny = sympy.Rational(1, 10 ** 30)
    assert _supremum(1 / (1 + Z ** 2 + tiny)).value == 1 / (1 + tiny)  # not rounded to 1
    assert _supremum(Sigmoid(Z) - sympy.Rational(1, 2) - tiny).value == sympy.Rational(1, 2) - tiny


def test_functions_of_sigma_become_polynomials():
    g, u, (low, high), back = proof.to_polynomial_variable(Sigmoid(Z) * (1 - Sigmoid(Z)), Z)
    assert sympy.expand(g - u * (1 - u)) == 0 and (low, high) == (0, 1)
    assert sympy.simplify(Sigmoid(back(sympy.Rational(1, 3))).rewrite(sympy.exp) - sympy.Rational(1, 3)) == 0
    assert proof.to_polynomial_variable(Sigmoid(Z) * Z, Z) is None


def _sleep_then(value, seconds):
    time.sleep(seconds)
    return value


def _spin(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass
    return "spun"


def _allocate(gigabytes):
    return len(bytearray(gigabytes * 1024 ** 3))


def test_the_budget_is_processor_time_not_wall_time():
    """A proof waiting for the processor (as under load, or with many --jobs) is not cut short by the clock."""
    assert proof.run_with_budget(_sleep_then, ("done", 1.5), budget=0.5) == "done"
    started = time.monotonic()
    assert proof.run_with_budget(_spin, (30,), budget=0.5) is None
    assert time.monotonic() - started < 10


def test_a_proof_attempt_has_a_memory_limit():
    assert proof.run_with_budget(_allocate, (16,), budget=5) is None  # 16 GB: over the default 2 GB
    assert proof.run_with_budget(_allocate, (0,), budget=5) == 0
