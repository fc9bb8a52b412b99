"""Benchmark: the exact Jacobian ∂c_T/∂c_0 of the forget-gate LSTM, derive's chain against its peers.

Measured in one run, interleaved, float64, same weights and inputs:
  * derive's compiled chain (derive.lab.compiled.chain),
  * torch.autograd.functional.jacobian(vectorize=True), torch.func.jacfwd and torch.func.jacrev
    on an unrolled torch.nn.LSTMCell (benchmarks/peers_torch.py),
  * JAX: jit(jacfwd) and jit(jacrev) over the cell unrolled with lax.scan, and a jit + scan structured
    tangent (benchmarks/peers_jax.py; `pip install -e '.[bench]'`, skipped if absent), compile time apart,
  * the naive SymPy expansion of the scalar model.
Each table is measured in a subprocess: "one thread" pins it to one CPU and every library to one
thread; "all threads" leaves the machine's defaults. Both run without OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE (a user's machine has neither); if this environment sets them, both tables are also
measured with them, as the default environment. Times are medians of --repeat runs, with min and max.

    python benchmarks/chain_vs_autograd.py [--quick] [--repeat N] [--sizes "n,T;n,T"]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

SIZES = "16,100;64,1000;256,1000;64,10000;512,100"
QUICK_SIZES = "16,100;64,1000"
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}
HERE = Path(__file__).resolve().parent


def environment(threads: str, openblas: bool) -> dict:
    """The measurement's environment: the user's (no OpenBLAS variables) or this one, one thread or all."""
    env = dict(os.environ)
    if not openblas:
        for name in OPENBLAS_VARIABLES:
            env.pop(name, None)
    if threads == "one":
        env.update(ONE_THREAD)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE.parent), env.get("PYTHONPATH")) if p)
    return env


def run_measurement(threads: str, openblas: bool, sizes: str, repeat: int, without=()) -> dict:
    """One table, measured in a subprocess; its lines are printed as they come."""
    command = [sys.executable, str(HERE / "measure.py"), "--threads", threads, "--sizes", sizes,
               "--repeat", str(repeat)] + [f"--without={name}" for name in without]
    process = subprocess.Popen(command, env=environment(threads, openblas), stdout=subprocess.PIPE, text=True,
                               cwd=HERE)
    result = None
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or result is None:
        raise SystemExit(f"the {threads}-thread measurement failed (exit {process.returncode})")
    return result


def fastest_peer(size: dict) -> tuple[str, dict]:
    peers = {k: v for k, v in size["contenders"].items() if k != "derive"}
    name = min(peers, key=lambda k: peers[k]["median"])
    return name, peers[name]


def summary(result: dict, title: str) -> tuple[float, tuple]:
    """Print the table of one measurement; return the smallest fastest-peer/derive ratio and where."""
    print(f"\n-- {title} --")
    print("| n | T | derive | fastest peer | its time | peer / derive | derive, of matmul peak | max rel. diff |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|")
    slowest = (float("inf"), None)
    for size in result["sizes"]:
        ours = size["contenders"]["derive"]
        if len(size["contenders"]) == 1:
            print(f"| {size['n']} | {size['T']} | {ours['median']:.4g} s | (no peer installed) | | | | |")
            continue
        name, peer = fastest_peer(size)
        ratio = peer["median"] / ours["median"]
        fraction = size["flops"] / ours["median"] / size["throughput"]
        differences = [v["difference"] for k, v in size["contenders"].items()
                       if k != "derive" and v.get("difference") is not None]
        difference = (f"{max(differences):.1e}" if differences else
                      "peers underflowed to 0" if all(v.get("underflowed") for k, v in size["contenders"].items()
                                                       if k != "derive") else "—")
        print(f"| {size['n']} | {size['T']} | {ours['median']:.4g} s | {name} | {peer['median']:.4g} s | "
              f"**{ratio:.2f}×** | {fraction:.0%} | {difference} |")
        slowest = min(slowest, (ratio, (size["n"], size["T"])))
    return slowest


def naive_expansion(steps: int):
    """c_T of the scalar forget-gate LSTM written out in c_0 and differentiated: (operations, seconds)."""
    import sympy

    from derive import exact, models

    model = models.lstm_forget()
    c0 = model.q("c", 0, True)[0, 0]
    started = time.perf_counter()
    expr = sympy.diff(exact.unrolled(model, "c", steps)[0, 0], c0)
    return sympy.count_ops(expr), time.perf_counter() - started


def naive_table(last: int, budget: float) -> None:
    from derive.verify import proof

    print("\n== naive SymPy expansion, scalar forget-gate LSTM: d c_T / d c_0 written out ==")
    print(f"{'T':>3} {'operations':>12} {'seconds':>9}")
    for steps in range(2, last + 1):
        result = proof.run_with_budget(naive_expansion, (steps,), budget)
        if result is None:
            print(f"{steps:>3} {'—':>12} {'> ' + format(budget, 'g'):>9}  (stopped at the budget)")
            break
        operations, seconds = result
        print(f"{steps:>3} {operations:>12} {seconds:>9.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two small sizes, 3 runs, naive expansion to T = 4")
    parser.add_argument("--repeat", type=int, default=5, help="runs per contender and size (default 5)")
    parser.add_argument("--sizes", default=None, help=f'"n,T;n,T;..." (default "{SIZES}")')
    parser.add_argument("--naive-budget", type=float, default=60.0, help="seconds allowed per naive expansion")
    parser.add_argument("--without", action="append", default=[], choices=("torch", "jax"),
                        help="leave out a library's peers (torch's threads can take minutes a call on busy cores)")
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    repeat = 3 if args.quick and args.repeat == 5 else args.repeat
    sys.path.insert(0, str(HERE.parent))
    import numpy as np

    import peers_jax
    import peers_torch

    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    for module, name in ((peers_torch, "torch"), (peers_jax, "jax")):
        if module.available():
            versions.append(f"{name} {__import__(name).__version__}")
        else:
            print(f"{name} is not installed (pip install -e '.[bench]'): its peers are skipped")
    default = {k: os.environ[k] for k in OPENBLAS_VARIABLES if k in os.environ}
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; {', '.join(versions)}")
    print("default environment: " + (", ".join(f"{k}={v}" for k, v in default.items()) or
                                     "neither OPENBLAS_CORETYPE nor OPENBLAS_L2_SIZE is set"))
    print("\n== exact Jacobian dc_T/dc_0 of the forget-gate LSTM (n x n), float64 ==")
    results = {}
    for openblas in ((False, True) if default else (False,)):
        for threads in ("one", "all"):
            label = f"{'one thread' if threads == 'one' else 'all threads'}, " + (
                "default environment (" + ", ".join(f"{k}={v}" for k, v in default.items()) + ")" if openblas
                else "OpenBLAS variables unset")
            print(f"\n=== {label} ===")
            results[(threads, openblas)] = (label, run_measurement(threads, openblas, sizes, repeat, args.without))
    naive_table(4 if args.quick else 6, args.naive_budget)
    print("\n== summary: the fastest peer's time / derive's time (medians) ==")
    slowest = {}
    for (threads, openblas), (label, result) in results.items():
        ratio = summary(result, label)
        if not openblas:
            slowest[threads] = ratio
    print()
    for threads in ("one", "all"):
        ratio, where = slowest[threads]
        print(f"{'one thread' if threads == 'one' else 'all threads'}: slowest ratio against the fastest peer: "
              f"{ratio:.2f}× at {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
