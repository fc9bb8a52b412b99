"""derive: exact gradients of RNN and LSTM recurrences, and verdicts on hand derivations of them.

The public API in one screen:

    from derive import models, jacobians, Equal, verify
    lstm = models.lstm_forget()                      # scalar forget-gate LSTM (n=2, 3 for vectors)
    jacobians.dc_dc_prev(lstm, "full")               # exact ∂c_t/∂c_{t-1}, every path
    jacobians.dc_dc_prev(lstm, "truncated")          # gates held constant: f_t
    s = lstm.sym                                     # the symbols at time t: s.f, s.c_prev, s.W_fh, ...
    verify(Equal(s.f, jacobians.dc_dc_prev(lstm), lstm,
                 truncated=jacobians.dc_dc_prev(lstm, "truncated")))   # -> agrees-when-truncated
"""
__version__ = "0.1.0"

from derive import jacobians, models, notation, numeric  # noqa: E402
from derive.claims import Claim, Source, claim, load, load_all  # noqa: E402
from derive.errors import (ClaimError, DeriveError, ModelError, ReportError,  # noqa: E402
                           TexMissingError, VerificationError)
from derive.verify import Bound, Equal, Experiment, Settings, Verdict, verify  # noqa: E402

__all__ = [
    "models", "jacobians", "numeric", "notation",
    "Source", "Claim", "claim", "load", "load_all",
    "Equal", "Bound", "Experiment", "Settings", "Verdict", "verify",
    "DeriveError", "ModelError", "ClaimError", "VerificationError", "ReportError", "TexMissingError",
]
