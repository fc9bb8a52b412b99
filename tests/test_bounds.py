"""Deciding bounds: thin violation regions, true and tight bounds, strictness, undecided, and a dense-grid property."""
import math
import pickle
from decimal import Decimal

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from derive.notation import dsigma, dtanh
from derive.rules import Sigmoid, namespace
from derive.verify.decide import Certified, Counterexample, Proved, Undecided, decide
from derive.verify.search import Search

z, w, a, b, c, x, y = sympy.symbols("z w a b c x y", real=True)
oo, Q = sympy.oo, sympy.Rational
REALS = (-oo, oo)


def independently_violated(expr, relation, bound, point) -> bool:
    """Does the bound fail at the point, by SymPy's own 50-digit evaluation (not derive's code)?"""
    values = {symbol: sympy.Rational(str(value)) for symbol, value in point}
    difference = sympy.N((expr - bound).subs(values).rewrite(sympy.exp), 50)
    return {"<=": difference > 0, "<": difference >= 0, ">=": difference < 0, ">": difference <= 0}[relation]


def assert_confirmed(decision, expr, relation, bound, domain):
    assert isinstance(decision, Counterexample), decision
    ranges = {s: (lo, hi) for s, lo, hi in domain}
    for symbol, value in decision.point:
        low, high = ranges.get(symbol, REALS)
        assert isinstance(value, Decimal) and low < sympy.Rational(str(value)) < high
    assert independently_violated(expr, relation, bound, decision.point)
    assert decision.violation >= 0 and decision.found_by in ("sampling", "local optimisation", "branch and bound")


# -- thin violation regions ----------------------------------------------------------------
THIN = [
    ("σ'", lambda eps: (dsigma(z), Q(1, 4) - eps, ((z, -oo, oo),))),
    ("σ' shifted", lambda eps: (dsigma(z - Q(37, 100)), Q(1, 4) - eps, ((z, -oo, oo),))),
    ("|σ'·w|", lambda eps: (sympy.Abs(dsigma(z) * w), Q(1, 4) - eps, ((z, -oo, oo), (w, -1, 1)))),
    ("|σ'|·|w|", lambda eps: (sympy.Abs(dsigma(z)) * sympy.Abs(w), Q(1, 4) - eps, ((z, -oo, oo), (w, -1, 1)))),
    ("tanh'·w", lambda eps: (dtanh(z) * w, 1 - eps, ((z, -oo, oo), (w, 0, 1)))),
    ("tanh'·w shifted", lambda eps: (dtanh(z + Q(13, 10)) * w, 1 - eps, ((z, -3, 3), (w, 0, 1)))),
]


@pytest.mark.parametrize("eps", [Q(1, 10 ** 3), Q(1, 10 ** 6)], ids=["1e-3", "1e-6"])
@pytest.mark.parametrize("form", [f for _, f in THIN], ids=[name for name, _ in THIN])
def test_a_thin_violation_region_is_found_for_every_seed(form, eps):
    expr, bound, domain = form(eps)
    for seed in range(10):
        decision = decide(expr, "<=", bound, domain, seed=seed)
        assert_confirmed(decision, expr, "<=", bound, domain)


def test_a_thin_spike_is_found_for_every_seed():
    spike = sympy.exp(-1000 * (z - Q(3, 10)) ** 2)
    for seed in range(10):
        assert_confirmed(decide(spike, "<=", Q(999, 1000), ((z, -5, 5),), seed=seed), spike, "<=", Q(999, 1000),
                         ((z, -5, 5),))


# -- true bounds ---------------------------------------------------------------------------
def test_sigmoid_derivative_is_at_most_a_quarter_attained_at_zero():
    decision = decide(dsigma(z), "<=", Q(1, 4), ((z, -oo, oo),))
    assert isinstance(decision, Proved) and decision.holds
    assert decision.extreme == Q(1, 4) and decision.point == ((z, 0),) and decision.attained


@pytest.mark.parametrize("expr, relation, bound, domain", [
    (dsigma(z), "<", Q(26, 100), ((z, -oo, oo),)),
    (sympy.tanh(z) * Sigmoid(w), "<", 1, ((z, -oo, oo), (w, -oo, oo))),
    (sympy.Abs(dtanh(z) * w), "<=", 1, ((z, -oo, oo), (w, -1, 1))),
    (sympy.diff(sympy.atan(z), z), "<=", 1, ()),
    (Sigmoid(a) * Sigmoid(b) * sympy.tanh(c), "<=", 1, ()),
    (Sigmoid(a) * dsigma(b) * dtanh(c), "<", Q(1, 4), ()),
    (Sigmoid(z), ">", 0, ()),
    (dsigma(z), ">=", 0, ()),
    (Sigmoid(z), "<=", w, ((w, 1, 2),)),  # a bound with a variable: sup σ(z) − w = 0, approached
], ids=["σ' < 0.26", "tanh·σ < 1", "|tanh'·w| ≤ 1", "atan' ≤ 1", "σσtanh ≤ 1", "σσ'tanh' < 1/4", "σ > 0",
        "σ' ≥ 0", "σ(z) ≤ w"])
