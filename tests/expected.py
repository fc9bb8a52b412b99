"""The verdicts a correct engine computes for the built-in claims: the derivation test suite's table.

The expected verdicts live here, in the tests, and nowhere in derive/ or checks/.
"""

A, D, T = "agrees", "differs", "agrees-when-truncated"
EXPECTED = {
    "cv-lstm.sigmoid-bound": A, "cv-lstm.rnn-product": A, "cv-lstm.rnn-weight-factor": D,
    "cv-lstm.forget-product": T, "cv-lstm.original-cec-zero": D, "cv-lstm.original-cec-one": T,
    "cv-lstm.output-squash": A, "cv-lstm.vanish-slower": A,
    "cv-explode.cec-term": A, "cv-explode.lossless-when-f1": T, "cv-explode.output-gate-path": A,
    "cv-explode.gate-paths": A, "cv-explode.lstm-can-explode": A,
    "arbel.eq1": D, "arbel.eq2": A, "arbel.eq2.vector": A, "arbel.tanh-remark": D, "arbel.explode-large-W": A,
    "arbel.product-rule": A, "arbel.A_t": A, "arbel.B_t": A, "arbel.C_t": A, "arbel.D_t": D,
    "arbel.A_t.vector": A, "arbel.eq6": D, "arbel.app-A": D, "arbel.app-C": D, "arbel.app-D": D,
    "arbel.eq4-chain": D, "arbel.eq4-chain-exact-terms": D, "arbel.balance-example": A,
    "blog.dW3": D, "blog.dW1": D, "blog.layer-factor": A, "blog.sigmoid-strict": D, "blog.relu": A,
    "blog.arctan": A, "blog.gauss-init": A, "blog.forget-only-factor": T, "blog.forget-one": T,
    "blog.added-term-vanishes": T,
}
REQUIRED = {  # the ids the issue names; more claims are welcome, these must be present
    "cv-lstm.sigmoid-bound", "cv-lstm.rnn-product", "cv-lstm.rnn-weight-factor", "cv-lstm.forget-product",
    "cv-lstm.original-cec-zero", "cv-lstm.output-squash", "cv-lstm.vanish-slower", "cv-explode.cec-term",
    "cv-explode.lossless-when-f1", "cv-explode.output-gate-path", "cv-explode.gate-paths",
    "cv-explode.lstm-can-explode", "arbel.eq1", "arbel.eq2", "arbel.tanh-remark", "arbel.explode-large-W",
    "arbel.product-rule", "arbel.A_t", "arbel.B_t", "arbel.C_t", "arbel.D_t", "arbel.eq6", "arbel.app-A",
    "arbel.app-C", "arbel.app-D", "arbel.eq4-chain", "arbel.balance-example", "blog.dW3", "blog.dW1",
    "blog.sigmoid-strict", "blog.relu", "blog.gauss-init", "blog.added-term-vanishes", "blog.forget-one",
}
# The claims that are not equalities, by the kind of question they ask (the rest are Equal).
BOUNDS = {"cv-lstm.sigmoid-bound", "cv-lstm.output-squash", "blog.sigmoid-strict", "blog.arctan", "blog.gauss-init"}
EXPERIMENTS = {"cv-lstm.rnn-weight-factor", "cv-lstm.vanish-slower", "cv-explode.lstm-can-explode",
               "arbel.explode-large-W", "arbel.balance-example"}
EQUALITIES = set(EXPECTED) - BOUNDS - EXPERIMENTS
