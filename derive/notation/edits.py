"""Small edits of a formula as its author wrote it: the candidate corrections the diagnosis re-verifies.

Each `Edit` replaces spans of the formula's text, found from its parse tree:
a function or its derivative swapped (σ, σ', tanh, tanh', or none), a time
index shifted by one, one quantity put for another (once, or everywhere in
the formula), a relation made strict or not, 0 and 1 exchanged, a transpose
added or dropped, two factors of a product swapped, a factor dropped, a
product's range moved, terms added. Edits are generated in that order,
simplest first, and always as text, so a correction is the author's own
formula with the edit applied; whether it parses and what it means is left
to the same reader that reads every claim.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import lark

from derive.notation.parser import Formula, text_of
from derive.notation.symbols import SymbolTable
from derive.notation.values import base_key

SWAPPABLE = ("sigma", "tanh")  # the activations an article mixes up
_FUNCTION_TEXT = {"sigma": r"\sigma", "tanh": r"\tanh"}
_RELATIONS = {"<": r"\le", r"\lt": r"\le", r"\le": "<", r"\leq": "<", r"\leqslant": "<",
              ">": r"\ge", r"\gt": r"\ge", r"\ge": ">", r"\geq": ">", r"\geqslant": ">"}
_INDEX = re.compile(r"^([A-Za-z]'*)([+-]\d+)?$|^(\d+)$")


@dataclass(frozen=True)
class Edit:
    """Replace each (start, end) span of the text by its new text; `kind` and `words` say what it does."""

    kind: str
    spans: tuple  # ((start, end, new text), ...), non-overlapping
    words: str

    def apply(self, text: str) -> tuple[str, tuple]:
        """The edited text and the (start, end) of each new piece in it."""
        pieces, changed, position, shift = [], [], 0, 0
        for start, end, new in sorted(self.spans):
            pieces.append(text[position:start] + new)
            changed.append((start + shift, start + shift + len(new)))
            shift += len(new) - (end - start)
            position = end
        return "".join(pieces) + text[position:], tuple(changed)


def _span(node) -> tuple[int, int]:
    if isinstance(node, lark.Token):
        return node.start_pos, node.end_pos
    return node.meta.start_pos, node.meta.end_pos


def _text(formula: Formula, node) -> str:
    start, end = _span(node)
    return formula.text[start:end]


def _postfixes(tree):
    return [node for node in tree.iter_subtrees_topdown() if node.data == "postfix"]


def _shifted(index: str) -> list[str]:
    """t -> t-1, t+1; t-1 -> t-2, t; 3 -> 2, 4."""
    match = _INDEX.match(index.replace(" ", ""))
    if match is None:
        return []
    if match.group(3) is not None:
        value = int(match.group(3))
        return [str(v) for v in (value - 1, value + 1) if v >= 0]
    name, offset = match.group(1), int(match.group(2) or 0)
    return [name if k == 0 else f"{name}{k:+d}" for k in (offset - 1, offset + 1)]


def _head(node):
    """(primary, the scripts before the call) of a postfix node."""
    primary = node.children[0]
    scripts = [c for c in node.children[1:] if isinstance(c, lark.Tree) and c.data in ("sub", "sup", "prime")]
    return primary, scripts


def function_edits(formula: Formula, table: SymbolTable) -> list[Edit]:
    edits = []
    for node in _postfixes(formula.tree):
        primary, scripts = _head(node)
        applied = next((c for c in node.children if isinstance(c, lark.Tree) and c.data == "applied"), None)
        if applied is None:
            continue
        if primary.data == "function":
            key = str(primary.children[0])
        elif primary.data in ("name", "style"):
            key = base_key(primary)
        else:
            continue
        entry = table.lookup(key)
        if entry is None or entry.kind != "function" or entry.name == "diag":
            continue
        order = sum(1 for s in scripts if s.data == "prime")
        head_end = _span(scripts[-1])[1] if scripts else _span(primary)[1]
        start = _span(primary)[0]
        old = formula.text[start:head_end]
        for name in SWAPPABLE:
            for new_order in (0, 1):
                if (name, new_order) == (entry.name, order):
                    continue
                new = _FUNCTION_TEXT[name] + "'" * new_order
                edits.append(Edit("function", ((start, head_end, new),), f"${old}(\\dots)$ should be ${new}(\\dots)$"))
        inner = _text(formula, applied.children[0])
        edits.append(Edit("function", ((start, _span(applied)[1], inner),), f"${old}(\\dots)$ should be left out"))
    return edits


def time_edits(formula: Formula, table: SymbolTable) -> list[Edit]:
    edits = []
    for node in _postfixes(formula.tree):
        primary, scripts = _head(node)
        if primary.data not in ("name", "style", "decorated"):
            continue
        for script in scripts:
            if script.data not in ("sub", "sup"):
                continue
            argument = script.children[0]
            items = [c for c in argument.children if isinstance(c, lark.Tree)] or list(argument.children)
            if not items or (script.data == "sup" and any(s.data == "sub" for s in scripts)):
                continue
            last = items[-1]
            old_index = text_of(last) if isinstance(last, lark.Tree) else str(last)
            start, end = _span(last)
            symbol = formula.text[_span(primary)[0]:_span(scripts[-1])[1]]
            head_start, head_end = _span(primary)[0], _span(scripts[-1])[1]
            symbol = formula.text[head_start:head_end]
            for new in _shifted(old_index):
                if len(items) == 1:
                    s_start, s_end = _span(argument)
                    replacement = (s_start, s_end, "{" + new + "}")
                else:
                    replacement = (start, end, new)
                grown = len(replacement[2]) - (replacement[1] - replacement[0])
                edited, _ = Edit("time", (replacement,), "").apply(formula.text)
                edits.append(Edit("time", (replacement,), f"${symbol}$ should be ${edited[head_start:head_end + grown]}$"))
    return edits


def _spelled(key: str, time_text: str | None) -> str:
    if key.startswith("\\") or "_" not in key:
        base, label = key, ""
    else:
        base, label = key.split("_", 1)
    parts = [p for p in (label, time_text) if p]
    return base + ("_{" + ",".join(parts) + "}" if parts else "")


def quantity_edits(formula: Formula, table: SymbolTable) -> list[Edit]:
    """One quantity for another: at one place, and everywhere the same symbol is written."""
    occurrences: dict = {}
    for node in _postfixes(formula.tree):
        primary, scripts = _head(node)
        if primary.data not in ("name", "style", "decorated"):
            continue
        sub = next((s for s in scripts if s.data == "sub"), None)
        label = None
        if sub is not None:
            items = [c for c in sub.children[0].children if isinstance(c, lark.Tree)]
            label = text_of(items[0]) if len(items) == 2 else text_of(sub.children[0])
        entry, used = table.resolve(base_key(primary), label)
        if entry is None or entry.kind in ("function", "variable"):
            continue
        time_text = None
        sup = next((s for s in scripts if s.data == "sup"), None)
        if entry.kind == "quantity" and entry.timed and sub is not None:
            items = [c for c in sub.children[0].children if isinstance(c, lark.Tree)]
            time_text = text_of(items[-1]) if items else text_of(sub.children[0])
        elif entry.kind == "quantity" and entry.timed and sup is not None:  # Greff's c^t: the superscript is the time
            time_text = text_of(sup.children[0])
        end = _span(scripts[-1])[1] if scripts else _span(primary)[1]
        span = (_span(primary)[0], end)
        occurrences.setdefault(formula.text[span[0]:span[1]], []).append((span, entry, time_text))
    keys = [k for k, e in table.entries.items() if e.kind in ("quantity", "parameter", "split")]
    # The times the formula writes, most frequent first: a quantity put for a weight takes one of them.
    times = [t for t, _ in Counter(t for places in occurrences.values() for _, _, t in places if t).most_common(3)]
    times = times or ["t"]
    everywhere, once = [], []  # an author who misnames a weight misnames it everywhere: those edits first
    for old, places in occurrences.items():
        _, entry, time_text = places[0]
        for key in keys:
            candidate = table.entries[key]
            if candidate.name == entry.name:
                continue
            timed = candidate.kind == "quantity" and candidate.timed
            for new in ([_spelled(key, time_text)] if timed and time_text else
                        [_spelled(key, t) for t in times] if timed else [_spelled(key, None)]):
                if len(places) > 1:
                    everywhere.append(Edit("quantity", tuple((s, e, new) for (s, e), _, _ in places),
                                           f"${old}$ should be ${new}$ (everywhere)"))
                once += [Edit("quantity", ((start, end, new),), f"${old}$ should be ${new}$")
                         for (start, end), _, _ in places]
    return everywhere + once


def relation_edits(formula: Formula) -> list[Edit]:
    edits = []
    for token in formula.tree.children:
        if isinstance(token, lark.Token) and str(token) in _RELATIONS:
            new = _RELATIONS[str(token)]
            edits.append(Edit("relation", ((token.start_pos, token.end_pos, new),), f"${token}$ should be ${new}$"))
    return edits


def number_edits(formula: Formula) -> list[Edit]:
    edits = []
    for node in formula.tree.iter_subtrees():
        if node.data == "number" and str(node.children[0]) in ("0", "1"):
            token = node.children[0]
            new = "1" if str(token) == "0" else "0"
            edits.append(Edit("number", ((token.start_pos, token.end_pos, new),), f"${token}$ should be ${new}$"))
    return edits


def product_edits(formula: Formula, matrices: bool) -> list[Edit]:
    """Transposes and swapped factors (where matrices make them matter), dropped factors, moved ranges."""
    edits = []
    for node in formula.tree.iter_subtrees():
        if node.data == "product":
            factors = [c for c in node.children if isinstance(c, lark.Tree)]
            for k, factor in enumerate(factors):
                start, end = _span(factor)
                if len(factors) > 1:
                    cut = (_span(factors[k - 1])[1], end) if k > 0 else (start, _span(factors[1])[0])
                    edits.append(Edit("drop", ((cut[0], cut[1], ""),), f"the factor ${_text(formula, factor)}$ "
                                                                          f"should not be there"))
                if matrices and k + 1 < len(factors):
                    other = factors[k + 1]
                    edits.append(Edit("swap", ((start, end, _text(formula, other)),
                                               (*_span(other), _text(formula, factor))),
                                      f"${_text(formula, factor)}$ and ${_text(formula, other)}$ should be swapped"))
        if node.data == "bigop":
            lower, upper = node.children[2], node.children[3]
            for part, what in ((lower, "lower"), (upper, "upper")):
                old = _text(formula, part)
                for new in _shifted(old.strip("{}")):
                    new_text = "{" + new + "}" if old.startswith("{") or what == "lower" else new
                    edits.append(Edit("range", ((*_span(part), new_text),), f"the product's {what} end ${old}$ "
                                                                            f"should be ${new}$"))
        if matrices and node.data == "postfix":
            primary, scripts = _head(node)
            if primary.data != "name":
                continue
            end = _span(scripts[-1])[1] if scripts else _span(primary)[1]
            symbol = formula.text[_span(primary)[0]:end]
            transposes = [s for s in scripts if s.data == "sup" and _text(formula, s.children[0]).strip("{}") in
                          ("T", r"\top")]
            if transposes:
                edits.append(Edit("transpose", ((*_span(transposes[0]), ""),), f"${symbol}$ should not be transposed"))
            elif not any(s.data == "sup" for s in scripts):
                edits.append(Edit("transpose", ((end, end, "^T"),), f"${symbol}$ should be transposed"))
    return edits


def edits(formula: Formula, table: SymbolTable, matrices: bool = False) -> list[Edit]:
    """Every single edit of `formula`, simplest kinds first (functions, times, relations, numbers, quantities...)."""
    return (function_edits(formula, table) + time_edits(formula, table) + relation_edits(formula)
            + number_edits(formula) + quantity_edits(formula, table) + product_edits(formula, matrices))
