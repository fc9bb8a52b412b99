"""One step of a model with its matrix products explicit: elementwise equations and the products W @ v between them.

Every recurrence here mixes its units only through products of a weight
matrix with a vector; everything else is elementwise. A `Program` is one step
written that way, at one unit (every quantity 1×1): each `W @ v` is a
`Product` whose symbol stands for its value in the later equations. The
laboratory differentiates it (derive.lab.linearization), and a model defined
by its equations runs it at any size (derive.models.defined).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy


def product_symbols(weight: str, number: int, shape=(1, 1)) -> sympy.Matrix:
    """The symbols standing for the value of product number `number`, `weight` @ (its operand)."""
    rows, cols = shape
    return sympy.Matrix(rows, cols, lambda r, c: sympy.Symbol(f"{weight}@{number}" + (f"_{r}" if rows > 1 else ""),
                                                              real=True))


@dataclass(frozen=True)
class Product:
    """`symbol` = weight @ operand: one matrix product of a step."""

    symbol: sympy.Matrix
    weight: str  # the parameter on the left
    operand: sympy.Matrix  # the vector on the right, in the step's symbols and earlier products


@dataclass(frozen=True)
class Program:
    """One step as Products and (node name, definition) pairs, in the order they are computed."""

    steps: tuple

    @property
    def products(self) -> tuple:
        return tuple(step for step in self.steps if isinstance(step, Product))

    @property
    def equations(self) -> dict:
        """Node name -> definition, elementwise in leaves, earlier nodes and product symbols."""
        return {step[0]: step[1] for step in self.steps if not isinstance(step, Product)}

    def product_of(self, symbol) -> Product | None:
        """The product a (1×1) product symbol stands for."""
        return next((p for p in self.products if p.symbol[0, 0] == symbol), None)
