"""Exact derivatives ∂a/∂b between any two quantities a formula names, at any two steps.

A formula's ∂c_t/∂c_{t-1}, ∂f_t/∂c_{t-1}, ∂c_k/∂c_1, ∂h_t/∂c_t, ∂a_3/∂W_3 are
computed exactly here, in the semantics the claim asks for (see the docstring
of derive.exact.blocks): the cases of derive.exact.blocks first (their results
are the articles' familiar forms), and any other pair of quantities by the
chain through the state (derive.exact.unroll). Three kinds of derivative:
PARTIAL (∂), IMMEDIATE (∂⁺ of Pascanu et al. 2013: the previous state held)
and TOTAL (d: every earlier step responds, so d/dW needs absolute steps).
When the numerator is an expression rather than one quantity —
∂/∂c_{t-1}[σ(W_f·[h_{t-1}, x_t])] — the chain rule runs over the quantities in
it; a derivative by a free variable of the claim (d/dz σ(z)) is SymPy's.
"""
from __future__ import annotations


import functools

import sympy

from derive.errors import NotationError
from derive.exact import blocks, unroll
from derive.exact.collapse import readable
from derive.models import Model
from derive.quantity import Quantity, QuantitySymbol, quantity_of, scalar_or_matrix
from derive.rules import Semantics

PARTIAL, IMMEDIATE, TOTAL = "partial", "immediate", "total"
LONGEST_UNROLLING = 6  # steps of c_k written in c_0 for ∂c_k/∂W (the expansion grows geometrically)
_SHIFT = 20  # relative times are moved to absolute t = 20 for derive.blocks.multi_step, and back


def spelled(quantity: Quantity) -> str:
    """A whole quantity in words, for messages: "c at t-1", "c at step 3", "W_fh"."""
    if quantity.time is None:
        return quantity.name
    return f"{quantity.name} at {'step ' if quantity.absolute else 't'}" \
           f"{quantity.time if quantity.absolute else f'{quantity.time:+d}'}"


def _entries(value) -> list:
    return list(value) if isinstance(value, sympy.MatrixBase) else [value]


def identify(model: Model, value) -> Quantity | None:
    """The whole quantity `value` is exactly (all its entries, in order), or None."""
    entries = _entries(value)
    infos = [quantity_of(e) for e in entries]
    if not entries or any(i is None for i in infos):
        return None
    first = infos[0]
    if first.adjoint or any(i.whole != first.whole for i in infos):
        return None
    names = set(model.param_shapes) | set(model.inputs) | set(model.equations)
    if first.name not in names:
        return None
    time = first.time if model.state and first.name not in model.param_shapes else None
    if _entries(model.q(first.name, time, first.absolute)) != entries:
        return None
    return Quantity(first.name, time, first.absolute)


def _kind(model: Model, ref: Quantity) -> str:
    if ref.name in model.param_shapes:
        return "parameter"
    if ref.name in model.inputs:
        return "input"
    return "node"


def _size(model: Model, ref: Quantity) -> int:
    rows, cols = model.shape(ref.name)
    return rows * cols


def _relative(expr, model: Model):
    """Absolute times written back as times relative to t (the inverse of the shift to _SHIFT)."""
    mapping = {}
    for symbol in expr.free_symbols:
        info = quantity_of(symbol)
        if info is None or info.time is None or not info.absolute:
            continue
        mapping[symbol] = QuantitySymbol(info.at(info.time - _SHIFT, False))
    return expr.xreplace(mapping)


def _multi_step(model: Model, first: int, last: int, absolute: bool, semantics: str):
    if last - first > unroll.LONGEST_CHAIN:
        raise NotationError(f"∂c over {last - first} steps: the limit is {unroll.LONGEST_CHAIN}")
    if absolute:
        return blocks.multi_step(model, first, last, semantics)
    result = blocks.multi_step(model, first + _SHIFT, last + _SHIFT, semantics)
    return _relative(result, model)


def _in_step(model: Model, numerator: Quantity, leaf, semantics: str):
    """∂numerator/∂leaf within numerator's step; leaf is an input, a parameter or a state at t-1."""
    return unroll.by_leaves(model, numerator.name, _entries(leaf), numerator.time or 0, numerator.absolute, semantics)


