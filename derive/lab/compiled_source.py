"""The source of a compiled chain kernel, generated from a model's one-unit SymPy blocks.

`derive.lab.compiled` writes this source to a file in its disk cache and lets numba
compile it with `cache=True`, so the machine code is made once per machine.
The number of units n is read from the arrays at run time, never baked in: one
kernel (and one cache entry) serves every size of a model kind.

Per step: one branch-free loop over the units computes every node and every
block coefficient (vectorised by LLVM: the exponentials are polynomials, not
libm calls); one pass over the rows of the weights builds the rows
Σ_k diag(gain_k) W_k and, from the same rows, the next step's products W·r_t;
one product Y = A P_r (by BLAS, or column by column while P_r is a selection,
as in the first steps); one pass makes the new tangent from Y and the old one.
A state whose blocks are diag(q) times an earlier state's plus a remainder (h
after c in an LSTM) gets no rows of its own: only the remainder's weights enter
A, and its new block is q ⊙ (the earlier state's new block) + ….
The magnitude of P is checked every `every` steps and rescaled by a power of
two, which is exact: any stride gives the numbers of rescaling every step (a
stretch that would leave the safe range is redone step by step from a snapshot).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy.printing.numpy import NumPyPrinter

from derive.errors import ModelError
from derive.lab.compiled_templates import DRAW, HELPERS, ROW_FLAGS, UNIT_FLAGS
from derive.lab.linearization import linearization
from derive.models import Model
from derive.quantity import quantity_of
from derive.rules import Sigmoid


class _Printer(NumPyPrinter):
    """NumPy code for numba: σ and tanh by the kernel's helpers, symbols by their generated names."""

    def __init__(self, names: dict):
        super().__init__({"fully_qualified_modules": True})
        self.names = names

    def _print_Symbol(self, symbol):
        return self.names[symbol]

    def _print_Sigmoid(self, expr):
        return self.names.get(expr) or "_sigmoid(%s)" % self._print(expr.args[0])

    def _print_tanh(self, expr):
        return self.names.get(expr) or "_tanh(%s)" % self._print(expr.args[0])

    def _print_Pow(self, expr, rational=False):
        # A small whole power as products: numba's x**k is a loop, which keeps LLVM from vectorising.
        base, exponent = expr.args
        if exponent.is_Integer and 2 <= exponent <= 4:
            return "(" + "*".join([self.parenthesize(base, 100)] * int(exponent)) + ")"
        return super()._print_Pow(expr, rational)


@dataclass(frozen=True)
class Source:
    """A kernel's source and the layout of its arguments, which `derive.lab.compiled.chain` packs."""

    text: str
    input_weights: tuple  # the (n × m) weights applied to the inputs, stacked in this order
    weights: tuple  # ((weight, state), ...): the (n × n) weights applied to previous states, stacked in this order
    vectors: tuple  # the (n × 1) parameters, stacked in this order


def _parents(plan, states, mixed) -> dict:
    """Target states whose blocks are diag(q) times an earlier state's plus a remainder: s -> (parent, q).

    In an LSTM ∂h_t/∂· = diag(∂h_t/∂c_t) ∂c_t/∂· + (the path through o_t): then
    only the rows of the parent are built each step, the remainder's weights
    are multiplied as they are, and the child's new block is q ⊙ (the parent's
    new block) + the remainder. Found as q = gain_s / gain_parent (a polynomial
    in the step's symbols) for which every shared coefficient is q times the
    parent's, exactly (SymPy expand).
    """
    expressions = plan.expressions
    parents: dict = {}
    for s_index, s in enumerate(states):
        for parent_index, parent in enumerate(states[:s_index]):
            if parent in parents:
                continue
            pairs = [(gp, gs) for r in mixed for gp, gs in zip(plan.gains[r][parent_index], plan.gains[r][s_index])
                     if gp is not None]
            pairs += [(plan.direct[r][parent_index], plan.direct[r][s_index]) for r in states
                      if plan.direct[r][parent_index] is not None]
            if not pairs or any(gs is None for _, gs in pairs):
                continue
            ratio = sympy.cancel(expressions[pairs[0][1]] / expressions[pairs[0][0]])
            if sympy.fraction(ratio)[1] != 1:
                continue
            if all(sympy.expand(expressions[gs] - ratio * expressions[gp]) == 0 for gp, gs in pairs):
                parents[s] = (parent, sympy.expand(ratio))
                break
    return parents


def _used_outputs(plan, states, mixed, parents) -> set:
    """The coefficients the kernel reads: all of a state without a parent, the remainder of one with."""
    used = set()
    for s_index, s in enumerate(states):
        parent_index = states.index(parents[s][0]) if s in parents else None
        for r in mixed:
            used |= {g for k, g in enumerate(plan.gains[r][s_index]) if g is not None
                     and (parent_index is None or plan.gains[r][parent_index][k] is None)}
        used |= {plan.direct[r][s_index] for r in states if plan.direct[r][s_index] is not None
                 and (parent_index is None or plan.direct[r][parent_index] is None)}
    return used


