"""derive: exact gradients of RNN and LSTM recurrences, and verdicts on hand derivations of them.

The public API in one screen (imported on first use, so `import derive` is instant):

    from derive import models, exact, Equal
    from derive.verify import verify
    lstm = models.lstm_forget()                      # scalar forget-gate LSTM (n=2, 3 for vectors)
    exact.dc_dc_prev(lstm, "full")                   # exact ∂c_t/∂c_{t-1}, every path
    exact.dc_dc_prev(lstm, "truncated")              # gates held constant: f_t
    s = lstm.sym                                     # the symbols at time t: s.f, s.c_prev, s.W_fh, ...
    verify(Equal(s.f, exact.dc_dc_prev(lstm), lstm,
                 truncated=exact.dc_dc_prev(lstm, "truncated"))).status   # -> agrees-when-truncated

The flow a claim travels: claim sources (checks/, derive.notation, derive.claims) -> derive.models ->
derive.exact -> derive.verify -> derive.report; derive.lab holds the numeric chains and experiments.
"""
import importlib

__version__ = "0.1.0"

_MODULES = ("models", "exact", "notation", "lab", "rules", "evidence", "claims", "verify")
_NAMES = {
    "Source": "derive.claim", "Claim": "derive.claim", "claim": "derive.claim",
    "load_all": "derive.claims",
    "Equal": "derive.verify", "Bound": "derive.verify", "Experiment": "derive.verify", "Settings": "derive.verify",
    "Verdict": "derive.evidence", "Status": "derive.rules", "Method": "derive.rules",
    "Semantics": "derive.rules",
    "DeriveError": "derive.errors", "ModelError": "derive.errors", "ClaimError": "derive.errors",
    "VerificationError": "derive.errors", "ReportError": "derive.errors", "TexMissingError": "derive.errors",
}
__all__ = sorted(_MODULES + tuple(_NAMES))


def __getattr__(name: str):
    if name in _MODULES:
        value = importlib.import_module(f"derive.{name}")
    elif name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
    else:
        raise AttributeError(f"module 'derive' has no attribute {name!r}")
    globals()[name] = value
    return value
