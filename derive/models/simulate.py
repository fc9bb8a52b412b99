"""The one forward simulator: a model's own cell (Model.run_cell) run step by step, on any array backend.

The 30-digit points of the verifier (NumPy object arrays of mpmath numbers,
one draw) and the laboratory's chains (float64 arrays, many draws at once)
both run the cell through `forward`, so the trajectory a claim is checked on
and the one a gradient is measured on come from the same code.
"""
from __future__ import annotations

from typing import Callable, Iterator

from derive.models.model import Model


def cell_arguments(model: Model, params: dict, zero: Callable) -> dict:
    """The cell's parameters: `params`, the removed biases as zeros (`zero(shape)`), and the activation φ."""
    arguments = dict(params)
    arguments.update({name: zero(model.argument_shapes[name]) for name in model.removed})
    if model.phi is not None:
        arguments["phi"] = model.phi
    return arguments


def forward(model: Model, params: dict, initial: dict, inputs: Callable, steps: int,
            zero: Callable) -> Iterator[tuple[dict, dict, dict]]:
    """Run the cell for `steps` steps: yields (the step's inputs, the state before it, every node's value).

    `initial` holds the state at step 0 (empty for a model without state),
    `inputs(step)` the inputs of steps 1..steps, `zero(shape)` a zero array of
    the backend (for biases a model was built without). Arrays may carry
    leading batch dimensions (draws).
    """
    arguments = cell_arguments(model, params, zero)
    state = dict(initial)
    for step in range(1, steps + 1):
        given = inputs(step)
        previous = {f"{s}_prev": state[s] for s in model.state}
        nodes = model.run_cell({**arguments, **given, **previous})
        yield given, state, nodes
        state = {s: nodes[s] for s in model.state}
