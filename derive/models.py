"""SymPy models of the recurrences: each cell of `derive.cells` traced into named, time-indexed equations.

A model's equations describe one step at time t. Every quantity is a SymPy
symbol (or an n×n / n×1 Matrix of symbols) named as in the literature and
indexed by time, e.g. `f_{t}`, `c_{t-1}`, `z_{f,t}`, `W_{fh}`; the registry
`SYMBOLS` records what each symbol stands for so that numeric code can bind it
to a value along a simulated trajectory.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import cached_property
from types import SimpleNamespace

import sympy

from derive import cells
from derive.activations import sigmoid, tanh
from derive.errors import ModelError
from derive.trace import trace


@dataclass(frozen=True)
class SymbolInfo:
    """What a symbol stands for: quantity `name` at `time` (None for parameters), entry `index`."""

    name: str
    time: int | None
    absolute: bool
    index: tuple


SYMBOLS: dict[sympy.Symbol, SymbolInfo] = {}

# How a quantity's name is typeset; anything else "a_bc" is typeset a_{bc}.
_DECORATED = {"c_tilde": r"\tilde{c}", "z_bar": r"\bar{z}", "i_bar": r"\bar{\imath}",
              "f_bar": r"\bar{f}", "o_bar": r"\bar{o}", "W_rec": r"W_{\mathrm{rec}}",
              "W_in": r"W_{\mathrm{in}}"}


def time_label(time: int, absolute: bool = False) -> str:
    """'t', 't-1', 't+2' for times relative to t; '3' for an absolute time step."""
    if absolute:
        return str(time)
    return "t" if time == 0 else f"t{time:+d}"


def _typeset(name: str, subscripts: list[str]) -> str:
    if name.startswith("delta_"):  # the adjoint δq = ∂L/∂q of backpropagation
        return r"\delta " + _typeset(name[len("delta_"):], subscripts)
    if name in _DECORATED:
        base, extra = _DECORATED[name], []
    elif "_" in name:
        base, rest = name.split("_", 1)
        extra = [rest]
    else:
        base, extra = name, []
    subs = extra + subscripts
    if base.endswith("}") and base.startswith("W_{"):  # W_{\mathrm{rec}} carries its own subscript
        return base[:-1] + "".join("," + s for s in subscripts) + "}"
    return base + ("_{" + ",".join(subs) + "}" if subs else "")


def quantity(name: str, time: int | None = None, shape=(1, 1), absolute: bool = False) -> sympy.Matrix:
    """The Matrix of symbols standing for quantity `name` at `time` (None: a time-free parameter)."""
    rows, cols = shape

    def entry(r, c):
        index = () if rows * cols == 1 else ((r + 1,) if cols == 1 else (r + 1, c + 1))
        return _entry(name, time, absolute, index)

    return sympy.Matrix(rows, cols, entry)


def scalar_or_matrix(matrix: sympy.Matrix):
    """A 1×1 Matrix as its only entry; anything else unchanged."""
    return matrix[0, 0] if matrix.shape == (1, 1) else matrix


def retime(expr, shift: int = 0, absolute_base: int | None = None):
    """Move every time-indexed symbol of `expr` by `shift` steps.

    With `absolute_base`, relative times become absolute: t + k -> base + k.
    """
    mapping = {}
    for symbol in getattr(expr, "free_symbols", ()):
        info = SYMBOLS.get(symbol)
        if info is None or info.time is None:
            continue
        if absolute_base is not None and not info.absolute:
            new_time, absolute = absolute_base + info.time + shift, True
        else:
            new_time, absolute = info.time + shift, info.absolute
        mapping[symbol] = _entry(info.name, new_time, absolute, info.index)
    return expr.xreplace(mapping) if mapping else expr


class Notation(sympy.Symbol):
    """A symbol whose name is its LaTeX; a step at an absolute time carries an invisible mark.

    The mark keeps c_{3} at step 3 apart from a time-free quantity typeset c_{3}
    (the blog's z_3 is the third layer, not z at step 3); it is never printed.
    """

    MARK = "\u2060"

    def _latex(self, printer, exp=None):
        text = self.name.replace(self.MARK, "")
        return text if exp is None else f"{text}^{{{exp}}}"

    def _sympystr(self, printer):
        return self.name.replace(self.MARK, "")


def _entry(name, time, absolute, index):
    label = [] if time is None else [time_label(time, absolute)]
    tail = [("" if max(index) < 10 else ",").join(map(str, index))] if index else []
    symbol = Notation(_typeset(name, label + tail) + (Notation.MARK if absolute else ""), real=True)
    info = SymbolInfo(name, time, absolute, index)
    if SYMBOLS.setdefault(symbol, info) != info:
        raise ModelError(f"symbol {symbol} would stand for both {SYMBOLS[symbol]} and {info}")
    return symbol


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
        return BUILDERS[self.options["builder"]](**{**{k: v for k, v in self.options.items() if k != "builder"},
                                                   "n": n})

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
    @cached_property
    def _traced(self):
        arguments: dict = {}
        for argument, shape in self.argument_shapes.items():
            if argument.endswith("_prev") and argument[:-5] in self.state:
                arguments[argument] = quantity(argument[:-5], -1, shape)
            elif argument in self.inputs:
                arguments[argument] = quantity(argument, 0 if self.state else None, shape)
            else:
                arguments[argument] = quantity(argument, None, shape)
        zeros = {symbol: sympy.S.Zero for name in self.removed for symbol in arguments[name]}
        if "phi" in inspect.signature(self.cell).parameters:
            arguments["phi"] = self.phi
        traced = trace(self.cell, arguments, lambda node, shape: quantity(node, 0 if self.state else None, shape))
        equations = {k: v.xreplace(zeros) for k, v in traced.equations.items()}
        params = {name: arguments[name] for name in self.param_shapes}
        return params, equations

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
        return quantity(name, time if self.state else None, self.shape(name), absolute)

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


def _build(name, title, cell, n, m, activation, state, gates, input_weights=(), bias=True, inputs=("x",),
           options=None):
    if not isinstance(n, int) or not isinstance(m, int) or n < 1 or m < 1:
        raise ModelError(f"sizes must be positive whole numbers, got n={n!r}, m={m!r}")
    if activation not in ("sigmoid", "tanh", None):
        raise ModelError(f"activation must be 'sigmoid' or 'tanh', got {activation!r}")
    return Model(name=name, title=title, cell=cell, n=n, m=m, activation=activation, state=state, gates=gates,
                 inputs=tuple(i for i in inputs if i in inspect.signature(cell).parameters),
                 input_weights=frozenset(input_weights), bias=bias, options=options or {})


def rnn(n: int = 1, activation: str = "sigmoid", form: str = "arbel", m: int | None = None,
        bias: bool = True) -> Model:
    """Vanilla RNN: form 'arbel' is c_t = φ(W_rec c_{t-1} + W_in x_t + b); form 'cv' is h_t = φ(w h_{t-1})."""
    if form == "arbel":
        return _build("rnn", f"RNN, $c_t = \\{'sigma' if activation == 'sigmoid' else 'tanh'}"
                      r"(W_{\mathrm{rec}} c_{t-1} + W_{\mathrm{in}} x_t" + (" + b" if bias else "") + ")$",
                      cells.rnn, n, m or n, activation, ("c",), (), {"W_in"}, bias,
                      options=dict(builder="rnn", activation=activation, form=form, m=m, bias=bias))
    if form == "cv":
        return _build("rnn_autonomous", f"RNN, $h_t = \\{'sigma' if activation == 'sigmoid' else 'tanh'}(w h_{{t-1}})$",
                      cells.rnn_autonomous, n, m or n, activation, ("h",), (),
                      options=dict(builder="rnn", activation=activation, form=form, m=m, bias=bias))
    raise ModelError(f"RNN form must be 'arbel' or 'cv', got {form!r}")


def lstm_1997(n: int = 1, m: int | None = None, bias: bool = True) -> Model:
    """LSTM without forget gate (Hochreiter & Schmidhuber 1997; tanh for cell input and output)."""
    return _build("lstm_1997", "LSTM of 1997 (no forget gate)", cells.lstm_1997, n, m or n, None,
                  ("c", "h"), ("i", "c_tilde", "o"), {"W_ix", "W_cx", "W_ox"}, bias,
                  options=dict(builder="lstm_1997", m=m, bias=bias))


def lstm_forget(n: int = 1, m: int | None = None, bias: bool = True) -> Model:
    """Forget-gate LSTM with gates computed from [h_{t-1}, x_t]."""
    return _build("lstm_forget", "Forget-gate LSTM", cells.lstm_forget, n, m or n, None,
                  ("c", "h"), ("f", "i", "c_tilde", "o"), {"W_fx", "W_ix", "W_cx", "W_ox"}, bias,
                  options=dict(builder="lstm_forget", m=m, bias=bias))


def lstm_peephole(n: int = 1, m: int | None = None, bias: bool = True) -> Model:
    """Peephole ("vanilla") LSTM of Greff et al. (2015): input weights W_*, recurrent R_*, peepholes p_*."""
    return _build("lstm_peephole", "Peephole LSTM (Greff et al. 2015)", cells.lstm_peephole, n, m or n, None,
                  ("c", "h"), ("z", "i", "f", "o"), {"W_z", "W_i", "W_f", "W_o"}, bias,
                  options=dict(builder="lstm_peephole", m=m, bias=bias))


def ff_chain(activation: str = "sigmoid") -> Model:
    """Three-layer feed-forward chain, one node per layer (blog "Vanishing Gradients & LSTMs")."""
    return _build("ff_chain", "Three-layer feed-forward chain", cells.ff_chain, 1, 1, activation,
                  (), (), (), True, inputs=("X",), options=dict(builder="ff_chain", activation=activation))


BUILDERS = {"rnn": rnn, "lstm_1997": lstm_1997, "lstm_forget": lstm_forget,
            "lstm_peephole": lstm_peephole, "ff_chain": ff_chain}
