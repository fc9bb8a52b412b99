"""JAX peers of the benchmark: ∂c_T/∂c_0 of the forget-gate LSTM as a competent JAX user writes it.

Three methods, each jitted once with the weights, inputs and initial state as
arguments (never closed over as constants, so XLA cannot fold them):
  * jacfwd over the cell unrolled with `lax.scan`,
  * jacrev over the same scan,
  * the structured tangent: the 2n × n matrix [∂c_t/∂c_0; ∂h_t/∂c_0] carried
    through `lax.scan` with the one-step block diag(direct) + Σ_k diag(gain_k) W_k
    written out by hand (the same algorithm as derive's chain, without its log scale).
Float64 throughout (`jax_enable_x64`). Thread pinning is the caller's business
(XLA_FLAGS must be set before jax is imported).
"""
from __future__ import annotations

GATES = ("i", "f", "c", "o")  # the order of the stacked weights


def available() -> bool:
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def arguments(params: dict, inputs, initial: dict, draw: int = 0):
    """derive's draw as the JAX methods' arguments.

    Stacked weights (4n × n and 4n × m), biases, inputs (T × m), c_0 and h_0.
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    recurrent = np.concatenate([params[f"W_{g}h"][draw] for g in GATES])
    input_weights = np.concatenate([params[f"W_{g}x"][draw] for g in GATES])
    bias = np.concatenate([params[f"b_{g}"][draw][:, 0] for g in GATES])
    return (jnp.asarray(recurrent), jnp.asarray(input_weights), jnp.asarray(bias),
            jnp.asarray(inputs[:, draw, :, 0]), jnp.asarray(initial["c"][draw, :, 0]),
            jnp.asarray(initial["h"][draw, :, 0]))


def _final_c(c0, recurrent, input_weights, bias, xs, h0):
    """c_T of the cell unrolled with lax.scan, as a function of c_0."""
    import jax
    import jax.numpy as jnp

    n = c0.shape[0]
    projected = xs @ input_weights.T + bias  # every step's input part in one product

    def step(state, projection):
        c, h = state
        z = recurrent @ h + projection
        i, f, o = jax.nn.sigmoid(z[:n]), jax.nn.sigmoid(z[n:2 * n]), jax.nn.sigmoid(z[3 * n:])
        c = f * c + i * jnp.tanh(z[2 * n:3 * n])
        return (c, o * jnp.tanh(c)), None

    (c, _), _ = jax.lax.scan(step, (c0, h0), projected)
    return c


def _structured_tangent(recurrent, input_weights, bias, xs, c0, h0):
    """[∂c_t/∂c_0; ∂h_t/∂c_0] carried through the scan with the exact one-step block."""
    import jax
    import jax.numpy as jnp

    n = c0.shape[0]
    projected = xs @ input_weights.T + bias
    w_i, w_f, w_c, w_o = (recurrent[k * n:(k + 1) * n] for k in range(4))

    def step(carry, projection):
        c, h, tangent_c, tangent_h = carry
        z = recurrent @ h + projection
        i, f, o = jax.nn.sigmoid(z[:n]), jax.nn.sigmoid(z[n:2 * n]), jax.nn.sigmoid(z[3 * n:])
        g = jnp.tanh(z[2 * n:3 * n])
        c_new = f * c + i * g
        t = jnp.tanh(c_new)
        # ∂c_t/∂h_{t-1} = Σ diag(gain) W;
        # ∂h_t/∂· = diag(o tanh'(c_t)) ∂c_t/∂· + diag(tanh(c_t) σ'(z_o)) W_o
        mixed_c = ((c * f * (1 - f))[:, None] * w_f + (g * i * (1 - i))[:, None] * w_i
                   + (i * (1 - g * g))[:, None] * w_c)
        through_c = o * (1 - t * t)
        mixed_h = through_c[:, None] * mixed_c + (t * o * (1 - o))[:, None] * w_o
        chained = jnp.concatenate([mixed_c, mixed_h]) @ tangent_h
        new_c = f[:, None] * tangent_c + chained[:n]
        new_h = (through_c * f)[:, None] * tangent_c + chained[n:]
        return (c_new, o * t, new_c, new_h), None

    start = (c0, h0, jnp.eye(n, dtype=c0.dtype), jnp.zeros((n, n), dtype=c0.dtype))
    (_, _, tangent_c, _), _ = jax.lax.scan(step, start, projected)
    return tangent_c


def methods() -> dict:
    """name -> jitted function of `arguments(...)` returning ∂c_T/∂c_0 (n × n); call .block_until_ready()."""
    import jax

    def forward(recurrent, input_weights, bias, xs, c0, h0):
        return jax.jacfwd(_final_c)(c0, recurrent, input_weights, bias, xs, h0)

    def reverse(recurrent, input_weights, bias, xs, c0, h0):
        return jax.jacrev(_final_c)(c0, recurrent, input_weights, bias, xs, h0)

    return {"jax jit(jacfwd)": jax.jit(forward), "jax jit(jacrev)": jax.jit(reverse),
            "jax structured tangent": jax.jit(_structured_tangent)}
