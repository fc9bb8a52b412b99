"""A small prover for bounds on norms: bound the left side from above by known inequalities, then compare.

The rules, each recorded by name when it is used:

    submultiplicativity  ‖AB‖ ≤ ‖A‖ ‖B‖ (the 2-, 1-, ∞- and Frobenius norms; ‖Av‖ ≤ ‖A‖ ‖v‖ for a column v;
                         ‖DKD'‖_F ≤ ‖D‖₂ ‖K‖_F ‖D'‖₂)
    triangle inequality  ‖A + B‖ ≤ ‖A‖ + ‖B‖
    homogeneity          ‖sA‖ = |s| ‖A‖ for a scalar s (the common factor of A's entries)
    transpose            ‖A^T‖₂ = ‖A‖₂, ‖A^T‖_F = ‖A‖_F, ‖A^T‖₁ = ‖A‖_∞
    diagonal             ‖diag(v)‖ = max_i |v_i| (2-, 1-, ∞-norms), ‖diag(v)‖_F = ‖v‖₂, ‖I‖ = 1
    maximum norm         ‖v‖_∞ = max_i |v_i| of a column; vector norm: ‖v‖₂ ≤ √n max_i |v_i|, ‖v‖₁ ≤ n max_i |v_i|
    function bound       |g(z)| ≤ sup |g|, the exact supremum over the reals (derive.verify.extrema) of a
                         product of functions of one variable each: |σ'(z)| ≤ 1/4, |tanh'(z)| ≤ 1, |σ(z)| ≤ 1;
                         a node is written by its definition first where that bounds it (h_t = o_t ⊙ tanh(c_t))

A matrix inside a norm is split as s · D_left · K · D_right, the diagonal factors being the common factors of
its rows and columns (W diag(σ'(x)) is recognised from its entries W_ij σ'(x_j)), K recognised as a parameter
matrix, its transpose, the identity, a diagonal matrix, or kept as an opaque atom ‖K‖. The left side is bounded
from above by all the rules; the right side only rewritten by the equalities (homogeneity, transpose, diagonal),
so the goal is never weakened. The bound is proved when right − left is a polynomial in nonnegative atoms
(norms, maxima of |v_i|, |x|, σ(z)) with no negative coefficient; if not, the atoms of the left side that the
right side does not hold are replaced by their function bounds, and the comparison is tried again.
"""
from __future__ import annotations

import sympy

from derive.exact.leaves import gates_to_preactivations
from derive.quantity import quantity_of
from derive.verify import extrema


class MaxAbs(sympy.Function):
    """max_i |v_i| of the entries of a Tuple, one nonnegative atom (‖diag(v)‖ for the operator norms)."""

    # Facts, not evaluations: a norm or a maximum of |v_i| of real entries is a finite real ≥ 0.
    is_extended_real = True
    is_extended_negative = False
    is_finite = True

    def _latex(self, printer, exp=None):
        body = r"\max_i \left|%s\right|" % printer._print(sympy.Matrix(list(self.args[0])))
        return body if exp is None else r"%s^{%s}" % (body, exp)


