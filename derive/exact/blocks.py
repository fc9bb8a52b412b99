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
A model whose state is a single vector has no readout: for the RNNs both
semantics equal the one-step Jacobian; for a gated one (the GRU's h, with its
gates z_t, r_t and candidate h̃_t held) the truncated one is diag(1 − z_t).
"""
from __future__ import annotations

import sympy

from derive.budget import LARGEST_EXPRESSION, larger_than
from derive.errors import ModelError, OverBudget
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
    itself depends on c_{t-1} and is written out too. Only models with two states have one.
    """
    if len(model.state) != 2:
        raise ModelError(f"{model.name} has no readout: its state is {', '.join(model.state)}")
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


def _gate_chain(model: Model, time: int, absolute: bool):
    """The first state's update with the gates held, and per gate: (∂update/∂gate with the gates that use
    it responding, the gate written with the other gates held).

    Gates may feed later gates (the GRU's r_t feeds its candidate h̃_t); summed
    over the gate graph in reverse order, each total is the chain rule's sum
    over the paths from that gate to the state.
    """
    gates = [name for name in model.equations if name in model.gates]  # in the order they are computed
    held = expanded_except(model, model.gates, time, absolute)[model.state[0]]
    local = {g: expanded_except(model, tuple(x for x in model.gates if x != g), time, absolute)[g] for g in gates}
    total: dict = {}
    for k in reversed(range(len(gates))):
        symbols = model.q(gates[k], time, absolute)
        value = held.jacobian(symbols)
        for later in gates[k + 1:]:
            through = local[later].jacobian(symbols)
            if not through.is_zero_matrix:
                value += total[later] * through
        total[gates[k]] = value
    return held, {g: (total[g], local[g]) for g in gates}


def path_terms(model: Model, time: int = 0, absolute: bool = False) -> dict:
    """Named terms of the full ∂c_t/∂c_{t-1} (of the first state) that sum to it exactly.

    'direct' is the derivative of the state's update with the gates held (f_t for the
    forget-gate LSTM, 1 for the 1997 LSTM, 1 − z_t for the GRU). Each path from
    c_{t-1} is named by the gate where it enters the step, and carries on to c_t
    through the gates after it: for a model with one state (the GRU), 'via_<gate>'
    is c_{t-1} -> <gate>_t -> c_t (via_r: h_{t-1} -> r_t -> h̃_t -> h_t). With two
    states, 'via_<gate>' is the route c_{t-1} -> h_{t-1} (through tanh(c_{t-1})) ->
    <gate>_t -> c_t; 'via_<gate>_peephole' the route through the gate's peephole
    p ⊙ c_{t-1}; 'via_o_prev' the route c_{t-1} -> o_{t-1} (peephole) -> h_{t-1} -> gates_t -> c_t.
    """
    if not model.gates:
        raise ModelError(f"{model.name} has no gates; its one-step derivative has no gate paths")
    first = model.state[0]
    c_prev = model.q(first, time - 1, absolute)
    held, gates = _gate_chain(model, time, absolute)
    full = _full_substitution(model, time, absolute)
    terms = {"direct": held.jacobian(c_prev)}
    o_terms = sympy.zeros(*terms["direct"].shape)
    if len(model.state) > 1:
        second = model.state[1]
        h_prev = model.q(second, time - 1, absolute)
        # ∂h_{t-1}/∂c_{t-1}, split into the tanh(c) route and the route through o_{t-1}'s peephole.
        tanh_route = model.step(time - 1, absolute)[second].jacobian(c_prev)
        o_route = readout(model, time - 1, absolute).jacobian(c_prev) - tanh_route
    for gate, (d_update, entering) in gates.items():
        if d_update.is_zero_matrix:
            continue
        d_gate_c = entering.jacobian(c_prev)
        if len(model.state) == 1:
            if not d_gate_c.is_zero_matrix:
                terms[f"via_{gate}"] = d_update * d_gate_c
            continue
        d_gate_h = entering.jacobian(h_prev)
        terms[f"via_{gate}"] = d_update * d_gate_h * tanh_route
        if not d_gate_c.is_zero_matrix:
            terms[f"via_{gate}_peephole"] = d_update * d_gate_c
        o_terms += d_update * d_gate_h * o_route
    if not o_terms.is_zero_matrix:
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
    if len(model.state) != 2:
        raise ModelError(f"gate routes split the ∂h_t/∂h_{{t-1}} of models with states (c, h); {model.name} "
                         f"has one")
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


def growing(product, model: Model, steps: int) -> None:
    """Refuse a chain of one-step Jacobians whose exact product outgrows what can be evaluated or printed.

    Each step multiplies the terms by about 2n (×4 per step for n = 3): the span the model's size allows is short.
    """
    if larger_than(product):
        raise OverBudget("reading", f"the exact product of {steps} one-step Jacobians of {model.name} (n = {model.n}) "
                                    f"already has more than {LARGEST_EXPRESSION:,} terms and factors; derive does not "
                                    f"compute a longer span symbolically at this size (use fewer steps or a smaller n)")


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
        growing(product, model, k - first)
    if len(model.state) == 1:
        return scalar_or_matrix(product)
    c_first = model.q(model.state[0], first, True)
    dh_dc = collapse(readout(model, first, True).jacobian(c_first), model, (first,), True)
    result = product[:n, :n] + product[:n, n:] * dh_dc
    return scalar_or_matrix(result)