def _by_parameter(model: Model, numerator: Quantity, parameter: Quantity, mode: str):
    matrix = model.q(parameter.name)
    if matrix.shape[1] != 1 and len(matrix) > 1:
        raise NotationError(f"∂/∂{parameter.name} of an {matrix.shape[0]}×{matrix.shape[1]} matrix is a "
                            f"third-order tensor; use a scalar model (n = 1)")
    if model.state and mode == TOTAL and not numerator.absolute:
        raise NotationError(f"the total derivative d/d{parameter.name} runs back to the start of the trajectory: "
                            f"give the times values (values = {{ t = 3 }})")
    if model.state and numerator.absolute and mode != IMMEDIATE:
        if numerator.time > LONGEST_UNROLLING:
            raise NotationError(f"∂/∂{parameter.name} unrolls the recurrence to step {numerator.time}; the "
                                f"limit is step {LONGEST_UNROLLING}")
        if numerator.time < 1:
            return scalar_or_matrix(sympy.zeros(_size(model, numerator), len(matrix)))
        unrolled = blocks.unrolled(model, numerator.name, numerator.time).jacobian(list(matrix))
        return scalar_or_matrix(blocks.collapse_unrolled(unrolled, model, numerator.time))
    # Relative times, or ∂⁺: within the step, the state before it held (the article's ∂c_1/∂W with c_0 given).
    return _in_step(model, numerator, matrix, Semantics.FULL)


def _check_start(model: Model, quantity: Quantity) -> None:
    """Step 0 of a trajectory holds only the initial state; nothing else exists there."""
    if model.state and quantity.absolute and quantity.time is not None:
        if quantity.time < 0 or (quantity.time == 0 and quantity.name not in model.state):
            raise NotationError(f"{spelled(quantity)}: step 0 holds only the initial state "
                                f"({', '.join(f'{s}_0' for s in model.state)}); the steps of {model.name} are 1, 2, ...")


def _immediate(model: Model, numerator: Quantity, denominator: Quantity, semantics: str):
    """∂⁺numerator/∂denominator: within numerator's step, the state before it held (Pascanu et al. 2013)."""
    zero = scalar_or_matrix(sympy.zeros(_size(model, numerator), _size(model, denominator)))
    if denominator.time == numerator.time:
        return unroll.within_step(model, numerator.name, denominator.name, numerator.time, numerator.absolute,
                                  semantics)
    if denominator.name in model.state and denominator.time == numerator.time - 1:
        return _in_step(model, numerator, model.q(denominator.name, denominator.time, denominator.absolute),
                        semantics)
    return zero  # the previous state is held, so nothing earlier reaches the numerator


def quantity_derivative(model: Model, numerator: Quantity, denominator: Quantity, semantics: str,
                        mode: str = PARTIAL):
    """The exact ∂numerator/∂denominator (scalar, or rows = numerator entries, columns = denominator entries).

    `mode` is PARTIAL (∂), IMMEDIATE (∂⁺: the previous state held) or TOTAL (d: every earlier step responds).
    Each one is computed once per process (a claim's diagnosis reads its formula again and again); the
    caller gets its own copy of a matrix.
    """
    result = _quantity_derivative(model, numerator, denominator, str(semantics), mode)
    return result.copy() if isinstance(result, sympy.MatrixBase) else result


