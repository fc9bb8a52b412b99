"""The built-in models, and the one place where a model's name and options are checked.

`build(name, options)` is what a claims file, `Model.resized` and the
library reach: an unknown name, an unknown option, a wrong type or a value
out of range is a ModelError saying which.
"""
from __future__ import annotations

import inspect

from derive.errors import ModelError
from derive.models import cells
from derive.models.model import Model

ACTIVATIONS = ("sigmoid", "tanh")
RNN_FORMS = ("arbel", "cv")


def _make(name, title, cell, n, m, activation, state, gates, input_weights=(), bias=True, inputs=("x",),
          options=None) -> Model:
    return Model(name=name, title=title, cell=cell, n=n, m=m, activation=activation, state=state, gates=gates,
                 inputs=tuple(i for i in inputs if i in inspect.signature(cell).parameters),
                 input_weights=frozenset(input_weights), bias=bias, options=options or {})


def rnn(n: int = 1, activation: str = "sigmoid", form: str = "arbel", m: int | None = None,
        bias: bool = True) -> Model:
    """Vanilla RNN: form 'arbel' is c_t = φ(W_rec c_{t-1} + W_in x_t + b); form 'cv' is h_t = φ(w h_{t-1})."""
    check_options(dict(n=n, activation=activation, form=form, m=m, bias=bias))
    options = dict(builder="rnn", activation=activation, form=form, m=m, bias=bias)
    phi = r"\sigma" if activation == "sigmoid" else r"\tanh"
    if form == "arbel":
        return _make("rnn", f"RNN, $c_t = {phi}"
                     r"(W_{\mathrm{rec}} c_{t-1} + W_{\mathrm{in}} x_t" + (" + b" if bias else "") + ")$",
                     cells.rnn, n, m or n, activation, ("c",), (), {"W_in"}, bias, options=options)
    return _make("rnn_autonomous", f"RNN, $h_t = {phi}(w h_{{t-1}})$", cells.rnn_autonomous, n, m or n,
                 activation, ("h",), (), options=options)


def lstm_1997(n: int = 1, m: int | None = None, bias: bool = True) -> Model:
    """LSTM without forget gate (Hochreiter & Schmidhuber 1997; tanh for cell input and output)."""
    check_options(dict(n=n, m=m, bias=bias))
    return _make("lstm_1997", "LSTM of 1997 (no forget gate)", cells.lstm_1997, n, m or n, None,
                 ("c", "h"), ("i", "c_tilde", "o"), {"W_ix", "W_cx", "W_ox"}, bias,
                 options=dict(builder="lstm_1997", m=m, bias=bias))


def lstm_forget(n: int = 1, m: int | None = None, bias: bool = True) -> Model:
    """Forget-gate LSTM with gates computed from [h_{t-1}, x_t]."""
    check_options(dict(n=n, m=m, bias=bias))
    return _make("lstm_forget", "Forget-gate LSTM", cells.lstm_forget, n, m or n, None,
                 ("c", "h"), ("f", "i", "c_tilde", "o"), {"W_fx", "W_ix", "W_cx", "W_ox"}, bias,
                 options=dict(builder="lstm_forget", m=m, bias=bias))


def lstm_peephole(n: int = 1, m: int | None = None, bias: bool = True) -> Model:
    """Peephole ("vanilla") LSTM of Greff et al. (2015): input weights W_*, recurrent R_*, peepholes p_*."""
    check_options(dict(n=n, m=m, bias=bias))
    return _make("lstm_peephole", "Peephole LSTM (Greff et al. 2015)", cells.lstm_peephole, n, m or n, None,
                 ("c", "h"), ("z", "i", "f", "o"), {"W_z", "W_i", "W_f", "W_o"}, bias,
                 options=dict(builder="lstm_peephole", m=m, bias=bias))


def gru(n: int = 1, m: int | None = None, bias: bool = True) -> Model:
    """GRU of Chung et al. (2014): h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ tanh(W_h x_t + U_h (r_t ⊙ h_{t-1}) + b_h)."""
    check_options(dict(n=n, m=m, bias=bias))
    return _make("gru", "GRU (Chung et al. 2014)", cells.gru, n, m or n, None, ("h",), ("z", "r", "h_tilde"),
                 {"W_z", "W_r", "W_h"}, bias, options=dict(builder="gru", m=m, bias=bias))


def gru_torch(n: int = 1, m: int | None = None, bias: bool = True) -> Model:
    """GRU as torch.nn.GRUCell: n_t = tanh(W_n x_t + b_in + r_t ⊙ (U_n h_{t-1} + b_hn)),
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}."""
    check_options(dict(n=n, m=m, bias=bias))
    return _make("gru_torch", "GRU as PyTorch's nn.GRUCell", cells.gru_torch, n, m or n, None, ("h",),
                 ("z", "r", "n"), {"W_z", "W_r", "W_n"}, bias, options=dict(builder="gru_torch", m=m, bias=bias))


def ff_chain(activation: str = "sigmoid") -> Model:
    """Three-layer feed-forward chain, one node per layer (blog "Vanishing Gradients & LSTMs")."""
    check_options(dict(activation=activation))
    return _make("ff_chain", "Three-layer feed-forward chain", cells.ff_chain, 1, 1, activation,
                 (), (), (), True, inputs=("X",), options=dict(builder="ff_chain", activation=activation))


BUILDERS = {"rnn": rnn, "lstm_1997": lstm_1997, "lstm_forget": lstm_forget,
            "lstm_peephole": lstm_peephole, "gru": gru, "gru_torch": gru_torch, "ff_chain": ff_chain}


def check_options(options: dict) -> None:
    """Every option's type and value: sizes whole and positive, activation and form from their lists."""
    for key, value in options.items():
        if key in ("n", "m"):
            if value is None and key == "m":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ModelError(f"{key} must be a positive whole number, got {value!r}")
        elif key == "bias" and not isinstance(value, bool):
            raise ModelError(f"bias must be true or false, got {value!r}")
        elif key == "activation" and value not in ACTIVATIONS:
            raise ModelError(f"activation must be 'sigmoid' or 'tanh', got {value!r}")
        elif key == "form" and value not in RNN_FORMS:
            raise ModelError(f"RNN form must be 'arbel' or 'cv', got {value!r}")


def build(name: str, options: dict | None = None) -> Model:
    """The built-in model `name` with `options` (n, m, bias, activation, form as its builder takes them)."""
    if name not in BUILDERS:
        raise ModelError(f"the model name must be one of {', '.join(BUILDERS)}, got {name!r}")
    options = dict(options or {})
    accepted = set(inspect.signature(BUILDERS[name]).parameters)
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ModelError(f"{name} has no option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                         f"its options: {', '.join(sorted(accepted))}")
    return BUILDERS[name](**options)
