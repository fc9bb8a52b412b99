"""A quantity's identity (name, time, index, adjoint) and the SymPy symbol that carries it, typeset in one place.

Every symbol of a model is a `QuantitySymbol`: a real SymPy symbol whose
identity is its `Quantity`, not its printed name. `c_{3}` at absolute step 3
and a time-free node typeset `c_{3}` are different quantities, so they are
different symbols; changing how a name is typeset never changes which
quantity a symbol stands for. `typeset` is the one function that turns a
quantity into LaTeX; the notation's keys (`\\tilde{c}` for `c_tilde`) come
from the same table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

import sympy

# Names typeset otherwise than "a_bc" -> a_{bc}. A letter with a decoration is named letter_decoration:
# c_tilde is \tilde{c}, z_bar is \bar{z}, x_hat is \hat{x} (the DECORATIONS rule); the table holds the rest.
DECORATIONS = ("tilde", "bar", "hat")
TYPESET_NAMES = {"i_bar": r"\bar{\imath}", "W_rec": r"W_{\mathrm{rec}}", "W_in": r"W_{\mathrm{in}}", "Delta": r"\Delta"}
_DECORATED_NAME = re.compile(r"([A-Za-z]+)_(%s)" % "|".join(DECORATIONS))
_DECORATED_KEY = re.compile(r"\\(%s)\{([A-Za-z]+)\}" % "|".join(DECORATIONS))
_PLAIN_KEY = re.compile(r"[A-Za-z]+(_[A-Za-z0-9]+)?")


def _base_latex(name: str) -> str | None:
    """The LaTeX of a name typeset otherwise than a_{bc}: the table's, or a decorated letter's; None for the rest."""
    if name in TYPESET_NAMES:
        return TYPESET_NAMES[name]
    decorated = _DECORATED_NAME.fullmatch(name)
    return "\\%s{%s}" % (decorated.group(2), decorated.group(1)) if decorated else None


@dataclass(frozen=True)
class Quantity:
    """Which quantity a symbol stands for: model name, time (None: time-free), entry index, adjoint or not.

    `time` is relative to the claim's step t unless `absolute`; `index` is
    (row,) for a vector entry, (row, column) for a matrix entry, () for a
    scalar (1-based, as printed); `adjoint` marks δq = ∂L/∂q.
    """

    name: str
    time: int | None = None
    absolute: bool = False
    index: tuple = ()
    adjoint: bool = False

    @property
    def whole(self) -> "Quantity":
        """The whole vector or matrix this entry belongs to."""
        return replace(self, index=())

    def at(self, time: int | None, absolute: bool | None = None) -> "Quantity":
        return replace(self, time=time, absolute=self.absolute if absolute is None else absolute)

    def key(self) -> tuple:
        """A totally ordered key (None-free), for SymPy's comparisons and deterministic sorting."""
        return (self.name, self.time is not None, self.time or 0, self.absolute, self.index, self.adjoint)


def notation_key(name: str) -> str:
    """The key a claims file writes for a model name: c_tilde -> \\tilde{c}; W_fh, W_rec -> themselves."""
    latex = _base_latex(name) or ""
    return latex if latex.startswith("\\") else name


def name_of_key(key: str) -> str | None:
    """The model name a claims file's key stands for (the inverse of notation_key): \\tilde{h} -> h_tilde.

    None when the key makes no model name (a Greek letter, a decorated label).
    """
    for name, latex in TYPESET_NAMES.items():
        if latex == key and latex.startswith("\\"):
            return name
    decorated = _DECORATED_KEY.fullmatch(key)
    if decorated:
        return f"{decorated.group(2)}_{decorated.group(1)}"
    return key if _PLAIN_KEY.fullmatch(key) else None


def time_label(time: int, absolute: bool = False) -> str:
    """'t', 't-1', 't+2' for times relative to t; '3' for an absolute time step."""
    if absolute:
        return str(time)
    return "t" if time == 0 else f"t{time:+d}"


