"""Formulas in the articles' notation evaluated to SymPy: a parse tree read against a model's symbol table.

Reading rules (what the README and the report call "the notation"):
- c_t, c_{t-1}, f^{t+1}: a quantity at a time relative to the claim's step t;
  with `values = {t = 1}` in the claims file, t and all times become absolute
  steps. On a timed quantity without a subscript, the superscript is the time
  (Greff et al.'s c^t); otherwise a superscript is a power, and ^T or ^\\top a transpose.
- \\cdot, \\times and juxtaposition are the product; between a column v and a
  square matrix M, `v \\cdot M` is diag(v) M (the Jacobian reading of σ'(z)·W), and a
  column between two matrices (W σ'(z) W) is diag(σ'(z)); both readings are said in
  the claim's reading (Context.notes). \\odot, \\otimes, \\circ and * are elementwise
  and bind tighter; \\oplus is +. A product of columns under \\prod is elementwise.
- W_f \\cdot [h_{t-1}, x_t] = W_fh h_{t-1} + W_fx x_t (see derive.notation.symbols).
- \\prod_{k=a}^{b} multiplies later terms on the left (the chain rule's order);
  \\sum adds; both take the rest of the product as their body.
- \\frac{\\partial a}{\\partial b}, ∂a/∂b, ∂⁺ and d/dz are exact derivatives
  (derive.notation.derivatives), in the semantics the reader was made with;
  \\delta q^t is the adjoint ∂L/∂q^t; \\|A\\| a norm (derive.notation.norms).
- \\dots stands for the terms the claims file names in `dots`, as a term of a sum only.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import lark
import sympy

from derive.errors import NotationError, ShapeMismatchError
from derive.notation import derivatives, indices, names, norms
from derive.notation.indices import LARGEST_INDEX
from derive.notation.operators import stack
from derive.notation.parser import Formula, position, text_of
from derive.notation.symbols import SymbolTable
from derive.notation.values import Concat, Function, Loss, Split, is_column, is_matrix, shape, simple
from derive.quantity import scalar_or_matrix
from derive.rules import Semantics

MOST_WORK = 400  # terms of \prod and \sum, definition uses and derivatives, per formula


@dataclass
class Context:
    """Everything a formula is read against; shared by the readers of one claim."""

    table: SymbolTable
    definitions: dict = field(default_factory=dict)
    dots: Formula | None = None
    loss: Loss | None = None
    work: int = 0
    ranges: dict = field(default_factory=dict)  # a free variable -> (low, high), for \\max_z
    notes: dict = field(default_factory=dict)  # readings the engine chose, in order (a dict as an ordered set)
    matrix_vector: dict = field(default_factory=dict)  # id of a product node ending in M·v -> (M, v) as written

    @property
    def model(self):
        return self.table.model


class Reader:
    """Evaluates trees to SymPy values; `semantics` is that of the derivatives it meets."""

    def __init__(self, context: Context, semantics: str = Semantics.FULL):
        self.context, self.semantics = context, semantics
        self.formula: Formula | None = None
        self._expanding: list = []

    # -- entry points ----------------------------------------------------------------------
    def evaluate(self, formula: Formula, tree=None, env: dict | None = None):
        """The value of `tree` (default: the whole formula, which must be one expression) in `env`."""
        if tree is None:
            if len(formula.tree.children) != 1:
                raise NotationError(f"{formula.label} must be one expression, not a relation", 0, formula)
            tree = formula.tree.children[0]
        saved, self.formula = self.formula, formula
        try:
            return self.plain(self.value(tree, dict(env or {})), tree)
        finally:
            self.formula = saved

    def fail(self, node, message: str, error=NotationError):
        raise error(message, position(node), self.formula)

    def note(self, text: str) -> None:
        """Say in the claim's reading how something was read (a column as a diagonal matrix, ...)."""
        if text:
            self.context.notes[text] = True

    def spelled(self, node) -> str:
        """The formula's own text of a node, as the author wrote it."""
        if self.formula is None or not isinstance(node, lark.Tree) or node.meta.empty:
            return text_of(node)
        return " ".join(self.formula.text[node.meta.start_pos:node.meta.end_pos].split())

    def spend(self, node, amount: int = 1) -> None:
        self.context.work += amount
        if self.context.work > MOST_WORK:
            self.fail(node, f"the claim asks for more than {MOST_WORK} terms, definitions and derivatives")

    # -- values ----------------------------------------------------------------------------
    def value(self, node, env):
        """The value of a parse-tree node, read by the rule of its kind (RULES below)."""
        handler = RULES.get(node.data)
        if handler is None:
            self.fail(node, f"{node.data} cannot stand here")
        return handler(self, node, env)

    def plain(self, value, node):
        """A split weight as its recurrent block, a concatenation as a column; a bare function is an error."""
        if isinstance(value, Split):
            return value.recurrent
        if isinstance(value, Concat):
            return stack(*[self.plain(p, node) for p in value.parts])
        if isinstance(value, Function):
            self.fail(node, "a function needs an argument in parentheses, e.g. \\sigma(z)")
        return value

    def _sum(self, node, env):
        total, sign = None, 1
        for child in node.children:
            if isinstance(child, lark.Token):
                sign = -1 if child.type == "MINUS" else 1
                continue
            term = self._term(child, env)
            term = term if sign == 1 else self._negate(term, child)
            total = term if total is None else self._add(total, term, child)
        return total

    def _term(self, signed, env):
        leaf = simple(signed.children[-1])
        if isinstance(leaf, lark.Tree) and leaf.data == "dots":
            if self.context.dots is None:
                self.fail(signed, "\\dots leaves terms out; say what they are with dots = '...' in the claim, "
                                  "or the engine cannot check the formula")
            if "\\dots" in self._expanding:  # dots = "a + \\dots", or through a defined term
                self.fail(signed, "the terms of dots contain \\dots again: dots must say what the left-out terms "
                                  "are without \\dots")
            self._expanding.append("\\dots")
            try:
                value = self.evaluate(self.context.dots, None, env)
            finally:
                self._expanding.pop()
            signs = [c for c in signed.children if isinstance(c, lark.Token) and c.type == "MINUS"]
            return self._negate(value, signed) if signs else value
        return self.value(signed, env)

    def _signed(self, node, env):
        value = self.value(node.children[-1], env)
        if len(node.children) == 2 and node.children[0].type == "MINUS":
            return self._negate(value, node)
        return value

    def _product(self, node, env):
        """Factors left to right; ∂a/∂b written inline and \\frac{d}{dz} X take their neighbour."""
        items, operator = [], None
        for child in node.children:
            if isinstance(child, lark.Token):
                operator = str(child)
                continue
            items.append((operator, child))
            operator = None
        factors, k = [], 0
        while k < len(items):
            operator, child = items[k]
            following = items[k + 1] if k + 1 < len(items) else None
            if derivatives.leading_differential(child) is not None and following is not None and following[0] == "/":
                factors.append((derivatives.inline(self, child, following[1], env), child, operator))
                k += 2
            elif derivatives.d_operator(self.context, child) is not None:
                if following is None:
                    self.fail(child, "\\frac{d}{dz} differentiates what follows it: write \\frac{d}{dz}\\sigma(z)")
                factors.append((derivatives.apply_d_operator(self, child, following[1], env), child, operator))
                k += 2
            else:
                factors.append((self.value(child, env), child, operator))
                k += 1
        return self._fold(node, factors)

    def _fold(self, node, factors):
        """Multiply the factors; a column between matrices is read as its diagonal matrix, and said so."""
        result = None
        for k, (factor, child, operator) in enumerate(factors):
            if result is None:
                result = factor
                continue
            following = factors[k + 1][0] if k + 1 < len(factors) and factors[k + 1][2] != "/" else None
            left, column, right = (self.plain(v, child) if v is not None else None for v in (result, factor, following))
            if operator != "/" and is_column(column) and is_matrix(left) and not is_column(left) and \
                    left.shape[1] == column.shape[0] and is_matrix(right) and not is_column(right) and \
                    right.shape[0] == column.shape[0]:
                self.note(f"{self.spelled(child)} stands between matrices: read as "
                          f"\\mathrm{{diag}}({self.spelled(child)})")
                factor = sympy.diag(*column)
            elif operator != "/" and is_column(column) and is_matrix(left) and not is_column(left) and \
                    k == len(factors) - 1 and not isinstance(factor, Concat) and not isinstance(result, Split):
                self.context.matrix_vector[id(node)] = (self.spelled(factors[k - 1][1]) if k == 1 else
                                                        " ".join(self.spelled(f[1]) for f in factors[:k]),
                                                        self.spelled(child))
            result = self.multiply(result, factor, child, operator == "/")
        return result

    def _bigop(self, node, env):
        operator, index, lower, upper, body = node.children
        name = text_of(index)
        start, stop = self.integer(lower, env), self.integer(upper, env)
        if stop - start + 1 > LARGEST_INDEX:
            self.fail(node, f"{operator} over {stop - start + 1} terms: the limit is {LARGEST_INDEX}")
        result = sympy.S.One if str(operator) == r"\prod" else sympy.S.Zero
        for k in range(start, stop + 1):
            self.spend(node)
            term = self.plain(self.value(body, {**env, name: k}), body)
            if str(operator) == r"\sum":
                result = self._add(result, term, body)
            elif k != start and is_column(term) and is_column(result) and term.shape == result.shape:
                found = matrix_vector_of(self.context, body)
                if found:
                    matrix, vector = found
                    self.fail(body, f"each factor {matrix} {vector} of this product is a matrix times a column, which "
                                    f"reads as a matrix in two ways: {matrix} \\mathrm{{diag}}({vector}) or "
                                    f"\\mathrm{{diag}}({matrix} {vector}); write the one you mean",
                              ShapeMismatchError)
                # Vector gates multiplied over time (∏ f_k): elementwise, the diagonal of ∏ diag(f_k).
                self.note(f"the product of the columns {self.spelled(body)} read elementwise")
                result = term.multiply_elementwise(result)
            else:  # later factors on the left: ∂c_k/∂c_{k-1} ⋯ ∂c_2/∂c_1
                result = term if k == start else self.multiply(term, result, body)
        return result

    def _hprod(self, node, env):
        if len(node.children) == 1:
            return self.value(node.children[0], env)
        result, operator = None, None
        for child in node.children:
            if isinstance(child, lark.Token):
                operator = str(child)
                continue
            factor = self.plain(self.value(child, env), child)
            result = factor if result is None else self._hadamard(result, factor, child, operator)
        return result

    # -- arithmetic with shapes ------------------------------------------------------------
    def _negate(self, value, node):
        return -self.plain(value, node)

    def _add(self, a, b, node):
        a, b = self.plain(a, node), self.plain(b, node)
        if is_matrix(a) != is_matrix(b):
            # A scalar meets a column elementwise (1 - σ(z) for a column z); 0 meets any matrix.
            matrix = a if is_matrix(a) else b
            if matrix.shape[1] != 1 and a != 0 and b != 0:
                self.fail(node, f"cannot add a scalar and a {matrix.shape[0]}×{matrix.shape[1]} matrix",
                          ShapeMismatchError)
            a, b = (v if is_matrix(v) else v * sympy.ones(*matrix.shape) for v in (a, b))
        if shape(a) != shape(b):
            self.fail(node, f"cannot add shapes {shape(a)[0]}×{shape(a)[1]} and {shape(b)[0]}×{shape(b)[1]}",
                      ShapeMismatchError)
        return a + b

    def _hadamard(self, a, b, node, operator=r"\odot"):
        if not is_matrix(a) or not is_matrix(b):
            return a * b
        if a.shape != b.shape:
            hint = "; * is read as the elementwise product: for the matrix product write \\cdot" \
                if operator in ("*", r"\ast") else ""
            self.fail(node, f"elementwise product of shapes {a.shape[0]}×{a.shape[1]} and {b.shape[0]}×{b.shape[1]}"
                            f"{hint}", ShapeMismatchError)
        return a.multiply_elementwise(b)

    def multiply(self, a, b, node, divide: bool = False):
        """a · b with the notation's shape rules (see the module docstring)."""
        if isinstance(a, Split) and isinstance(b, Concat) and not divide:
            if len(b.parts) != 2:
                self.fail(node, f"{len(b.parts)} blocks in [...] for a weight with 2 blocks", ShapeMismatchError)
            parts = [self.plain(p, node) for p in b.parts]
            return self._add(self.multiply(a.recurrent, parts[0], node), self.multiply(a.input, parts[1], node), node)
        if isinstance(a, Function):
            self.fail(node, "a function needs its argument in parentheses, e.g. \\sigma(z)")
        a, b = self.plain(a, node), self.plain(b, node)
        if divide:
            if is_matrix(b):
                self.fail(node, "division by a matrix or vector", ShapeMismatchError)
            return a / b
        if not is_matrix(a) or not is_matrix(b):
            return a * b
        if a.shape[1] == b.shape[0]:
            return scalar_or_matrix(a * b)
        if a.shape[1] == 1 and b.shape[0] == b.shape[1] == a.shape[0]:
            self.note("a column times a square matrix, as in σ'(z) · W, read as diag(σ'(z)) W")
            return sympy.diag(*a) * b  # σ'(z) · W for a column z: diag(σ'(z)) W
        hint = "; for the elementwise product write \\odot" if a.shape == b.shape else ""
        self.fail(node, f"cannot multiply shapes {a.shape[0]}×{a.shape[1]} and {b.shape[0]}×{b.shape[1]}{hint}",
                  ShapeMismatchError)

    # -- indices and times (derive.notation.indices) ---------------------------------------
    def index(self, node, env):
        """A time or a count: an int, or Rel for t + offset."""
        return indices.read_index(self, node, env)

    def integer(self, node, env) -> int:
        """A count (a whole number), never a time relative to t."""
        return indices.read_integer(self, node, env)


