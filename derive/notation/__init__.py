"""The articles' notation: reading claims written in LaTeX, and the operators Python claims use.

    grammar.lark, parser     text -> checked parse tree (lark LALR; limits; errors with positions)
    symbols                  which name stands for which quantity of a model (c_t, W_f, \\tilde{c}, ...)
    reader, names, indices   parse tree -> SymPy, against a symbol table (nothing is ever evaluated as code)
    statement                a parsed claim -> the question that checks it (Equal or Bound)
    claimsfile               TOML claims files -> claims
    recurrence, draft        a claims file's [model] equations -> a model (EquationModel)
    operators                ⊙, diag, σ', tanh', ... for claims written in Python
"""
from derive.notation.operators import diag, dsigma, dtanh, hadamard, matmul, sigma, stack, tanh, transpose

__all__ = ["hadamard", "diag", "transpose", "matmul", "sigma", "dsigma", "tanh", "dtanh", "stack"]