def test_true_bounds_are_proved_or_certified(expr, relation, bound, domain):
    decision = decide(expr, relation, bound, domain)
    assert isinstance(decision, (Proved, Certified)) and decision.holds is True, decision


def test_a_bound_without_product_structure_is_certified_with_its_boxes():
    expr = Sigmoid(x + y) * (1 - Sigmoid(x + y))
    decision = decide(expr, "<=", Q(26, 100), ((x, -1, 1), (y, -1, 1)))
    assert isinstance(decision, Certified) and 0 < decision.margin <= Q(1, 100)
    assert decision.boxes >= len(decision.tightest) > 0
    assert min(box.margin for box in decision.tightest) == decision.margin
    assert [r[0] for r in decision.ranges] == [x, y]


def test_certificates_cover_unbounded_tails():
    # atan·σ has no closed-form critical point, so SymPy gives up and the tails must be certified.
    expr = sympy.atan(z) * Sigmoid(z)
    decision = decide(expr, "<", sympy.pi / 2 + Q(1, 100), ((z, -oo, oo),))
    assert isinstance(decision, Certified) and 0 < decision.margin < Q(1, 100)
    assert decision.ranges == ((z, -math.inf, math.inf),)
    assert any(not math.isfinite(high) for box in decision.tightest for _, high in box.ranges)
    # Tight at +∞ (only approached): intervals cannot certify a strict bound there, and SymPy cannot prove it.
    assert isinstance(decide(expr, "<", sympy.pi / 2, ((z, -oo, oo),), budget=2), Undecided)


# -- strictness ----------------------------------------------------------------------------
def test_an_attained_supremum_refutes_a_strict_bound_exactly():
    decision = decide(dsigma(z), "<", Q(1, 4), ((z, -oo, oo),))
    assert decision.holds is False
    if isinstance(decision, Counterexample):
        assert decision.point == ((z, Decimal(0)),) and decision.violation == 0
    else:
        assert isinstance(decision, Proved) and decision.attained and decision.point == ((z, 0),)


def test_a_supremum_only_approached_does_not_refute_a_strict_bound():
    decision = decide(sympy.tanh(z), "<", 1, ())
    assert decision.holds is True and not decision.attained


def test_float_noise_is_not_a_counterexample():
    # In floats σ'(1e-9) is exactly 0.25, which would break "< 1/4"; exactly it is 1/4 − 6e-20.
    search = Search(dsigma(z), Q(1, 4), True, True, [z], [REALS], 30)
    assert search.confirm((Decimal("1e-9"),), "sampling") is None
    assert search.confirm((Decimal(0),), "sampling") is not None


# -- undecided -----------------------------------------------------------------------------
def test_a_tight_bound_sympy_cannot_solve_is_undecided_with_what_was_tried():
    decision = decide(Sigmoid(x + y) * (1 - Sigmoid(x + y)), "<=", Q(1, 4), ((x, -1, 1), (y, -1, 1)),
                      budget=0.5)
    assert isinstance(decision, Undecided) and decision.holds is None
    methods = [method for method, _ in decision.tried]
    assert methods == ["counterexample search", "proof", "certificate"]
    assert decision.open_boxes


@pytest.mark.parametrize("expr", [sympy.besselj(0, z), sympy.Function("f")(z) * Sigmoid(z), sympy.gamma(z) ** 2])
def test_unsupported_functions_are_refused_not_guessed(expr):
    decision = decide(expr, "<=", 2, ((z, -1, 1),))
    assert isinstance(decision, Undecided) and decision.tried[0][0] == "every method"


@pytest.mark.parametrize("expr, relation, bound, domain", [
    (1 / z, "<=", 10, ((z, -1, 1),)),
    (1 / (z - Q(1, 3)), ">=", -100, ((z, 0, 1),)),
    (sympy.exp(z ** 3), "<=", 10 ** 6, ()),
    (sympy.log(z), ">=", -5, ((z, -1, 1),)),
    (z * Sigmoid(z), "<=", 50, ()),
])
def test_poles_and_overflow_never_raise_and_never_hold(expr, relation, bound, domain):
    decision = decide(expr, relation, bound, domain, budget=2)
    assert decision.holds is not True
    if isinstance(decision, Counterexample):
        assert_confirmed(decision, expr, relation, bound, domain)


