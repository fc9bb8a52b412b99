"""The chain compiled with numba: the forward step and the lambdified blocks fused in one loop.

`derive.lab.numeric.chain` runs the cell in NumPy and pays Python's overhead at
every step; for spans of thousands of steps at moderate n that overhead is
most of the time. Here the same mathematics is generated as the source of one
numba function from the one-unit SymPy model: each equation of the cell (its
matrix products with the weights, its elementwise rest) and each coefficient
of the one-step blocks (`Linearization.plan`), then the product
diag(direct) P + (Σ_k diag(gain_k) W_k) P with the same renormalisation and
log10 scale as `derive.lab.numeric.chain`. The tests hold the two to 1e-12.
"""
from __future__ import annotations

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from derive.errors import ModelError
from derive.lab.linearization import linearization
from derive.models import Model
from derive.quantity import quantity_of
from derive.rules import Sigmoid


def available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


class _Printer(NumPyPrinter):
    """NumPy code for numba: σ and tanh by the helpers below, symbols by their generated names."""

    def __init__(self, names: dict):
        super().__init__({"fully_qualified_modules": True})
        self.names = names

    def _print_Symbol(self, symbol):
        return self.names[symbol]

    def _print_Sigmoid(self, expr):
        return self.names.get(expr) or "_sigmoid(%s)" % self._print(expr.args[0])

    def _print_tanh(self, expr):
        return self.names.get(expr) or "_tanh(%s)" % self._print(expr.args[0])


# Scalar σ and tanh for the kernel: one exponential each, exact to rounding for every argument
# (expm1 keeps tanh accurate near 0; the branches keep exp from overflowing).
HELPERS = """
def _tanh(z):
    t = numpy.expm1(-2.0 * abs(z))
    r = -t / (t + 2.0)
    return r if z >= 0 else -r

def _sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + numpy.exp(-z))
    e = numpy.exp(z)
    return e / (1.0 + e)
"""


def _identifier(symbol) -> str:
    info = quantity_of(symbol)
    if info.time is None:
        return f"p_{info.name}"
    return f"{'prev' if info.time == -1 else 'node'}_{info.name}"


_KERNELS: dict = {}


def _kernel(model: Model, semantics: str):
    """The compiled fused chain for one model kind, size and semantics (made once)."""
    key = (tuple(sorted((k, str(v)) for k, v in model.options.items())), model.n, semantics)
    if key not in _KERNELS:
        _KERNELS[key] = _generate(model, semantics)
    return _KERNELS[key]


