"""The gradient-flow laboratory: exact Jacobians evaluated numerically over long spans, and the experiments.

    linearization   the structured one-step blocks of a model (from its one-unit program), lambdified once
    numeric         their chain along NumPy runs of the cell, in log scale (draw_params, chain, run, evaluate)
    compiled        the same chain generated as one numba loop (imported only when asked for)
    experiments     the four experiments of the report and their numbers
    peers           independent implementations (PyTorch's LSTMCell, GRUCell) that tests and benchmarks compare with
"""
