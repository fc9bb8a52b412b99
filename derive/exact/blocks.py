"""Exact derivatives of a model: one-step blocks, full vs truncated ∂c_t/∂c_{t-1}, path terms, multi-step chains.

Everything is differentiated in the step's leaves (states at t-1, input x_t,
parameters) and then written back with the node symbols (f_t, o_t, c_t, ...)
so results stay short; both forms are exact and equal on every trajectory.

Semantics of ∂c_t/∂c_{t-1} (c is the model's first state, h its second):
  full       every dependence on c_{t-1} is differentiated, including through
             h_{t-1} = o_{t-1} ⊙ tanh(c_{t-1}) into every gate (and through
             o_{t-1}'s peephole where the model has one);
  truncated  gate and cell-input activations are constants with respect to the
             state (the truncated gradient of Hochreiter & Schmidhuber 1997 and
             Gers et al. 2000): only the direct path remains.
For a model whose state is a single vector (the RNNs) both equal the one-step Jacobian.
"""
from __future__ import annotations

import sympy

from derive.errors import ModelError
from derive.exact.collapse import collapse
from derive.models import Model
from derive.quantity import scalar_or_matrix
from derive.rules import Semantics, semantics as as_semantics


def _state_leaves(model: Model, time: int = 0, absolute: bool = False) -> dict:
    return {s: model.q(s, time - 1, absolute) for s in model.state}


def one_step_blocks(model: Model, truncated: bool = False, time: int = 0, absolute: bool = False) -> dict:
    """The Markov blocks ∂s_t/∂r_{t-1} for states s, r (e.g. ('c','h') -> ∂c_t/∂h_{t-1}).

    With `truncated`, gate activations are held constant (only their values enter).
    """
    if not model.state:
        raise ModelError(f"{model.name} is not a recurrence")
    if truncated:
        step = expanded_except(model, model.gates, time, absolute)
    else:
        step = model.expanded(time, absolute)
    leaves = _state_leaves(model, time, absolute)
    blocks = {}
    for s in model.state:
        for r in model.state:
            jac = step[s].jacobian(leaves[r])
            blocks[(s, r)] = collapse(jac, model, (time,), absolute)
    return blocks


def expanded_except(model: Model, keep: tuple, time: int = 0, absolute: bool = False) -> dict:
    """Nodes written in the leaves, except that nodes named in `keep` stay as symbols."""
    substitution: dict = {}
    result = {}
    for name, definition in model.step(time, absolute).items():
        value = definition.xreplace(substitution)
        result[name] = value
        if name not in keep:
            substitution.update(zip(model.q(name, time, absolute), value))
    return result


def readout(model: Model, time: int = -1, absolute: bool = False) -> sympy.Matrix:
    """h at `time` as a function of c at `time`: the nodes of that step that depend on c are written out.

    For the forget-gate LSTM this is o_{t-1} ⊙ tanh(c_{t-1}); with peepholes o_{t-1}
    itself depends on c_{t-1} and is written out too.
    """
    first, second = model.state
    cone = tuple(name for name in model.equations if model.depends_on(name, first) and name != second)
    substitution: dict = {}
    for name, definition in model.step(time, absolute).items():
        if name in cone:
            substitution.update(zip(model.q(name, time, absolute), definition.xreplace(substitution)))
    return model.step(time, absolute)[second].xreplace(substitution)


def _full_substitution(model: Model, time: int = 0, absolute: bool = False) -> dict:
    """h_{t-1} -> readout(c_{t-1}) for two-state models; empty for single-state ones."""
    if len(model.state) < 2:
        return {}
    return dict(zip(model.q(model.state[1], time - 1, absolute), readout(model, time - 1, absolute)))


def dc_dc_prev(model: Model, semantics: str = Semantics.FULL, time: int = 0, absolute: bool = False):
    """The one-step ∂c_t/∂c_{t-1} in the given semantics (scalar for n = 1, n×n Matrix otherwise)."""
    return d_dc_prev(model, model.state[0], semantics, time, absolute)