def _generate(model: Model, semantics: str):
    """Generate the kernel's source from the one-unit model and compile it with numba.

    Per step: the matrix products of the previous state (one BLAS call each),
    then one loop over the units that computes every node and every block
    coefficient as a scalar and writes the row of Σ_k diag(gain_k) W_k, then
    one BLAS product with P and one fused pass that renormalises.
    """
    import numba

    n = model.n
    linear = linearization(model)
    scalar = linear.scalar
    plan = linear.plan(semantics)
    matrices = linear.matrix_params
    states = model.state
    # How each scalar symbol reads inside the loop over units a.
    names = {}
    for symbol in set(linear.symbols) | {s for e in scalar.equations.values() for s in e.free_symbols}:
        info = quantity_of(symbol)
        if info is None:
            continue
        if info.time is None:
            names[symbol] = f"p_{info.name}[a]"
        elif info.time == -1:
            names[symbol] = f"prev_{info.name}[a]"
        else:
            names[symbol] = f"node_{info.name}"
    printer = _Printer(names)
    matrix_names = sorted(name for name in model.param_shapes if name in matrices)
    vector_names = sorted(name for name in model.param_shapes if name not in matrices)
    input_products = []  # (weight, input) pairs, projected for all steps before the loop
    products = []  # (weight, previous state): one matrix-vector product per step
    unit_lines = []
    # An activation the coefficients need again (tanh(c_t) of the output equation) is computed once.
    needed = {a for e in plan.expressions for a in e.atoms(sympy.tanh, Sigmoid) if a.args[0].is_Symbol}
    for node, definition in scalar.equations.items():
        for application in sorted(definition[0, 0].atoms(sympy.tanh, Sigmoid) & needed, key=str):
            if application not in names:
                unit_lines.append(f"applied_{len(unit_lines)} = {printer.doprint(application)}")
                names[application] = f"applied_{len(unit_lines) - 1}"
        terms = []
        for term in sympy.Add.make_args(definition[0, 0]):
            weights = [f for f in sympy.Mul.make_args(term) if quantity_of(f) and quantity_of(f).name in matrices]
            if not weights:
                terms.append(printer.doprint(term))
                continue
            (weight,) = weights
            rest = term / weight
            info = quantity_of(rest)
            if info is None or not (info.name in model.inputs or (info.time == -1 and info.name in states)):
                raise ModelError(f"{model.name}: cannot compile the term {term} of {node}")
            if info.name in model.inputs:
                input_products.append(quantity_of(weight).name)
                terms.append(f"projections[{len(input_products) - 1}][t, d, a]")
            else:
                products.append((quantity_of(weight).name, info.name))
                row = sum(1 for _, r in products[:-1] if r == info.name)
                terms.append(f"product_{info.name}[{row} * n + a]")
        unit_lines.append(f"node_{node} = " + " + ".join(terms))
    for state in states:
        unit_lines.append(f"next_{state}[a] = node_{state}")
    shared, reduced = sympy.cse(list(plan.expressions), symbols=sympy.numbered_symbols("shared_"))
    for symbol, value in shared:
        names[symbol] = str(symbol)
        unit_lines.append(f"{symbol} = {printer.doprint(value)}")
    for k, expr in enumerate(reduced):
        unit_lines.append(f"coefficient_{k} = {printer.doprint(expr)}")
    for r_index, r in enumerate(states):
        for s_index in range(len(states)):
            k = plan.direct[r][s_index]
            if k is not None:
                unit_lines.append(f"direct_{r_index}_{s_index}[a] = coefficient_{k}")
    mixed_states = [r_index for r_index, r in enumerate(states) if plan.weights[r]]
    for r_index in mixed_states:
        r = states[r_index]
        unit_lines.append("for b in range(n):")
        for s_index in range(len(states)):
            parts = [f"coefficient_{g} * p_{w}[a, b]" for g, w in zip(plan.gains[r][s_index], plan.weights[r])
                     if g is not None]
            unit_lines.append(f"    mixed_{r_index}[{s_index} * n + a, b] = " + (" + ".join(parts) or "0.0"))

    lines = ["def kernel(steps, projections, matrices, vectors, initial, perturbation):",
             "    draws = perturbation.shape[0]",
             "    log10_scale = numpy.zeros(draws)",
             f"    n = {n}",
             "    for d in range(draws):"]
    body = [f"p_{name} = matrices[{k}][d]" for k, name in enumerate(matrix_names)]
    body += [f"p_{name} = vectors[{k}][d]" for k, name in enumerate(vector_names)]
    body += [f"prev_{state} = initial[{k}, d].copy()" for k, state in enumerate(states)]
    body += [f"next_{state} = numpy.empty(n)" for state in states]
    body += ["P = perturbation[d]"]
    # The matrices that multiply each previous state, stacked: one matrix-vector product per state and step.
    for state in states:
        stacked = [w for w, r in products if r == state]
        if stacked:
            body.append(f"stack_{state} = numpy.ascontiguousarray(numpy.concatenate(("
                        + ", ".join(f"p_{w}" for w in stacked) + ",)))")
            body.append(f"product_{state} = numpy.empty({len(stacked)} * n)")
    for r_index in range(len(states)):
        body += [f"direct_{r_index}_{s_index} = numpy.zeros(n)" for s_index in range(len(states))]
    for r_index in mixed_states:
        body += [f"mixed_{r_index} = numpy.empty(({len(states)} * n, n))",
                 f"chained_{r_index} = numpy.empty(({len(states)} * n, n))"]
    body.append("for t in range(steps):")
    step = [f"numpy.dot(stack_{state}, prev_{state}, product_{state})" for state in states
            if any(r == state for _, r in products)]
    step.append("for a in range(n):")
    step += ["    " + line for line in unit_lines]
    step += [f"numpy.dot(mixed_{r_index}, P[{r_index}], chained_{r_index})" for r_index in mixed_states]
    # One fused pass, in place: every block's new value at (a, b) is made from the old values at (a, b).
    step += ["largest = 0.0", "for a in range(n):", "    for b in range(n):"]
    for s_index in range(len(states)):
        parts = [f"direct_{r_index}_{s_index}[a] * P[{r_index}, a, b]" for r_index in range(len(states))
                 if plan.direct[states[r_index]][s_index] is not None]
        parts += [f"chained_{r_index}[{s_index} * n + a, b]" for r_index in mixed_states]
        step.append(f"        value_{s_index} = " + (" + ".join(parts) or "0.0"))
    for s_index in range(len(states)):
        step += [f"        P[{s_index}, a, b] = value_{s_index}",
                 f"        largest = max(largest, abs(value_{s_index}))"]
    # Renormalise only when the magnitude drifts far from 1: exact, and no pass over P in most steps.
    step += ["if largest == 0.0 or (largest > 1e-100 and largest < 1e100):", "    largest = 1.0",
             "else:", "    P /= largest",
             "log10_scale[d] += numpy.log10(largest)"]
    step += [f"prev_{state}[:] = next_{state}" for state in states]
    body += ["    " + line for line in step]
    lines += ["        " + line for line in body]
    lines.append("    return perturbation, log10_scale")
    source = "\n".join(lines)
    namespace = {"numpy": np}
    exec(compile(HELPERS, "<derive compiled helpers>", "exec"), namespace)  # noqa: S102 - our own source
    for helper in ("_tanh", "_sigmoid"):
        namespace[helper] = numba.njit(inline="always")(namespace[helper])
    exec(compile(source, f"<derive compiled chain: {model.name}, n={n}, {semantics}>", "exec"), namespace)  # noqa: S102
    # reassociation lets LLVM vectorise the loops; no approximate functions (no "afn"), so tanh stays exact.
    kernel = numba.njit(fastmath={"reassoc", "contract", "nsz"}, error_model="numpy")(namespace["kernel"])
    return kernel, tuple(input_products), matrix_names, vector_names, source


