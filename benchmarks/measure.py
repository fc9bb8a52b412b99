"""One environment of the benchmark: derive and every peer timed in this process, interleaved, on one grid.

Run by chain_vs_autograd.py in a subprocess whose environment (thread
variables, OpenBLAS variables) it sets; `--threads one` also pins this process
to one CPU before NumPy, torch or JAX start their thread pools. Prints a table
per size and a last line `RESULT <json>` for the summary.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


# Before each timed call, untimed: the threads of the call before (XLA's, torch's, OpenBLAS's) spin a while after
# it ends (OpenBLAS's for about 2^28 cycles, 0.1 s here) and would be charged to whoever runs next.
PAUSE = 0.25
BATCH = 0.05
MATMULS = ("matrix products, BLAS's threads", "matrix products, derive's parts")


def pin_to_one_cpu() -> int:
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def problem(n: int, steps: int, seed: int = 0):
    import numpy as np

    from derive import models
    from derive.lab import numeric

    model = models.lstm_forget(n=n)
    rng = np.random.default_rng(seed)
    params = numeric.draw_params(model, rng, draws=1)
    inputs = rng.normal(size=(steps, 1, n, 1))
    initial = {"c": rng.normal(size=(1, n, 1)) * 0.5, "h": rng.normal(size=(1, n, 1)) * 0.5}
    return model, params, inputs, initial


def chain_flops(model, steps: int) -> float:
    """Floating-point operations of derive's chain per run (what derive.lab.compiled does in each step).

    The forward step's matrix products, the rows Σ_k diag(gain_k) W_k, their
    product with the tangent P (S n × n times n × n) and the fused update
    diag(direct) P; the elementwise nodes and coefficients (O(n) per step) are left out.
    The tangent from c_0 has ∂h_0/∂c_0 = 0 and ∂h_1/∂c_0 diagonal: the first two
    steps multiply a selection, without BLAS (`product` in the kernel), and are
    not counted as products.
    """
    from derive.lab.linearization import linearization

    plan = linearization(model).plan("full")
    n, m, states = model.n, model.m, len(model.state)
    weights = sum(len(plan.weights[r]) for r in model.state)
    per_step = 2.0 * weights * n * n + 2.0 * weights * n * m  # forward: recurrent and input products
    products = 0.0
    for r in model.state:
        k = len(plan.weights[r])
        if k:
            per_step += 2.0 * states * k * n * n  # the rows of Σ_k diag(gain_k) W_k
            products += 2.0 * (states * n) * n * n  # times P_r
        per_step += 2.0 * sum(i is not None for i in plan.direct[r]) * n * n  # diag(direct) P_r
    return per_step * steps + products * max(steps - 2, 0)


def matmul_runs(n: int, steps: int, states: int = 2) -> dict:
    """`steps` float64 products at the chain's shape (S n × n times n × n), made two ways; name -> function.

    BLAS's own threads on the whole product (one thread when the process is
    pinned), and the product cut in derive's parts, each on one of numba's
    threads with one BLAS thread (as `derive.lab.compiled.chain` runs a draw).
    Both are timed among the contenders; the faster is the throughput derive's
    chain is compared with, so the fraction never counts threads derive used
    and the reference did not. Calls are numba's np.dot, no Python between them.
    """
    import numba
    import numpy as np

    from derive.lab import compiled

    @numba.njit
    def repeated(a, b, c, times):
        for _ in range(times):
            np.dot(a, b, c)

    @numba.njit(parallel=True)
    def in_parts(a, parts, results, times):
        for part in numba.prange(parts.shape[0]):
            repeated(a, parts[part], results[part], times)

    a = np.random.default_rng(0).normal(size=(states * n, n))
    b = np.random.default_rng(1).normal(size=(n, n)) / n
    c = np.empty((states * n, n))
    columns = compiled.column_parts(n)
    parts, width = len(columns), columns[0].stop
    pieces = np.zeros((parts, n, width))
    for part, span in enumerate(columns):
        pieces[part, :, :span.stop - span.start] = b[:, span]
    results = np.empty((parts, states * n, width))

    def parted():
        with compiled.one_blas_thread():
            in_parts(a, pieces, results, steps)

    return {MATMULS[0]: lambda: repeated(a, b, c, steps), MATMULS[1]: parted}


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl is not installed (pip install -e '.[bench]'): threads limited by the environment only"

    return "; ".join(f"{os.path.basename(i['filepath'])}: {i.get('internal_api')} {i.get('version')} "
                     f"kernel {i.get('architecture')}, {i['num_threads']} threads" for i in threadpool_info())


def contenders(model, params, inputs, initial, without=()):
    """name -> (function returning (∂c_T/∂c_0 as float64 n × n, log10 of its scale)), compile seconds."""
    import numpy as np

    from derive.lab import compiled

    import peers_jax
    import peers_torch

    steps = len(inputs)
    result = {"derive": (lambda: compiled.chain(model, params, steps, inputs, initial), 0.0)}
    if peers_torch.available() and "torch" not in without:
        for name, method in peers_torch.methods(params, inputs, initial).items():
            result[name] = ((lambda method=method: (method(), 0.0)), 0.0)
    if peers_jax.available() and "jax" not in without:
        arguments = peers_jax.arguments(params, inputs, initial)
        for name, method in peers_jax.methods().items():
            started = time.perf_counter()
            compiled_method = method.lower(*arguments).compile()
            seconds = time.perf_counter() - started
            result[name] = ((lambda f=compiled_method: (np.asarray(f(*arguments).block_until_ready()), 0.0)), seconds)
    return result


def measure(n: int, steps: int, repeat: int, without=()) -> dict:
    import numpy as np

    model, params, inputs, initial = problem(n, steps)
    functions = contenders(model, params, inputs, initial, without)
    functions.update({name: (run, 0.0) for name, run in matmul_runs(n, steps).items()})
    results = {}
    for name, (function, compile_seconds) in functions.items():
        results[name] = {"times": [], "compile": compile_seconds, "value": function()}  # warm-up
        started = time.perf_counter()
        function()
        # A call shorter than BATCH is timed as the mean of consecutive calls filling BATCH (as timeit does).
        results[name]["calls"] = max(1, int(BATCH / (time.perf_counter() - started)))
    names = list(functions)
    for round_index in range(repeat):  # interleaved, each round in a rotated order
        for name in names[round_index % len(names):] + names[:round_index % len(names)]:
            function, calls = functions[name][0], results[name]["calls"]
            time.sleep(PAUSE)
            started = time.perf_counter()
            for _ in range(calls):
                function()
            results[name]["times"].append((time.perf_counter() - started) / calls)
    jacobian, log10_scale = results["derive"]["value"]
    jacobian, log10_scale = jacobian[0], float(log10_scale[0])
    largest = np.abs(jacobian).max()
    log10_largest = float(np.log10(largest) + log10_scale) if largest > 0 else float("-inf")
    representable = log10_largest > -290  # float64 holds the answer itself (with room for its small entries)
    exact = jacobian * 10.0 ** log10_scale if representable else None
    matmul_seconds = min(float(np.median(results.pop(name)["times"])) for name in MATMULS)
    summary = {"n": n, "T": steps, "log10_largest": log10_largest, "flops": chain_flops(model, steps),
               "throughput": 2.0 * 2 * n ** 3 * steps / matmul_seconds, "contenders": {}}
    for name, record in results.items():
        times = sorted(record["times"])
        entry = {"median": float(np.median(times)), "min": times[0], "max": times[-1], "compile": record["compile"]}
        if name != "derive":
            value = record["value"][0]
            entry["underflowed"] = bool(np.abs(value).max() == 0.0 and largest > 0)
            entry["difference"] = (float(np.abs(value - exact).max() / np.abs(exact).max())
                                   if representable else None)
        summary["contenders"][name] = entry
    return summary


def print_size(summary: dict) -> None:
    ours = summary["contenders"]["derive"]
    rate = summary["flops"] / ours["median"]
    print(f"\n(n, T) = ({summary['n']}, {summary['T']}): log10 max|dc_T/dc_0| = {summary['log10_largest']:.1f}; "
          f"derive's chain {summary['flops'] / 1e9:.3f} GFLOP at {rate / 1e9:.1f} GFLOP/s = "
          f"{rate / summary['throughput']:.0%} of the matrix product's throughput at its shape "
          f"(the faster of BLAS's threads and derive's parts), measured among the contenders "
          f"({summary['throughput'] / 1e9:.1f} GFLOP/s, median)")
    print(f"  {'contender':<26} {'median s':>10} {'min s':>10} {'max s':>10} {'peer/derive':>12} "
          f"{'max rel diff':>14}  compile")
    for name, entry in summary["contenders"].items():
        ratio = "" if name == "derive" else f"{entry['median'] / ours['median']:.2f}x"
        if name == "derive":
            difference = ""
        elif entry["underflowed"]:
            difference = "underflowed to 0"
        else:
            difference = "—" if entry["difference"] is None else f"{entry['difference']:.1e}"
        compile_time = f"{entry['compile']:.2f} s" if entry["compile"] else ""
        print(f"  {name:<26} {entry['median']:>10.4g} {entry['min']:>10.4g} {entry['max']:>10.4g} {ratio:>12} "
              f"{difference:>14}  {compile_time}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", choices=("one", "all"), required=True)
    parser.add_argument("--sizes", required=True, help="n,T;n,T;...")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--without", action="append", default=[], choices=("torch", "jax"),
                        help="leave out a library's peers (torch's threads can take minutes a call on busy cores)")
    args = parser.parse_args(argv)
    cpu = pin_to_one_cpu() if args.threads == "one" else None
    import numpy as np  # noqa: F401 - after the pinning, before the thread pools are queried
    import scipy.linalg.cython_blas  # noqa: F401 - the BLAS numba's np.dot calls, so that threadpoolctl sees it

    import peers_torch

    from derive.lab import compiled

    if peers_torch.available():
        import torch

        if args.threads == "one":
            torch.set_num_threads(1)
    if args.threads == "one":
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
        except ImportError:
            pass  # OPENBLAS_NUM_THREADS=1 and its kin, set by the caller, still hold
    where = f"pinned to CPU {cpu}, one thread each" if cpu is not None else f"{os.cpu_count()} CPUs, default threads"
    print(f"[{where}] BLAS: {blas_description()}")
    started = time.perf_counter()
    model, params, inputs, initial = problem(4, 2)
    compiled.chain(model, params, 2, inputs, initial)  # loads (the first time on a machine: makes) the kernel
    print(f"derive: kernel ready in {time.perf_counter() - started:.2f} s; kernels compiled by this process: "
          f"{compiled.compilations()} (0: loaded from the disk cache {compiled.cache_directory()})")
    summaries = []
    for size in args.sizes.split(";"):
        n, steps = map(int, size.split(","))
        summaries.append(measure(n, steps, args.repeat, args.without))
        print_size(summaries[-1])
        sys.stdout.flush()
    print("RESULT " + json.dumps({"threads": args.threads, "compilations": compiled.compilations(),
                                  "sizes": summaries}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