def _indent(lines, depth: int) -> str:
    return "\n".join(" " * depth + line for line in lines)


def generate(model: Model, semantics: str) -> Source:
    """The kernel module's source for one model kind and semantics (any n)."""
    linear = linearization(model)
    scalar = linear.scalar
    plan = linear.plan(semantics)
    matrices = linear.matrix_params
    states = model.state
    vector_names = tuple(sorted(name for name in model.param_shapes if name not in matrices))
    # Every loop reads few arrays and writes one, so LLVM's runtime alias checks stay few enough to vectorise.
    names = {}  # how each scalar symbol reads inside the loop over units a
    for symbol in set(linear.symbols) | {s for e in scalar.equations.values() for s in e.free_symbols}:
        info = quantity_of(symbol)
        if info is None or info.name in matrices:
            continue
        if info.time is None:
            names[symbol] = f"vectors[{vector_names.index(info.name)}, a]"
        elif info.time == -1:
            names[symbol] = f"previous[{states.index(info.name)}, a]"
        else:
            names[symbol] = f"node_{info.name}"
    printer = _Printer(names)
    input_weights = []  # projected for all steps at once, before the loop
    products = []  # (weight, previous state): rows of the stacked weights
    units = []
    # An activation the coefficients need again (tanh(c_t) of the output equation) is computed once.
    needed = {a for e in plan.expressions for a in e.atoms(sympy.tanh, Sigmoid) if a.args[0].is_Symbol}
    for node, definition in scalar.equations.items():
        for application in sorted(definition[0, 0].atoms(sympy.tanh, Sigmoid) & needed, key=str):
            if application not in names:
                text = printer.doprint(application)
                names[application] = f"applied_{len(names)}"
                units.append(f"{names[application]} = {text}")
        terms = []
        for term in sympy.Add.make_args(definition[0, 0]):
            weights = [f for f in sympy.Mul.make_args(term) if quantity_of(f) and quantity_of(f).name in matrices]
            if not weights:
                terms.append(printer.doprint(term))
                continue
            (weight,) = weights
            info = quantity_of(term / weight)
            if info is None or not (info.name in model.inputs or (info.time == -1 and info.name in states)):
                raise ModelError(f"{model.name}: cannot compile the term {term} of {node}")
            if info.name in model.inputs:
                input_weights.append(quantity_of(weight).name)
                terms.append(f"projections[step, {len(input_weights) - 1} * n + a]")
            else:
                products.append((quantity_of(weight).name, info.name))
                terms.append(f"products[{{{len(products) - 1}}} * n + a]")
        units.append(f"node_{node} = " + " + ".join(terms))
    # The stacked weights grouped by the state they multiply; row k of `products` is weight k times that state.
    stacked = [pair for state in states for pair in products if pair[1] == state]
    units = [line.format(*[stacked.index(pair) for pair in products]) for line in units]
    units += [f"work[{k}, a] = node_{state}" for k, state in enumerate(states)]
    mixed = [r for r in states if plan.weights[r]]
    parents = _parents(plan, states, mixed)
    ratios = {s: len(plan.expressions) + k for k, s in enumerate(parents)}  # output index of each ratio q_s
    used = sorted(_used_outputs(plan, states, mixed, parents)) + list(ratios.values())
    outputs = list(plan.expressions) + [q for _, q in parents.values()]
    shared, reduced = sympy.cse([outputs[k] for k in used], symbols=sympy.numbered_symbols("shared_"))
    for symbol, value in shared:
        names[symbol] = str(symbol)
        units.append(f"{symbol} = {printer.doprint(value)}")
    coefficient = {k: len(states) + row for row, k in enumerate(used)}  # the row of `work` holding output k
    units += [f"work[{coefficient[k]}, a] = {printer.doprint(expr)}" for k, expr in zip(used, reduced)]

    functions = ["", "", UNIT_FLAGS, "def units(step, projections, vectors, previous, products, work):",
                 "    n = work.shape[1]", "    for a in range(n):"] + ["        " + line for line in units]
    step = ["units(step, projections, vectors, previous, products, work)"]
    restart = []  # after a restore: the products of the restored states
    for r in states:
        rows = [k for k, (_, state) in enumerate(stacked) if state == r]
        if not rows:
            continue
        product = (f"numpy.dot(weights[{rows[0]} * n:{rows[-1] + 1} * n], previous[{states.index(r)}], "
                   f"products[{rows[0]} * n:{rows[-1] + 1} * n])")
        restart.append(product)
        if r not in mixed:  # no block to build from these rows: the product alone, at the start of each step
            step.insert(0, product)
    setup = list(restart)
    # Per mixed state r: Y_r = A_r @ P_r by BLAS, where A_r stacks the rows Σ_k diag(gain_k) W_k of each target
    # state without a parent (built every step) and the plain weights of the parents' remainders (set once);
    # then one pass makes every new block from Y, the old blocks and the new parent blocks.
    blocks = {r: [] for r in mixed}  # r -> [(target, weight or None for built rows)], in the order of A_r's rows
    for r in mixed:
        for s_index, s in enumerate(states):
            if s not in parents:
                blocks[r].append((s, None))
                continue
            parent_index = states.index(parents[s][0])
            blocks[r] += [(s, (gain, weight)) for gain, weight, parent_gain in
                          zip(plan.gains[r][s_index], plan.weights[r], plan.gains[r][parent_index])
                          if gain is not None and parent_gain is None]
    for r in mixed:
        for weight in plan.weights[r]:
            if (weight, r) not in stacked:
                raise ModelError(f"{model.name}: the weight {weight} of a block does not multiply {r}")
        rows = [k for k, (_, state) in enumerate(stacked) if state == r]
        built = []
        for block, (s, residual) in enumerate(blocks[r]):
            if residual is None:
                s_index = states.index(s)
                parts = [f"gain_{g} * row_{stacked.index((w, r))}"
                         for g, w in zip(plan.gains[r][s_index], plan.weights[r]) if g is not None]
                built.append(f"            A[{block} * n + a, b] = " + (" + ".join(parts) or "0.0"))
            else:
                setup.append(f"A_{r}[{block} * n:{block + 1} * n] = weights[{stacked.index((residual[1], r))} * n:"
                             f"{stacked.index((residual[1], r)) + 1} * n]")
        gains = sorted({g for s_index, s in enumerate(states) if s not in parents
                        for g in plan.gains[r][s_index] if g is not None})
        # Each row of the weights is read once per step: for the rows of A and for the next step's product.
        functions += ["", "", ROW_FLAGS, f"def mix_{r}(work, weights, A, products):",
                      f'    """The rows Σ_k diag(gain_k) W_k of A, and the weights times the new {r}."""',
                      "    n = work.shape[1]", f"    following_state = work[{states.index(r)}]", "    for a in range(n):"]
        functions += [f"        gain_{g} = work[{coefficient[g]}, a]" for g in gains]
        functions += [f"        sum_{k} = 0.0" for k in rows] + ["        for b in range(n):"]
        functions += [f"            row_{k} = weights[{k} * n + a, b]" for k in rows] + built
        functions += [f"            sum_{k} += row_{k} * following_state[b]" for k in rows]
        functions += [f"        products[{k} * n + a] = sum_{k}" for k in rows]
        setup = [f"A_{r} = numpy.empty(({len(blocks[r])} * n, n))",
                 f"Y_{r} = numpy.empty((A_{r}.shape[0], P.shape[2]))"] + setup  # P: n rows, its part's columns
        setup.append(f"structured_{r} = True")
        step += [f"mix_{r}(work, weights, A_{r}, products)",
                 f"structured_{r} = product(A_{r}, current[{states.index(r)}], Y_{r}, rows, structured_{r})"]
    # The pass: new blocks in state order, so that a parent's new block is at hand for its children.
    terms, used = [], set()
    for s_index, s in enumerate(states):
        parent_index = states.index(parents[s][0]) if s in parents else None
        parts = []
        if s in parents:
            parts.append(f"ratio_{s} * new_{parents[s][0]}")
            used.add(f"        ratio_{s} = work[{coefficient[ratios[s]]}, a]")
        for r_index, r in enumerate(states):
            k = plan.direct[r][s_index]
            if k is not None and (parent_index is None or plan.direct[r][parent_index] is None):
                parts.append(f"direct_{k} * current[{r_index}, a, b]")
                used.add(f"        direct_{k} = work[{coefficient[k]}, a]")
        for r in mixed:
            for block, (target, residual) in enumerate(blocks[r]):
                if target != s:
                    continue
                if residual is None:
                    parts.append(f"Y_{r}[{block} * n + a, b]")
                else:
                    parts.append(f"gain_{residual[0]} * Y_{r}[{block} * n + a, b]")
                    used.add(f"        gain_{residual[0]} = work[{coefficient[residual[0]]}, a]")
        terms += [f"            new_{s} = " + (" + ".join(parts) or "0.0"), f"            following[{s_index}, a, b] = new_{s}"]
    y_arguments = "".join(f", Y_{r}" for r in mixed)
    functions += ["", "", UNIT_FLAGS, f"def update(work, current, following{y_arguments}):", "    n = work.shape[1]",
                  "    columns = current.shape[2]", "    for a in range(n):"] + sorted(used)
    functions += ["        for b in range(columns):"] + terms
    step += [f"update(work, current, following{y_arguments})", "current, following = following, current",
             f"previous[:] = work[:{len(states)}]"]

    text = (f'"""Compiled chain of {model.name} ({semantics}), generated by derive.lab.compiled_source: '
            'do not edit."""\n'
            + HELPERS + "\n".join(functions) + DRAW.format(
                rows=len(states) + len(reduced), setup=_indent(setup, 4), step=_indent(step, 12),
                restart=_indent(restart, 12),
                projections="numpy.dot(inputs, input_stack.T)" if input_weights else "numpy.zeros((0, 0))"))
    return Source(text, tuple(input_weights), tuple(stacked), vector_names)
