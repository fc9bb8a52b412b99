"""Claims of Nir Arbel, "How LSTM networks solve the problem of vanishing gradients" (Medium / DataDrivenInvestor).

The article leaves biases out, so its models here have none. In
`W_f · [h_{t-1}, x_t]` the matrix W_f is split into its recurrent and input
blocks, W_f · [h_{t-1}, x_t] = W_fh h_{t-1} + W_fx x_t, and the lone `W_f` that
multiplies o_{t-1} ⊗ tanh'(c_{t-1}) stands for the recurrent block W_fh.
"""
import sympy

from derive import experiments, jacobians, models
from derive.activations import Sigmoid
from derive.claims import Source, claim
from derive.notation import diag, dsigma, dtanh, hadamard, matmul, stack
from derive.verify import Equal, Experiment

SOURCE = Source("arbel", "How LSTM networks solve the problem of vanishing gradients",
                "Medium / DataDrivenInvestor", author="Nir Arbel")

RNN = models.rnn(bias=False)
RNN_2 = models.rnn(n=2, bias=False)
LSTM = models.lstm_forget(bias=False)
LSTM_2 = models.lstm_forget(n=2, bias=False)
CHAIN = (2, 3, 4, 5, 6)


def _preactivation(model, gate, s):
    """W_g · [h_{t-1}, x_t] for gate g in {f, i, c, o}, in the namespace s of time t."""
    return getattr(s, f"W_{gate}h") * s.h_prev + getattr(s, f"W_{gate}x") * s.x


def arbel_terms(time=0, absolute=False):
    """A_t, B_t, C_t, D_t as printed in the main text (scalar)."""
    s = LSTM.at(time, absolute)
    carry = s.o_prev * dtanh(s.c_prev)  # o_{t-1} ⊗ tanh'(c_{t-1})
    return {
        "A": dsigma(_preactivation(LSTM, "f", s)) * s.W_fh * carry * s.c_prev,
        "B": s.f,
        "C": dsigma(_preactivation(LSTM, "i", s)) * s.W_ih * carry * s.c_tilde,
        "D": dsigma(_preactivation(LSTM, "c", s)) * s.W_ch * carry * s.i,
    }


@claim("arbel.eq1", where="eq. (1)",
       printed=r"\frac{\partial E_k}{\partial W} = \frac{\partial E_k}{\partial h_k} \frac{\partial h_k}{\partial c_k}"
               r"\left(\prod_{t=2}^k \frac{\partial c_t}{\partial c_{t-1}}\right) \frac{\partial c_1}{\partial W}",
       reading="RNN c_t = σ(W_rec c_{t-1} + W_in x_t), scalar; W is W_rec; the common factor "
               "∂E_k/∂h_k ∂h_k/∂c_k is left out; ∂c_1/∂W is the derivative of c_1 with c_0 given; "
               "k = 2, 3, 4, against the exact dc_k/dW_rec.")
def eq1():
    w = RNN.sym.W_rec
    hands, exacts = [], []
    for k in (2, 3, 4):
        product = sympy.Mul(*[jacobians.dc_dc_prev(RNN, time=t, absolute=True) for t in range(2, k + 1)])
        first = jacobians.collapse_unrolled(sympy.diff(jacobians.unrolled(RNN, "c", 1), w), RNN, 1)[0, 0]
        hands.append(product * first)
        exact = sympy.diff(jacobians.unrolled(RNN, "c", k), w)
        exacts.append(jacobians.collapse_unrolled(exact, RNN, k)[0, 0])
    return Equal(stack(*hands), stack(*exacts), RNN, labels=("k = 2", "k = 3", "k = 4"))


@claim("arbel.eq2", where="eq. (2)",
       printed=r"\frac{\partial c_t}{\partial c_{t-1}} = \sigma'(W_{rec} \cdot c_{t-1} + W_{in} \cdot x_t) \cdot W_{rec}",
       reading="RNN c_t = σ(W_rec c_{t-1} + W_in x_t), scalar.")
