"""A model: one step of a recurrence at time t, as named SymPy equations traced from its cell.

A model's equations describe one step at time t. Every quantity is a matrix
of `QuantitySymbol`s (derive.quantity) named as in the literature and indexed
by time, e.g. `f_{t}`, `c_{t-1}`, `z_{f,t}`, `W_{fh}`; the symbol itself
says which quantity it stands for, so numeric code can bind it to a value
along a simulated trajectory.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import SimpleNamespace

import sympy

from derive.errors import ModelError
from derive.models.cells import sigmoid, tanh
from derive.models.program import Product, Program
from derive.models.trace import run_capturing_locals, trace
from derive.quantity import retime, scalar_or_matrix, symbols_of


@dataclass(frozen=True, eq=False)
class Model:
    """One step of a recurrence at time t, as named SymPy equations traced from its cell.

    The symbolic trace is made on first use, so a model of 256 units costs
    nothing until its n×n symbol matrices are asked for; the numeric engine
    never asks (it works from the one-unit model and the shapes).
    """

    name: str
    title: str
    cell: object
    n: int
    m: int
    activation: str | None
    state: tuple  # state quantities carried from step to step, e.g. ("c", "h")
    gates: tuple  # nodes held constant in the truncated semantics
    inputs: tuple  # names of the per-step inputs, e.g. ("x",)
    input_weights: frozenset = frozenset()  # parameters that multiply the input (n×m)
    bias: bool = True  # False: the biases are removed (fixed at 0)
    options: dict = field(default_factory=dict)  # the builder's keyword arguments, to rebuild at another n

    def resized(self, n: int) -> "Model":
        """The same model with `n` units (and inputs, unless m was given)."""
        from derive.models.builtin import build

        return build(self.options["builder"], {**{k: v for k, v in self.options.items() if k != "builder"}, "n": n})

    # -- shapes, without symbols ------------------------------------------------------------
    @cached_property
    def argument_shapes(self) -> dict:
        """Each array argument of the cell -> its shape (states, inputs, all parameters)."""
        shapes = {}
        for argument in inspect.signature(self.cell).parameters:
            if argument == "phi":
                continue
            if argument.endswith("_prev") and argument[:-5] in self.state:
                shapes[argument] = (self.n, 1)
            elif argument in self.inputs:
                shapes[argument] = (self.m, 1)
            else:
                shapes[argument] = _param_shape(argument, self.n, self.m, self.input_weights)
        return shapes

    @cached_property
    def removed(self) -> tuple:
        """Parameters fixed at zero (the biases when bias=False)."""
        return tuple(a for a in self.argument_shapes if not self.bias and a.startswith("b") and a not in self.inputs)

    @cached_property
    def param_shapes(self) -> dict:
        return {a: shape for a, shape in self.argument_shapes.items()
                if a not in self.removed and a not in self.inputs and not a.endswith("_prev")}

    @property
    def phi(self):
        """The activation passed to cells that take one (None otherwise)."""
        return {"sigmoid": sigmoid, "tanh": tanh}.get(self.activation)

    # -- the symbolic trace ----------------------------------------------------------------
    def _trace(self, one_unit: bool):
        """Trace the cell on symbol matrices (1×1 ones for `one_unit`, products kept): (arguments, trace, zeros)."""
        arguments: dict = {}
        for argument, shape in self.argument_shapes.items():
            shape = (1, 1) if one_unit else shape
            if argument.endswith("_prev") and argument[:-5] in self.state:
                arguments[argument] = symbols_of(argument[:-5], -1, shape)
            elif argument in self.inputs:
                arguments[argument] = symbols_of(argument, 0 if self.state else None, shape)
            else:
                arguments[argument] = symbols_of(argument, None, shape)
        zeros = {symbol: sympy.S.Zero for name in self.removed for symbol in arguments[name]}
        if "phi" in inspect.signature(self.cell).parameters:
            arguments["phi"] = self.phi
        traced = trace(self.cell, arguments, lambda node, shape: symbols_of(node, 0 if self.state else None, shape),
                       products=one_unit)
        return arguments, traced, zeros

    @cached_property
    def _traced(self):
        arguments, traced, zeros = self._trace(one_unit=False)
        equations = {k: v.xreplace(zeros) for k, v in traced.equations.items()}
        params = {name: arguments[name] for name in self.param_shapes}
        return params, equations

    @cached_property
    def program(self) -> Program:
        """One step at one unit with every W @ v a product (derive.models.program), for the laboratory."""
        _, traced, zeros = self._trace(one_unit=True)
        return Program(tuple(replace(step, operand=step.operand.xreplace(zeros)) if isinstance(step, Product)
                             else (step[0], step[1].xreplace(zeros)) for step in traced.steps))

    def run_cell(self, arguments: dict) -> dict:
        """One step on arrays (NumPy floats or mpmath objects): every local of the cell by name."""
        return run_capturing_locals(self.cell, arguments)[1]

    @property
    def params(self) -> dict:
        """Parameter name -> Matrix of symbols (removed biases excluded)."""
        return self._traced[0]

    @property
    def equations(self) -> dict:
        """Node name -> Matrix definition at time t, in assignment order."""
        return self._traced[1]

    # -- symbols --------------------------------------------------------------------------
    def shape(self, name: str):
        if name in self.param_shapes:
            return self.param_shapes[name]
        if name in self.equations:
            return self.equations[name].shape
        if name in self.inputs:
            return (self.m, 1)
        if name in self.state:
            return (self.n, 1)
        raise ModelError(f"{self.name} has no quantity {name!r}; it has {', '.join(self.quantities())}")

    def quantities(self) -> list[str]:
        return list(self.param_shapes) + list(self.inputs) + list(self.equations)

    def q(self, name: str, time: int | None = 0, absolute: bool = False) -> sympy.Matrix:
        """Quantity `name` at `time` (relative to t unless `absolute`), as a Matrix of symbols."""
        if name in self.param_shapes:
            return self.params[name]
        return symbols_of(name, time if self.state else None, self.shape(name), absolute)

    def at(self, time: int = 0, absolute: bool = False) -> SimpleNamespace:
        """Namespace of the quantities at `time`: `f`, `c`, `x`, ..., `c_prev` (time-1), `h_next` (time+1), params.

        Scalars for n = 1, Matrices otherwise.
        """
        values = {}
        for name in list(self.inputs) + list(self.equations):
            values[name] = scalar_or_matrix(self.q(name, time, absolute))
            values[name + "_prev"] = scalar_or_matrix(self.q(name, time - 1, absolute))
            values[name + "_next"] = scalar_or_matrix(self.q(name, time + 1, absolute))
        for name, matrix in self.params.items():
            values[name] = scalar_or_matrix(matrix)
        return SimpleNamespace(**values)

    @property
    def sym(self) -> SimpleNamespace:
        """The quantities at time t (see `at`)."""
        return self.at(0)

    def step(self, time: int = 0, absolute: bool = False) -> dict:
        """The equations of the step at `time`: node name -> definition."""
        if time == 0 and not absolute:
            return dict(self.equations)
        if absolute:
            return {k: retime(v, absolute_base=time) for k, v in self.equations.items()}
        return {k: retime(v, time) for k, v in self.equations.items()}

    def expanded(self, time: int = 0, absolute: bool = False) -> dict:
        """Every node of the step at `time` written in the step's leaves (states at time-1, inputs, params)."""
        substitution: dict = {}
        result = {}
        for name, definition in self.step(time, absolute).items():
            value = definition.xreplace(substitution)
            result[name] = value
            substitution.update(zip(self.q(name, time, absolute), value))
        return result

    def depends_on(self, node: str, source: str) -> bool:
        """Does node `node` of one step depend on node `source` of the same step?"""
        sources = set(self.q(source))
        seen = set()

        def visit(name):
            if name in seen:
                return False
            seen.add(name)
            definition = self.equations[name]
            if definition.free_symbols & sources:
                return True
            return any(visit(other) for other in self.equations
                       if other != name and definition.free_symbols & set(self.q(other)))

        return node != source and visit(node)




def _param_shape(name: str, n: int, m: int, input_weights: set) -> tuple:
    if name.startswith(("b", "p_")):
        return (n, 1)
    if name in input_weights:
        return (n, m)
    return (n, n)
