"""Derivatives between any two quantities of a recurrence at any two steps, through the chain of its state.

∂a_t/∂b_s for a node or state a at step t and a node, state or input b at an
earlier step s is the product

    ∂a_t/∂S_{t-1} · ∂S_{t-1}/∂S_{t-2} ⋯ ∂S_{s+1}/∂S_s · ∂S_s/∂b_s

where S is the whole state (c, h) stacked. The first factor differentiates a_t
in the leaves of its step (the state at t-1 taken as independent leaves); the
middle ones are the one-step Jacobians of derive.exact.blocks.state_jacobian;
the last says how the state at step s responds when b_s is perturbed as a node
of its step (so c_s perturbed moves h_s = o_s ⊙ tanh(c_s) too, in the full
semantics). Node symbols are kept (no expansion), so the size grows linearly
with the span, as in derive.exact.blocks.multi_step, of which this is the
general case.

Semantics: in the truncated semantics gate activations are constants with
respect to the state and the inputs: a factor whose source is a state or an
input holds the gates (and a gate's own derivative with respect to them is 0),
and a perturbed state does not move the other state of its step across a step
boundary (errors do not flow back through h, as in Hochreiter & Schmidhuber's
truncated gradient). A derivative whose source is a node of the step (a
pre-activation, a gate) lets the gates after it respond.

The start of a trajectory: step 0 holds only the initial state (c_0, h_0),
drawn independently, so h_0 does not respond to c_0 (as in the unrolled network).
"""
from __future__ import annotations

import sympy

from derive.errors import NotationError
from derive.exact import blocks
from derive.exact.collapse import collapse
from derive.models import Model
from derive.quantity import Quantity, scalar_or_matrix
from derive.rules import Semantics

LONGEST_CHAIN = 12  # steps between the two quantities of an exact derivative


def _matrix(value) -> sympy.Matrix:
    return value if isinstance(value, sympy.MatrixBase) else sympy.Matrix([value])


def _size(model: Model, name: str) -> int:
    rows, cols = model.shape(name)
    return rows * cols


def holds_gates(model: Model, source: str, semantics: str) -> bool:
    """Are the gates held for a derivative with respect to `source` (a state, an input, or a node)?"""
    return semantics == Semantics.TRUNCATED and bool(model.gates) and (source in model.state or
                                                                       source in model.inputs)


def within_step(model: Model, output: str, source: str, time: int, absolute: bool, semantics: str):
    """∂output/∂source within one step: `source` perturbed, the nodes after it responding (gates held if truncated)."""
    if not holds_gates(model, source, semantics):
        if len(model.state) == 2 and (output, source) == (model.state[1], model.state[0]):
            return blocks.output_derivative(model, time, absolute)
        return blocks.node_derivative(model, output, source, time, absolute)
    rows, cols = _size(model, output), _size(model, source)
    if output in model.gates:
        return scalar_or_matrix(sympy.zeros(rows, cols))
    value = blocks.expanded_except(model, tuple(model.gates) + (source,), time, absolute)[output]
    jacobian = value.jacobian(model.q(source, time, absolute))
    return scalar_or_matrix(collapse(jacobian, model, (time,), absolute))


def by_leaves(model: Model, output: str, leaves, time: int, absolute: bool, semantics: str):
    """∂output_time/∂leaves: the step's leaves (states at time-1, inputs, parameters) independent, gates held if
    truncated (a held gate's own derivative is 0)."""
    leaves = list(leaves)
    if semantics == Semantics.TRUNCATED and model.gates:
        if output in model.gates:
            return scalar_or_matrix(sympy.zeros(_size(model, output), len(leaves)))
        step = blocks.expanded_except(model, model.gates, time, absolute)
    else:
        step = model.expanded(time, absolute)
    jacobian = step[output].jacobian(leaves)
    return scalar_or_matrix(collapse(jacobian, model, (time,) if model.state else (0,), absolute))


def _state_response(model: Model, source: Quantity, semantics: str) -> sympy.Matrix:
    """∂S_s/∂b_s: the state of b's step (stacked) when b_s is perturbed as a node of that step."""
    time, absolute = source.time, source.absolute
    rows = []
    for state in model.state:
        size = (_size(model, state), _size(model, source.name))
        if state == source.name:
            block = sympy.eye(size[0])
        elif source.name in model.state and (semantics == Semantics.TRUNCATED or (absolute and time == 0)):
            block = sympy.zeros(*size)  # a leaf: truncated, or the initial state drawn independently
        else:
            block = _matrix(within_step(model, state, source.name, time, absolute, semantics))
        rows.append(block)
    return sympy.Matrix.vstack(*rows)


def chain(model: Model, numerator: Quantity, denominator: Quantity, semantics: str):
    """The exact ∂numerator/∂denominator for a numerator at a later step than the denominator (see the module)."""
    first, last, absolute = denominator.time, numerator.time, numerator.absolute
    if last - first > LONGEST_CHAIN:
        raise NotationError(f"a derivative over {last - first} steps: the limit is {LONGEST_CHAIN}")
    truncated = semantics == Semantics.TRUNCATED and bool(model.gates)
    leaves = [symbol for state in model.state for symbol in model.q(state, last - 1, absolute)]
    product = _matrix(by_leaves(model, numerator.name, leaves, last, absolute, semantics))
    for step in range(last - 1, first, -1):
        product = product * blocks.state_jacobian(model, step, absolute, truncated)
        blocks.growing(product, model, last - step + 1)
    return scalar_or_matrix(product * _state_response(model, denominator, semantics))
