"""Tracing a cell: run its plain array code on symbolic arrays and keep the named equations.

`trace(cell, arguments)` calls the cell with `Traced` arrays. Every operation
records its result as a fresh symbol with a local SymPy definition; the cell's
local variables (read from its frame when it returns) name the nodes, and
unnamed intermediates such as `W @ h_prev` are inlined into the named node
that uses them. The result is the cell's equations, one per named local, in
the order the code assigns them. Traced with `products`, every `W @ v` of a
parameter W stays one symbol instead (derive.models.program.Product), for the
laboratory's structured blocks.
"""
from __future__ import annotations

import ast
import functools
import inspect
import itertools
import textwrap
from dataclasses import dataclass

import sympy

from derive.errors import ModelError
from derive.models.program import Product, product_symbols
from derive.quantity import quantity_of

_counter = itertools.count()


class Traced:
    """A symbolic array (a SymPy Matrix of fresh symbols) produced while tracing a cell."""

    __array_priority__ = 1000  # NumPy scalars defer to our operators

    def __init__(self, tape: list, symbols: sympy.Matrix, definition: sympy.Matrix | None):
        self.tape = tape
        self.symbols = symbols
        self.definition = definition  # None for a leaf (an argument of the cell)
        self.factors = None  # (left, right) of a matrix product
        if definition is not None:
            tape.append(self)

    @classmethod
    def leaf(cls, tape: list, symbols: sympy.Matrix) -> "Traced":
        return cls(tape, symbols, None)

    def _result(self, definition: sympy.Matrix) -> "Traced":
        k = next(_counter)
        rows, cols = definition.shape
        fresh = sympy.Matrix(rows, cols, lambda r, c: sympy.Symbol(f"_node{k}_{r}_{c}"))
        return Traced(self.tape, fresh, definition)

    def _operand(self, other) -> sympy.Matrix:
        if isinstance(other, Traced):
            return other.symbols
        if isinstance(other, (int, float, sympy.Expr)):
            return sympy.ones(*self.symbols.shape) * sympy.sympify(other)
        return NotImplemented

    @property
    def shape(self):
        return self.symbols.shape

    def __add__(self, other):
        return self._result(self.symbols + self._operand(other))

    __radd__ = __add__

    def __sub__(self, other):
        return self._result(self.symbols - self._operand(other))

    def __rsub__(self, other):
        return self._result(self._operand(other) - self.symbols)

    def __neg__(self):
        return self._result(-self.symbols)

    def __mul__(self, other):
        """Elementwise product, as `*` on NumPy arrays."""
        if isinstance(other, (int, float, sympy.Expr)):
            return self._result(self.symbols * sympy.sympify(other))
        return self._result(self.symbols.multiply_elementwise(self._operand(other)))

    __rmul__ = __mul__

    def __matmul__(self, other):
        result = self._result(self.symbols * self._operand(other))
        result.factors = (self, other)
        return result

    def __rmatmul__(self, other):
        result = self._result(self._operand(other) * self.symbols)
        result.factors = (other, self)
        return result

    def elementwise(self, function):
        """Apply a SymPy function entry by entry (the cells' activations, derive.rules.array_function)."""
        return self._result(self.symbols.applyfunc(function))


@dataclass(frozen=True)
class Trace:
    """The named equations of one cell call: `equations[name]` in terms of arguments and earlier names."""

    equations: dict  # name -> sympy.Matrix, in assignment order
    outputs: tuple  # names of the returned nodes, in return order
    steps: tuple = ()  # with products: Products and (name, definition) pairs in execution order


@functools.cache
def _returning_locals(function):
    """A copy of `function` (one of derive's own cells) whose return value is (result, locals()).

    Built once from the function's own source, so reading the named
    intermediates needs no tracing hook (profilers and coverage keep theirs).
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    definition = tree.body[0]
    definition.decorator_list = []

    class ReturnLocals(ast.NodeTransformer):
        def visit_Return(self, node):
            value = node.value or ast.Constant(None)
            call = ast.Call(ast.Name("locals", ast.Load()), [], [])
            return ast.copy_location(ast.Return(ast.Tuple([value, call], ast.Load())), node)

    tree = ast.fix_missing_locations(ReturnLocals().visit(tree))
    namespace = dict(function.__globals__)
    exec(compile(tree, inspect.getsourcefile(function) or "<cell>", "exec"), namespace)  # noqa: S102 - own source
    return namespace[definition.name]


def run_capturing_locals(function, kwargs: dict):
    """Call `function(**kwargs)` and return (its result, its local variables when it returned)."""
    return _returning_locals(function)(**kwargs)


def _product(node, renaming: dict, count: int) -> Product:
    """The Product a traced `W @ v` stands for; the left factor must be a parameter (an argument of the cell)."""
    left, right = node.factors
    weight = quantity_of(left.symbols[0]) if isinstance(left, Traced) and left.definition is None else None
    if weight is None or weight.time is not None:
        raise ModelError("a matrix product of a cell must be a parameter times a vector (W @ v)")
    operand = right.symbols.xreplace(renaming) if isinstance(right, Traced) else sympy.Matrix(right)
    return Product(product_symbols(weight.name, count, node.shape), weight.name, operand)


def trace(cell, arguments: dict, node_symbols, products: bool = False) -> Trace:
    """Trace `cell` with symbolic `arguments` (name -> Matrix; other values passed as they are).

    `node_symbols(name, shape)` gives the Matrix of symbols that will stand for
    the named local `name` in the equations. With `products`, each `W @ v`
    stays a product symbol and `steps` lists the products and equations in
    the order they are computed.
    """
    tape: list = []
    kwargs = {
        name: Traced.leaf(tape, value) if isinstance(value, sympy.MatrixBase) else value
        for name, value in arguments.items()
    }
    result, local_values = run_capturing_locals(cell, kwargs)
    results = result if isinstance(result, tuple) else (result,)

    names = {}
    for name, value in local_values.items():
        if isinstance(value, Traced) and value.definition is not None and id(value) not in names:
            names[id(value)] = name
    renaming: dict = {}
    equations: dict = {}
    steps: list = []
    # Tape order is execution order, so every operand is resolved before it is used.
    for node in tape:
        if products and node.factors is not None:
            product = _product(node, renaming, len(steps))
            steps.append(product)
            definition = product.symbol
        else:
            definition = node.definition.xreplace(renaming)
        name = names.get(id(node))
        if name is None:
            renaming.update(zip(node.symbols, definition))
        else:
            symbols = node_symbols(name, node.shape)
            renaming.update(zip(node.symbols, symbols))
            equations[name] = definition
            steps.append((name, definition))
    outputs = tuple(names[id(r)] for r in results)
    return Trace(equations=equations, outputs=outputs, steps=tuple(steps))