def chain(model: Model, params: dict, steps: int, inputs: np.ndarray, initial: dict,
          semantics: str = "full", source: str | None = None):
    """∂c_T/∂source_0 for every draw, as `derive.lab.numeric.chain` computes it: (jacobian (draws, n, n) rescaled, log10 scale).

    Inputs must be given as an array (steps, draws, m, 1); the first call for a
    model kind and size compiles the kernel (a few seconds).
    """
    if not available():
        raise ModelError("numba is not installed; use derive.lab.numeric.chain")
    kernel, input_products, matrix_names, vector_names, _ = _kernel(model, semantics)
    draws = inputs.shape[1]
    projections = tuple(np.ascontiguousarray(np.einsum("tdm,dnm->tdn", inputs[..., 0], params[weight]))
                        for weight in input_products)
    zeros = {name: np.zeros((draws,) + model.argument_shapes[name]) for name in model.removed}
    everything = {**params, **zeros}
    matrices = tuple(np.ascontiguousarray(everything[name]) for name in matrix_names)
    vectors = tuple(np.ascontiguousarray(everything[name][..., 0]) for name in vector_names)
    states = model.state
    start = np.stack([initial[s][..., 0] for s in states])
    perturbation = np.zeros((draws, len(states), model.n, model.n))
    perturbation[:, states.index(source or states[0])] = np.eye(model.n)
    result, log10_scale = kernel(steps, projections, matrices, vectors, start, perturbation)
    return result[:, 0], log10_scale