def typeset_name(name: str, subscripts: list[str] = ()) -> str:
    """A model name with extra subscripts: typeset_name("z_f", ["t"]) = z_{f,t}; c_tilde -> \\tilde{c}_{...}."""
    subscripts = list(subscripts)
    if _base_latex(name) is not None:
        base, extra = _base_latex(name), []
    elif "_" in name:
        base, rest = name.split("_", 1)
        extra = [rest]
    else:
        base, extra = name, []
    if base.startswith("W_{") and base.endswith("}"):  # W_{\mathrm{rec}} carries its own subscript
        return base[:-1] + "".join("," + s for s in subscripts) + "}"
    subs = extra + subscripts
    return base + ("_{" + ",".join(subs) + "}" if subs else "")


def typeset(quantity: Quantity) -> str:
    """The LaTeX of a quantity: f_{t}, c_{t-1,2}, W_{fh,12}, \\delta c_{3}."""
    labels = [] if quantity.time is None else [time_label(quantity.time, quantity.absolute)]
    if quantity.index:
        labels.append(("" if max(quantity.index) < 10 else ",").join(map(str, quantity.index)))
    text = typeset_name(quantity.name, labels)
    return r"\delta " + text if quantity.adjoint else text


class QuantitySymbol(sympy.Symbol):
    """A real SymPy symbol standing for one Quantity (an entry of a model's vector or matrix, or a scalar).

    Its name is its LaTeX (so SymPy prints and orders it as the articles write
    it); its identity is the quantity.
    """

    __slots__ = ("quantity",)

    def __new__(cls, quantity: Quantity):
        symbol = sympy.Symbol.__xnew__(cls, typeset(quantity), real=True)
        symbol.quantity = quantity
        return symbol

    def __getnewargs_ex__(self):
        return (self.quantity,), {}

    def _hashable_content(self):
        return super()._hashable_content() + (self.quantity.key(),)

    def _latex(self, printer, exp=None):
        return self.name if exp is None else f"{self.name}^{{{exp}}}"


class LatexSymbol(sympy.Symbol):
    """A real symbol typeset exactly as its name, a LaTeX string (e.g. a loss's slope \\frac{∂E}{∂h}).

    It stands for no model quantity: a claim's verifier draws its values.
    """

    def __new__(cls, latex: str):
        return super().__new__(cls, latex, real=True)

    def __getnewargs_ex__(self):
        return (self.name,), {}

    def _latex(self, printer, exp=None):
        return self.name if exp is None else f"{{{self.name}}}^{{{exp}}}"


def quantity_of(symbol) -> Quantity | None:
    """The Quantity a symbol stands for, or None for any other symbol."""
    return symbol.quantity if isinstance(symbol, QuantitySymbol) else None


def symbols_of(name: str, time: int | None = None, shape=(1, 1), absolute: bool = False,
               adjoint: bool = False) -> sympy.Matrix:
    """The Matrix of symbols standing for quantity `name` at `time` (None: time-free)."""
    rows, cols = shape

    def entry(r, c):
        index = () if rows * cols == 1 else ((r + 1,) if cols == 1 else (r + 1, c + 1))
        return QuantitySymbol(Quantity(name, time, absolute, index, adjoint))

    return sympy.Matrix(rows, cols, entry)


def retime(expr, shift: int = 0, absolute_base: int | None = None):
    """Move every time-indexed quantity of `expr` by `shift` steps.

    With `absolute_base`, relative times become absolute: t + k -> base + k.
    """
    mapping = {}
    for symbol in getattr(expr, "free_symbols", ()):
        quantity = quantity_of(symbol)
        if quantity is None or quantity.time is None:
            continue
        if absolute_base is not None and not quantity.absolute:
            moved = quantity.at(absolute_base + quantity.time + shift, True)
        else:
            moved = quantity.at(quantity.time + shift)
        mapping[symbol] = QuantitySymbol(moved)
    return expr.xreplace(mapping) if mapping else expr


def scalar_or_matrix(matrix: sympy.Matrix):
    """A 1×1 Matrix as its only entry; anything else unchanged."""
    return matrix[0, 0] if matrix.shape == (1, 1) else matrix


def sorted_symbols(symbols) -> list:
    """Symbols in a deterministic order: by printed name, then by quantity (never by hash or set order)."""
    return sorted(symbols, key=lambda s: (str(s), quantity_of(s).key() if quantity_of(s) else ()))
