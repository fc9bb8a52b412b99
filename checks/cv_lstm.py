"""Claims of the Cross Validated thread "How does LSTM prevent the vanishing gradient problem?"."""
import sympy

from derive import experiments, jacobians, models
from derive.activations import Sigmoid
from derive.claims import Source, claim
from derive.notation import dsigma, stack
from derive.verify import Bound, Equal, Experiment

SOURCE = Source("cv-lstm", "How does LSTM prevent the vanishing gradient problem?",
                "Cross Validated (stats.stackexchange.com)")

RNN = models.rnn(form="cv")  # h_t = σ(w h_{t-1})
LSTM = models.lstm_forget()
LSTM_1997 = models.lstm_1997()
SPANS = (1, 2, 3, 4)
z = sympy.Symbol("z", real=True)


@claim("cv-lstm.sigmoid-bound", where="question",
       printed=r"\sigma'(z) \le 0.25", verbatim=False,
       statement="The sigmoid's derivative is at most 0.25.",
       reading="σ' over all real z; the maximum is found exactly from the critical points of σ'.")
def sigmoid_bound():
    return Bound(sympy.diff(Sigmoid(z), z), "<=", sympy.Rational(1, 4), ((z, -sympy.oo, sympy.oo),))


@claim("cv-lstm.rnn-product", where="answer 1, first display",
       printed=r"\frac{\partial h_{t'}}{\partial h_t} = \prod_{k=1}^{t'-t} w \sigma'(w h_{t'-k}) "
               r"= w^{t'-t}\prod_{k=1}^{t'-t} \sigma'(w h_{t'-k})",
       reading="Scalar RNN h_t = σ(w h_{t-1}); t = 0 and t' = 1, 2, 3, 4; both lines of the display "
               "against the exact chain ∂h_{t'}/∂h_0.")
def rnn_product():
    hands, exacts, labels = [], [], []
    for line, power in (("product", False), ("w factored out", True)):
        for span in SPANS:
            h = [RNN.at(k, absolute=True).h for k in range(span + 1)]
            w = RNN.sym.w
            if power:
                hand = w ** span * sympy.Mul(*[dsigma(w * h[span - k]) for k in range(1, span + 1)])
            else:
                hand = sympy.Mul(*[w * dsigma(w * h[span - k]) for k in range(1, span + 1)])
            hands.append(hand)
            exacts.append(jacobians.multi_step(RNN, 0, span))
            labels.append(f"{line}, t'-t = {span}")
    return Equal(stack(*hands), stack(*exacts), RNN, labels=tuple(labels))


@claim("cv-lstm.rnn-weight-factor", where="answer 1, after the display",
       printed=r"\underbrace{w^{t'-t}}_{!!!}: \text{ unless } w = 1 \text{, the gradient decays or grows "
               r"exponentially in } t'-t", verbatim=False,
       statement="The factor w^{t'-t} decides: at w = 1 the gradient neither vanishes nor explodes; "
                 "for |w| > 1 it grows exponentially.",
       reading="Scalar RNN h_t = σ(w h_{t-1}), no input, h_0 ∈ {-0.9, 0.1, 0.9}: the fitted per-step rate "
               "of log10|∂h_T/∂h_0| must be ≈ 0 at w = 1 and positive for 1 < |w| < 4, as the statement "
               "predicts; the exact bound |w σ'| <= |w|/4 gives the rate's ceiling log10(|w|/4).")
def rnn_weight_factor():
    def holds(numbers):
        flat = abs(numbers["rate[w=1]"]) < 0.01
        grows = all(numbers[f"rate[w={w:g}]"] > 0 for w in (1.5, 2.0, 3.0, 3.9, -3.0))
        return flat and grows

    return Experiment("rate ≈ 0 at w = 1 and > 0 for 1 < |w| < 4", experiments.scalar_rnn_rates, holds,
                      figure="rnn-scalar")


