"""PyTorch peers of the benchmark: ∂c_T/∂c_0 of the forget-gate LSTM through torch.nn.LSTMCell, float64.

Three methods over the same unrolled cell (derive.lab.peers.torch_lstm_cell carries
derive's weights): torch.autograd.functional.jacobian(vectorize=True),
torch.func.jacfwd and torch.func.jacrev. Thread pinning is the caller's business.
"""
from __future__ import annotations


def available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def methods(params: dict, inputs, initial: dict) -> dict:
    """name -> function of no arguments returning ∂c_T/∂c_0 (n × n NumPy array) for draw 0."""
    import torch

    from derive.lab.peers import torch_lstm_cell

    cell = torch_lstm_cell(params)
    xs = torch.tensor(inputs[:, 0, :, 0])
    h0 = torch.tensor(initial["h"][0, :, 0])[None]
    c0 = torch.tensor(initial["c"][0, :, 0])

    def unrolled(c):
        h, c = h0, c[None]
        for x in xs:
            h, c = cell(x[None], (h, c))
        return c[0]

    return {
        "torch autograd.jacobian": lambda: torch.autograd.functional.jacobian(unrolled, c0, vectorize=True).numpy(),
        "torch func.jacfwd": lambda: torch.func.jacfwd(unrolled)(c0).detach().numpy(),
        "torch func.jacrev": lambda: torch.func.jacrev(unrolled)(c0).detach().numpy(),
    }
