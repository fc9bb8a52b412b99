"""Exact derivatives of a model: one-step blocks (full and truncated), path terms, multi-step chains, partials, adjoints.

    from derive import exact, models
    lstm = models.lstm_forget()
    exact.dc_dc_prev(lstm, "full")      # ∂c_t/∂c_{t-1}, every path
    exact.path_terms(lstm)              # direct, via_f, via_i, via_c_tilde (they sum to it)
"""
from derive.exact.blocks import (d_dc_prev, dc_dc_prev, expanded_except, gate_route, multi_step, node_derivative,
                                 one_step_blocks, output_derivative, path_terms, readout, state_jacobian, unrolled)
from derive.exact.collapse import collapse, readable

__all__ = ["one_step_blocks", "dc_dc_prev", "d_dc_prev", "path_terms", "gate_route", "state_jacobian",
           "multi_step", "node_derivative", "output_derivative", "readout", "unrolled", "expanded_except",
           "collapse", "readable"]
