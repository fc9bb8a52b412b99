"""A model as far as its equations are read: what the symbol table and the reader ask of a Model meanwhile.

`Draft` answers for the quantities, with the rules of a one-step recurrence
(states at t-1, the rest at t, nothing before its equation); `DefinitionReader`
is the claims' reader with every error placed at the node it concerns; in the
first reading, `Inference` turns each weight times a vector into one product
symbol and learns from it which parameters are matrices (derive.notation.recurrence).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import lark
import sympy

from derive import rules
from derive.errors import NotationError, ShapeMismatchError
from derive.models.program import Product, product_symbols
from derive.notation import parser
from derive.notation.reader import Context, Reader
from derive.notation.symbols import DefinitionTable, Entry
from derive.notation.values import Concat, Split, base_key, is_matrix
from derive.quantity import name_of_key, notation_key, quantity_of, symbols_of

# Words that name functions, never parameters: a bare exp(x) or relu(x) must not become a weight named exp.
FUNCTION_WORDS = frozenset({*rules.FUNCTIONS, *(c for r in rules.FUNCTIONS.values() for c in r.commands + r.words),
                            "sigmoid", "relu", "ReLU", "softmax", "log", "ln", "sin", "cos", "max", "min", "diag"})


class Draft:
    """What the symbol table and the reader ask of a Model, while its equations are read one by one."""

    def __init__(self, name: str, state: tuple, inputs: tuple, defined: dict, mentions: dict, n: int, m: int,
                 param_shapes: dict):
        self.name, self.state, self.inputs = name, state, inputs
        self.defined = defined  # every quantity an equation defines -> its equation's number
        self.mentions = mentions  # every quantity -> the keys its equation uses at time t
        self.n, self.m = n, m
        self.param_shapes = param_shapes
        self.equations: dict = {}  # the quantities defined so far -> Matrix
        self.removed = ()
        self.current: str | None = None  # the quantity being defined

    def shape(self, name: str) -> tuple:
        if name in self.param_shapes:
            return self.param_shapes[name]
        if name in self.equations:
            return self.equations[name].shape
        return (self.m, 1) if name in self.inputs else (self.n, 1)

    def q(self, name: str, time: int | None = 0, absolute: bool = False) -> sympy.Matrix:
        if name in self.param_shapes:
            return symbols_of(name, None, self.param_shapes[name])
        key = notation_key(name)
        if absolute:
            raise NotationError("a model equation counts time from t: write t and t-1, not step numbers")
        if time == -1 and name not in self.state:
            kind = "an input: it appears at t" if name in self.inputs else "computed within the step"
            raise NotationError(f"{key}_{{t-1}}: only the states ({', '.join(map(notation_key, self.state))}) "
                                f"carry over from the previous step; {key} is {kind}")
        if time not in (0, -1):
            raise NotationError(f"a model equation relates time t to t-1 only, not t{time:+d}")
        if time == 0 and name not in self.inputs and name not in self.equations:
            raise NotationError(self._not_yet(name))
        return symbols_of(name, time, self.shape(name))

    def _not_yet(self, name: str) -> str:
        key, current = notation_key(name), notation_key(self.current)
        if name == self.current:
            return f"{key}_t is defined by this very equation: a quantity at t cannot depend on itself (a cycle)"
        if current in self.mentions.get(name, ()):
            return (f"{current}_t and {key}_t depend on each other within one step (a cycle): equation "
                    f"{self.defined[name]} defines {key}_t from {current}_t")
        return (f"{key}_t is used before it is defined (by equation {self.defined[name]}); the equations are "
                f"read in order")

    def unknown(self, spelled: str, keys: list) -> str | None:
        """Why a name is unknown, when the model can say more than the list of symbols it knows."""
        for key in keys:
            name = name_of_key(key)
            if name in self.defined and name not in self.equations:
                return self._not_yet(name)
            if name in self.param_shapes:
                return (f"{spelled}: no equation defines {key}, and it is neither a state nor an input (state = "
                        f"[{', '.join(map(notation_key, self.state))}], inputs = "
                        f"[{', '.join(map(notation_key, self.inputs))}])")
        return None

    def define(self, name: str, value, node, formula) -> sympy.Matrix:
        """Record `name` = `value` (read from the tree `node`); a state is a column of n entries, any other
        quantity a column of n or m."""
        matrix = value if is_matrix(value) else sympy.Matrix([[value]])
        key = notation_key(name)
        rows, cols = matrix.shape
        if cols != 1 or rows not in (self.n, self.m) or (name in self.state and rows != self.n):
            wanted = f"a column of n = {self.n} entries" if name in self.state else "a column of n or m entries"
            raise ShapeMismatchError(f"{key}_t must be {wanted} (n = {self.n}, m = {self.m}), but its equation gives "
                                     f"{rows}×{cols}", parser.position(node), formula)
        self.equations[name] = matrix
        return matrix


class DefinitionReader(Reader):
    """The claims' reader with every error placed at the node it concerns; with `inference`, each weight times a
    vector becomes one product symbol (the first reading)."""

    def __init__(self, table: DefinitionTable, inference: "Inference | None" = None):
        super().__init__(Context(table))
        self.inference = inference

    def value(self, node, env):
        try:
            return super().value(node, env)
        except NotationError as error:
            if error.position is None:
                self.fail(node, error.message, type(error))
            raise

    def multiply(self, a, b, node, divide: bool = False):
        weight = None if self.inference is None or divide else self.inference.weight(a)
        if weight is None:
            return super().multiply(a, b, node, divide)
        return self.inference.product(self, weight, b, node)


# -- the first reading: parameters and products ------------------------------------------------
@dataclass
class Inference:
    """What the first reading learns: each parameter's use, the splits, and the program's steps."""

    draft: Draft
    steps: list = field(default_factory=list)
    columns: dict = field(default_factory=dict)  # weight -> "n" (it multiplies a state-sized vector) or "m"
    splits: dict = field(default_factory=dict)  # weight written against a bracket -> its two blocks
    vectors: set = field(default_factory=set)  # parameters used elementwise
    sizes: dict = field(default_factory=dict)  # node -> "n" or "m": the size it has

    def discover(self, key: str) -> str | None:
        name = name_of_key(key)
        if name in self.draft.defined:
            return None
        if key.lstrip("\\").split("_")[0] in FUNCTION_WORDS:
            raise NotationError(f"{key} names a function, not a parameter: write the notation's function, as in "
                                f"\\sigma(z), \\tanh(z), \\exp(z)")
        if name is None or notation_key(name) != key:
            raise NotationError(f"{key} cannot name a parameter: use letters with an optional label, like W_z or "
                                f"b_{{hn}} (and \\tilde, \\bar or \\hat)")
        self.draft.param_shapes[name] = (1, 1)
        return name

    def weight(self, value) -> str | None:
        info = quantity_of(value) if not is_matrix(value) else None
        return info.name if info is not None and info.time is None and info.name in self.draft.param_shapes else None

    def size(self, expr) -> str:
        """'m' when `expr` depends on the inputs alone (and parameters), else 'n'."""
        kinds = set()
        for symbol in expr.free_symbols:
            info = quantity_of(symbol)
            if info is None:
                kinds.add("n")  # an earlier product
            elif info.time is not None:
                kinds.add("m" if info.name in self.draft.inputs else self.sizes.get(info.name, "n"))
        return "m" if kinds == {"m"} else "n"

    def product(self, reader: DefinitionReader, weight: str, operand, node):
        if isinstance(operand, Concat):
            return reader.multiply(self._split(reader, weight, operand, node), operand, node)
        operand = reader.plain(operand, node)
        if weight in self.vectors or weight in self.splits:
            reader.fail(node, f"{notation_key(weight)} multiplies a vector here but is used otherwise elsewhere: a "
                              f"parameter is either a matrix (W v) or a vector", ShapeMismatchError)
        if is_matrix(operand):
            reader.fail(node, f"{notation_key(weight)} multiplies a {operand.shape[0]}×{operand.shape[1]} value",
                        ShapeMismatchError)
        self.columns[weight] = "n" if self.columns.get(weight) == "n" else self.size(operand)
        symbol = product_symbols(weight, len(self.steps))
        self.steps.append(Product(symbol, weight, sympy.Matrix([[operand]])))
        return symbol[0, 0]

    def _split(self, reader: DefinitionReader, weight: str, bracket: Concat, node) -> Split:
        names = [quantity_of(reader.plain(part, node)) for part in bracket.parts]
        if len(names) != 2 or any(info is None or info.time is None or not info.name.isalpha() for info in names):
            reader.fail(node, f"{notation_key(weight)} \\cdot [a, b] takes two quantities, like [h_{{t-1}}, x_t]",
                        ShapeMismatchError)
        if weight in self.columns or weight in self.vectors:
            reader.fail(node, f"{notation_key(weight)} multiplies a bracket here and is used otherwise elsewhere",
                        ShapeMismatchError)
        parts = tuple(weight + info.name if "_" in weight else f"{weight}_{info.name}" for info in names)
        reader.context.table.entries[notation_key(weight)] = Entry("split", weight, parts=parts)
        del self.draft.param_shapes[weight]
        self.draft.param_shapes.update({part: (1, 1) for part in parts})
        self.splits[weight] = parts
        return Split(*(symbols_of(part)[0, 0] for part in parts))

    def check_uses(self, value, formula: parser.Formula) -> None:
        """After an equation: a parameter used elementwise must not be a weight, nor a weight elementwise."""
        used = set(sympy.sympify(value).free_symbols)
        for step in self.steps:
            if isinstance(step, Product):
                used |= step.operand.free_symbols
        for symbol in used:
            info = quantity_of(symbol)
            if info is not None and info.time is None:
                if info.name in self.columns or info.name in self.splits:
                    raise ShapeMismatchError(f"{notation_key(info.name)} multiplies a vector elsewhere (a matrix) "
                                             f"and is used elementwise here", position_of(formula, info.name),
                                             formula)
                self.vectors.add(info.name)


def position_of(formula: parser.Formula, name: str) -> int:
    """Where a parameter first appears in a formula (0 when it cannot be found)."""
    for node in formula.tree.iter_subtrees_topdown():
        if node.data == "postfix" and node.children[0].data in ("name", "style", "decorated"):
            key = base_key(node.children[0])
            subs = [s for s in node.children[1:] if isinstance(s, lark.Tree) and s.data == "sub"]
            if subs:
                key += "_" + parser.text_of(subs[0].children[0])
            if key == notation_key(name):
                return parser.position(node) or 0
    return 0