def _top_products(node):
    """The product nodes whose value is the node's value or a term of it (not inside brackets or calls)."""
    if not isinstance(node, lark.Tree):
        return []
    if node.data == "product":
        children = [c for c in node.children if isinstance(c, lark.Tree)]
        return [node] + (_top_products(children[0]) if len(children) == 1 else [])
    if node.data in ("sum", "signed", "hprod", "postfix", "group"):
        if node.data == "postfix" and len(node.children) > 1:
            return []
        return [p for child in node.children for p in _top_products(child)]
    return []


def matrix_vector_of(context: Context, node):
    """(matrix, column) as written when the node's value is a matrix times a column (W σ'(x)); else None.

    Such a column has two readings where a matrix is wanted, W diag(σ'(x)) and diag(W σ'(x)).
    """
    return next((context.matrix_vector[id(p)] for p in _top_products(node) if id(p) in context.matrix_vector), None)


# The reading of every rule of the grammar that stands for a value; a rule missing here fails loudly.
RULES = {
    "sum": Reader._sum, "signed": Reader._signed, "product": Reader._product, "bigop": Reader._bigop,
    "extremum": norms.read_extremum, "hprod": Reader._hprod, "postfix": names.read_postfix,
    "function": names.read_function, "dotted": names.function_of_node, "name": names.read_name,
    "style": names.read_style, "decorated": names.read_decorated, "number": names.read_number,
    "group": names.read_group, "bracket": names.read_bracket, "abs": norms.read_abs,
    "norm": lambda reader, node, env: norms.read_norm(reader, node, None, env), "infinity": norms.read_infinity,
    "fraction": derivatives.read_fraction, "dots": names.read_dots, "differential": derivatives.read_differential,
    "partial_operator": derivatives.read_partial_operator, "adjoint": names.read_adjoint,
}