@functools.lru_cache(maxsize=512)
def _quantity_derivative(model: Model, numerator: Quantity, denominator: Quantity, semantics: str, mode: str):
    rows, cols = _size(model, numerator), _size(model, denominator)
    zero = scalar_or_matrix(sympy.zeros(rows, cols))
    if numerator == denominator:
        return scalar_or_matrix(sympy.eye(rows))
    num_kind, den_kind = _kind(model, numerator), _kind(model, denominator)
    if den_kind == "parameter":
        return zero if num_kind != "node" else _by_parameter(model, numerator, denominator, mode)
    if num_kind != "node":
        return zero  # parameters and inputs depend on nothing
    if model.state and numerator.absolute != denominator.absolute:
        raise NotationError("a derivative mixes absolute steps with times relative to t")
    _check_start(model, numerator)
    _check_start(model, denominator)
    if model.state and (numerator.time < denominator.time or (numerator.absolute and numerator.time == 0)):
        return zero  # the future does not reach the past; c_0 and h_0 are drawn independently
    if not model.state or numerator.time == denominator.time:
        return unroll.within_step(model, numerator.name, denominator.name, numerator.time or 0,
                                  numerator.absolute, semantics)
    if mode == IMMEDIATE:
        return _immediate(model, numerator, denominator, semantics)
    from_start = denominator.absolute and denominator.time == 0  # h_0 is drawn, not o_0 ⊙ tanh(c_0)
    first = model.state[0]
    if den_kind == "input" or from_start:
        return unroll.chain(model, numerator, denominator, semantics)
    if denominator.name == first and numerator.time == denominator.time + 1:
        return blocks.d_dc_prev(model, numerator.name, semantics, numerator.time, numerator.absolute)
    if denominator.name == first and numerator.name == first:
        return _multi_step(model, denominator.time, numerator.time, numerator.absolute, semantics)
    if denominator.name in model.state and numerator.time == denominator.time + 1:
        return _in_step(model, numerator, model.q(denominator.name, denominator.time, denominator.absolute),
                        semantics)
    return unroll.chain(model, numerator, denominator, semantics)


def by_variable(numerator, variable):
    """d numerator/d variable for a free variable of the claim (elementwise for a column)."""
    if isinstance(numerator, sympy.MatrixBase):
        if numerator.shape[1] != 1:
            raise NotationError("the derivative of a matrix-valued expression is not part of the notation")
        return numerator.diff(variable)
    return sympy.diff(numerator, variable)


def derivative(model: Model | None, numerator, denominator, semantics: str = Semantics.FULL, mode: str = PARTIAL):
    """∂numerator/∂denominator for SymPy values a formula produced; the denominator is one quantity or variable."""
    if isinstance(denominator, sympy.Symbol) and quantity_of(denominator) is None:
        return by_variable(numerator, denominator)
    if model is None:
        raise NotationError("a derivative needs a model: give the claim a model (or declare the variable)")
    den = identify(model, denominator) or identify(model, readable(denominator, model))
    if den is None:
        raise NotationError(f"∂/∂({denominator}): the denominator must be one quantity of {model.name} or a "
                            f"variable of the claim")
    num = identify(model, numerator) or identify(model, readable(numerator, model))
    if num is not None:
        return quantity_derivative(model, num, den, semantics, mode)
    return chain_rule(model, numerator, den, semantics, mode)


def chain_rule(model: Model, expression, denominator: Quantity, semantics: str, mode: str = PARTIAL):
    """d expression/d denominator = Σ over the quantities q in it of ∂expression/∂q · dq/d denominator."""
    if isinstance(expression, sympy.MatrixBase) and expression.shape[1] != 1:
        raise NotationError("the derivative of a matrix-valued expression is not part of the notation")
    column = expression if isinstance(expression, sympy.MatrixBase) else sympy.Matrix([expression])
    groups: dict = {}
    for symbol in column.free_symbols:
        info = quantity_of(symbol)
        if info is None:
            continue  # a free variable of the claim or a drawn slope: independent of every quantity
        if info.adjoint or info.name not in model.quantities():
            raise NotationError("an adjoint δq cannot be differentiated")
        time = info.time if model.state and info.name not in model.param_shapes else None
        groups[Quantity(info.name, time, info.absolute)] = True
    total = sympy.zeros(len(column), _size(model, denominator))
    for ref in sorted(groups, key=lambda r: (r.name, r.time or 0)):
        inner = quantity_derivative(model, ref, denominator, semantics, mode)
        inner = inner if isinstance(inner, sympy.MatrixBase) else sympy.Matrix([inner])
        if inner.is_zero_matrix:
            continue
        symbols = _entries(model.q(ref.name, ref.time, ref.absolute))
        total += column.jacobian(symbols) * inner
    return scalar_or_matrix(total)
