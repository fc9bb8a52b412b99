"""Claims of the blog post "Vanishing Gradients & LSTMs" that its notation cannot state (the rest: blog.toml).

Its network has one node per layer; the post calls a node's output f(z_n)
and differentiates f at z_n, so z_n is read as the node's pre-activation
z_n = W_n a_{n-1} (a_0 = X, a_n = f(z_n)), and f as the sigmoid it names.
"""
import sympy
from sympy.stats import Normal, P

from derive import exact, models
from derive.claim import Source, claim
from derive.verify import Bound, Equal

SOURCE = Source("blog", "Vanishing Gradients & LSTMs", "blog post (no address in the copy we checked)")

LSTM = models.lstm_forget()


# Not in blog.toml: ReLU is not a function of the notation (and its derivative is piecewise).
@claim("blog.relu", where="'Activation Functions'",
       printed=r"\mathrm{ReLU}'(z) = 1 \quad (z > 0)", verbatim=False,
       statement="The derivative of the ReLU function is one at every point above zero.",
       reading=r"$\operatorname{ReLU}(z)$ is $z$ for $z > 0$ and 0 otherwise, differentiated exactly; $z$ drawn "
               r"in (0, 10).")
def relu():
    positive = sympy.Symbol("z_+", positive=True)
    derivative = sympy.diff(sympy.Piecewise((positive, positive > 0), (0, True)), positive)
    return Equal(sympy.S.One, derivative, None, domain=((positive, 0, 10),))


# Not in blog.toml: a probability over a random weight is not part of the notation.
@claim("blog.gauss-init", where="after the second display",
       printed=r"w \sim \mathcal{N}(0, 1) \Rightarrow P(|w| < 1) > \tfrac{1}{2}", verbatim=False,
       statement="Initialising weights from a Gaussian with mean 0 and standard deviation 1 yields mostly "
                 "weights of magnitude less than one.",
       reading="'Mostly' is read as 'with probability above one half'; the probability is computed exactly.")
def gauss_init():
    w = Normal("w", 0, 1)
    return Bound(sympy.simplify(P(sympy.And(w > -1, w < 1))), ">", sympy.Rational(1, 2))


# Not in blog.toml: the condition f_t = 1 substituted into the exact derivative has no notation there.
@claim("blog.forget-one", where="'LSTMs', first reason",
       printed=r"f_t = 1 \Rightarrow \frac{\partial C_t}{\partial C_{t-1}} = 1", verbatim=False,
       statement=r"If $f = 1$, information from the previous cell state passes through the step unchanged.",
       reading=r"Forget-gate LSTM, scalar; $f_t = 1$ substituted in the exact derivative ($\sigma'(z_f) = 0$ with"
               r" it).")
def forget_one():
    f = LSTM.sym.f
    return Equal(sympy.S.One, exact.dc_dc_prev(LSTM).xreplace({f: 1}), LSTM,
                 truncated=exact.dc_dc_prev(LSTM, "truncated").xreplace({f: 1}))
