"""Exact partial derivatives ∂a/∂b between quantities a formula names, dispatched to derive.blocks.

A formula's ∂c_t/∂c_{t-1}, ∂f_t/∂c_{t-1}, ∂c_k/∂c_1, ∂h_t/∂c_t, ∂a_3/∂W_3 are
computed exactly here, in the semantics the claim asks for (see the docstring
of derive.exact.blocks). When the numerator is an expression rather than one
quantity — ∂/∂c_{t-1}[σ(W_f·[h_{t-1}, x_t])] — the chain rule runs over the
quantities in it, each differentiated by the same table of cases. A case
outside the table is refused with a message saying which ones exist.
"""
from __future__ import annotations


import functools

import sympy

from derive.errors import NotationError
from derive.exact import blocks
from derive.exact.collapse import collapse, readable
from derive.models import Model
from derive.quantity import Quantity, QuantitySymbol, quantity_of, scalar_or_matrix
from derive.rules import Semantics

LONGEST_UNROLLING = 6  # steps of c_k written in c_0 for ∂c_k/∂W (the expansion grows geometrically)
LONGEST_CHAIN = 12  # steps of an exact multi-step ∂c_k/∂c_s
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


def _unsupported(model: Model, numerator: Quantity, denominator: Quantity) -> NotationError:
    return NotationError(
        f"no exact ∂({spelled(numerator)})/∂({spelled(denominator)}) for {model.name}: the engine computes "
        f"∂q_t/∂c_{{t-1}} for every node q, ∂c_k/∂c_s over several steps, ∂q_t/∂r_t within a step "
        f"(∂h_t/∂c_t, ∂a_3/∂a_2), ∂q_t/∂x_t, ∂q_t/∂h_{{t-1}} and ∂q/∂W for a parameter W")


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
    if last - first > LONGEST_CHAIN:
        raise NotationError(f"∂c over {last - first} steps: the limit is {LONGEST_CHAIN}")
    if absolute:
        return blocks.multi_step(model, first, last, semantics)
    result = blocks.multi_step(model, first + _SHIFT, last + _SHIFT, semantics)
    return _relative(result, model)


def _in_step(model: Model, numerator: Quantity, leaf, semantics: str):
    """∂numerator/∂leaf within numerator's step; leaf is an input, a parameter or h_{t-1} (gates held if truncated)."""
    time = numerator.time or 0
    if semantics == Semantics.TRUNCATED and model.gates:
        step = blocks.expanded_except(model, model.gates, time, numerator.absolute)
    else:
        step = model.expanded(time, numerator.absolute)
    jacobian = step[numerator.name].jacobian(_entries(leaf))
    return scalar_or_matrix(collapse(jacobian, model, (time,) if model.state else (0,), numerator.absolute))


def _by_parameter(model: Model, numerator: Quantity, parameter: Quantity):
    matrix = model.q(parameter.name)
    if matrix.shape[1] != 1 and len(matrix) > 1:
        raise NotationError(f"∂/∂{parameter.name} of an {matrix.shape[0]}×{matrix.shape[1]} matrix is a "
                            f"third-order tensor; use a scalar model (n = 1)")
    if model.state and numerator.absolute:
        if numerator.time > LONGEST_UNROLLING:
            raise NotationError(f"∂/∂{parameter.name} unrolls the recurrence to step {numerator.time}; the "
                                f"limit is step {LONGEST_UNROLLING}")
        if numerator.time < 1:
            return scalar_or_matrix(sympy.zeros(_size(model, numerator), len(matrix)))
        unrolled = blocks.unrolled(model, numerator.name, numerator.time).jacobian(list(matrix))
        return scalar_or_matrix(blocks.collapse_unrolled(unrolled, model, numerator.time))
    # Relative times: within the step, the state before it held (the article's ∂c_1/∂W with c_0 given).
    return _in_step(model, numerator, matrix, Semantics.FULL)


def quantity_derivative(model: Model, numerator: Quantity, denominator: Quantity, semantics: str):
    """The exact ∂numerator/∂denominator (scalar, or rows = numerator entries, columns = denominator entries).

    Each one is computed once per process (a claim's diagnosis reads its formula again and again); the
    caller gets its own copy of a matrix.
    """
    result = _quantity_derivative(model, numerator, denominator, str(semantics))
    return result.copy() if isinstance(result, sympy.MatrixBase) else result