def eq2():
    s = RNN.sym
    return Equal(dsigma(s.W_rec * s.c_prev + s.W_in * s.x) * s.W_rec, jacobians.dc_dc_prev(RNN), RNN)


@claim("arbel.eq2.vector", where="eq. (2), vector reading",
       printed=r"\frac{\partial c_t}{\partial c_{t-1}} = \sigma'(W_{rec} \cdot c_{t-1} + W_{in} \cdot x_t) \cdot W_{rec}",
       reading="n = 2: σ'(·) is the diagonal matrix diag(σ'(z_t)) multiplying W_rec from the left.")
def eq2_vector():
    s = RNN_2.sym
    return Equal(matmul(diag(dsigma(s.W_rec * s.c_prev + s.W_in * s.x)), s.W_rec),
                 jacobians.dc_dc_prev(RNN_2), RNN_2)


@claim("arbel.tanh-remark", where="sentence after eq. (2)",
       printed=r"\text{vanishes for large } k \text{ because } \tanh'(\cdot) < 1", verbatim=False,
       statement="The product tends to vanish because of the derivative of the tanh activation, smaller than 1.",
       reading="Is the factor of eq. (2) tanh'(z_t) W_rec? The article's RNN uses σ (scalar).")
def tanh_remark():
    s = RNN.sym
    return Equal(dtanh(s.W_rec * s.c_prev + s.W_in * s.x) * s.W_rec, jacobians.dc_dc_prev(RNN), RNN)


@claim("arbel.explode-large-W", where="paragraph after eq. (2)",
       printed=r"\prod_{t=2}^k \sigma'(\cdot)\, W_{rec} \text{ explodes if } W_{rec} \text{ is large enough}",
       verbatim=False,
       statement="The product of derivatives can also explode if the weights W_rec are large enough.",
       reading="Experiment 1, the sigmoid RNN (the article's): PyTorch initialisation with W_rec rescaled to "
               "largest singular values s from 1 to 32, inputs N(0, 1) (n, T and draws in the caption): some "
               "s must give a positive fitted per-step rate of log10‖∂c_T/∂c_0‖. The tanh RNN is shown beside it.")
def explode_large_w():
    def holds(numbers):
        return any(value > 0 for key, value in numbers.items() if key.startswith("rate[sigmoid"))

    return Experiment("some scale of W_rec gives sustained growth", experiments.rnn_spectral, holds,
                      figure="rnn-spectral")


@claim("arbel.product-rule", where="derivative of eq. (5)",
       printed=r"\frac{\partial c_t}{\partial c_{t-1}} = \frac{\partial f_t}{\partial c_{t-1}} \cdot c_{t-1} "
               r"+ \frac{\partial c_{t-1}}{\partial c_{t-1}} \cdot f_t + \frac{\partial i_t}{\partial c_{t-1}} "
               r"\cdot \tilde{c}_t + \frac{\partial \tilde{c}_t}{\partial c_{t-1}} \cdot i_t",
       reading="Forget-gate LSTM, scalar; each ∂g_t/∂c_{t-1} is the engine's exact derivative of the gate, "
               "full semantics (h_{t-1} = o_{t-1} ⊙ tanh(c_{t-1})).")
def product_rule():
    s = LSTM.sym
    d = {g: jacobians.d_dc_prev(LSTM, g) for g in ("f", "i", "c_tilde")}
    hand = d["f"] * s.c_prev + 1 * s.f + d["i"] * s.c_tilde + d["c_tilde"] * s.i
    return Equal(hand, jacobians.dc_dc_prev(LSTM), LSTM, truncated=jacobians.dc_dc_prev(LSTM, "truncated"))


