"""Benchmark: the exact Jacobian ∂c_T/∂c_0 of the forget-gate LSTM, derive's chain against its peers.

Measured in one run, on this machine:
  * derive's chain of lambdified one-step blocks, compiled with numba (derive.compiled.chain),
    and the same chain driven from NumPy step by step (derive.numeric.chain),
  * torch.autograd.functional.jacobian(vectorize=True) on an unrolled torch.nn.LSTMCell
    with the same weights and inputs, float64,
  * naive SymPy expansion: c_T of the scalar model written out in c_0 and differentiated.
Prints the times, their ratios, the largest relative difference between derive and
torch, the chain's floating-point operations and the fraction of this machine's
measured matrix-product throughput they reach.

    python benchmarks/chain_vs_autograd.py [--quick] [--repeat N]
"""
from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np
import sympy

from derive import compiled, jacobians, models, numeric, proof
from derive.peers import torch_lstm_cell

SIZES = [(16, 100), (64, 1000), (256, 1000)]


def best_of(function, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def problem(n: int, steps: int, seed: int = 0):
    model = models.lstm_forget(n=n)
    rng = np.random.default_rng(seed)
    params = numeric.draw_params(model, rng, draws=1)
    inputs = rng.normal(size=(steps, 1, n, 1))
    initial = {"c": rng.normal(size=(1, n, 1)) * 0.5, "h": rng.normal(size=(1, n, 1)) * 0.5}
    return model, params, inputs, initial


def derive_jacobian(model, params, inputs, initial):
    """derive's chain, compiled (numba) when available."""
    if compiled.available():
        jacobian, log10_scale = compiled.chain(model, params, len(inputs), inputs, initial)
        return jacobian[0], log10_scale[0]
    return numpy_jacobian(model, params, inputs, initial)


def numpy_jacobian(model, params, inputs, initial):
    """derive's chain driven from NumPy, running the cell itself at every step."""
    result = numeric.chain(model, params, len(inputs), np.random.default_rng(0), inputs=inputs,
                           initial=initial, record_every=0)
    return result.jacobian[0], result.log10_scale[0]


def torch_jacobian(model, params, inputs, initial):
    import torch

    cell = torch_lstm_cell(params)
    xs = torch.tensor(inputs[:, 0, :, 0])
    h0 = torch.tensor(initial["h"][0, :, 0])[None]

    def unrolled(c0):
        h, c = h0, c0[None]
        for x in xs:
            h, c = cell(x[None], (h, c))
        return c[0]

    def run():
        return torch.autograd.functional.jacobian(unrolled, torch.tensor(initial["c"][0, :, 0]),
                                                  vectorize=True).numpy()
    return run


def chain_flops(model, steps: int) -> float:
    """Floating-point operations of the compiled chain per run (what derive.compiled does in each step).

    The forward step's matrix products, the rows Σ_k diag(gain_k) W_k, their
    product with the perturbation matrix P (S n × n times n × n) and the fused
    update; the elementwise nodes and coefficients (O(n) per step) are left out.
    """
    plan = numeric.linearization(model).plan("full")
    n, m, states = model.n, model.m, len(model.state)
    weights = sum(len(plan.weights[r]) for r in model.state)
    inputs = sum(1 for name, shape in model.param_shapes.items() if shape == (n, m) and m != n) or weights
    per_step = 2.0 * weights * n * n + 2.0 * inputs * n * m  # forward: recurrent and input products
    for r in model.state:
        k = len(plan.weights[r])
        if k:
            per_step += 2.0 * states * k * n * n  # the rows of Σ_k diag(gain_k) W_k
            per_step += 2.0 * (states * n) * n * n  # times P_r
        per_step += 2.0 * sum(i is not None for i in plan.direct[r]) * n * n  # diag(direct) P_r
    return per_step * steps


def matmul_throughput(model, repeat: int = 50) -> float:
    """FLOP/s of this machine's NumPy matrix product at the chain's own shape (S n × n times n × n)."""
    n, states = model.n, len(model.state)
    a = np.random.default_rng(0).normal(size=(states * n, n))
    b = np.random.default_rng(1).normal(size=(n, n))
    seconds, _ = best_of(lambda: [a @ b for _ in range(repeat)], 3)
    return 2.0 * states * n * n * n * repeat / seconds


def naive_expansion(steps: int):
    """c_T of the scalar forget-gate LSTM written out in c_0 and differentiated: (operations, seconds)."""
    model = models.lstm_forget()
    c0 = model.q("c", 0, True)[0, 0]
    started = time.perf_counter()
    expr = sympy.diff(jacobians.unrolled(model, "c", steps)[0, 0], c0)
    return sympy.count_ops(expr), time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the two smaller sizes, naive expansion to T = 4")
    parser.add_argument("--repeat", type=int, default=3, help="timings are the best of this many runs (default 3)")
    parser.add_argument("--naive-budget", type=float, default=60.0, help="seconds allowed per naive expansion")
    args = parser.parse_args(argv)
    import torch

    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads)")
    print("\n== exact Jacobian dc_T/dc_0 of the forget-gate LSTM (n x n), float64 ==")
    print("derive: the compiled chain" if compiled.available() else "derive: NumPy chain (numba is not installed)")
    print(f"{'n':>4} {'T':>5} {'derive s':>10} {'torch s':>10} {'torch/derive':>13} {'max rel diff':>13}"
          f" {'chain GFLOP':>12} {'GFLOP/s':>8} {'of matmul peak':>15} {'NumPy chain s':>14}")
    for n, steps in SIZES[:2] if args.quick else SIZES:
        model, params, inputs, initial = problem(n, steps)
        started = time.perf_counter()
        numeric.linearization(model).plan("full")
        derivation = time.perf_counter() - started
        derive_jacobian(model, params, inputs[:2], initial)  # warm-up (compiles the kernel once)
        compile_time = time.perf_counter() - started
        repeat = args.repeat if n < 256 else 1
        ours_time, (ours, log_scale) = best_of(lambda: derive_jacobian(model, params, inputs, initial), repeat)
        torch_run = torch_jacobian(model, params, inputs, initial)
        theirs_time, theirs = best_of(torch_run, repeat)
        numpy_time, _ = best_of(lambda: numpy_jacobian(model, params, inputs, initial), 1)
        ours = ours * 10.0 ** log_scale
        difference = np.abs(ours - theirs).max() / np.abs(theirs).max()
        flops = chain_flops(model, steps)
        rate = flops / ours_time
        peak = matmul_throughput(model)
        print(f"{n:>4} {steps:>5} {ours_time:>10.4f} {theirs_time:>10.4f} {theirs_time / ours_time:>12.1f}x"
              f" {difference:>13.2e} {flops / 1e9:>12.3f} {rate / 1e9:>8.2f} {rate / peak:>14.1%}"
              f" {numpy_time:>14.4f}   (derived in {derivation:.2f} s, compiled in {compile_time:.1f} s)")
    print("\n== naive SymPy expansion, scalar forget-gate LSTM: d c_T / d c_0 written out ==")
    print(f"{'T':>3} {'operations':>12} {'seconds':>9}")
    for steps in range(2, 5 if args.quick else 7):
        result = proof.run_with_budget(naive_expansion, (steps,), args.naive_budget)
        if result is None:
            print(f"{steps:>3} {'—':>12} {'> ' + format(args.naive_budget, 'g'):>9}  (stopped at the budget)")
            break
        operations, seconds = result
        print(f"{steps:>3} {operations:>12} {seconds:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