@functools.lru_cache(maxsize=512)
def _quantity_derivative(model: Model, numerator: Quantity, denominator: Quantity, semantics: str):
    rows, cols = _size(model, numerator), _size(model, denominator)
    zero = scalar_or_matrix(sympy.zeros(rows, cols))
    if numerator == denominator:
        return scalar_or_matrix(sympy.eye(rows))
    num_kind, den_kind = _kind(model, numerator), _kind(model, denominator)
    if den_kind == "parameter":
        return zero if num_kind != "node" else _by_parameter(model, numerator, denominator)
    if num_kind != "node":
        return zero  # parameters and inputs depend on nothing
    if model.state and numerator.absolute != denominator.absolute:
        raise NotationError("a derivative mixes absolute steps with times relative to t")
    same_step = not model.state or numerator.time == denominator.time
    if den_kind == "input":
        if same_step:
            return _in_step(model, numerator, model.q(denominator.name, denominator.time, denominator.absolute),
                            semantics)
        if numerator.time < denominator.time:
            return zero
        raise _unsupported(model, numerator, denominator)
    if same_step:
        if len(model.state) == 2 and (numerator.name, denominator.name) == (model.state[1], model.state[0]):
            return blocks.output_derivative(model, numerator.time or 0, numerator.absolute)
        return blocks.node_derivative(model, numerator.name, denominator.name, numerator.time or 0,
                                         numerator.absolute)
    if numerator.time < denominator.time:
        return zero
    first = model.state[0]
    if denominator.name == first and numerator.time == denominator.time + 1:
        return blocks.d_dc_prev(model, numerator.name, semantics, numerator.time, numerator.absolute)
    if denominator.name == first and numerator.name == first:
        return _multi_step(model, denominator.time, numerator.time, numerator.absolute, semantics)
    if denominator.name in model.state and numerator.time == denominator.time + 1:
        leaf = model.q(denominator.name, denominator.time, denominator.absolute)
        return _in_step(model, numerator, leaf, semantics)
    raise _unsupported(model, numerator, denominator)


def derivative(model: Model | None, numerator, denominator, semantics: str = Semantics.FULL):
    """∂numerator/∂denominator for SymPy values a formula produced; the denominator must be one quantity."""
    if model is None:
        raise NotationError("a derivative needs a model: give the claim a model")
    den = identify(model, denominator) or identify(model, readable(denominator, model))
    if den is None:
        raise NotationError(f"∂/∂({denominator}): the denominator must be one quantity of {model.name}")
    num = identify(model, numerator) or identify(model, readable(numerator, model))
    if num is not None:
        return quantity_derivative(model, num, den, semantics)
    return chain_rule(model, numerator, den, semantics)


def chain_rule(model: Model, expression, denominator: Quantity, semantics: str):
    """d expression/d denominator = Σ over the quantities q in it of ∂expression/∂q · dq/d denominator."""
    if isinstance(expression, sympy.MatrixBase) and expression.shape[1] != 1:
        raise NotationError("the derivative of a matrix-valued expression is not part of the notation")
    column = expression if isinstance(expression, sympy.MatrixBase) else sympy.Matrix([expression])
    groups: dict = {}
    for symbol in column.free_symbols:
        info = quantity_of(symbol)
        if info is None:
            raise NotationError(f"cannot differentiate through {symbol}: it is not a quantity of {model.name}")
        if info.adjoint:
            raise NotationError("an adjoint δq cannot be differentiated")
        time = info.time if model.state and info.name not in model.param_shapes else None
        groups[Quantity(info.name, time, info.absolute)] = True
    total = sympy.zeros(len(column), _size(model, denominator))
    for ref in sorted(groups, key=lambda r: (r.name, r.time or 0)):
        inner = quantity_derivative(model, ref, denominator, semantics)
        inner = inner if isinstance(inner, sympy.MatrixBase) else sympy.Matrix([inner])
        if inner.is_zero_matrix:
            continue
        symbols = _entries(model.q(ref.name, ref.time, ref.absolute))
        total += column.jacobian(symbols) * inner
    return scalar_or_matrix(total)
