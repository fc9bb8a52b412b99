"""The gradient-flow laboratory: exact Jacobians evaluated numerically over long spans, and the experiments.

    linearization   the structured one-step blocks of a model (from its one-unit program), lambdified once
    numeric         their chain along NumPy runs of the cell, in log scale (draw_params, chain, run, evaluate)
    compiled        the same chain as numba kernels, cached on disk (imported only when asked for);
                    compiled_source generates a kernel's source from the one-unit model, compiled_templates
                    holds its fixed part
    experiments     the four experiments of the report and their numbers
    peers           independent implementations (PyTorch's LSTMCell, GRUCell) that tests and benchmarks compare with
"""
