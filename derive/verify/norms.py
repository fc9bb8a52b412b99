"""Norm bounds: the Norm atom ‖A‖_p, the NormBound question, and its verifier (a proof, a counterexample, or neither).

A claim such as ‖∂x_{k+1}/∂x_k‖ ≤ ‖W_rec^T‖ ‖diag(σ'(x_k))‖ is decided by a proof
from known inequalities (derive.verify.norm_proof) or refuted by a confirmed
counterexample: both sides evaluated at seeded 30-digit points on model
trajectories with mpmath's matrix norms, a violation beyond rounding checked
again at 20 more digits. Sampling alone never makes a bound agree: without a
proof and without a counterexample the verdict is "undecided", and the
evidence says how close the points came.
"""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy
from sympy.core.symbol import Str

from derive.budget import stage
from derive.errors import VerificationError
from derive.evidence import NormEvidence, Verdict
from derive.models import Model
from derive.quantity import sorted_symbols
from derive.rules import Method, Status, compiled
from derive.verify import norm_proof
from derive.verify import points as points_module
from derive.verify.proof import run_with_budget
from derive.verify.questions import Settings, verify

KINDS = ("2", "F", "1", "inf")  # the operator 2-norm (the default), Frobenius, and the induced 1- and ∞-norms
SUBSCRIPTS = {"2": "2", "F": "F", "1": "1", "inf": r"\infty"}
FREE_RANGE = 10  # a free variable of infinite range is drawn from [-10, 10] in the search for a counterexample


class Norm(sympy.Function):
    """‖A‖_p of an explicit matrix or column A, one nonnegative real atom: Norm(ImmutableMatrix, Str(kind), structure).

    `structure` is how the formula wrote A inside the bars, kept for the proof:
    Tuple(Str("*"), F_1, F_2, ...) for a product A = F_1 F_2 ⋯, Tuple(Str("+"),
    T_1, T_2, ...) for a sum, or an empty Tuple. A 1×1 A is |a|.
    """

    nargs = 3

    @classmethod
    def eval(cls, matrix, kind, structure):
        if isinstance(matrix, sympy.MatrixBase) and matrix.shape == (1, 1):
            return sympy.Abs(matrix[0, 0])
        if isinstance(matrix, sympy.MatrixBase) and matrix.is_zero_matrix:
            return sympy.S.Zero
        return None

    # Facts, not evaluations: a norm or a maximum of |v_i| of real entries is a finite real ≥ 0.
    is_extended_real = True
    is_extended_negative = False
    is_finite = True

    @property
    def matrix(self):
        return self.args[0]

    @property
    def kind(self) -> str:
        return str(self.args[1])

    def _latex(self, printer, exp=None):
        body = r"\left\| %s \right\|_{%s}" % (printer._print(self.matrix), SUBSCRIPTS[self.kind])
        return body if exp is None else r"%s^{%s}" % (body, exp)


def norm(value, kind: str = "2", structure: tuple = ()):
    """‖value‖ of the given kind (|value| for a scalar); `structure` is ("*", factors) or ("+", terms) or ()."""
    if kind not in KINDS:
        raise VerificationError(f"no norm of kind {kind!r}; the kinds are {', '.join(KINDS)}")
    if not isinstance(value, sympy.MatrixBase):
        return sympy.Abs(value)
    parts = [p if isinstance(p, sympy.MatrixBase) else sympy.Matrix([[p]]) for p in structure[1]] if structure else []
    kept = sympy.Tuple(Str(structure[0]), *map(sympy.ImmutableMatrix, parts)) if structure else sympy.Tuple()
    return Norm(sympy.ImmutableMatrix(value), Str(kind), kept)


@dataclass(frozen=True)
class NormBound:
    """Does `left` `relation` `right` hold at every point of the model's trajectories (and for every value of the
    free variables in `domain`)? Both sides are real expressions that may hold Norm atoms and |·|."""

    left: object
    relation: str  # "<=" or "<"; a claim written with >= or > is flipped
    right: object
    model: Model | None = None
    domain: tuple = ()  # (symbol, low, high) of free variables


# -- numbers ---------------------------------------------------------------------------------
def matrix_norm(values: mpmath.matrix, kind: str):
    """The norm of an mpmath matrix or column: the induced 2-norm is the largest singular value."""
    rows, cols = values.rows, values.cols
    entries = [[values[i, j] for j in range(cols)] for i in range(rows)]
    if kind == "F" or (kind == "2" and cols == 1):
        return mpmath.sqrt(mpmath.fsum(abs(v) ** 2 for row in entries for v in row))
    if kind == "1":
        return max(mpmath.fsum(abs(entries[i][j]) for i in range(rows)) for j in range(cols))
    if kind == "inf":
        return max(mpmath.fsum(abs(v) for v in row) for row in entries)
    return max(mpmath.svd_r(values, compute_uv=False))