class _Prover:
    def __init__(self, model):
        self.model = model
        self.steps: list[str] = []

    def used(self, step: str) -> None:
        if step not in self.steps:
            self.steps.append(step)

    # -- canonical forms -------------------------------------------------------------------
    def entry(self, value, signed: bool = True):
        """An entry with gates written as σ/tanh of their pre-activations, factored (and of a canonical sign,
        where only its magnitude matters)."""
        if self.model is not None:
            value = gates_to_preactivations(sympy.sympify(value), self.model)
        value = sympy.factor(value)
        if not signed or value == 0:
            return value
        return min(value, -value, key=sympy.default_sort_key)

    def scalar(self, expr):
        """|x| split into |factor| atoms, each canonical, so both sides meet in one form."""
        def split(inner):
            parts = sympy.Mul.make_args(self.entry(inner))
            if len([p for p in parts if not p.is_number]) > 1:
                self.used("absolute value: |ab| = |a| |b|")
            return sympy.Mul(*[sympy.Abs(self.entry(part)) for part in parts])
        return sympy.sympify(expr).replace(sympy.Abs, split)

    # -- matrices ----------------------------------------------------------------------------
    def common_factor(self, values) -> sympy.Expr:
        nonzero = [v for v in values if v != 0]
        return sympy.gcd_list(nonzero) if len(nonzero) > 1 else (nonzero[0] if nonzero else sympy.S.One)

    def scaled(self, matrix):
        """(s, A / s) for the common factor s of the entries (‖sA‖ = |s| ‖A‖)."""
        matrix = sympy.Matrix(matrix).applyfunc(lambda e: self.entry(e, signed=False))
        scale = self.common_factor(list(matrix))
        if scale in (0, 1):
            return sympy.S.One, matrix
        self.used("homogeneity: ‖sA‖ = |s| ‖A‖")
        return scale, matrix.applyfunc(lambda e: sympy.factor(sympy.cancel(e / scale)))

    def split(self, matrix):
        """(s, left diagonal, core, right diagonal) with matrix = s · diag(left) · core · diag(right); a column
        keeps its entries (its norm is an atom of its own)."""
        scale, matrix = self.scaled(matrix)
        if matrix.cols == 1:
            return scale, None, matrix, None
        right = [self.common_factor(list(matrix[:, j])) for j in range(matrix.cols)] if matrix.cols > 1 else []
        if right and any(d != 1 for d in right):
            matrix = sympy.Matrix(matrix.rows, matrix.cols, lambda i, j: sympy.cancel(matrix[i, j] / right[j]))
        left = [self.common_factor(list(matrix[i, :])) for i in range(matrix.rows)] if matrix.rows > 1 else []
        if left and any(d != 1 for d in left):
            matrix = sympy.Matrix(matrix.rows, matrix.cols, lambda i, j: sympy.cancel(matrix[i, j] / left[i]))
        trivial = lambda diagonal: not diagonal or all(d == 1 for d in diagonal)  # noqa: E731
        return scale, None if trivial(left) else left, matrix, None if trivial(right) else right

    def diagonal_atom(self, values, kind):
        self.used("diagonal: ‖diag(v)‖ = max_i |v_i|")
        values = [self.entry(v) for v in values]
        if kind == "F":
            from derive.verify.norms import norm
            return norm(sympy.Matrix(values), "2")
        return MaxAbs(sympy.Tuple(*values)) if len(values) > 1 else sympy.Abs(values[0])

    def parameter_atom(self, core, kind):
        """‖W‖ (or ‖W‖_∞ for ‖Wᵀ‖₁) when the core is ± a parameter matrix or its transpose; None otherwise."""
        from derive.verify.norms import norm
        names = {quantity_of(s).name for s in core.free_symbols if quantity_of(s) is not None}
        if self.model is None or len(names) != 1 or next(iter(names)) not in self.model.param_shapes:
            return None
        parameter = self.model.q(next(iter(names)))
        for candidate, transposed in ((parameter, False), (parameter.T, True)):
            if candidate.shape == core.shape and _signed_equal(core, candidate):
                if transposed:
                    self.used("transpose: ‖A^T‖₂ = ‖A‖₂, ‖A^T‖_F = ‖A‖_F, ‖A^T‖₁ = ‖A‖_∞")
                swapped = {"1": "inf", "inf": "1"}.get(kind, kind) if transposed else kind
                return norm(parameter, swapped)
        return None

    def core_atom(self, core, kind):
        from derive.verify.norms import norm
        if core.rows == core.cols and core.is_diagonal():
            if core == sympy.eye(core.rows):
                self.used("diagonal: ‖I‖ = 1")
                return sympy.sqrt(core.rows) if kind == "F" else sympy.S.One
            return self.diagonal_atom(list(core.diagonal()), kind)
        if core.cols == 1 and kind == "inf":
            self.used("maximum norm: ‖v‖_∞ = max_i |v_i|")
            return MaxAbs(sympy.Tuple(*[self.entry(v) for v in core]))
        found = self.parameter_atom(core, kind)
        if found is not None:
            return found
        # An opaque matrix or its transpose, whichever sorts first, so ‖Kᵀ‖ and ‖K‖ meet in one atom.
        transposed = core.T
        if core.cols > 1 and sympy.default_sort_key(sympy.ImmutableMatrix(transposed)) < \
                sympy.default_sort_key(sympy.ImmutableMatrix(core)):
            self.used("transpose: ‖A^T‖₂ = ‖A‖₂, ‖A^T‖_F = ‖A‖_F, ‖A^T‖₁ = ‖A‖_∞")
            return norm(transposed, {"1": "inf", "inf": "1"}.get(kind, kind))
        return norm(core, kind)

    def equal_form(self, atom):
        """‖A‖ rewritten by equalities only (for the right side): |s| times a diagonal, parameter or opaque atom."""
        scale, core = self.scaled(atom.matrix)
        return self.scalar(sympy.Abs(scale)) * self.core_atom(core, atom.kind)

    def upper_form(self, atom):
        """An upper bound of ‖A‖ (for the left side), by every rule."""
        from derive.verify.norms import norm
        kind, structure = atom.kind, list(atom.args[2])
        if structure:
            head, parts = str(structure[0]), structure[1:]
            if head == "+":
                self.used("triangle inequality: ‖A + B‖ ≤ ‖A‖ + ‖B‖")
                return sympy.Add(*[self.upper(norm(sympy.Matrix(p), kind)) for p in parts])
            self.used("submultiplicativity: ‖AB‖ ≤ ‖A‖ ‖B‖")
            return sympy.Mul(*[self.upper(norm(sympy.Matrix(p), kind)) for p in parts])
        scale, left, core, right = self.split(atom.matrix)
        bound = self.scalar(sympy.Abs(scale)) * self.core_atom(core, kind)
        for diagonal in (left, right):
            if diagonal is not None:
                self.used("submultiplicativity: ‖AB‖ ≤ ‖A‖ ‖B‖")
                bound *= self.diagonal_atom(diagonal, "2" if kind == "F" else kind)
        return bound

    def rewrite(self, expr, form):
        from derive.verify.norms import Norm
        expr = self.scalar(expr)
        return expr.replace(lambda e: isinstance(e, Norm), form)

    def upper(self, expr):
        from derive.verify.norms import Norm
        expr = sympy.sympify(expr)
        if isinstance(expr, Norm):
            return self.upper_form(expr)
        return self.rewrite(expr, self.upper_form)

    # -- function bounds and the comparison --------------------------------------------------
    def function_bounds(self, expr, keep):
        """`expr` with what `keep` does not hold replaced by exact suprema: each max_i |v_i| by the largest
        sup |v_i|, and in each term the factors in one variable by the sup of their product (so σ(z) and
        |σ(z) − 1| are bounded together, by 1/4)."""
        from derive.verify.norms import Norm
        terms = []
        for term in sympy.Add.make_args(sympy.expand(expr)):
            kept, groups = [], {}
            for factor in sympy.Mul.make_args(term):
                base, exponent = factor.as_base_exp()
                if factor.is_number or factor in keep or base in keep:
                    kept.append(factor)
                elif isinstance(base, MaxAbs):
                    kept.append(self.bounded(base, list(base.args[0])) ** exponent)
                elif isinstance(base, Norm) and base.matrix.cols == 1:  # ‖v‖ ≤ c · max_i |v_i|
                    entries = list(base.matrix)
                    scale = {"1": len(entries), "inf": 1}.get(base.kind, sympy.sqrt(len(entries)))
                    self.used("vector norm: ‖v‖₂ ≤ √n max_i |v_i|, ‖v‖₁ ≤ n max_i |v_i|")
                    kept.append((scale * self.bounded(MaxAbs(sympy.Tuple(*entries)), entries)) ** exponent)
                elif len(factor.free_symbols) == 1:
                    groups.setdefault(next(iter(factor.free_symbols)), []).append(factor)
                else:
                    kept.append(factor)
            for factors in groups.values():
                product = sympy.Mul(*factors)
                kept.append(self.bounded(product, [product.replace(sympy.Abs, lambda inner: inner)]))
            terms.append(sympy.Mul(*kept))
        return sympy.Add(*terms)

    def defined(self, value):
        """`value` with each node written by its definition one level down (h_t as o_t ⊙ tanh(c_t)), gates then
        as σ/tanh of their pre-activations: a node bounded by its definition is bounded."""
        substitution = {}
        for symbol in sympy.sympify(value).free_symbols:
            quantity = quantity_of(symbol)
            if self.model is None or quantity is None or quantity.adjoint or quantity.time is None or \
                    quantity.name not in self.model.equations:
                continue
            definition = self.model.step(quantity.time, quantity.absolute)[quantity.name]
            substitution[symbol] = definition[(quantity.index[0] - 1 if quantity.index else 0), 0]
        return self.entry(sympy.sympify(value).xreplace(substitution)) if substitution else None

    def sup_abs(self, value):
        """sup |value| over the reals, with the value as written or its nodes written by their definitions."""
        found = _sup_abs(value)
        if found is None:
            defined = self.defined(value)
            found = _sup_abs(defined) if defined is not None else None
        return found

    def bounded(self, atom, values):
        """The largest exact sup |v| over `values`, or `atom` itself when one is not found."""
        bounds = [self.sup_abs(v) for v in values]
        if any(b is None for b in bounds):
            return atom
        self.used(f"function bound: sup |{sympy.latex(values[0])}| = {sympy.latex(max(bounds))}")
        return max(bounds)


