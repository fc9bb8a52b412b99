"""Symbol tables: which notation names which quantity of a model (c_t, \\tilde{c}_t, W_f, R_o, σ, ...), plus a file's aliases.

A table maps a *key* — a base name with an optional label, spelled as in
LaTeX without the time: `c`, `\\tilde{c}`, `z_f`, `W_fh`, `W_rec`, `p_i`, `\\sigma`
— to an Entry. Times are not part of keys: `c_{t-1}` is key `c` at time t-1,
`f^{t+1}` key `f` at time t+1 (derive.notation.names reads the scripts).

Split weights: where a model has a recurrent and an input block for the same
gate (W_fh and W_fx), `W_f` names the pair, so that `W_f \\cdot [h_{t-1}, x_t]`
reads W_fh h_{t-1} + W_fx x_t; a lone `W_f` is its recurrent block (Arbel's
convention). A bias is never added implicitly: write `+ b_f`. The RNN's
`W = [W_rec, W_in]` is a split weight in the same way.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

import lark
import sympy

from derive import rules
from derive.errors import NotationError, UnknownSymbolError
from derive.exact.adjoints import LOSS_WEIGHT
from derive.models import Model
from derive.notation.parser import position, text_of
from derive.notation.values import base_key
from derive.quantity import notation_key

SPELLINGS = {r"\bar{i}": r"\bar{\imath}"}  # other spellings of the same key


@dataclass(frozen=True)
class Entry:
    """What a key names: kind is quantity, parameter, split, function or variable."""

    kind: str
    name: str  # model quantity or parameter name, function name, or the variable's key
    timed: bool = False  # a quantity indexed by time (False for the feed-forward chain's nodes)
    parts: tuple = ()  # a split weight's (recurrent, input) parameter names
    symbol: object = None  # a variable's SymPy symbol


def _display(key: str, entry: Entry) -> str:
    """How the known-symbols list shows a key: c_t, z_{f,t}, W_{fh}, \\sigma."""
    if entry.kind == "quantity" and entry.timed:
        base, _, label = key.partition("_")
        return f"{base}_{{{label},t}}" if label else f"{key}_t"
    base, _, label = key.partition("_")
    shown = f"{base}_{{{label}}}" if len(label) > 1 else key
    if entry.kind == "split":
        return f"{shown} = [{', '.join(_display(p, Entry('parameter', p)) for p in entry.parts)}]"
    return shown


class SymbolTable:
    """The notation of one model: keys -> entries, with a file's aliases and free variables on top."""

    def __init__(self, model: Model | None, aliases: dict | None = None, variables: dict | None = None):
        self.model = model
        self.entries: dict[str, Entry] = {}
        if model is not None:
            for name in model.param_shapes:
                self.entries[notation_key(name)] = Entry("parameter", name)
            for name in list(model.inputs) + list(model.equations):
                self.entries[notation_key(name)] = Entry("quantity", name, timed=bool(model.state))
            self._add_split_weights(model)
            if model.state:  # Δ^t = ∂L^t/∂y^t, the loss's own term at step t (derive.exact.adjoints)
                self.entries[r"\Delta"] = Entry("loss weight", LOSS_WEIGHT, timed=True)
        # The functions of derive.rules, and diag (written \mathrm{diag}(v) or \operatorname{diag}(v)).
        for spelling, function in {**rules.by_spelling(), "diag": "diag"}.items():
            self.entries[spelling] = Entry("function", function)
        for key, symbol in (variables or {}).items():
            if key in self.entries:
                raise NotationError(f"the variable {key} would hide {self.model_name}'s own {key}; "
                                         f"give the variable another name")
            self.entries[key] = Entry("variable", key, symbol=symbol)
        self.aliases: dict[str, str] = {}
        for alias, target in (aliases or {}).items():
            target = SPELLINGS.get(target, target)
            if target not in self.entries:
                raise UnknownSymbolError(f"alias {alias} -> {target}: {self.model_name} has no {target}; "
                                         f"it knows {self.known()}")
            self.aliases[SPELLINGS.get(alias, alias)] = target

    @property
    def model_name(self) -> str:
        return self.model.name if self.model is not None else "a claim without a model"

    def _add_split_weights(self, model: Model) -> None:
        params = model.param_shapes
        for name in params:
            if name.startswith("W_") and name.endswith("h") and name[:-1] + "x" in params:
                split = name[:-1]  # W_fh, W_fx -> W_f
                if split not in params:
                    self.entries[split] = Entry("split", split, parts=(name, name[:-1] + "x"))
        if "W_rec" in params and "W_in" in params and "W" not in params:
            self.entries["W"] = Entry("split", "W", parts=("W_rec", "W_in"))

    def lookup(self, key: str) -> Entry | None:
        """The entry of `key`, through an alias if the file made one."""
        key = SPELLINGS.get(key, key)
        key = self.aliases.get(key, key)
        return self.entries.get(key)

    def resolve(self, base: str, label: str | None) -> tuple[Entry | None, bool]:
        """(entry, whether the label was used): `base_label` first (W_f, z_3, p_i), then `base` alone."""
        if label:
            entry = self.lookup(f"{base}_{label}")
            if entry is not None:
                return entry, True
        return self.lookup(base), False

    def known(self) -> str:
        """Every symbol this table knows, as one line for an error message."""
        shown = [_display(k, e) for k, e in self.entries.items() if e.kind != "function" or k.startswith("\\")]
        shown += [f"{alias} (for {target})" for alias, target in self.aliases.items()]
        upright = [word for rule in rules.FUNCTIONS.values() for word in rule.words] + ["diag"]
        return ", ".join(dict.fromkeys(shown)) + " (and, upright, " + ", ".join(f"\\mathrm{{{w}}}" for w in upright) + ")"

    def nearest(self, key: str) -> list[str]:
        """The known symbols spelled most like `key` (difflib), as the list of known symbols shows them."""
        keys = list(self.entries) + list(self.aliases)
        close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
        if not close and key.startswith("\\"):
            close = difflib.get_close_matches(key, keys, n=3, cutoff=0.5)
        return [_display(k, self.entries[k]) if k in self.entries else k for k in close]

    def unknown(self, spelled: str, position=None, formula=None, hint: str = "", key: str | None = None
                ) -> UnknownSymbolError:
        """The error for an unknown symbol: the nearest known ones, or (none being near) every symbol known."""
        near = self.nearest(key or spelled)
        if near:
            return UnknownSymbolError(f"unknown symbol {spelled}{hint}; did you mean {' or '.join(near)}?",
                                      position, formula)
        return UnknownSymbolError(f"unknown symbol {spelled}{hint}; {self.model_name} knows: {self.known()}",
                                  position, formula)


