"""Claims of the Cross Validated thread "Why can RNNs with LSTM units also suffer from 'exploding gradients'?".

The δ-notation equation of the CEC paragraph is in cv_explode.toml; the rest
cannot be written as an equation of the notation and stays here.

The answer follows the backpropagation formulas of Greff et al. (2015),
"LSTM: A Search Space Odyssey", appendix A.2, so the model is their peephole
("vanilla") LSTM; y^t there is h_t here, and δq^t = ∂L/∂q^t.
"""
import sympy

from derive import exact, models
from derive.lab import experiments
from derive.claim import Source, claim
from derive.notation import diag, dsigma, dtanh, hadamard, matmul, stack, tanh, transpose
from derive.verify import Equal, Experiment

SOURCE = Source("cv-explode", "Why can RNNs with LSTM units also suffer from \u201cexploding gradients\u201d?",
                "Cross Validated (stats.stackexchange.com)")

PEEPHOLE = models.lstm_peephole(n=2)
SCALAR = models.lstm_peephole()


# Not in cv_explode.toml: the condition f^{t+1} = 1 substituted into the exact derivative has no notation there.
@claim("cv-explode.lossless-when-f1", where="best answer, CEC paragraph",
       printed=r"f^{t+1} = 1:\ \delta c^{t+1} \text{ accumulates to } \delta c^t \text{ losslessly}",
       verbatim=False,
       statement=r"When the forget gate is 1, the error in the cell passes from step $t + 1$ to step $t$ unchanged.",
       reading=r"Unchanged means $\frac{\partial c^{t+1}}{\partial c^t} = 1$ with $f^{t+1} = 1$ (so "
               r"$\sigma'(\bar{f}^{t+1}) = 0$ too); peephole LSTM, scalar.")
def lossless_when_f1():
    f_next = SCALAR.at(1).f
    full = exact.dc_dc_prev(SCALAR, "full", time=1).xreplace({f_next: 1})
    truncated = exact.dc_dc_prev(SCALAR, "truncated", time=1).xreplace({f_next: 1})
    return Equal(sympy.S.One, full, SCALAR, truncated=truncated)


def _two_step_hand(gate: str):
    """The map δy^{t+2} -> δy^t along one gate, composed from Greff et al.'s eq. A.2 as the answer walks it."""
    maps = []
    for time in (1, 2):
        s = PEEPHOLE.at(time)
        # δc^k gathers δy^k through y = o ⊙ tanh(c) and through the peephole p_o ⊙ δō^k.
        into_cell = diag(hadamard(s.o, dtanh(s.c)) + hadamard(s.p_o, tanh(s.c), dsigma(s.o_bar)))
        if gate == "o":
            local = diag(hadamard(tanh(s.c), dsigma(s.o_bar)))            # δō = δy ⊙ tanh(c) ⊙ σ'(ō)
            weight = s.R_o
        elif gate == "i":
            local = matmul(diag(hadamard(s.z, dsigma(s.i_bar))), into_cell)  # δī = δc ⊙ z ⊙ σ'(ī)
            weight = s.R_i
        elif gate == "f":
            local = matmul(diag(hadamard(s.c_prev, dsigma(s.f_bar))), into_cell)  # δf̄ = δc ⊙ c^{t-1} ⊙ σ'(f̄)
            weight = s.R_f
        else:
            local = matmul(diag(hadamard(s.i, dtanh(s.z_bar))), into_cell)  # δz̄ = δc ⊙ i ⊙ tanh'(z̄)
            weight = s.R_z
        maps.append(matmul(transpose(weight), local))  # δy^{k-1} ← R^T δ(pre-activation)^k
    return matmul(maps[0], maps[1])


def _two_step_exact(gate: str):
    """(∂h_{t+2}/∂h_{t+1} · ∂h_{t+1}/∂h_t)^T along the gate only, from the engine's routes."""
    return transpose(matmul(exact.gate_route(PEEPHOLE, gate, 2), exact.gate_route(PEEPHOLE, gate, 1)))


# Not in cv_explode.toml: a chain of arrows (←) between adjoints is a path, not an equation of the notation.
@claim("cv-explode.output-gate-path", where="best answer, second part",
       printed=r"\delta y^t \leftarrow R^T_o \delta o^{t+1} \leftarrow \delta y^{t+1} \leftarrow R^T_o \delta o^{t+2}",
       reading=r"$\delta o$ is the output gate's pre-activation adjoint $\delta \bar{o}$ of Greff et al.; the "
               r"path's linear map from $\delta y^{t+2}$ to $\delta y^t$ is $R_o^T D^{t+1} R_o^T D^{t+2}$ with "
               r"$D^k = \mathrm{diag}(\tanh(c^k) \odot \sigma'(\bar{o}^k))$; vector case $n = 2$, against the "
               r"exact two-step Jacobian through the output gate only.")
def output_gate_path():
    return Equal(_two_step_hand("o"), _two_step_exact("o"), PEEPHOLE)


# Not in cv_explode.toml: a sentence about three paths, checked with the linear maps composed here.
@claim("cv-explode.gate-paths", where="best answer, second part",
       printed=r"\text{paths through the input and forget gates and the block input multiply } "
               r"R^T_i, R^T_f, R^T_z \text{ in the same way}", verbatim=False,
       statement="The two-step paths through the input gate, the forget gate and the block input also "
                 "multiply their recurrent matrix twice.",
       reading=r"As for the output gate, with $\delta \bar{\imath} = \delta c \odot z \odot "
               r"\sigma'(\bar{\imath})$, $\delta \bar{f} = \delta c \odot c^{t-1} \odot \sigma'(\bar{f})$, "
               r"$\delta \bar{z} = \delta c \odot i \odot \tanh'(\bar{z})$ and $\delta c = \delta y \odot o \odot"
               r" \tanh'(c) + p_o \odot \delta \bar{o}$ (Greff et al., eq. A.2); vector case $n = 2$.")
def gate_paths():
    gates = ("i", "f", "z")
    return Equal(stack(*[_two_step_hand(g) for g in gates]), stack(*[_two_step_exact(g) for g in gates]),
                 PEEPHOLE, labels=tuple(f"R_{g}, entry {k + 1}" for g in gates for k in range(4)))


# Not in cv_explode.toml: a statement about growth, decided by an experiment.
@claim("cv-explode.lstm-can-explode", where="best answer, conclusion",
       printed=r"\text{RNNs with LSTM units can also suffer from exploding gradients}", verbatim=False,
       statement="Other paths than the cell state may cause the gradient to explode.",
       reading=r"Experiment 3: peephole LSTM, PyTorch initialisation, inputs N(0, 1) ($n$, $T$ and draws in the "
               r"caption); $R_o$, $R_i$, $R_f$, $R_z$ multiplied by 1 to 32, one at a time and all together: some"
               r" setting must give a positive fitted per-step rate of the base-10 logarithm of the norm of "
               r"$\frac{\partial h_T}{\partial h_0}$.")
def lstm_can_explode():
    def holds(numbers):
        return any(value > 0 for key, value in numbers.items() if key.startswith("rate["))

    return Experiment("some scaling gives sustained growth", experiments.lstm_explosion, holds,
                      figure="lstm-explosion")
