"""Time-budgeted symbolic proofs: is an expression identically zero, and what is a function's supremum.

SymPy's simplification can run for minutes; every attempt here runs in a
forked child process that is killed when its budget of processor time is
spent (or its memory limit reached), so an inconclusive proof costs at most
the budget and never hangs the caller.
"""
from __future__ import annotations

import functools

import sympy

from derive import lifetime
from derive.budget import entries
from derive.rules import FUNCTIONS, to_exp
from derive.verify.questions import DEFAULT_BUDGET, DEFAULT_MEMORY

WALL_FACTOR, WALL_EXTRA = 10.0, 10.0  # the wall-clock backstop of a proof: 10 × its budget + 10 s


def run_with_budget(function, args=(), budget: float = DEFAULT_BUDGET):
    """Run `function(*args)` in a forked child; its (picklable) result, or None when out of budget or failed.

    The budget is the child's processor time, so the outcome does not depend on how many other processes
    share the machine (--jobs); a generous wall-clock backstop ends a child that gets no processor at all.
    The child's memory is limited as its parent's is (derive.budget), or to derive's default.
    """
    child = lifetime.Child(function, args, lifetime.memory_limit() or DEFAULT_MEMORY)
    try:
        outcome = child.wait(budget, budget * WALL_FACTOR + WALL_EXTRA)
    finally:  # out of budget, or interrupted: the attempt ends here
        child.end()
    return outcome[1] if outcome is not None and outcome[0] == "ok" else None


def _is_zero(forms) -> str | None:
    """Name of the first rewriting that reduces every entry of some form to 0, or None.

    Cheap rewritings are tried on every form before the expensive one, so an
    identity that only needs expanding never waits for `simplify`.
    """
    attempts = (
        ("expand", lambda e: sympy.expand(e)),
        ("cancel", lambda e: sympy.cancel(sympy.together(sympy.expand(e)))),
        ("simplify", lambda e: sympy.simplify(sympy.expand(to_exp(e)))),
    )
    for name, attempt in attempts:
        for label, form in forms:
            if all(attempt(sympy.sympify(e)) == 0 for e in entries(form())):
                return name + label
    return None


def prove_zero(expr, budget: float = DEFAULT_BUDGET, rewritings=()) -> str | None:
    """The rewriting that proves `expr` ≡ 0, or None when none did within the budget.

    Node symbols (gate activations, ...) are first taken as independent atoms;
    each of `rewritings` — (label, function) pairs, cheapest first — rewrites
    `expr` closer to independent leaves for a further try.
    """
    if all(sympy.sympify(e) == 0 for e in entries(expr)):
        return "structural"
    forms = [("", lambda: expr)] + [(f", {label}", functools.partial(function, expr))
                                    for label, function in rewritings]
    return run_with_budget(_is_zero, (forms,), budget)


def to_polynomial_variable(expr, variable):
    """Rewrite f(x) that depends on x only through one function u = g(x) of the rule table (σ(x), tanh(x)).

    Returns (f as a function of u, u, (lo, hi), back) or None; (lo, hi) is the
    open range of g and back(u_value) the x where g takes that value.
    """
    for rule in FUNCTIONS.values():
        if rule.inverse is None:
            continue
        atom = rule.sympy(variable)
        u = sympy.Dummy("u", real=True)
        replaced = expr.xreplace({atom: u})
        if replaced != expr and variable not in replaced.free_symbols:
            low, high = rule.range
            return replaced, u, (sympy.sympify(low), sympy.sympify(high)), rule.inverse
    return None
