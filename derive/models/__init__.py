"""The models: cells (the recurrences as array code), their SymPy traces, and the built-in builders.

    from derive import models
    lstm = models.lstm_forget(n=2)        # or models.build("lstm_forget", {"n": 2})
    gru = models.gru()                    # Chung et al.; models.gru_torch() is torch.nn.GRUCell

A model an article defines by its own equations is an EquationModel (derive.models.defined), read from a
claims file by derive.notation.recurrence.
"""
from derive.models.builtin import BUILDERS, build, ff_chain, gru, gru_torch, lstm_1997, lstm_forget, lstm_peephole, rnn
from derive.models.model import Model

__all__ = ["Model", "BUILDERS", "build", "rnn", "lstm_1997", "lstm_forget", "lstm_peephole", "gru", "gru_torch",
           "ff_chain"]
