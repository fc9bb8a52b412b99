"""The structured one-step blocks of a model, derived once from its one-unit twin and lambdified for NumPy.

Every cell mixes units only through matrix products `W @ state` inside its
pre-activations; everything after a pre-activation is elementwise. So each
exact one-step block has the form

    ∂s_t/∂r_{t-1} = diag(direct) + Σ_k diag(gain_k) · W_k,

where `direct` and `gain_k` are scalar SymPy derivatives of the one-unit model,
lambdified and evaluated elementwise on the node values of a batched NumPy run
of the cell (derive.lab.numeric multiplies them).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from derive.errors import ModelError
from derive.exact.blocks import expanded_except
from derive.exact.collapse import collapse
from derive.models import Model
from derive.quantity import quantity_of, sorted_symbols
from derive.rules import namespace


@dataclass(frozen=True)
class Coupling:
    """One block ∂s_t/∂r_{t-1} = diag(direct) + Σ diag(gain) · weight, as scalar SymPy expressions."""

    direct: object  # SymPy expression in the step's scalar symbols (0 when there is none)
    mixed: tuple  # ((gain expression, weight name), ...)


@dataclass(frozen=True)
class Plan:
    """Every coefficient of the one-step blocks in one lambdified function (common subexpressions shared).

    For each previous state r: `direct[r][s]` and `gains[r][s][k]` index the
    function's outputs (None: zero), `weights[r]` names the matrices that multiply r.
    """

    function: object
    direct: dict
    weights: dict
    gains: dict
    expressions: tuple = ()  # the function's outputs as SymPy expressions


class Linearization:
    """The structured one-step blocks of a model, derived once from its one-unit twin.

    `couplings[(s, r)]` is ∂s_t/∂r_{t-1} (full Markov block; `truncated_couplings`
    with gates held constant), `plan(semantics)` their coefficients compiled in one function.
    """

    def __init__(self, model: Model):
        if not model.state:
            raise ModelError(f"{model.name} is not a recurrence")
        self.model = model
        scalar = model.resized(1) if model.n != 1 else model
        self.scalar = scalar
        # Which parameters are matrices is read off the two-unit shapes: in one unit all are 1×1.
        self.matrix_params = {name for name, shape in model.resized(2).param_shapes.items() if shape[1] > 1}
        self.symbols = sorted_symbols(self._step_symbols(scalar))
        self.mixing = self._mixing_nodes(scalar)
        self._plans: dict = {}
        self.couplings = self._couplings(scalar, truncated=False)
        self.truncated_couplings = self._couplings(scalar, truncated=True) if model.gates else self.couplings
        self.recurrent = sorted({w for c in self.couplings.values() for _, w in c.mixed})

    # -- derivation ---------------------------------------------------------------------
    def _step_symbols(self, scalar: Model) -> set:
        symbols = set()
        for name in scalar.equations:
            symbols |= set(scalar.q(name, 0))
        for state in scalar.state:
            symbols |= set(scalar.q(state, -1))
        for name in scalar.inputs:
            symbols |= set(scalar.q(name, 0))
        for name, matrix in scalar.params.items():
            if name not in self.matrix_params:
                symbols |= set(matrix)
        return symbols

    def _mixing_nodes(self, scalar: Model) -> dict:
        """Pre-activation nodes that multiply a previous state by a weight matrix: name -> {state: weights}."""
        mixing = {}
        for name, definition in scalar.equations.items():
            for state in scalar.state:
                coefficient = sympy.expand(definition[0, 0].diff(scalar.q(state, -1)[0, 0]))
                weights = [t for t in sympy.Add.make_args(coefficient) if t.is_Symbol and
                           quantity_of(t) and quantity_of(t).name in self.matrix_params]
                if weights:
                    mixing.setdefault(name, {})[state] = weights
        return mixing

    def _check_elementwise(self, exprs) -> None:
        leftovers = {s for e in exprs for s in e.free_symbols if s not in self.symbols}
        if leftovers:
            raise ModelError(f"{self.model.name}: an elementwise derivative still holds {sorted(map(str, leftovers))}")

    def _couplings(self, scalar: Model, truncated: bool) -> dict:
        """Each block as {None: direct, weight: gain}: diag(direct) + Σ diag(gain) · weight.

        Pre-activations may depend on earlier ones elementwise (a peephole on
        this step's c), so their derivatives are accumulated in equation order:
        diag(a) · (diag(d) + Σ diag(g) W) = diag(a d) + Σ diag(a g) W.
        """
        keep = tuple(self.mixing) + (tuple(scalar.gates) if truncated else ())
        expanded = expanded_except(scalar, keep, 0)
        mixing_symbols = {node: scalar.q(node, 0)[0, 0] for node in self.mixing}

        def derivative(expr, r, totals):
            """{None: elementwise part, weight: gain} of d expr / d r_{t-1}."""
            previous = scalar.q(r, -1)[0, 0]
            result = {None: expr.diff(previous)}
            for node, symbol in mixing_symbols.items():
                if node not in totals:
                    continue
                gain = expr.diff(symbol)
                if gain != 0:
                    for key, value in totals[node].items():
                        result[key] = result.get(key, 0) + gain * value
            return result

        couplings = {}
        for r in scalar.state:
            previous = scalar.q(r, -1)[0, 0]
            totals: dict = {}
            for node in self.mixing:  # equation order
                definition = expanded[node][0, 0]
                weights = self.mixing[node].get(r, [])
                elementwise = definition - sum((w * previous for w in weights), sympy.S.Zero)
                total = derivative(elementwise, r, totals)
                for weight in weights:
                    key = quantity_of(weight).name
                    total[key] = total.get(key, 0) + 1
                totals[node] = total
            for s in scalar.state:
                total = derivative(expanded[s][0, 0], r, totals)
                direct = self._collapsed(total.pop(None), scalar)
                mixed = tuple((self._collapsed(g, scalar), w) for w, g in sorted(total.items())
                              if self._collapsed(g, scalar) != 0)
                self._check_elementwise([direct] + [g for g, _ in mixed])
                couplings[(s, r)] = Coupling(direct, mixed)
        return couplings

    def plan(self, semantics: str) -> Plan:
        """The compiled coefficients of the full or truncated blocks (made once per semantics)."""
        if semantics not in self._plans:
            couplings = self.truncated_couplings if semantics == "truncated" else self.couplings
            outputs: list = []

            def slot(expr):
                if expr == 0:
                    return None
                outputs.append(expr)
                return len(outputs) - 1

            states = self.model.state
            direct = {r: [slot(couplings[(s, r)].direct) for s in states] for r in states}
            weights = {r: tuple(sorted({w for s in states for _, w in couplings[(s, r)].mixed})) for r in states}
            gains = {r: [[slot(next((g for g, name in couplings[(s, r)].mixed if name == w), 0))
                          for w in weights[r]] for s in states] for r in states}
            function = sympy.lambdify(self.symbols, outputs, modules=[namespace("numpy"), "numpy"], cse=True)
            self._plans[semantics] = Plan(function, direct, weights, gains, tuple(outputs))
        return self._plans[semantics]

    @staticmethod
    def _collapsed(expr, scalar: Model):
        return sympy.expand(collapse(sympy.Matrix([[expr]]), scalar, (0,))[0, 0])

    # -- evaluation -----------------------------------------------------------------------
    def values(self, params: dict, previous: dict, nodes: dict) -> list:
        """Arguments for the lambdified pieces: one (B, n) array per scalar symbol of the step."""
        arguments = []
        for symbol in self.symbols:
            info = quantity_of(symbol)
            if info.time is None:
                array = params[info.name]
            elif info.time == -1:
                array = previous[info.name]
            else:
                array = nodes[info.name]
            arguments.append(array[..., 0])
        return arguments


_LINEARIZATIONS: dict = {}


def linearization(model: Model) -> Linearization:
    """The Linearization of `model`, derived once per model kind and size."""
    key = (model.n, tuple(sorted((k, str(v)) for k, v in model.options.items())))
    if key not in _LINEARIZATIONS:
        _LINEARIZATIONS[key] = Linearization(model)
    return _LINEARIZATIONS[key]
