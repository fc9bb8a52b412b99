"""A recurrence an article defines: a claims file's [model] equations, read in the notation of claims, into a model.

    [model]
    equations = ['z_t = \\sigma(W_z x_t + U_z h_{t-1} + b_z)', ...]
    state = ["h"]                         # carried to the next step: their t-1 values appear on the right
    inputs = ["x"]                        # every other unknown symbol is a parameter
    truncate = ["z", "r", '\\tilde{h}']    # held constant in the truncated semantics
    n = 1

Each equation `q_t = ...` defines one quantity at time t. It is read by the
claims' own reader (derive.notation.reader: parsed, never executed) against a
table of what is known when it is read: the states at t-1, the inputs, the
quantities defined above it and the parameters. The equations are read twice.
The first reading, at one unit, finds the parameters: a symbol that multiplies
a vector is a matrix (n×n, or n×m when the vector is an input), a weight times
a bracket [h_{t-1}, x_t] is split as the notation reads it (W_f -> W_fh, W_fx),
any other symbol is an n×1 vector; it keeps every product W v as one symbol,
which gives the model's Program (derive.models.program). The second reading,
at the model's size, gives its equations and catches shapes that do not fit.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import lark
import sympy

from derive import rules
from derive.errors import ClaimsFileError, ModelSpecError, NotationError, ShapeMismatchError
from derive.models.builtin import check_options
from derive.models.defined import EquationModel
from derive.models.program import Product, Program, product_symbols
from derive.notation import parser
from derive.notation.reader import Context, Reader
from derive.notation.symbols import DefinitionTable, Entry, written_key
from derive.notation.values import Concat, Split, base_key, is_matrix, is_transpose
from derive.quantity import name_of_key, notation_key, quantity_of, symbols_of

MODEL_KEYS = frozenset({"equations", "state", "inputs", "truncate", "n", "m", "name", "title"})
MOST_EQUATIONS = 40
# Words that name functions, never parameters: a bare exp(x) or relu(x) must not become a weight named exp.
FUNCTION_WORDS = frozenset({*rules.FUNCTIONS, *(c for r in rules.FUNCTIONS.values() for c in r.commands + r.words),
                            "sigmoid", "relu", "ReLU", "softmax", "log", "ln", "sin", "cos", "max", "min", "diag"})
_REFUSED = {  # what a model equation cannot hold, and why
    "partial": "a derivative cannot define a model", "partial_operator": "a derivative cannot define a model",
    "adjoint": "an adjoint cannot define a model", "dots": "\\dots cannot define a model: write every term",
    "bigop": "\\sum and \\prod cannot define a model: write every term",
}


@dataclass(frozen=True)
class Spec:
    """A [model] table with equations, checked for its types and hashable (models are made once per Spec and size)."""

    equations: tuple  # the equations as written
    state: tuple
    inputs: tuple = ()
    truncate: tuple = ()
    m: int | None = None
    name: str = "equations"
    title: str = ""


def spec_from(table: dict, what: str) -> tuple[Spec, int]:
    """(Spec, n) of a [model] table that gives `equations`; ClaimsFileError for a key or type it cannot use."""
    unknown = sorted(set(table) - MODEL_KEYS)
    if unknown:
        raise ClaimsFileError(f"{what}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; a model "
                              f"given by its equations takes {', '.join(sorted(MODEL_KEYS))}")

    def strings(key, required=False):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or (required and not value):
            raise ClaimsFileError(f"{what}.{key} must be a {'non-empty ' if required else ''}list of strings")
        return tuple(v.strip() for v in value)

    equations = strings("equations", required=True)
    if len(equations) > MOST_EQUATIONS:
        raise ClaimsFileError(f"{what}: {len(equations)} equations; the limit is {MOST_EQUATIONS}")
    for key in ("name", "title"):
        if not isinstance(table.get(key, ""), str):
            raise ClaimsFileError(f"{what}.{key} must be a string")
    name = table.get("name", "equations")
    if not name.replace("_", "").isalnum():
        raise ClaimsFileError(f"{what}.name must be letters, digits and '_', got {name!r}")
    n, m = table.get("n", 1), table.get("m")
    check_options(dict(n=n, m=m))  # the one check of every model's options
    return Spec(equations, strings("state", required=True), strings("inputs"), strings("truncate"), m, name,
                table.get("title", "")), n


def read_model(spec: Spec, n: int) -> EquationModel:
    """The model `spec` defines, with `n` units (made once per spec and size)."""
    model = _sized(spec, n)
    if n == 1:
        _sized(spec, 2)  # the notation's shape rules hold at every size: check them where vectors are not scalars
    return model


# -- the model as far as it is read -----------------------------------------------------------
class _Draft:
    """What the symbol table and the reader ask of a Model, while its equations are read one by one."""

    def __init__(self, structure: "_Structure", n: int, m: int, param_shapes: dict):
        self.name, self.state, self.inputs = structure.spec.name, structure.states, structure.inputs
        self.defined = structure.defined  # every quantity an equation defines -> its equation's number
        self.n, self.m = n, m
        self.param_shapes = param_shapes
        self.equations: dict = {}  # the quantities defined so far -> Matrix
        self.removed = ()
        self.current: str | None = None  # the quantity being defined
        self.mentions = structure.mentions

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
        matrix = value if is_matrix(value) else sympy.Matrix([[value]])
        key = notation_key(name)
        rows, cols = matrix.shape
        if cols != 1 or rows not in (self.n, self.m) or (name in self.state and rows != self.n):
            wanted = f"a column of n = {self.n} entries" if name in self.state else "a column of n or m entries"
            raise ShapeMismatchError(f"{key}_t must be {wanted} (n = {self.n}, m = {self.m}), but its equation gives "
                                     f"{rows}×{cols}", parser.position(node), formula)
        self.equations[name] = matrix
        return matrix


class _DefinitionReader(Reader):
    """The claims' reader with every error placed at the node it concerns; with `inference`, each weight times a
    vector becomes one product symbol (the first reading)."""

    def __init__(self, table: DefinitionTable, inference: "_Inference | None" = None):
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
class _Inference:
    """What the first reading learns: each parameter's use, the splits, and the program's steps."""

    draft: _Draft
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

    def product(self, reader: _DefinitionReader, weight: str, operand, node):
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

    def _split(self, reader: _DefinitionReader, weight: str, bracket: Concat, node) -> Split:
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
                                             f"and is used elementwise here", _position_of(formula, info.name),
                                             formula)
                self.vectors.add(info.name)


# -- reading the equations ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Structure:
    """What the first reading finds; every later reading (at any size) follows it."""

    spec: Spec
    formulas: tuple
    sides: tuple  # (left, right) trees per equation
    names: tuple  # the quantity each equation defines
    defined: dict  # name -> equation number
    states: tuple
    inputs: tuple
    gates: tuple
    mentions: dict  # name -> the keys its equation uses at time t (for the message about cycles)
    params: tuple = ()  # in the order they first appear
    columns: dict = field(default_factory=dict)  # weight -> "n" or "m", the size of the vectors it multiplies
    splits: dict = field(default_factory=dict)
    program: Program | None = None

    def param_shapes(self, n: int, m: int) -> dict:
        """n×n and n×m weights, n×1 vectors."""
        shapes = {}
        for name in self.params:
            column = self.columns.get(name)
            shapes[name] = (n, 1) if column is None else (n, m if column == "m" else n)
        return shapes


def _position_of(formula: parser.Formula, name: str) -> int:
    """Where a parameter first appears in a formula (0 when it cannot be found)."""
    for node in formula.tree.iter_subtrees_topdown():
        if node.data == "postfix" and node.children[0].data in ("name", "style", "decorated"):
            key = base_key(node.children[0])
            subs = [s for s in node.children[1:] if isinstance(s, lark.Tree) and s.data == "sub"]
            if subs:
                key += "_" + parser.text_of(subs[0].children[0])
            if key == notation_key(name) or base_key(node.children[0]) == notation_key(name):
                return parser.position(node) or 0
    return 0


def _mentions_now(tree) -> set:
    """The keys a tree uses at time t (z_t, z_{f,t}, \\tilde{h}_t), read from its scripts."""
    found = set()
    for node in tree.iter_subtrees():
        if node.data != "postfix" or node.children[0].data not in ("name", "decorated", "style"):
            continue
        scripts = {s.data: parser.text_of(s.children[0]) for s in node.children[1:]
                   if isinstance(s, lark.Tree) and s.data in ("sub", "sup")}
        parts = scripts.get("sub", "").split(",")
        if parts[-1] == "t" or scripts.get("sup") == "t":
            label = parts[0] if parts[0] not in ("", "t") else ""
            found.add(base_key(node.children[0]) + ("_" + label if label else ""))
    return found


def _names(spec: Spec, key: str, defined: dict, states: tuple = ()) -> tuple:
    """The model names of the `state`, `inputs` or `truncate` entries, each checked."""
    names = []
    for text in getattr(spec, key):
        try:
            formula = parser.parse(text, f"{key} entry {text!r}")
            written, _ = written_key(formula.tree.children[0] if len(formula.tree.children) == 1 else None, formula,
                                     f"{key} entry {text!r}")
        except NotationError as error:
            raise ModelSpecError(f"{key}: {text!r} is not a name: {error.message}", key, text) from None
        name = name_of_key(written)
        if written.lstrip("\\").split("_")[0] in FUNCTION_WORDS or written in rules.by_spelling():
            raise ModelSpecError(f"{key}: {text!r} names a function of the notation; give it another name", key, text)
        if name is None:
            raise ModelSpecError(f"{key}: {text!r} cannot name a quantity: use letters with an optional label", key,
                                 text)
        if key == "state" and name not in defined:
            raise ModelSpecError(f"state {written} has no equation: add {written}_t = ... to the equations", key, text)
        if key == "inputs" and name in defined:
            raise ModelSpecError(f"input {written} is defined by equation {defined[name]}: an input comes from "
                                 f"outside the step", key, text)
        if key == "truncate" and name not in defined:
            raise ModelSpecError(f"truncate: no equation defines {written}", key, text)
        if key == "truncate" and name in states:
            raise ModelSpecError(f"truncate: {written} is a state; only quantities within the step are held", key,
                                 text)
        if name in names:
            raise ModelSpecError(f"{key}: {written} is listed twice", key, text)
        names.append(name)
    return tuple(names)


def _sides(formula: parser.Formula, number: int):
    """(left, right) of an equation q_t = ..., with the quantity it defines; errors where they occur."""
    children = formula.tree.children
    if len(children) != 3 or str(children[1]) != "=":
        raise NotationError(f"equation {number} must be one equation q_t = ... (it defines one quantity)", 0, formula)
    left, right = children[0], children[2]
    key, timed = written_key(left, formula, f"equation {number}")
    name = name_of_key(key)
    if not timed or name is None or notation_key(name) != key:
        raise NotationError(f"the left side names the quantity the equation defines, at time t: z_t, z_{{f,t}} or "
                            f"\\tilde{{h}}_t", parser.position(left) or 0, formula)
    for node in right.iter_subtrees():
        if node.data in _REFUSED:
            raise NotationError(_REFUSED[node.data], parser.position(node), formula)
        if node.data == "sup" and is_transpose(node.children[0]):
            raise NotationError("a model equation cannot transpose: write the matrix as it multiplies",
                                parser.position(node), formula)
        if node.data in ("name", "style") and base_key(node) == "diag":
            raise NotationError("write r_t \\odot v for a diagonal matrix times a vector in a model equation",
                                parser.position(node), formula)
    return left, right, name


@functools.cache
def _structure(spec: Spec) -> _Structure:
    formulas = tuple(parser.parse(text, f"equation {k}") for k, text in enumerate(spec.equations, 1))
    sides, names, defined = [], [], {}
    for number, formula in enumerate(formulas, 1):
        left, right, name = _sides(formula, number)
        if name in defined:
            raise NotationError(f"{notation_key(name)}_t is defined twice: by equations {defined[name]} and {number}",
                                parser.position(left) or 0, formula)
        sides.append((left, right))
        names.append(name)
        defined[name] = number
    states = _names(spec, "state", defined)
    inputs = _names(spec, "inputs", defined)
    clash = set(states) & set(inputs)
    if clash:
        raise ModelSpecError(f"{notation_key(clash.pop())} is listed as a state and as an input", "inputs")
    truncate = _names(spec, "truncate", defined, states)
    mentions = {name: _mentions_now(right) for name, (_, right) in zip(names, sides)}
    structure = _Structure(spec, formulas, tuple(sides), tuple(names), defined, states, inputs,
                           tuple(name for name in names if name in truncate), mentions)
    draft = _Draft(structure, 1, 1, {})
    inference = _Inference(draft)
    for formula, (_, right), name in zip(formulas, sides, names):
        draft.current = name
        table = DefinitionTable(draft, inference.splits, inference.discover)
        value = _DefinitionReader(table, inference).evaluate(formula, right)
        inference.check_uses(value, formula)
        matrix = draft.define(name, value, right, formula)
        inference.sizes[name] = inference.size(matrix[0, 0])
        inference.steps.append((name, matrix))
    used = {quantity_of(s).name for step in inference.steps for s in
            (step.operand if isinstance(step, Product) else step[1]).free_symbols if quantity_of(s) is not None}
    for name, text in zip(inputs, spec.inputs):
        if name not in used:
            raise ModelSpecError(f"input {notation_key(name)} appears in no equation", "inputs", text)
    return replace(structure, params=tuple(draft.param_shapes), columns=inference.columns, splits=inference.splits,
                   program=Program(tuple(inference.steps)))


@functools.cache
def _sized(spec: Spec, n: int) -> EquationModel:
    structure = _structure(spec)
    m = spec.m or n
    shapes = structure.param_shapes(n, m)
    draft = _Draft(structure, n, m, dict(shapes))
    for formula, (_, right), name in zip(structure.formulas, structure.sides, structure.names):
        draft.current = name
        value = _DefinitionReader(DefinitionTable(draft, structure.splits)).evaluate(formula, right)
        draft.define(name, value, right, formula)
    arguments = {f"{s}_prev": (n, 1) for s in structure.states}
    arguments.update({x: (m, 1) for x in structure.inputs})
    arguments.update(shapes)
    options = {"builder": "equations", "equations": spec.equations, "state": spec.state, "inputs": spec.inputs,
               "truncate": spec.truncate, "m": spec.m, "name": spec.name}
    return EquationModel(name=spec.name, title=spec.title or "Recurrence given by its equations", cell=None, n=n,
                         m=m, activation=None, state=structure.states, gates=structure.gates,
                         inputs=structure.inputs,
                         input_weights=frozenset(w for w, column in structure.columns.items() if column == "m"),
                         options=options, written=spec.equations, shapes=arguments, read=dict(draft.equations),
                         one_unit=structure.program, rebuild=functools.partial(read_model, spec),
                         splits=dict(structure.splits))
