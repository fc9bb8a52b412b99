"""The cells as LaTeX, rendered by latexify-py from the very functions that run.

latexify-py prints both `*` and `@` as a centred dot; here `*` (NumPy's
elementwise product) is typeset ⊙ and `@` (matrix product) as juxtaposition,
and the identifiers take their mathematical names (c_prev -> c_{t-1}).
Only typesetting changes: the structure is latexify-py's reading of the code.
"""
from __future__ import annotations

import ast
import contextlib
import inspect
import re
import textwrap

import latexify
from latexify.codegen import expression_codegen, expression_rules

from derive import rules
from derive.models import Model
from derive.quantity import typeset_name

_PLACEHOLDER = "v9"


@contextlib.contextmanager
def _products_as_in_the_articles():
    rules = expression_rules.BIN_OP_RULES
    saved = rules[ast.Mult], rules[ast.MatMult]
    remove = expression_codegen.ExpressionCodegen._should_remove_multiply_op
    # ⊙ and the matrix product do not associate with each other: U (r ⊙ h) keeps its parentheses.
    grouped = expression_rules.BinOperandRule(wrap=True, force=True)
    rules[ast.Mult] = expression_rules.BinOpRule("", r" \odot ", "", operand_right=grouped)
    rules[ast.MatMult] = expression_rules.BinOpRule("", r" \, ", "", operand_right=grouped)
    expression_codegen.ExpressionCodegen._should_remove_multiply_op = lambda self, *args: False
    try:
        yield
    finally:
        rules[ast.Mult], rules[ast.MatMult] = saved
        expression_codegen.ExpressionCodegen._should_remove_multiply_op = remove


def _names(function) -> set:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {arg.arg for arg in ast.walk(tree) if isinstance(arg, ast.arg)}
    return names


def _typeset_identifier(name: str, model: Model) -> str:
    """How an identifier of the cell is typeset: an activation by its rule, a quantity as derive.quantity does."""
    bound = model.cell.__globals__.get(name)
    if callable(bound) and getattr(bound, "__name__", None) in rules.FUNCTIONS:
        return rules.rule(bound.__name__).latex
    if name == "phi":
        return r"\phi"
    if name.endswith("_prev"):
        return typeset_name(name[: -len("_prev")], ["t-1"])
    if name in model.argument_shapes and name not in model.inputs:
        return typeset_name(name)
    if not model.state:
        return typeset_name(name)
    return typeset_name(name, ["t"])


def cell_latex(model: Model) -> str:
    """The model's cell as a LaTeX `array` of its equations, one line per assignment."""
    function = model.cell
    names = _names(function)
    identifiers = {name: f"{_PLACEHOLDER}{index}" for index, name in enumerate(sorted(names))}
    with _products_as_in_the_articles():
        latex = latexify.get_latex(function, identifiers=identifiers, use_math_symbols=False)
    back = {f"{_PLACEHOLDER}{index}": _typeset_identifier(name, model) for index, name in enumerate(sorted(names))}

    def replace(match):
        return back.get(match.group(1) or match.group(2), match.group(0))

    latex = re.sub(r"\\mathrm\{(" + _PLACEHOLDER + r"\d+)\}|\b(" + _PLACEHOLDER + r"\d+)\b", replace, latex)
    return latex
