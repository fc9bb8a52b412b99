"""Independent implementations derive is checked and timed against: PyTorch's LSTMCell with a model's weights."""
from __future__ import annotations


def torch_lstm_cell(params: dict, draw: int = 0):
    """torch.nn.LSTMCell (float64) carrying draw `draw` of the forget-gate LSTM's weights.

    PyTorch stacks its gates in the order i, f, g, o and adds two biases; the
    second is set to zero. Needs torch (the `test` extra: torch==2.13.0).
    """
    import torch

    p = {k: torch.tensor(v[draw]) for k, v in params.items()}
    n, m = p["W_fh"].shape[0], p["W_fx"].shape[1]
    cell = torch.nn.LSTMCell(m, n).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.cat([p["W_ix"], p["W_fx"], p["W_cx"], p["W_ox"]]))
        cell.weight_hh.copy_(torch.cat([p["W_ih"], p["W_fh"], p["W_ch"], p["W_oh"]]))
        cell.bias_ih.copy_(torch.cat([p["b_i"], p["b_f"], p["b_c"], p["b_o"]]).ravel())
        cell.bias_hh.zero_()
    return cell