@claim("cv-lstm.forget-product", where="answer 1, second display",
       printed=r"\frac{\partial s_{t'}}{\partial s_t} = \prod_{k=1}^{t'-t} \sigma(v_{t+k})",
       reading="s is the cell state c and v the forget gate's pre-activation z_f of the forget-gate LSTM "
               "(scalar); t = 1 and t' = 2, 3, 4.")
def forget_product():
    hands, full, truncated, labels = [], [], [], []
    for span in (1, 2, 3):
        hands.append(sympy.Mul(*[Sigmoid(LSTM.at(1 + k, absolute=True).z_f) for k in range(1, span + 1)]))
        full.append(jacobians.multi_step(LSTM, 1, 1 + span, "full"))
        truncated.append(jacobians.multi_step(LSTM, 1, 1 + span, "truncated"))
        labels.append(f"t'-t = {span}")
    return Equal(stack(*hands), stack(*full), LSTM, truncated=stack(*truncated), labels=tuple(labels))


@claim("cv-lstm.original-cec-zero", where="answer 2, second paragraph",
       printed=r"\frac{\partial c_t}{\partial c_s} = 0 \quad (s < t)", verbatim=False,
       statement="In the original LSTM (no forget gate) the gradient of the cell state with regard to "
                 "the cell state at an earlier time step is zero.",
       reading="LSTM of 1997, scalar; s = 1 and t = 2, 3, 4.")
def original_cec_zero():
    return _cec(sympy.S.Zero)


@claim("cv-lstm.original-cec-one", where="answer 2, second paragraph (charitable reading)",
       printed=r"\frac{\partial c_t}{\partial c_s} = 1 \quad (s < t)", verbatim=False,
       statement="Read as 'the error does not change in the CEC': the gradient of the cell state with "
                 "regard to an earlier cell state is one.",
       reading="LSTM of 1997, scalar; s = 1 and t = 2, 3, 4.")
def original_cec_one():
    return _cec(sympy.S.One)


def _cec(value):
    spans = (1, 2, 3)
    return Equal(stack(*[value] * len(spans)),
                 stack(*[jacobians.multi_step(LSTM_1997, 1, 1 + s, "full") for s in spans]), LSTM_1997,
                 truncated=stack(*[jacobians.multi_step(LSTM_1997, 1, 1 + s, "truncated") for s in spans]),
                 labels=tuple(f"t - s = {s}" for s in spans))


@claim("cv-lstm.output-squash", where="answer 2, third paragraph",
       printed=r"\left|\frac{\partial h_t}{\partial c_t}\right| \le 1", verbatim=False,
       statement="Error entering the cell through the output gate and the output activation is reduced.",
       reading="LSTM of 1997 (no peephole), scalar: ∂h_t/∂c_t = o_t tanh'(c_t) with o_t = σ(z_{o,t}); "
               "z_{o,t} and c_t range over all reals.")
def output_squash():
    s = LSTM_1997.sym
    derivative = jacobians.output_derivative(LSTM_1997).xreplace({s.o: Sigmoid(s.z_o)})
    return Bound(sympy.Abs(derivative), "<=", 1, ((s.z_o, -sympy.oo, sympy.oo), (s.c, -sympy.oo, sympy.oo)))


@claim("cv-lstm.vanish-slower", where="comment on the question",
       printed=r"\text{LSTM gradients vanish too, only slower than in vanilla RNNs}", verbatim=False,
       statement="Gradients in LSTMs do vanish, just slower than in vanilla RNNs.",
       reading="Experiment 2 (PyTorch initialisation, inputs N(0, 1); n, T and draws in the caption): the "
               "fitted per-step rate of log10‖∂c_T/∂c_0‖ of the forget-gate LSTM (full semantics, forget "
               "bias 0) must be negative and above the rates of the sigmoid and tanh RNNs.")
def vanish_slower():
    def holds(numbers):
        lstm = numbers["lstm[b_f=0,full]"]
        return lstm < 0 and lstm > numbers["rnn[sigmoid]"] and lstm > numbers["rnn[tanh]"]

    return Experiment("LSTM rate < 0 and above both RNN rates", experiments.lstm_decay, holds, figure="lstm-decay")