class DefinitionTable(SymbolTable):
    """The table of a model while its equations are read (derive.notation.recurrence).

    `draft` is the model as far as it is defined: its parameters, inputs,
    states (known at t-1 from the start) and the quantities defined so far;
    `splits` the weights written against a bracket. With `discover`, a name
    that nothing else claims is offered to it (key -> parameter name, or None
    when it is no parameter), so parameters are found as they are read.
    `draft.unknown(key)` explains a name that stays unknown.
    """

    def __init__(self, draft, splits: dict | None = None, discover=None):
        super().__init__(draft)
        for name in draft.state:
            self.entries.setdefault(notation_key(name), Entry("quantity", name, timed=True))
        for split, parts in (splits or {}).items():
            self.entries[notation_key(split)] = Entry("split", split, parts=tuple(parts))
        self.discover = discover
        self._asked: tuple = ("", None)  # the (base, label) last looked up, for `unknown`

    def resolve(self, base: str, label: str | None) -> tuple[Entry | None, bool]:
        entry, used = super().resolve(base, label)
        self._asked = (base, label)
        labelled = label not in (None, "t")
        if self.discover is not None and entry is not None and entry.kind == "parameter" and labelled and not used:
            entry = None  # W_z is a parameter of its own, not the parameter W at a time z
        if entry is None and self.discover is not None:
            key = f"{base}_{label}" if labelled else base  # z_t is z at time t, W_z the weight W_z
            name = self.discover(key)
            if name is not None:
                entry = self.entries[key] = Entry("parameter", name)
                return entry, key != base
        return entry, used

    def unknown(self, spelled: str, position=None, formula=None, hint: str = "", key: str | None = None
                ) -> UnknownSymbolError:
        base, label = self._asked
        reason = self.model.unknown(spelled, [f"{base}_{label}", base] if label else [base]) if base else None
        return UnknownSymbolError(reason, position, formula) if reason else \
            super().unknown(spelled, position, formula, hint, key)


def written_key(node, formula, label: str) -> tuple[str, bool]:
    """(table key, whether the time t is written) of one name with an optional label and time t, as aliases,
    `state` lists and an equation's left side write it: s_t -> (s, True), z_{f,t} -> (z_f, True), \\tilde{C} ->
    (\\tilde{C}, False)."""
    while isinstance(node, lark.Tree) and node.data != "postfix" and len(node.children) == 1:
        node = node.children[0]
    if not isinstance(node, lark.Tree) or node.data != "postfix" or \
            node.children[0].data not in ("name", "style", "decorated", "function"):
        raise NotationError(f"{label}: name one symbol, like s_t or \\tilde{{C}}", 0, formula)
    key = base_key(node.children[0]) if node.children[0].data != "function" else str(node.children[0].children[0])
    bad = NotationError(f"{label}: write a name with an optional label and the time t, like s_t, y^t, z_{{f,t}}",
                        position(node), formula)
    timed = False
    for script in node.children[1:]:
        if script.data not in ("sub", "sup"):
            raise bad
        parts = text_of(script.children[0]).split(",")
        if script.data == "sup" or len(parts) == 2:
            if parts[-1] != "t" or len(parts) > 2:
                raise bad
            parts, timed = parts[:-1], True
        if parts and parts[0] == "t":
            timed = True
        elif parts:
            if not parts[0].isalnum():
                raise bad
            key += "_" + parts[0]
    return key, timed


def variable_symbol(key: str) -> sympy.Symbol:
    """The real symbol of a free variable declared by a claims file (z, w, ...)."""
    return sympy.Symbol(key, real=True)
