"""Claims of Nir Arbel, "How LSTM networks solve the problem of vanishing gradients" (Medium / DataDrivenInvestor).

Most of the article's claims are in arbel.toml, written in its own notation;
the ones here cannot be: the vector reading of A_t and the two statements
decided by experiments. The article leaves biases out, so its models here have none. In
`W_f · [h_{t-1}, x_t]` the matrix W_f is split into its recurrent and input
blocks, W_f · [h_{t-1}, x_t] = W_fh h_{t-1} + W_fx x_t, and the lone `W_f` that
multiplies o_{t-1} ⊗ tanh'(c_{t-1}) stands for the recurrent block W_fh.
"""
from derive import exact, models
from derive.lab import experiments
from derive.claim import Source, claim
from derive.notation import diag, dsigma, dtanh, hadamard, matmul
from derive.verify import Equal, Experiment

SOURCE = Source("arbel", "How LSTM networks solve the problem of vanishing gradients",
                "Medium / DataDrivenInvestor", author="Nir Arbel")

LSTM_2 = models.lstm_forget(n=2, bias=False)


def _preactivation(model, gate, s):
    """W_g · [h_{t-1}, x_t] for gate g in {f, i, c, o}, in the namespace s of time t."""
    return getattr(s, f"W_{gate}h") * s.h_prev + getattr(s, f"W_{gate}x") * s.x


_PRINTED = {
    "A": r"A_t = \sigma'(W_f \cdot [h_{t-1}, x_t]) \cdot W_f \cdot o_{t-1} \otimes \tanh'(c_{t-1}) \cdot c_{t-1}",
}


# Not in arbel.toml: a statement about growth, decided by an experiment.
@claim("arbel.explode-large-W", where="paragraph after eq. (2)",
       printed=r"\prod_{t=2}^k \sigma'(\cdot)\, W_{rec} \text{ explodes if } W_{rec} \text{ is large enough}",
       verbatim=False,
       statement=r"The product of derivatives can also explode if the weights $W_{rec}$ are large enough.",
       reading=r"Experiment 1, the sigmoid RNN (the article's): PyTorch initialisation with $W_{rec}$ rescaled to"
               r" largest singular values $s$ from 1 to 32, inputs N(0, 1) ($n$, $T$ and draws in the caption): "
               r"some $s$ must give a positive fitted per-step rate of the base-10 logarithm of the norm of "
               r"$\frac{\partial c_T}{\partial c_0}$. The tanh RNN is shown beside it.")
def explode_large_w():
    def holds(numbers):
        return any(value > 0 for key, value in numbers.items() if key.startswith("rate[sigmoid"))

    return Experiment(r"some scale of $W_{rec}$ gives sustained growth", experiments.rnn_spectral, holds,
                      figure="rnn-spectral")


# Not in arbel.toml: the vector reading multiplies the trailing · c_{t-1} from the left (diag(c_{t-1}) ...),
# which no reading rule of the notation gives (a column times a column is refused there).
@claim("arbel.A_t.vector", where="main text, term $A_t$, vector reading",
       printed=_PRINTED["A"],
       reading=r"$n = 2$: $\mathrm{diag}(c_{t-1}) \mathrm{diag}(\sigma'(z_{f,t})) W_{fh} \mathrm{diag}(o_{t-1} "
               r"\odot \tanh'(c_{t-1}))$ --- the trailing factor $c_{t-1}$ scales rows, as the product rule's "
               r"$\frac{\partial f_t}{\partial c_{t-1}} \cdot c_{t-1}$ requires.")
def a_t_vector():
    s = LSTM_2.sym
    hand = matmul(diag(s.c_prev), diag(dsigma(_preactivation(LSTM_2, "f", s))), s.W_fh,
                  diag(hadamard(s.o_prev, dtanh(s.c_prev))))
    return Equal(hand, exact.path_terms(LSTM_2)["via_f"], LSTM_2)


# Not in arbel.toml: experiments are measured, not written as formulas (so is explode-large-W above).
@claim("arbel.balance-example", where="section 'Preventing the error gradients from vanishing'",
       printed=r"A_t \approx \vec{0.1},\ B_t = f_t \approx \vec{0.7},\ C_t \approx \vec{0.1},\ D_t \approx \vec{0.1}"
               r"\ \Rightarrow\ \prod_{t=2}^k [A_t + B_t + C_t + D_t] \approx \prod_{t=2}^k \vec{1}",
       reading=r"Scalar forget-gate LSTM without biases, with the exact terms (path terms via $f_t$, direct, via "
               r"$i_t$, via the candidate $\tilde{c}_t$): the combination must be reachable (a parameter point is"
               r" searched by least squares and checked) and give $A_t + B_t + C_t + D_t = 1$ there, to two "
               r"decimals; for context, how often random draws (weights U(-1, 1), inputs N(0, 1), 2000 draws × 29"
               r" steps) come near it.")
def balance_example():
    def holds(numbers):
        return numbers["target_reached_max_error"] < 1e-3 and abs(numbers["sum_at_point"] - 1) < 0.01

    return Experiment("(0.1, 0.7, 0.1, 0.1) is reachable and sums to ≈ 1", experiments.balance, holds,
                      figure="balance")