_PRINTED = {
    "A": r"A_t = \sigma'(W_f \cdot [h_{t-1}, x_t]) \cdot W_f \cdot o_{t-1} \otimes \tanh'(c_{t-1}) \cdot c_{t-1}",
    "C": r"C_t = \sigma'(W_i \cdot [h_{t-1}, x_t]) \cdot W_i \cdot o_{t-1} \otimes \tanh'(c_{t-1}) \cdot \tilde{c}_t",
    "D": r"D_t = \sigma'(W_c \cdot [h_{t-1}, x_t]) \cdot W_c \cdot o_{t-1} \otimes \tanh'(c_{t-1}) \cdot i_t",
}
_TERMS = "main text, the four terms of eq. (6)"


@claim("arbel.A_t", where=_TERMS, printed=_PRINTED["A"],
       reading="Forget-gate LSTM, scalar, full semantics; against the path of ∂c_t/∂c_{t-1} through f_t.")
def a_t():
    return Equal(arbel_terms()["A"], jacobians.path_terms(LSTM)["via_f"], LSTM)


@claim("arbel.B_t", where=_TERMS, printed=r"B_t = f_t",
       reading="Forget-gate LSTM, scalar; against the direct path of ∂c_t/∂c_{t-1} (gates held).")
def b_t():
    return Equal(arbel_terms()["B"], jacobians.path_terms(LSTM)["direct"], LSTM)


@claim("arbel.C_t", where=_TERMS, printed=_PRINTED["C"],
       reading="Forget-gate LSTM, scalar, full semantics; against the path of ∂c_t/∂c_{t-1} through i_t.")
def c_t():
    return Equal(arbel_terms()["C"], jacobians.path_terms(LSTM)["via_i"], LSTM)


@claim("arbel.D_t", where=_TERMS, printed=_PRINTED["D"],
       reading="Forget-gate LSTM, scalar, full semantics; against the path of ∂c_t/∂c_{t-1} through the "
               "candidate c̃_t = tanh(W_c · [h_{t-1}, x_t]).")
def d_t():
    return Equal(arbel_terms()["D"], jacobians.path_terms(LSTM)["via_c_tilde"], LSTM)


@claim("arbel.A_t.vector", where="main text, term A_t, vector reading",
       printed=_PRINTED["A"],
       reading="n = 2: diag(c_{t-1}) diag(σ'(z_{f,t})) W_fh diag(o_{t-1} ⊙ tanh'(c_{t-1})) — the trailing "
               "·c_{t-1} scales rows, as the product rule's ∂f_t/∂c_{t-1} · c_{t-1} requires.")
def a_t_vector():
    s = LSTM_2.sym
    hand = matmul(diag(s.c_prev), diag(dsigma(_preactivation(LSTM_2, "f", s))), s.W_fh,
                  diag(hadamard(s.o_prev, dtanh(s.c_prev))))
    return Equal(hand, jacobians.path_terms(LSTM_2)["via_f"], LSTM_2)


@claim("arbel.eq6", where="eq. (6)",
       printed=r"\frac{\partial c_t}{\partial c_{t-1}} = A_t + B_t + C_t + D_t",
       reading="Forget-gate LSTM, scalar; A_t..D_t as printed in the main text.")
def eq6():
    return Equal(sum(arbel_terms().values()), jacobians.dc_dc_prev(LSTM), LSTM,
                 truncated=jacobians.dc_dc_prev(LSTM, "truncated"))


def _appendix(gate, factor, lines):
    """The appendix lines of one term against the exact path term (scalar)."""
    s = LSTM.sym
    h_readout = jacobians.readout(LSTM, -1)[0, 0]
    hands = []
    for line in lines:
        weight = getattr(s, f"W_{line['weight']}h")
        if line["kind"] == "derivative":
            # ∂/∂c_{t-1}[σ(W_g · [h_{t-1}, x_t])] · factor, differentiated here with h_{t-1} = o_{t-1} tanh(c_{t-1}).
            argument = (weight * s.h_prev + getattr(s, f"W_{line['weight']}x") * s.x).xreplace({s.h_prev: h_readout})
            hands.append(sympy.diff(Sigmoid(argument), s.c_prev) * factor)  # σ as printed, in all three
        elif line["kind"] == "dh_t":
            # σ'(W · [h_{t-1}, x_t]) · W · ∂h_t/∂c_{t-1} · factor, ∂h_t/∂c_{t-1} taken as printed.
            hands.append(dsigma(_preactivation(LSTM, line["weight"], s)) * weight
                         * jacobians.d_dc_prev(LSTM, "h") * factor)
        else:
            hands.append(dsigma(_preactivation(LSTM, line["weight"], s)) * weight
                         * s.o_prev * dtanh(s.c_prev) * factor)
    exact = jacobians.path_terms(LSTM)[gate]
    return Equal(stack(*hands), stack(*[exact] * len(hands)), LSTM,
                 labels=tuple(line["label"] for line in lines))