class Evaluator:
    """Both sides of a bound as functions of a point: each Norm atom's matrix lambdified, then its norm taken."""

    def __init__(self, expressions, symbols):
        atoms = sorted(set().union(*[e.atoms(Norm) for e in expressions]), key=sympy.default_sort_key)
        self.symbols = symbols
        self.atoms = [(sympy.Dummy("norm"), atom) for atom in atoms]
        self.matrices = [(atom.kind, atom.matrix.shape, compiled(symbols, list(atom.matrix), "mpmath"))
                         for _, atom in self.atoms]
        replaced = [e.xreplace({atom: dummy for dummy, atom in self.atoms}) for e in expressions]
        self.outer = compiled(list(symbols) + [d for d, _ in self.atoms], replaced, "mpmath")

    def __call__(self, point: dict) -> list:
        arguments = [point[s] for s in self.symbols]
        norms = [matrix_norm(_as_matrix(function(*arguments), shape), kind) for kind, shape, function in self.matrices]
        return [mpmath.mpf(v) for v in self.outer(*arguments, *norms)]


def _as_matrix(entries, shape) -> mpmath.matrix:
    rows, cols = shape
    matrix = mpmath.matrix(rows, cols)
    for k, value in enumerate(entries):
        matrix[k // cols, k % cols] = value
    return matrix


def _violation(left, right, relation: str, tolerance):
    """How far left exceeds right, relative to their size (positive: a violation beyond rounding)."""
    scale = max(abs(left), abs(right), 1)
    excess = (left - right) / scale
    return excess if relation == "<" else excess - tolerance


def _search(question: NormBound, settings: Settings):
    """(worst point, its left and right values, excess, confirmed) over seeded points on trajectories."""
    expressions = [sympy.sympify(question.left), sympy.sympify(question.right)]
    symbols = sorted_symbols(set().union(*[e.free_symbols for e in expressions]))
    domain = tuple((s, max(low, -FREE_RANGE), min(high, FREE_RANGE)) for s, low, high in question.domain)
    worst = None
    with mpmath.workdps(settings.digits):
        evaluate = Evaluator(expressions, symbols)
        draws = points_module.sample(question.model, symbols, settings.points, settings.seed, settings.digits,
                                     domain=domain)
        for point in draws:
            try:
                left, right = evaluate(point)
                excess = _violation(left, right, question.relation, settings.tolerance)
            except (ArithmeticError, ValueError):  # a point on a pole says nothing either way
                continue
            if not mpmath.isfinite(excess):
                continue
            if worst is None or excess > worst[3]:
                worst = (point, left, right, excess)
    if worst is None:
        raise VerificationError(f"every one of the {settings.points} sample points is on a pole of the bound's sides")
    point, left, right, excess = worst
    confirmed = False
    if excess > 0:  # evaluated again at 20 more digits: a violation that survives is no rounding effect
        with mpmath.workdps(settings.digits + 20):
            again = Evaluator(expressions, symbols)({s: mpmath.mpf(v) for s, v in point.items()})
            confirmed = _violation(*again, question.relation, settings.tolerance) > 0
    shown = tuple((sympy.latex(s), point[s]) for s in symbols)
    return shown, left, right, excess, confirmed


@verify.register
def _(question: NormBound, settings: Settings = Settings()) -> Verdict:
    if question.relation not in ("<=", "<"):
        raise VerificationError(f"a norm bound is written with <= or <, got {question.relation!r}")
    stage("proof")
    steps = run_with_budget(norm_proof.prove, (question.left, question.right, question.relation, question.model),
                            settings.bound_budget)
    stage("bound search")
    point, left, right, excess, confirmed = _search(question, settings)
    if question.relation == "<" and sympy.expand(sympy.sympify(question.left) - question.right) == 0:
        confirmed = True  # both sides are the same expression: a < a fails at every point
    if steps and confirmed:
        raise VerificationError(f"the bound was proved ({'; '.join(steps)}) but fails at a point: {point}")
    if steps:
        status, method = Status.AGREES, Method.SYMBOLIC
    elif confirmed:
        status, method = Status.DIFFERS, Method.NUMERIC
    else:
        status, method = Status.UNDECIDED, Method.NUMERIC
    evidence = NormEvidence(sympy.latex(question.left), question.relation, sympy.latex(question.right),
                            tuple(steps or ()), settings.points, settings.digits, settings.seed, point, left, right,
                            confirmed)
    return Verdict(status, method, evidence)