def _signed_equal(core, matrix) -> bool:
    """core = S · matrix · R for diagonal sign matrices S, R (which leave every one of these norms unchanged)."""
    signs = {}
    for i in range(core.rows):
        for j in range(core.cols):
            a, b = core[i, j], matrix[i, j]
            if a == b:
                signs[i, j] = 1
            elif a == -b:
                signs[i, j] = -1
            else:
                return False
    return all(signs[i, j] == signs[i, 0] * signs[0, j] * signs[0, 0] for i, j in signs)


def _sup_abs(value):
    """sup over the reals of |value|, exactly (derive.verify.extrema: poles and exact comparisons checked); None if not found."""
    found = extrema.extremes(sympy.Abs(sympy.factor(value)), {})
    return None if found is None else found[1].value


def _nonnegative_polynomial(difference, strict: bool) -> bool:
    """Is `difference`, a polynomial in nonnegative atoms, ≥ 0 (> 0 when strict) by its coefficients alone?"""
    difference = sympy.expand(difference)
    if difference.is_number:
        return bool(difference > 0) if strict else bool(difference >= 0)
    try:
        polynomial = sympy.Poly(difference)
    except sympy.PolynomialError:
        return False
    if any(generator.is_nonnegative is not True for generator in polynomial.gens):
        return False  # an atom of unknown sign (a bare weight w, tanh(c)): no conclusion from coefficients
    if not all(c.is_number and c >= 0 for c in polynomial.coeffs()):
        return False
    return not strict or bool(polynomial.coeff_monomial(1) > 0)