def d_dc_prev(model: Model, node: str, semantics: str = Semantics.FULL, time: int = 0, absolute: bool = False):
    """∂node_t/∂c_{t-1} for any node of the step at `time`, in the given semantics."""
    semantics = as_semantics(semantics)
    first = model.state[0]
    c_prev = model.q(first, time - 1, absolute)
    if semantics == Semantics.TRUNCATED and model.gates:
        held = expanded_except(model, model.gates, time, absolute)[node]
        if node in model.gates:
            return scalar_or_matrix(sympy.zeros(held.shape[0], len(c_prev)))
        return scalar_or_matrix(collapse(held.jacobian(c_prev), model, (time,), absolute))
    value = model.expanded(time, absolute)[node].xreplace(_full_substitution(model, time, absolute))
    return scalar_or_matrix(_collapse_full(value.jacobian(c_prev), model, time, absolute))


def node_derivative(model: Model, output: str, source: str, time: int = 0, absolute: bool = False):
    """∂output/∂source within one step: `source` perturbed, every node after it responding."""
    value = expanded_except(model, (source,), time, absolute)[output]
    return scalar_or_matrix(collapse(value.jacobian(model.q(source, time, absolute)), model, (time,), absolute))


def output_derivative(model: Model, time: int = 0, absolute: bool = False):
    """∂h_t/∂c_t within a step (through tanh(c_t), and through o_t where it peeps at c_t)."""
    first = model.state[0]
    jac = readout(model, time, absolute).jacobian(model.q(first, time, absolute))
    return scalar_or_matrix(collapse(jac, model, (time,), absolute))


def unrolled(model: Model, node: str, last: int):
    """Node `node` at absolute step `last` written in the initial state, the inputs and the parameters.

    This is the naive expansion (its size grows geometrically with `last`);
    use it for short spans only, e.g. to differentiate with respect to a parameter.
    """
    substitution: dict = {}
    for time in range(1, last + 1):
        for name, definition in model.step(time, True).items():
            value = definition.xreplace(substitution)
            substitution.update(zip(model.q(name, time, True), value))
    return model.q(node, last, True).xreplace(substitution)


def collapse_unrolled(expr, model: Model, last: int):
    """Write an unrolled expression with the node symbols of steps 1..last."""
    return collapse(expr, model, range(1, last + 1), True)



def _collapse_full(expr, model: Model, time: int, absolute: bool):
    """Collapse an expression in which h_{t-1} was replaced by its readout."""
    return collapse(expr, model, (time - 1, time), absolute, _full_substitution(model, time, absolute))


def path_terms(model: Model, time: int = 0, absolute: bool = False) -> dict:
    """Named terms of the full ∂c_t/∂c_{t-1} that sum to it exactly.

    'direct' is the derivative of the cell update with the gates held (f_t for the
    forget-gate LSTM, 1 for the 1997 LSTM); 'via_<gate>' is the route
    c_{t-1} -> h_{t-1} (through tanh(c_{t-1})) -> <gate>_t -> c_t;
    'via_<gate>_peephole' the route through the gate's peephole p ⊙ c_{t-1};
    'via_o_prev' the route c_{t-1} -> o_{t-1} (peephole) -> h_{t-1} -> gates_t -> c_t.
    """
    if len(model.state) < 2:
        raise ModelError(f"{model.name} has a single state; its ∂c_t/∂c_{{t-1}} has no gate paths")
    first, second = model.state
    c_prev = model.q(first, time - 1, absolute)
    h_prev = model.q(second, time - 1, absolute)
    held = expanded_except(model, model.gates, time, absolute)[first]
    expanded = model.expanded(time, absolute)
    full = _full_substitution(model, time, absolute)
    out_of_h = readout(model, time - 1, absolute)

    # ∂h_{t-1}/∂c_{t-1}, split into the tanh(c) route and the route through o_{t-1}'s peephole.
    h_local = model.step(time - 1, absolute)[second]
    tanh_route = h_local.jacobian(c_prev)
    o_route = out_of_h.jacobian(c_prev) - tanh_route

    terms = {"direct": held.jacobian(c_prev)}
    o_terms = sympy.zeros(*terms["direct"].shape)
    for gate in model.gates:
        gate_symbols = model.q(gate, time, absolute)
        if not held.free_symbols & set(gate_symbols):
            continue
        d_update = held.jacobian(gate_symbols)
        d_gate_h = expanded[gate].jacobian(h_prev)
        d_gate_c = expanded[gate].jacobian(c_prev)
        terms[f"via_{gate}"] = d_update * d_gate_h * tanh_route
        if d_gate_c != sympy.zeros(*d_gate_c.shape):
            terms[f"via_{gate}_peephole"] = d_update * d_gate_c
        o_terms += d_update * d_gate_h * o_route
    if o_terms != sympy.zeros(*o_terms.shape):
        terms["via_o_prev"] = o_terms
    result = {}
    for name, term in terms.items():
        term = term.xreplace(full)
        result[name] = scalar_or_matrix(_collapse_full(term, model, time, absolute))
    return result