@claim("arbel.app-A", where="appendix, first computation",
       printed=r"\frac{\partial f_t}{\partial c_{t-1}} \cdot c_{t-1} = \frac{\partial}{\partial c_{t-1}}"
               r"\left[\sigma(W_f \cdot [h_{t-1}, x_t])\right] \cdot c_{t-1} = \sigma'(W_f \cdot [h_{t-1}, x_t]) "
               r"\cdot W_f \cdot \frac{\partial h_t}{\partial c_{t-1}} \cdot c_{t-1} = \sigma'(W_f \cdot [h_{t-1}, x_t])"
               r" \cdot W_f \cdot o_{t-1} \otimes \tanh'(c_{t-1}) \cdot c_{t-1}",
       reading="Forget-gate LSTM, scalar, full semantics; each printed line against the path through f; "
               "∂h_t/∂c_{t-1} is taken as printed (the exact derivative of h_t).")
def app_a():
    return _appendix("via_f", LSTM.sym.c_prev, [
        {"kind": "derivative", "weight": "f", "label": "line 1: ∂/∂c_{t-1}[σ(W_f·[h_{t-1},x_t])]·c_{t-1}"},
        {"kind": "dh_t", "weight": "f", "label": "line 2: with ∂h_t/∂c_{t-1}"},
        {"kind": "final", "weight": "f", "label": "line 3: with o_{t-1} ⊗ tanh'(c_{t-1})"}])


@claim("arbel.app-C", where="appendix, second computation",
       printed=r"\frac{\partial i_t}{\partial c_{t-1}} \cdot \tilde{c}_t = \frac{\partial}{\partial c_{t-1}}"
               r"\left[\sigma(W_i \cdot [h_{t-1}, x_t])\right] \cdot \tilde{c}_t = \sigma'(W_c \cdot [h_{t-1}, x_t])"
               r" \cdot W_c \cdot \frac{\partial H_t}{\partial c_{t-1}} \cdot \tilde{c}_t = \sigma'(W_c \cdot "
               r"[h_{t-1}, x_t]) \cdot W_c \cdot o_{t-1} \otimes \tanh'(c_{t-1}) \cdot \tilde{c}_t",
       reading="Forget-gate LSTM, scalar, full semantics; each printed line against the path through i; "
               "H_t is h_t, taken as printed.")
def app_c():
    return _appendix("via_i", LSTM.sym.c_tilde, [
        {"kind": "derivative", "weight": "i", "label": "line 1: ∂/∂c_{t-1}[σ(W_i·[h_{t-1},x_t])]·c̃_t"},
        {"kind": "dh_t", "weight": "c", "label": "line 2: σ'(W_c·…)·W_c·∂H_t/∂c_{t-1}·c̃_t"},
        {"kind": "final", "weight": "c", "label": "line 3: σ'(W_c·…)·W_c·o_{t-1} ⊗ tanh'(c_{t-1})·c̃_t"}])