# -- mutations -----------------------------------------------------------------------------
@pytest.mark.parametrize("expr, supremum, domain", [
    (dsigma(z), Q(1, 4), ()),
    (sympy.Abs(dtanh(z) * w), 1, ((w, -1, 1),)),
    (sympy.diff(sympy.atan(z), z), 1, ()),
    (Sigmoid(a) * Sigmoid(b) * sympy.tanh(c), 1, ()),
    (Sigmoid(x + y) * (1 - Sigmoid(x + y)), Q(1, 4), ((x, -1, 1), (y, -1, 1))),
])
def test_a_threshold_just_below_the_supremum_flips_to_differs(expr, supremum, domain):
    decision = decide(expr, "<=", supremum - Q(1, 10 ** 6), domain)
    assert_confirmed(decision, expr, "<=", supremum - Q(1, 10 ** 6), domain)


# -- the API -------------------------------------------------------------------------------
def test_decisions_are_deterministic_and_picklable():
    for arguments in [(dsigma(z), "<", Q(1, 4), ()),
                      (Sigmoid(x + y) * (1 - Sigmoid(x + y)), "<=", Q(26, 100), ((x, -1, 1), (y, -1, 1))),
                      (Sigmoid(x + y) * (1 - Sigmoid(x + y)), "<=", Q(1, 4), ((x, -1, 1), (y, -1, 1)))]:
        first, second = (decide(*arguments, max_boxes=500, seed=3) for _ in range(2))
        assert first == second and pickle.loads(pickle.dumps(first)) == first


def test_a_bad_relation_or_an_empty_range_is_an_error():
    with pytest.raises(ValueError, match="relation"):
        decide(z, "=", 1)
    with pytest.raises(ValueError, match="empty"):
        decide(z, "<=", 1, ((z, 1, 1),))


# -- property: never contradicted by a dense evaluation --------------------------------------
def _atom(draw, variables):
    function = draw(st.sampled_from([Sigmoid, sympy.tanh, dsigma, dtanh]))
    slope = draw(st.sampled_from([Q(1, 2), 1, 2, -1, 3]))
    shift = draw(st.sampled_from([0, Q(1, 2), -1]))
    return function(slope * draw(st.sampled_from(variables)) + shift)


@st.composite
def bounds(draw):
    variables = [x, y][:draw(st.integers(1, 2))]
    terms = []
    for _ in range(draw(st.integers(1, 2))):
        factors = [_atom(draw, variables) for _ in range(draw(st.integers(1, 2)))]
        if draw(st.booleans()):
            factors.append(draw(st.sampled_from(variables)))
        terms.append(draw(st.sampled_from([1, -1, 2])) * sympy.Mul(*factors))
    expr = sympy.Add(*terms)
    domain = []
    for v in variables:
        low = Q(draw(st.integers(-6, 3)), 2)
        domain.append((v, low, low + Q(draw(st.integers(1, 8)), 2)))
    relation = draw(st.sampled_from(["<=", "<", ">=", ">"]))
    offset = draw(st.sampled_from([Q(-1, 10), Q(-1, 1000), 0, Q(1, 1000), Q(1, 10)]))
    return expr, relation, offset, tuple(domain)


def _grid(expr, domain, n):
    axes = [np.linspace(float(lo), float(hi), n + 2)[1:-1] for _, lo, hi in domain]
    mesh = np.meshgrid(*axes, indexing="ij")
    function = sympy.lambdify([s for s, _, _ in domain], expr, modules=[namespace("numpy"), "numpy"])
    return np.broadcast_to(np.asarray(function(*mesh), dtype=float), mesh[0].shape)


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bounds())
def test_decisions_are_never_contradicted_by_a_dense_grid(problem):
    expr, relation, offset, domain = problem
    values = _grid(expr, domain, 2001 if len(domain) == 1 else 801)
    upper = relation in ("<", "<=")
    extreme = float(values.max() if upper else values.min())
    bound = sympy.Rational(str(round(extreme, 4))) + offset  # thresholds on both sides of the extremum
    decision = decide(expr, relation, bound, domain, budget=3, max_boxes=1500, samples=1024, proof_budget=0.2)
    violation = (values - float(bound)) if upper else (float(bound) - values)
    if decision.holds is True:
        assert violation.max() <= 1e-9, (decision, violation.max())
    if isinstance(decision, Counterexample):
        assert_confirmed(decision, expr, relation, bound, domain)
    if isinstance(decision, Proved):  # the exact extremum is never passed by the grid
        assert (values.max() <= float(decision.extreme_value) + 1e-9) if upper else \
            (values.min() >= float(decision.extreme_value) - 1e-9)


def test_constant_bounds_are_decided_exactly():
    assert isinstance(decide(sympy.pi, "<", 4), Proved)
    assert decide(sympy.pi, "<=", sympy.pi).holds is True
    refuted = decide(sympy.pi, "<", 3)
    assert isinstance(refuted, Counterexample) and refuted.point == ()
