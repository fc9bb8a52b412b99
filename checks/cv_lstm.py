"""Claims of the Cross Validated thread "How does LSTM prevent the vanishing gradient problem?" decided by experiments.

The thread's formulas are in cv_lstm.toml, in its own notation; statements
about growth and decay are measured, so they stay here.
"""
from derive.lab import experiments
from derive.claim import Source, claim
from derive.verify import Experiment

SOURCE = Source("cv-lstm", "How does LSTM prevent the vanishing gradient problem?",
                "Cross Validated (stats.stackexchange.com)")


# Not in cv_lstm.toml: a statement about exponential growth, decided by an experiment.
@claim("cv-lstm.rnn-weight-factor", where="answer 1, after the display",
       printed=r"\underbrace{w^{t'-t}}_{!!!}: \text{ unless } w = 1 \text{, the gradient decays or grows "
               r"exponentially in } t'-t", verbatim=False,
       statement=r"The factor $w^{t'-t}$ decides: at $w = 1$ the gradient neither vanishes nor explodes; for "
                 r"$\left|w\right| > 1$ it grows exponentially.",
       reading=r"Scalar RNN $h_t = \sigma(w h_{t-1})$, no input, $h_0$ one of $-0.9$, $0.1$, $0.9$: the fitted "
               r"per-step rate of the base-10 logarithm of the norm of $\frac{\partial h_T}{\partial h_0}$ must "
               r"be about 0 at $w = 1$ and positive for $1 < \left|w\right| < 4$, as the statement predicts; the "
               r"exact bound $\left|w \sigma'(z)\right| \le \left|w\right|/4$ gives the rate's ceiling, the "
               r"base-10 logarithm of $\left|w\right|/4$.")
def rnn_weight_factor():
    below_four = (0.5, 1.0, 1.5, 2.0, 3.0, 3.9, -1.0, -3.0)

    def holds(numbers):
        flat = abs(numbers["rate[w=1]"]) < 0.01
        grows = all(numbers[f"rate[w={w:g}]"] > 0 for w in (1.5, 2.0, 3.0, 3.9, -3.0))
        return flat and grows

    def explain(numbers):
        rates = ", ".join(f"{numbers[f'rate[w={w:g}]']:g} at $w = {w:g}$" for w in (1.0, 1.5, 3.0, 3.9))
        shrinking = all(numbers[f"rate[w={w:g}]"] < 0 for w in below_four)
        return (f"the measured rates per step are {rates}: " +
                ("the gradient vanishes for every $|w| < 4$, $w = 1$ included" if shrinking else
                 "they do not follow the prediction"))

    def bounded(numbers):  # the exact bound |w σ'| <= |w|/4 of each step, and vanishing below |w| = 4
        under = all(numbers[k] <= numbers[k.replace("rate", "bound")] + 1e-9 for k in numbers if k.startswith("rate"))
        return under and all(numbers[f"rate[w={w:g}]"] < 0 for w in below_four)

    return Experiment(r"rate about 0 at $w = 1$ and above 0 for $1 < \left|w\right| < 4$",
                      experiments.scalar_rnn_rates, holds,
                      figure="rnn-scalar", explain=explain,
                      correction=(r"\left|\frac{\partial h_{t'}}{\partial h_t}\right| \le "
                                  r"\left(\frac{|w|}{4}\right)^{t'-t}",
                                  "each step multiplies the gradient by at most $|w|/4$ ($\\sigma' \\le 1/4$): it "
                                  "vanishes for every $|w| < 4$, $w = 1$ included, and can grow only for $|w| > 4$",
                                  bounded))


# Not in cv_lstm.toml: a comparison of decay rates, decided by an experiment.
@claim("cv-lstm.vanish-slower", where="comment on the question",
       printed=r"\text{LSTM gradients vanish too, only slower than in vanilla RNNs}", verbatim=False,
       statement="Gradients in LSTMs do vanish, just slower than in vanilla RNNs.",
       reading=r"Experiment 2 (PyTorch initialisation, inputs N(0, 1); $n$, $T$ and draws in the caption): the "
               r"fitted per-step rate of the base-10 logarithm of the norm of $\frac{\partial c_T}{\partial c_0}$"
               r" of the forget-gate LSTM (full semantics, forget bias 0) must be negative and above the rates of"
               r" the sigmoid and tanh RNNs.")
def vanish_slower():
    def holds(numbers):
        lstm = numbers["rate[LSTM, b_f=0, full]"]
        return lstm < 0 and lstm > numbers["rate[RNN, sigmoid]"] and lstm > numbers["rate[RNN, tanh]"]

    return Experiment("LSTM rate < 0 and above both RNN rates", experiments.lstm_decay, holds, figure="lstm-decay")
