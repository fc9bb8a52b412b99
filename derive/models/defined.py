"""A model given by its equations (an article's own, read by derive.notation.recurrence) rather than by a cell.

It is a Model like the built-ins: the same symbols, equations, shapes and
semantics. What a built-in gets by tracing its cell, it is handed: the
equations at its size, the shapes of its arguments and its one-unit Program.
The Program also stands in for the cell: `run_cell` evaluates it on arrays
(NumPy floats, or objects of mpmath numbers for the verifier's 30-digit
points), each elementwise equation lambdified once from SymPy and each
product a matrix product, so derive.models.simulate runs it like any cell.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
import sympy

from derive.models.model import Model
from derive.models.program import Product, Program
from derive.quantity import quantity_of, sorted_symbols, symbols_of
from derive.rules import namespace


@dataclass(frozen=True, eq=False)
class EquationModel(Model):
    """A recurrence read from its equations; `written` holds them as the source gives them (LaTeX), in order."""

    written: tuple = ()
    shapes: dict = field(default_factory=dict)  # every argument (f"{state}_prev", inputs, parameters) -> shape
    read: dict = field(default_factory=dict)  # node -> Matrix at this size, in order
    one_unit: Program | None = None
    rebuild: Callable | None = None  # n -> the same model with n units
    splits: dict = field(default_factory=dict)  # a weight written against a bracket [h_{t-1}, x_t] -> its blocks

    def resized(self, n: int) -> "EquationModel":
        return self if n == self.n else self.rebuild(n)

    @property
    def argument_shapes(self) -> dict:
        return self.shapes

    @cached_property
    def _traced(self):
        params = {name: symbols_of(name, None, shape) for name, shape in self.param_shapes.items()}
        return params, dict(self.read)

    @property
    def program(self) -> Program:
        return self.one_unit

    @cached_property
    def _runnable(self) -> list:
        """Each step of the program as (target, weight or None, arguments, NumPy form, mpmath form)."""
        steps = []
        for step in self.one_unit.steps:
            target, weight, expr = (step.symbol[0, 0], step.weight, step.operand[0, 0]) if isinstance(step, Product) \
                else (step[0], None, step[1][0, 0])
            arguments = sorted_symbols(expr.free_symbols)
            numeric = sympy.lambdify(arguments, expr, modules=[namespace("numpy"), "numpy"])
            precise = sympy.lambdify(arguments, expr, modules=[namespace("mpmath"), "mpmath"])
            steps.append((target, weight, arguments, numeric, precise))
        return steps

    def run_cell(self, arguments: dict) -> dict:
        """One step on arrays, as a cell runs: the arguments and every node's value by name."""
        previous = arguments[f"{self.state[0]}_prev"]
        batch = previous.shape[:-2]
        objects = previous.dtype == object
        nodes: dict = {}
        products: dict = {}

        def array(symbol):
            if symbol in products:
                return products[symbol]
            info = quantity_of(symbol)
            if info.time is None:
                return arguments[info.name]
            return arguments[f"{info.name}_prev"] if info.time == -1 else nodes.get(info.name, arguments.get(info.name))

        for target, weight, names, numeric, precise in self._runnable:
            values = [array(symbol) for symbol in names]
            if not names:  # a constant: one value, broadcast below
                value = np.full((1, 1), precise() if objects else numeric(), dtype=object if objects else float)
            elif objects:
                value = np.frompyfunc(precise, len(names), 1)(*values)
            else:
                value = np.asarray(numeric(*values), dtype=float)
            if weight is not None:
                products[target] = arguments[weight] @ value
            else:
                value = np.broadcast_to(value, batch + self.read[target].shape)
                nodes[target] = value.copy() if objects else np.array(value)
        return {**arguments, **nodes}