@claim("arbel.app-D", where="appendix, third computation",
       printed=r"\frac{\partial \tilde{c}_t}{\partial c_{t-1}} \cdot i_t = \frac{\partial}{\partial c_{t-1}}"
               r"\left[\sigma(W_c \cdot [h_{t-1}, x_t])\right] \cdot i_t = \sigma'(W_c \cdot [h_{t-1}, x_t]) "
               r"\cdot W_c \cdot \frac{\partial H_t}{\partial c_{t-1}} \cdot i_t = \sigma'(W_c \cdot [h_{t-1}, x_t])"
               r" \cdot W_c \cdot o_{t-1} \otimes \tanh'(c_{t-1}) \cdot i_t",
       reading="Forget-gate LSTM, scalar, full semantics; each printed line against the path through the "
               "candidate c̃_t = tanh(W_c · [h_{t-1}, x_t]); H_t is h_t, taken as printed.")
def app_d():
    return _appendix("via_c_tilde", LSTM.sym.i, [
        {"kind": "derivative", "weight": "c", "label": "line 1: ∂/∂c_{t-1}[σ(W_c·[h_{t-1},x_t])]·i_t"},
        {"kind": "dh_t", "weight": "c", "label": "line 2: with ∂H_t/∂c_{t-1}"},
        {"kind": "final", "weight": "c", "label": "line 3: with o_{t-1} ⊗ tanh'(c_{t-1})"}])


def _chain(factor):
    hands, full, truncated = [], [], []
    for k in CHAIN:
        hands.append(sympy.Mul(*[factor(t) for t in range(2, k + 1)]))
        full.append(jacobians.multi_step(LSTM, 1, k, "full"))
        truncated.append(jacobians.multi_step(LSTM, 1, k, "truncated"))
    return Equal(stack(*hands), stack(*full), LSTM, truncated=stack(*truncated),
                 labels=tuple(f"k = {k}" for k in CHAIN))


@claim("arbel.eq4-chain", where="eq. (4) with (6)",
       printed=r"\frac{\partial c_k}{\partial c_1} = \prod_{t=2}^k \left[A_t + B_t + C_t + D_t\right]",
       reading="Forget-gate LSTM, scalar; A_t..D_t as printed; k = 2..6 against the exact ∂c_k/∂c_1, "
               "the chain over the whole state (c, h) with h_1 = o_1 tanh(c_1).")
def eq4_chain():
    return _chain(lambda t: sum(arbel_terms(t, True).values()))


@claim("arbel.eq4-chain-exact-terms", where="eq. (4), with the exact one-step derivative",
       printed=r"\frac{\partial c_k}{\partial c_1} = \prod_{t=2}^k \frac{\partial c_t}{\partial c_{t-1}}",
       verbatim=False,
       statement="Eq. (4)'s product, with each factor the exact full one-step ∂c_t/∂c_{t-1} (the four terms corrected).",
       reading="Forget-gate LSTM, scalar; k = 2..6. Each factor differentiates through h_{t-1} but holds "
               "o_{t-1} fixed, while a change of c_1 also reaches o_2, o_3, ... through h.")
def eq4_chain_exact_terms():
    return _chain(lambda t: jacobians.dc_dc_prev(LSTM, "full", t, True))


@claim("arbel.balance-example", where="section 'Preventing the error gradients from vanishing'",
       printed=r"A_t \approx \vec{0.1},\ B_t = f_t \approx \vec{0.7},\ C_t \approx \vec{0.1},\ D_t \approx \vec{0.1}"
               r"\ \Rightarrow\ \prod_{t=2}^k [A_t + B_t + C_t + D_t] \approx \prod_{t=2}^k \vec{1}",
       reading="Scalar forget-gate LSTM without biases, with the exact terms (path terms via f, direct, via "
               "i, via the candidate): the combination must be reachable (a parameter point is searched "
               "by least squares and checked) and give a sum ≈ 1 there; for context, how often random "
               "draws (weights U(-1, 1), inputs N(0, 1), 2000 draws × 29 steps) come near it.")
def balance_example():
    def holds(numbers):
        return numbers["target_reached_max_error"] < 1e-3 and abs(numbers["sum_at_point"] - 1) < 0.01

    return Experiment("(0.1, 0.7, 0.1, 0.1) is reachable and sums to ≈ 1", experiments.balance, holds,
                      figure="balance")