def gate_route(model: Model, gate: str, time: int = 0, absolute: bool = False):
    """∂h_t/∂h_{t-1} along one gate only: h_{t-1} is held everywhere except in `gate`'s pre-activation.

    Summed over the gates (and the cell input) these routes give the Markov block ∂h_t/∂h_{t-1}.
    """
    if gate not in model.gates:
        raise ModelError(f"{model.name} has no gate {gate!r}; its gates are {', '.join(model.gates)}")
    second = model.state[1]
    h_prev = model.q(second, time - 1, absolute)
    frozen = sympy.Matrix([sympy.Dummy(f"held{k}") for k in range(len(h_prev))])
    step = model.step(time, absolute)
    names = list(step)
    pre = names[names.index(gate) - 1]  # the line before a gate is its pre-activation
    substitution: dict = {}
    for name, definition in step.items():
        value = definition if name == pre else definition.xreplace(dict(zip(h_prev, frozen)))
        value = value.xreplace(substitution)
        substitution.update(zip(model.q(name, time, absolute), value))
    h_t = model.q(second, time, absolute).xreplace(substitution)
    jac = h_t.jacobian(h_prev).xreplace(dict(zip(frozen, h_prev)))
    return scalar_or_matrix(collapse(jac, model, (time,), absolute))


def state_jacobian(model: Model, time: int = 0, absolute: bool = False, truncated: bool = False) -> sympy.Matrix:
    """The one-step Jacobian of the whole state (c, h) stacked: [[∂c/∂c, ∂c/∂h], [∂h/∂c, ∂h/∂h]]."""
    blocks = one_step_blocks(model, truncated, time, absolute)
    return sympy.BlockMatrix([[blocks[(s, r)] for r in model.state] for s in model.state]).as_explicit()


def multi_step(model: Model, first: int, last: int, semantics: str = Semantics.FULL):
    """Exact ∂c_last/∂c_first (absolute steps) as a product of one-step blocks, node symbols kept.

    Full: the chain over the whole state (c, h), with h_first = readout(c_first)
    responding to c_first; truncated: the product of the truncated one-step
    derivatives. No expression is expanded, so the size grows linearly with the span.
    """
    semantics = as_semantics(semantics)
    if last <= first:
        raise ModelError(f"need last > first, got first={first}, last={last}")
    n = model.n
    if semantics == Semantics.TRUNCATED and model.gates:
        product = sympy.eye(n)
        for k in range(first + 1, last + 1):
            product = one_step_blocks(model, True, k, True)[(model.state[0],) * 2] * product
        return scalar_or_matrix(product)
    product = sympy.eye(n * len(model.state))
    for k in range(first + 1, last + 1):
        product = state_jacobian(model, k, True) * product
    if len(model.state) == 1:
        return scalar_or_matrix(product)
    c_first = model.q(model.state[0], first, True)
    dh_dc = collapse(readout(model, first, True).jacobian(c_first), model, (first,), True)
    result = product[:n, :n] + product[:n, n:] * dh_dc
    return scalar_or_matrix(result)
