"""Independent implementations derive is checked and timed against: PyTorch's LSTMCell and GRUCell."""
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


def torch_gru_cell(params: dict, draw: int = 0):
    """torch.nn.GRUCell (float64) carrying draw `draw` of the weights of derive's `gru_torch`.

    PyTorch stacks its gates in the order r, z, n with two biases each; those of
    r and z are derive's b_r and b_z (the second set to zero), those of n are
    b_in and b_hn, which stay apart because r multiplies b_hn.
    """
    import torch

    p = {k: torch.tensor(v[draw]) for k, v in params.items()}
    n, m = p["U_z"].shape[0], p["W_z"].shape[1]
    cell = torch.nn.GRUCell(m, n).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.cat([p["W_r"], p["W_z"], p["W_n"]]))
        cell.weight_hh.copy_(torch.cat([p["U_r"], p["U_z"], p["U_n"]]))
        cell.bias_ih.copy_(torch.cat([p["b_r"], p["b_z"], p["b_in"]]).ravel())
        cell.bias_hh.copy_(torch.cat([torch.zeros_like(p["b_r"]), torch.zeros_like(p["b_z"]), p["b_hn"]]).ravel())
    return cell