def _atoms(expr) -> set:
    from derive.verify.norms import Norm
    return expr.atoms(Norm, MaxAbs, sympy.Abs)


def _increasing(expr) -> bool:
    """Is `expr` a sum of products of nonnegative atoms with nonnegative coefficients and whole positive powers?

    Only then does an upper bound of each atom give an upper bound of the whole (‖A‖ − ‖B‖ is not such).
    """
    for term in sympy.Add.make_args(sympy.expand(expr)):
        coefficient, rest = term.as_coeff_Mul()
        if coefficient < 0:
            return False
        for factor in sympy.Mul.make_args(rest):
            base, exponent = factor.as_base_exp()
            if factor != 1 and (base.is_nonnegative is not True or not (exponent.is_Integer and exponent > 0)):
                return False
    return True


def prove(left, right, relation: str, model=None):
    """The rules that prove `left relation right` (a list of their names), or None when they do not suffice."""
    prover = _Prover(model)
    if not _increasing(prover.scalar(left)):
        return None
    upper = prover.upper(left)
    exact = prover.rewrite(sympy.sympify(right), prover.equal_form)
    strict = relation == "<"
    if _nonnegative_polynomial(exact - upper, strict):
        return prover.steps + ["comparison: right − left has no negative coefficient in nonnegative atoms"]
    bounded = prover.function_bounds(upper, _atoms(exact))
    if bounded != upper and _nonnegative_polynomial(exact - bounded, strict):
        return prover.steps + ["comparison: right − left has no negative coefficient in nonnegative atoms"]
    return None
