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

from derive import rules
from derive.errors import ClaimsFileError, ModelSpecError, NotationError
from derive.models.builtin import check_options
from derive.models.defined import EquationModel
from derive.models.program import Product, Program
from derive.notation import parser
from derive.notation.draft import FUNCTION_WORDS, DefinitionReader, Draft, Inference
from derive.notation.symbols import DefinitionTable, written_key
from derive.notation.values import base_key, is_transpose
from derive.quantity import name_of_key, notation_key, quantity_of

MODEL_KEYS = frozenset({"equations", "state", "inputs", "truncate", "n", "m", "name", "title"})
MOST_EQUATIONS = 40
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
    name: str = "recurrence"
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
    name = table.get("name", "recurrence")
    if not name.replace("_", "").isalnum():
        raise ClaimsFileError(f"{what}.name must be letters, digits and '_', got {name!r}")
    n, m = table.get("n", 1), table.get("m")
    check_options(dict(n=n, m=m))  # the one check of every model's options
    return Spec(equations, strings("state", required=True), strings("inputs"), strings("truncate"), m, name,
                table.get("title", "")), n


def model_of(table: dict, what: str = "model") -> EquationModel:
    """The model a [model] table with `equations` defines, as a claims file gives it (a dict)."""
    return read_model(*spec_from(table, what))


def read_model(spec: Spec, n: int) -> EquationModel:
    """The model `spec` defines, with `n` units (made once per spec and size)."""
    model = _sized(spec, n)
    if n == 1:  # the notation's shape rules hold at every size: check them where vectors are not scalars
        try:
            _sized(spec, 2)
        except NotationError as error:
            raise type(error)(f"with n = 2 units (vectors, as at any n > 1): {error.message}", error.position,
                              error.formula) from None
    return model


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
    wrong = NotationError("the left side names the quantity the equation defines, at time t: z_t, z_{f,t} or "
                          "\\tilde{h}_t", parser.position(left) or 0, formula)
    try:
        key, timed = written_key(left, formula, f"equation {number}")
    except NotationError:
        raise wrong from None
    name = name_of_key(key)
    if not timed or name is None or notation_key(name) != key:
        raise wrong
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
    if len(states) > 2:  # the semantics read the second state out of the first (h_{t-1} of c_{t-1}), no more
        raise ModelSpecError("state: one state (h), or two with the cell state first and its read-out second "
                             "(c, h), as the built-in models carry them", "state", spec.state[2])
    inputs = _names(spec, "inputs", defined)
    clash = set(states) & set(inputs)
    if clash:
        raise ModelSpecError(f"{notation_key(clash.pop())} is listed as a state and as an input", "inputs")
    truncate = _names(spec, "truncate", defined, states)
    mentions = {name: _mentions_now(right) for name, (_, right) in zip(names, sides)}
    structure = _Structure(spec, formulas, tuple(sides), tuple(names), defined, states, inputs,
                           tuple(name for name in names if name in truncate), mentions)
    draft = Draft(spec.name, states, inputs, defined, mentions, 1, 1, {})
    inference = Inference(draft)
    for formula, (_, right), name in zip(formulas, sides, names):
        draft.current = name
        table = DefinitionTable(draft, inference.splits, inference.discover)
        value = DefinitionReader(table, inference).evaluate(formula, right)
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
    draft = Draft(spec.name, structure.states, structure.inputs, structure.defined, structure.mentions, n, m,
                  dict(shapes))
    for formula, (_, right), name in zip(structure.formulas, structure.sides, structure.names):
        draft.current = name
        value = DefinitionReader(DefinitionTable(draft, structure.splits)).evaluate(formula, right)
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
