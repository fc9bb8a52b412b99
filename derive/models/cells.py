"""The recurrences themselves: one step of each model as plain array code, one line per equation.

These functions are the single definition of every model. NumPy runs them
(float64 arrays, or object arrays of mpmath numbers for 30-digit checks),
`derive.models.trace` runs them on symbolic arrays to build the SymPy models, and
the report renders them with latexify-py. Vectors are columns (shape (..., n, 1)),
so `W @ h` is the matrix product and `*` the elementwise (Hadamard) product,
for one parameter draw or a batch of draws alike.
"""
from __future__ import annotations

from derive.rules import array_function

sigmoid, tanh = array_function("sigma"), array_function("tanh")


def rnn(c_prev, x, W_rec, W_in, b, phi):
    """Vanilla RNN as in Arbel: c_t = φ(W_rec c_{t-1} + W_in x_t + b), φ = σ or tanh."""
    z = W_rec @ c_prev + W_in @ x + b
    c = phi(z)
    return c


def rnn_autonomous(h_prev, w, phi):
    """The RNN of the first Cross Validated answer: h_t = φ(w h_{t-1}), no input, no bias."""
    z = w @ h_prev
    h = phi(z)
    return h


def lstm_1997(c_prev, h_prev, x, W_ih, W_ix, b_i, W_ch, W_cx, b_c, W_oh, W_ox, b_o):
    """LSTM of Hochreiter & Schmidhuber (1997): no forget gate, the cell only adds."""
    z_i = W_ih @ h_prev + W_ix @ x + b_i
    i = sigmoid(z_i)
    z_c = W_ch @ h_prev + W_cx @ x + b_c
    c_tilde = tanh(z_c)
    z_o = W_oh @ h_prev + W_ox @ x + b_o
    o = sigmoid(z_o)
    c = c_prev + i * c_tilde
    h = o * tanh(c)
    return c, h


def lstm_forget(c_prev, h_prev, x, W_fh, W_fx, b_f, W_ih, W_ix, b_i, W_ch, W_cx, b_c, W_oh, W_ox, b_o):
    """Forget-gate LSTM, gates from [h_{t-1}, x_t] (Gers et al. 2000; Arbel, Olah)."""
    z_f = W_fh @ h_prev + W_fx @ x + b_f
    f = sigmoid(z_f)
    z_i = W_ih @ h_prev + W_ix @ x + b_i
    i = sigmoid(z_i)
    z_c = W_ch @ h_prev + W_cx @ x + b_c
    c_tilde = tanh(z_c)
    z_o = W_oh @ h_prev + W_ox @ x + b_o
    o = sigmoid(z_o)
    c = f * c_prev + i * c_tilde
    h = o * tanh(c)
    return c, h


def lstm_peephole(c_prev, h_prev, x, W_z, R_z, b_z, W_i, R_i, p_i, b_i, W_f, R_f, p_f, b_f, W_o, R_o, p_o, b_o):
    """Peephole ("vanilla") LSTM of Greff et al. (2015); y^t of the paper is h here."""
    z_bar = W_z @ x + R_z @ h_prev + b_z
    z = tanh(z_bar)
    i_bar = W_i @ x + R_i @ h_prev + p_i * c_prev + b_i
    i = sigmoid(i_bar)
    f_bar = W_f @ x + R_f @ h_prev + p_f * c_prev + b_f
    f = sigmoid(f_bar)
    c = z * i + c_prev * f
    o_bar = W_o @ x + R_o @ h_prev + p_o * c + b_o
    o = sigmoid(o_bar)
    h = o * tanh(c)
    return c, h


def gru(h_prev, x, W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h):
    """GRU of Chung et al. (2014); Cho et al. (2014) write the same cell with z and 1 - z swapped."""
    a_z = W_z @ x + U_z @ h_prev + b_z
    z = sigmoid(a_z)
    a_r = W_r @ x + U_r @ h_prev + b_r
    r = sigmoid(a_r)
    a_h = W_h @ x + U_h @ (r * h_prev) + b_h
    h_tilde = tanh(a_h)
    h = (1 - z) * h_prev + z * h_tilde
    return h


def gru_torch(h_prev, x, W_z, U_z, b_z, W_r, U_r, b_r, W_n, b_in, U_n, b_hn):
    """GRU as PyTorch's nn.GRUCell computes it: the reset gate multiplies after the matrix product."""
    a_z = W_z @ x + U_z @ h_prev + b_z
    z = sigmoid(a_z)
    a_r = W_r @ x + U_r @ h_prev + b_r
    r = sigmoid(a_r)
    a_n = W_n @ x + b_in + r * (U_n @ h_prev + b_hn)
    n = tanh(a_n)
    h = (1 - z) * n + z * h_prev
    return h


def ff_chain(X, W_1, W_2, W_3, phi):
    """The three-layer, one-node-per-layer network of the "Vanishing Gradients & LSTMs" blog."""
    z_1 = W_1 @ X
    a_1 = phi(z_1)
    z_2 = W_2 @ a_1
    a_2 = phi(z_2)
    z_3 = W_3 @ a_2
    a_3 = phi(z_3)
    return a_3
