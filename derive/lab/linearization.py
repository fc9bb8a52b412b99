"""The structured one-step blocks of a model, derived once from its one-unit program and lambdified for NumPy.

Every model mixes its units only through products W @ v of a weight matrix
with a vector (derive.models.program); everything else is elementwise. So the
tangent of a node with respect to a previous state r is elementwise in the
tangents of its parents, except across a product, where W multiplies:

    ∂s_t/∂r_{t-1} = diag(direct) + Σ_k diag(gain_k) · W_k · V_k,

where V_k, the tangent of product k's operand, is the identity when the
operand is r_{t-1} itself (the pre-activations W h_{t-1} of the RNNs, LSTMs and
GRUs) and diag(a) + Σ_j diag(b_j) W_j V_j when the operand is elementwise in
the state and earlier products (the U_h (r_t ⊙ h_{t-1}) of Chung's GRU).
`direct`, `gain`, `a` and `b` are scalar SymPy derivatives of the one-unit
program, lambdified and evaluated elementwise on the node values of a
batched NumPy run of the cell (derive.lab.numeric multiplies them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from derive.errors import ModelError
from derive.models import Model
from derive.quantity import quantity_of, sorted_symbols
from derive.rules import namespace


@dataclass(frozen=True)
class Composite:
    """A product W @ v whose operand v is not a bare previous state: its tangent is W (Σ diag(·) tangents).

    `states[r]` and `products[reference]` index ∂v/∂r_{t-1} and ∂v/∂(an
    earlier product) among the plan's outputs; `gains[s]` indexes ∂s_t/∂(this
    product) (None: zero). A reference is ("state", r, k), the k-th product of
    `Plan.weights[r]`, or ("composite", i).
    """

    weight: str
    states: dict
    products: dict
    gains: tuple


@dataclass(frozen=True)
class Plan:
    """Every coefficient of the one-step blocks in one lambdified function (common subexpressions shared).

    For each previous state r: `direct[r][s]` and `gains[r][s][k]` index the
    function's outputs (None: zero), `weights[r]` names the matrices that
    multiply r itself; `composite` lists the other products, in order.
    """

    function: object
    direct: dict
    weights: dict
    gains: dict
    expressions: tuple = ()  # the function's outputs as SymPy expressions
    composite: tuple = ()


@dataclass(frozen=True)
class _Tangents:
    """The coefficients of one semantics as SymPy expressions, before they are numbered.

    A reference to a product is ("state", r, weight) for a bare one, ("composite", i) for another.
    """

    direct: dict  # (s, r) -> ∂s/∂r_{t-1}, products held
    bare: dict  # r -> [(weight, {s: ∂s/∂product})] for the products of r_{t-1} itself
    composite: list  # [(weight, {r: ∂v/∂r_{t-1}}, {reference: ∂v/∂product}, {s: ∂s/∂product})]


class Linearization:
    """The structured one-step blocks of a model, derived once from its one-unit program.

    `chain_plan(semantics)` gives their coefficients compiled in one function
    (full semantics, or truncated: gates held constant); `plan(semantics)` the
    same for models whose blocks need no composite products, the form
    derive.lab.compiled generates.
    """

    def __init__(self, model: Model):
        if not model.state:
            raise ModelError(f"{model.name} is not a recurrence")
        self.model = model
        self.scalar = model.resized(1) if model.n != 1 else model
        self.program = self.scalar.program
        self.matrix_params = {product.weight for product in self.program.products}
        self._products = {product.symbol[0, 0]: product for product in self.program.products}
        self._plans: dict = {}
        self._operands: dict = {}
        self._tangents = {"full": self._derive(truncated=False)}
        self._tangents["truncated"] = self._derive(truncated=True) if model.gates else self._tangents["full"]
        needed = {s for tangents in self._tangents.values() for e in self._expressions(tangents)
                  for s in e.free_symbols if s in self._products}
        self.symbols = sorted_symbols(self._step_symbols(self.scalar)) + sorted_symbols(needed)
        full = self._tangents["full"]
        self.recurrent = sorted({w for pairs in full.bare.values() for w, _ in pairs} |
                                {weight for weight, *_ in full.composite})

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

    def _derive(self, truncated: bool) -> _Tangents:
        """The tangent coefficients of every state and product, products held as atoms (gates too if truncated)."""
        scalar, program = self.scalar, self.program
        held = set(scalar.gates) if truncated else set()
        substitution: dict = {}
        expanded = {}
        for name, definition in program.equations.items():
            value = definition[0, 0].xreplace(substitution)
            expanded[name] = value
            if name not in held:
                substitution[scalar.q(name, 0)[0, 0]] = value
        previous = {r: scalar.q(r, -1)[0, 0] for r in scalar.state}
        symbols = [p.symbol[0, 0] for p in program.products]
        operands = [p.operand[0, 0].xreplace(substitution) for p in program.products]
        # A product varies with the state when its operand does; it matters when a state or a product that
        # matters depends on it. Only those enter the blocks (W x_t never does).
        varying: list = []
        for k, operand in enumerate(operands):
            if operand.free_symbols & (set(previous.values()) | {symbols[j] for j in varying}):
                varying.append(k)
        gain = {s: {k: expanded[s].diff(symbols[k]) for k in varying} for s in scalar.state}
        needed = {k for s in scalar.state for k, g in gain[s].items() if g != 0}
        for k in reversed(varying):
            if k in needed:
                needed |= {j for j in varying if j < k and operands[k].diff(symbols[j]) != 0}
        active = [k for k in varying if k in needed]
        direct = {(s, r): self._collapsed(expanded[s].diff(previous[r])) for s in scalar.state for r in scalar.state}
        bare: dict = {r: [] for r in scalar.state}
        composite: list = []
        references: dict = {}
        for k in active:
            weight = program.products[k].weight
            gains = {s: self._collapsed(gain[s][k]) for s in scalar.state}
            state = next((r for r, symbol in previous.items() if operands[k] == symbol), None)
            if state is not None:
                references[k] = ("state", state, weight)
                bare[state].append((weight, gains))
                continue
            by_state = {r: self._collapsed(operands[k].diff(symbol)) for r, symbol in previous.items()}
            by_product = {references[j]: self._collapsed(operands[k].diff(symbols[j])) for j in active if j < k}
            references[k] = ("composite", len(composite))
            composite.append((weight, by_state, by_product, gains))
        return _Tangents(direct, bare, composite)

    def _collapsed(self, expr):
        """`expr` with node symbols wherever a node's definition in the program occurs, expanded."""
        for name, definition in self.program.equations.items():
            entry = definition[0, 0]
            if not entry.is_Symbol or entry in self._products:  # z_t = W h_{t-1} is a node, not a bare product
                expr = expr.xreplace({entry: self.scalar.q(name, 0)[0, 0]})
        expr = sympy.expand(expr)
        leftovers = {s for s in expr.free_symbols if quantity_of(s) is not None and quantity_of(s).name in
                     self.matrix_params}
        if leftovers:
            raise ModelError(f"{self.model.name}: an elementwise derivative still holds {sorted(map(str, leftovers))}")
        return expr

    @staticmethod
    def _expressions(tangents: _Tangents) -> list:
        found = list(tangents.direct.values())
        for pairs in tangents.bare.values():
            found += [g for _, gains in pairs for g in gains.values()]
        for _, by_state, by_product, gains in tangents.composite:
            found += list(by_state.values()) + list(by_product.values()) + list(gains.values())
        return found

    # -- plans ----------------------------------------------------------------------------
    def chain_plan(self, semantics: str) -> Plan:
        """The compiled coefficients of the full or truncated blocks (made once per semantics)."""
        if semantics not in self._plans:
            tangents = self._tangents["truncated" if semantics == "truncated" else "full"]
            outputs: list = []

            def slot(expr):
                if expr == 0:
                    return None
                outputs.append(expr)
                return len(outputs) - 1

            states = self.model.state
            direct = {r: [slot(tangents.direct[(s, r)]) for s in states] for r in states}
            weights = {r: tuple(sorted({w for w, _ in tangents.bare[r]})) for r in states}
            gains = {r: [[slot(sum((g[s] for w, g in tangents.bare[r] if w == weight), sympy.S.Zero))
                          for weight in weights[r]] for s in states] for r in states}

            def place(reference):  # a bare product by its place among the sorted weights of its state
                return reference if reference[0] == "composite" else \
                    ("state", reference[1], weights[reference[1]].index(reference[2]))

            composite = tuple(Composite(weight, {r: slot(e) for r, e in by_state.items() if e != 0},
                                        {place(ref): slot(e) for ref, e in by_product.items() if e != 0},
                                        tuple(slot(gains_of[s]) for s in states))
                              for weight, by_state, by_product, gains_of in tangents.composite)
            function = sympy.lambdify(self.symbols, outputs, modules=[namespace("numpy"), "numpy"], cse=True)
            self._plans[semantics] = Plan(function, direct, weights, gains, tuple(outputs), composite)
        return self._plans[semantics]

    def plan(self, semantics: str) -> Plan:
        """`chain_plan` for a model whose products all multiply a previous state or an input and whose
        pre-activations add them up (Σ W·state + elementwise terms): the form derive.lab.compiled generates."""
        plan = self.chain_plan(semantics)
        if plan.composite or any(s in self._products for s in self.symbols) or not self._preactivations():
            raise ModelError(f"{self.model.name}: the compiled chain needs every weight in a pre-activation "
                             f"Σ W·(state or input) + ...; this model multiplies weights otherwise (use "
                             f"derive.lab.numeric.chain)")
        return plan

    def _preactivations(self) -> bool:
        leaves = {self.scalar.q(r, -1)[0, 0] for r in self.scalar.state} | \
                 {self.scalar.q(x, 0)[0, 0] for x in self.scalar.inputs}
        if any(product.operand[0, 0] not in leaves for product in self.program.products):
            return False
        for definition in self.program.equations.values():
            entry = definition[0, 0]
            top = set(sympy.Add.make_args(entry))
            if any(symbol in self._products and symbol not in top for symbol in entry.free_symbols):
                return False
        return True

    # -- evaluation -----------------------------------------------------------------------
    def _operand(self, symbol) -> tuple:
        """(weight, arguments, lambdified operand) of the product `symbol` stands for (made once)."""
        if symbol not in self._operands:
            product = self._products[symbol]
            arguments = sorted_symbols(product.operand[0, 0].free_symbols)
            self._operands[symbol] = (product.weight, arguments, sympy.lambdify(
                arguments, product.operand[0, 0], modules=[namespace("numpy"), "numpy"]))
        return self._operands[symbol]

    def values(self, params: dict, previous: dict, nodes: dict) -> list:
        """Arguments for the lambdified pieces: one (B, n) array per scalar symbol of the step."""
        arrays: dict = {}

        def array_of(symbol):
            if symbol in arrays:
                return arrays[symbol]
            if symbol in self._products:  # a product the coefficients name (no node holds its value)
                weight, arguments, function = self._operand(symbol)
                array = params[weight] @ np.asarray(function(*[array_of(s) for s in arguments]), dtype=float)
            else:
                info = quantity_of(symbol)
                if info.time is None:
                    array = params[info.name]
                elif info.time == -1:
                    array = previous[info.name]
                else:
                    array = nodes[info.name]
            arrays[symbol] = array
            return array

        return [array_of(symbol)[..., 0] for symbol in self.symbols]


_LINEARIZATIONS: dict = {}


def linearization(model: Model) -> Linearization:
    """The Linearization of `model`, derived once per model kind and size."""
    key = (model.n, tuple(sorted((k, str(v)) for k, v in model.options.items())))
    if key not in _LINEARIZATIONS:
        _LINEARIZATIONS[key] = Linearization(model)
    return _LINEARIZATIONS[key]
