"""Claims of the blog post "Vanishing Gradients & LSTMs".

Its network has one node per layer; the post calls a node's output f(z_n)
and differentiates f at z_n, so z_n is read as the node's pre-activation
z_n = W_n a_{n-1} (a_0 = X, a_n = f(z_n)), and f as the sigmoid it names.
"""
import sympy
from sympy.stats import Normal, P

from derive import jacobians, models
from derive.activations import Sigmoid
from derive.claims import Source, claim
from derive.notation import dsigma
from derive.verify import Bound, Equal

SOURCE = Source("blog", "Vanishing Gradients & LSTMs", "blog post (no address in the copy we checked)")

CHAIN = models.ff_chain()
LSTM = models.lstm_forget()
z = sympy.Symbol("z", real=True)


@claim("blog.dW3", where="first chain-rule display",
       printed=r"\frac{\partial Loss}{\partial W_3} = \frac{\partial Loss}{\partial f(z_3)} \cdot "
               r"\frac{\partial f(z_3)}{\partial W_3} = \frac{\partial Loss}{\partial f(z_3)} \cdot f'(z_3) \cdot W_3",
       reading="The common factor ∂Loss/∂f(z_3) is left out: is ∂f(z_3)/∂W_3 = f'(z_3) · W_3? f = σ.")
def d_w3():
    s = CHAIN.sym
    exact = sympy.diff(CHAIN.expanded()["a_3"][0, 0], s.W_3)
    return Equal(dsigma(s.z_3) * s.W_3, jacobians.collapse(sympy.Matrix([exact]), CHAIN)[0, 0], CHAIN)


@claim("blog.dW1", where="second chain-rule display",
       printed=r"\frac{\partial Loss}{\partial W_1} = \frac{\partial Loss}{\partial f(z_3)} \cdot f'(z_3) \cdot W_3 "
               r"\cdot f'(z_2) \cdot W_2 \cdot f'(z_1) \cdot W_1",
       reading="The common factor ∂Loss/∂f(z_3) is left out; f = σ.")
def d_w1():
    s = CHAIN.sym
    exact = sympy.diff(CHAIN.expanded()["a_3"][0, 0], s.W_1)
    hand = dsigma(s.z_3) * s.W_3 * dsigma(s.z_2) * s.W_2 * dsigma(s.z_1) * s.W_1
    return Equal(hand, jacobians.collapse(sympy.Matrix([exact]), CHAIN)[0, 0], CHAIN)


@claim("blog.layer-factor", where="after the second display",
       printed=r"\frac{\partial f(z_3)}{\partial f(z_2)} = f'(z_3) \cdot W_3", verbatim=False,
       statement="Each layer the gradient passes through contributes a factor of the form f'(z) · W.",
       reading="The factor between consecutive node outputs, as in the post's middle step; f = σ.")
def layer_factor():
    s = CHAIN.sym
    return Equal(dsigma(s.z_3) * s.W_3, jacobians.node_derivative(CHAIN, "a_3", "a_2"), CHAIN)


@claim("blog.sigmoid-strict", where="after the second display, and 'Activation Functions'",
       printed=r"\sigma'(z) < 0.25 \text{ everywhere}", verbatim=False,
       statement="The sigmoid's derivative is always less than 0.25.",
       reading="Strict inequality for every real z; the maximum of σ' is found exactly.")
def sigmoid_strict():
    return Bound(sympy.diff(Sigmoid(z), z), "<", sympy.Rational(1, 4), ((z, -sympy.oo, sympy.oo),))


@claim("blog.relu", where="'Activation Functions'",
       printed=r"\mathrm{ReLU}'(z) = 1 \quad (z > 0)", verbatim=False,
       statement="The derivative of the ReLU function is one at every point above zero.",
       reading="ReLU(z) = max(0, z), differentiated exactly; z drawn in (0, 10).")
def relu():
    positive = sympy.Symbol("z_+", positive=True)
    derivative = sympy.diff(sympy.Piecewise((positive, positive > 0), (0, True)), positive)
    return Equal(sympy.S.One, derivative, None, domain=((positive, 0, 10),))


@claim("blog.arctan", where="'Activation Functions'",
       printed=r"\arctan'(z) \le 1", verbatim=False,
       statement="The inverse tangent is sometimes preferred over the sigmoid: its derivative reaches 1, not 0.25.",
       reading="arctan'(z) = 1/(1 + z²) over all real z; its maximum is found exactly.")
def arctan():
    return Bound(sympy.diff(sympy.atan(z), z), "<=", 1, ((z, -sympy.oo, sympy.oo),))


@claim("blog.gauss-init", where="after the second display",
       printed=r"w \sim \mathcal{N}(0, 1) \Rightarrow P(|w| < 1) > \tfrac{1}{2}", verbatim=False,
       statement="Initialising weights from a Gaussian with mean 0 and standard deviation 1 yields mostly "
                 "weights of magnitude less than one.",
       reading="'Mostly' is read as 'with probability above one half'; the probability is computed exactly.")
def gauss_init():
    w = Normal("w", 0, 1)
    return Bound(sympy.simplify(P(sympy.And(w > -1, w < 1))), ">", sympy.Rational(1, 2))


@claim("blog.forget-only-factor", where="'LSTMs', first reason",
       printed=r"\frac{\partial C_t}{\partial C_{t-1}} = f_t", verbatim=False,
       statement="The only thing the cell state is multiplied by is the output of the forget gate.",
       reading="Forget-gate LSTM, scalar, ∂c_t/∂c_{t-1} in both semantics.")
def forget_only_factor():
    return Equal(LSTM.sym.f, jacobians.dc_dc_prev(LSTM), LSTM, truncated=jacobians.dc_dc_prev(LSTM, "truncated"))


@claim("blog.forget-one", where="'LSTMs', first reason",
       printed=r"f_t = 1 \Rightarrow \frac{\partial C_t}{\partial C_{t-1}} = 1", verbatim=False,
       statement="If f = 1, information from the previous cell state passes through the step unchanged.",
       reading="Forget-gate LSTM, scalar; f_t = 1 substituted in the exact derivative (σ'(z_f) = 0 with it).")
def forget_one():
    f = LSTM.sym.f
    return Equal(sympy.S.One, jacobians.dc_dc_prev(LSTM).xreplace({f: 1}), LSTM,
                 truncated=jacobians.dc_dc_prev(LSTM, "truncated").xreplace({f: 1}))


@claim("blog.added-term-vanishes", where="'LSTMs', second reason",
       printed=r"\frac{\partial}{\partial C_{t-1}}\left[i_t \odot \tilde{C}_t\right] = 0", verbatim=False,
       statement="The term added to the cell state disappears when we take the derivative of C_t with respect to C_{t-1}.",
       reading="Forget-gate LSTM, scalar: the derivative of i_t c̃_t with respect to c_{t-1} in both semantics.")
def added_term_vanishes():
    s = LSTM.sym
    full = sympy.expand(jacobians.d_dc_prev(LSTM, "i") * s.c_tilde + jacobians.d_dc_prev(LSTM, "c_tilde") * s.i)
    truncated = (jacobians.d_dc_prev(LSTM, "i", "truncated") * s.c_tilde
                 + jacobians.d_dc_prev(LSTM, "c_tilde", "truncated") * s.i)
    return Equal(sympy.S.Zero, full, LSTM, truncated=truncated)
