"""Displayed formulas that never shrink: long ones broken over aligned rows, with named sub-terms.

A formula that fits the line is displayed as it is. A longer one is broken
at its relations (one per row, aligned), then between the terms of a sum
(each continuation row starts with its operator), then between the factors
of a product. A factor too wide for a row is given a name, shown after the
formula ("where T_1 = …") and broken in turn; parenthesised groups that
occur several times in a long formula are named first, so a result built from
the same sums reads as a product of names. A matrix too wide for the line is
shown entry by entry, each under its label. Beyond MAX_ROWS rows, the first
rows and the number of terms are shown, never a smaller font.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from derive.report import mathtree as tree
from derive.report.latex import escape

LINE = 43.0  # em of a row (the text block is about 48 em wide at 10 pt; the estimate errs a little)
MAX_ROWS = 12  # rows of one formula before only its first rows are shown
SHOWN_ROWS = 8
SHARED = 9.0  # em: a repeated group at least this wide is named in a formula that needs names
_NAME_LETTERS = "TSGQKM"
_STICKY = {r"\prod", r"\sum", r"\sigma", r"\tanh", r"\partial", r"\nabla", r"\operatorname", r"\mathrm"}


class _NeedName(Exception):
    """A factor is wider than a row: the caller names one of its groups and lays the formula out again."""

    def __init__(self, pieces):
        super().__init__()
        self.pieces = pieces


@dataclass
class _Item:
    label: str
    text: str
    rows: list = field(default_factory=list)  # (row, terms that begin in it)
    terms: int = 0


def inline(latex: str) -> str:
    """`latex` for inline math at the body size: \\frac{a}{b} written a/b (with brackets where a or b is a sum)."""
    try:
        pieces = tree.parse(latex)
    except tree.Unbalanced:
        return latex
    return "".join(_inline_piece(p) for p in pieces)


def _inline_piece(piece) -> str:
    if isinstance(piece, tree.Group):
        return piece.open + "".join(_inline_piece(c) for c in piece.children) + piece.close
    if not isinstance(piece, tree.Atom):
        return piece.source()
    head = piece.parts[0]
    if isinstance(head, tree.Leaf) and head.text in (r"\frac", r"\dfrac", r"\tfrac"):
        arguments = [p for p in piece.parts[1:] if not tree.is_space(p)][:2]
        if len(arguments) == 2 and all(isinstance(a, tree.Group) for a in arguments):
            sides = []
            for argument in arguments:
                text = "".join(_inline_piece(c) for c in argument.children).strip()
                sum_ = any(tree.is_binary(c) or tree.is_relation(c) for c in argument.children)
                sides.append("(%s)" % text if sum_ else "{%s}" % text)
            last = next(k for k, part in enumerate(piece.parts) if part is arguments[1])  # by identity: equal
            rest = piece.parts[last + 1:]  # arguments (d/d) must not be mistaken for each other
            fraction = "%s/%s" % tuple(sides)
            # A script after the fraction applies to all of it.
            return ("(%s)" % fraction if rest else fraction) + "".join(_inline_piece(p) for p in rest)
    return "".join(_inline_piece(p) for p in piece.parts)


def display(latex: str, labels=(), letter: str = "T") -> str:
    """`latex` as a displayed formula at the body size: one display, or aligned rows with named sub-terms.

    `labels` name the entries of a column (one per entry), used when the matrix is shown entry by entry.
    """
    latex = _matrix_fractions(latex)
    try:
        pieces = tree.parse(latex)
    except tree.Unbalanced:
        return r"\[ %s \]" % latex
    if tree.width(pieces) <= LINE:
        if r"\begin{matrix}" in latex and r"\dfrac" in latex:
            latex = latex.replace("\\\\", "\\\\[4pt]")  # rows of full-size fractions need air between them
        return r"\[ %s \]" % latex
    items = _items(pieces, list(labels))
    return _Layout(items, letter).render()


def display_labelled(pairs, letter: str = "T") -> str:
    """Several formulas, each under its label ((label, latex), ...), sharing the names of their sub-terms."""
    items = [_Item(label, latex) for label, latex in pairs]
    try:
        fits = all(tree.width(tree.parse(item.text)) <= LINE for item in items)
    except tree.Unbalanced:
        fits = True
    if fits:
        return "".join(r"\par\noindent %s:" % escape(item.label) + r"\[ %s \]" % item.text for item in items)
    return _Layout(items, letter).render()


def _matrix_fractions(latex: str) -> str:
    # A matrix sets its entries in text style, where \frac shrinks; \dfrac keeps them at the body size.
    return latex.replace(r"\frac{", r"\dfrac{") if r"\begin{matrix}" in latex else latex


def _items(pieces, labels: list) -> list[_Item]:
    """One item per entry of a matrix too wide for the line, else the formula itself."""
    found = tree.matrix_entries(pieces)
    if found is None:
        return [_Item("", tree.source(pieces))]
    rows, _ = found
    cells = [(i, j, cell) for i, row in enumerate(rows) for j, cell in enumerate(row)]
    column = all(len(row) == 1 for row in rows)
    if column and len(labels) == len(rows):
        return [_Item(label, cell) for label, (_, _, cell) in zip(labels, cells)]
    if column:
        return [_Item(f"entry {i + 1}", cell) for i, _, cell in cells]
    return [_Item(f"entry ({i + 1}, {j + 1})", cell) for i, j, cell in cells]


class _Layout:
    def __init__(self, items: list[_Item], letter: str = "T"):
        self.items = items
        self.definitions: dict[str, str] = {}  # name -> its content (LaTeX), in the order they were made
        self.defined_rows: dict[str, list] = {}
        everything = "".join(item.text for item in items)
        letter = next((c for c in letter + _NAME_LETTERS if r"\mathcal{%s}" % c not in everything), "Z")
        self.prefix = r"\mathcal{%s}_{" % letter

    # -- naming ------------------------------------------------------------------------------
    def _texts(self):
        return [item.text for item in self.items] + list(self.definitions.values())

    def _name(self, old: str, new_text: str, content: str) -> None:
        name = self.prefix + "%d}" % (len(self.definitions) + 1)
        replacement = new_text.replace("\0", name)
        for item in self.items:
            item.text = item.text.replace(old, replacement)
        for key in list(self.definitions):
            self.definitions[key] = self.definitions[key].replace(old, replacement)
        self.definitions[name] = content

    def _name_shared(self) -> None:
        """Name the longest parenthesised group that occurs more than once, until none is left."""
        for _ in range(200):
            counts: dict[str, int] = {}
            for text in self._texts():
                for group, _ in _groups(tree.parse(text)):
                    if group.open in ("(", r"\left(") and tree.width(group.children) >= SHARED:
                        counts[group.source()] = counts.get(group.source(), 0) + 1
            shared = [g for g, n in counts.items() if n > 1]
            if not shared:
                return
            longest = max(shared, key=lambda g: (len(g), g))
            group = tree.parse(longest)[0]
            self._name(longest, "\0", tree.source(group.children).strip())

    def _name_widest(self, pieces) -> bool:
        """Name the widest group of a factor too wide for a row; False when it has none worth naming."""
        candidates = []
        for group, standalone in _groups(pieces):
            if group.open.startswith(r"\begin"):
                continue
            inner = tree.width(group.children)
            if inner > 3.0:
                candidates.append((inner, group, standalone))
        if not candidates:
            return False
        _, group, standalone = max(candidates, key=lambda c: c[0])
        content = tree.source(group.children).strip()
        if standalone and group.open in ("(", r"\left("):
            self._name(group.source(), "\0", content)
        else:
            self._name(group.source(), group.open + "\0" + group.close, content)
        return True

    # -- layout ------------------------------------------------------------------------------
    def render(self) -> str:
        total = sum(tree.width(tree.parse(item.text)) for item in self.items)
        if total > 2.5 * LINE:
            self._name_shared()
        for _ in range(400):
            try:
                for item in self.items:
                    item.rows, item.terms = _rows(tree.parse(item.text))
                self.defined_rows = {name: _rows(tree.parse(content), lhs=name)[0]
                                     for name, content in self.definitions.items()}
                break
            except _NeedName as need:
                if not self._name_widest(need.pieces):
                    return self._unbreakable()
        return self._blocks()

    def _unbreakable(self) -> str:
        # A piece no row can hold and with no group to name (e.g. a long \text{}): shown whole, at body size.
        return "\n".join((r"\par\noindent %s:" % escape(item.label) if item.label else "") +
                         r"\[ %s \]" % item.text for item in self.items)

    def _blocks(self) -> str:
        blocks, shown_rows = [], []
        for item in self.items:
            rows, note = item.rows, ""
            if len(rows) > MAX_ROWS:
                rows = rows[:SHOWN_ROWS] + [(r"&\quad {}+ \cdots", 0)]
                shown = sum(terms for _, terms in rows)
                note = r"\par\noindent\emph{(a sum of %d terms; the first %d are shown)}" % (item.terms, shown)
            label = r"\par\noindent %s:" % escape(item.label) if item.label else ""
            blocks.append(label + note + _align([row for row, _ in rows]))
            shown_rows.append(rows)
        used = self._used(shown_rows)
        if used:
            blocks.append(r"\par\noindent where" + _align([row for name in used for row, _ in self.defined_rows[name]]))
        return self._renumber("\n".join(blocks), used)

    def _used(self, shown_rows) -> list[str]:
        """The names the shown rows use, directly or through other names, in order of first use."""
        order: list[str] = []
        pending = ["".join(row for row, _ in rows) for rows in shown_rows]
        while pending:
            text = pending.pop(0)
            for match in re.finditer(re.escape(self.prefix) + r"\d+\}", text):
                name = match.group(0)
                if name in self.definitions and name not in order:
                    order.append(name)
                    pending.append("".join(row for row, _ in self.defined_rows[name]))
        return order

    def _renumber(self, text: str, used: list[str]) -> str:
        number = {name: index for index, name in enumerate(used, 1)}
        pattern = re.compile(re.escape(self.prefix) + r"(\d+)\}")
        return pattern.sub(lambda m: self.prefix + "%d}" % number.get(m.group(0), 0), text)


def _align(rows: list[str]) -> str:
    return "\n" + r"\begin{align*}" + "\n" + " \\\\\n".join(rows) + "\n" + r"\end{align*}"


def _groups(pieces, standalone: bool = True):
    """Every group in `pieces`, depth first, with whether it stands alone (not a function's argument)."""
    previous = None
    for piece in pieces:
        if isinstance(piece, tree.Group):
            alone = standalone and not _is_function(previous)
            yield piece, alone
            yield from _groups(piece.children, True)
        elif isinstance(piece, tree.Atom):
            yield from _groups(piece.parts, False)
        if not tree.is_space(piece):
            previous = piece


def _is_function(piece) -> bool:
    if piece is None:
        return False
    head = piece.parts[0] if isinstance(piece, tree.Atom) else piece
    return isinstance(head, tree.Leaf) and head.text.startswith("\\") and head.text in (
        r"\sigma", r"\tanh", r"\operatorname", r"\mathrm", r"\phi", r"\exp", r"\log", r"\max", r"\min", r"\diag")


# -- rows --------------------------------------------------------------------------------------
def _split(pieces, is_separator) -> list[tuple[str, list]]:
    """(separator, pieces) pairs: the pieces between separators, each with the separator before it."""
    parts: list[tuple[str, list]] = [("", [])]
    for piece in pieces:
        if is_separator(piece, parts[-1][1]):
            parts.append((piece.source(), []))
        else:
            parts[-1][1].append(piece)
    return [(sep, _strip(body)) for sep, body in parts if sep or _strip(body)]


def _strip(pieces) -> list:
    start, end = 0, len(pieces)
    while start < end and tree.is_space(pieces[start]):
        start += 1
    while end > start and tree.is_space(pieces[end - 1]):
        end -= 1
    return pieces[start:end]


def _is_relation(piece, before) -> bool:
    return tree.is_relation(piece)


def _is_term_sign(piece, before) -> bool:
    # A sign after an operand separates two terms; one at the start (or after an operator) is part of a term.
    return (tree.is_binary(piece) and piece.text in ("+", "-", r"\pm", r"\mp", r"\oplus")
            and any(not tree.is_space(p) for p in before))


def _rows(pieces, lhs: str = "") -> tuple[list[tuple[str, int]], int]:
    """Rows of an `align*` for one formula, each with the number of terms that begin in it; the number of terms.

    Raises _NeedName when a factor is wider than a row.
    """
    segments = _split(pieces, _is_relation)
    if lhs:
        segments = [("", tree.parse(lhs)), ("=", pieces)]
    head = tree.source(segments[0][1]) if len(segments) > 1 else ""
    head_width = tree.width(segments[0][1]) if head else 0
    if head and head_width > LINE / 3:
        # A long left side gets rows of its own; the relations then start rows of their own.
        rows = [("&" + text, n) for text, n in _side(segments[0][1], LINE)]
        first, budget = "&\\quad", LINE - 1.0
    else:
        rows, first, budget = [], (head + " &") if head else "&", LINE - head_width
    body = segments[1:] if head else segments
    terms = 0
    for k, (relation, side) in enumerate(body):
        relation_width = tree.width(tree.parse(relation)) if relation else 0
        for index, (text, n) in enumerate(_side(side, budget - relation_width)):
            start = (first if not rows else "&\\quad" if head_width > LINE / 3 else "&") if index == 0 else "&\\quad"
            prefix = (relation + " ") if index == 0 and relation else ""
            rows.append((start + prefix + text, n))
            terms += n
    return rows, terms


def _side(pieces, budget: float) -> list[tuple[str, int]]:
    """One side of a relation broken into rows: terms packed into rows, long terms broken between factors."""
    rows: list[list] = [["", 0.0, 0]]  # text, width, terms begun in it
    indent = 1.0  # \quad before continuation rows
    for sign, term in _split(pieces, _is_term_sign):
        sign_text = ("{}" + sign + " ") if sign else ""
        term_width = tree.width(term) + (1.25 if sign else 0)
        row = rows[-1]
        if row[1] + term_width <= (budget if len(rows) == 1 else budget - indent):
            row[0] += (" " + sign + " " if sign else "") + tree.source(term) if row[0] else \
                sign_text + tree.source(term)
            row[1] += term_width
            row[2] += 1
            continue
        if row[0] and term_width <= budget - indent:
            rows.append([sign_text + tree.source(term), term_width, 1])
            continue
        _factors(term, sign_text, rows, budget - indent)
    return [(text, n) for text, _, n in rows if text]


def _factors(term, sign_text: str, rows: list, budget: float) -> None:
    """A term too wide for a row, broken between its factors (at \\cdot-like operators, commas or spaces)."""
    factors: list[list] = [[sign_text, []]]
    for piece in term:
        if tree.is_binary(piece) and piece.text not in ("+", "-") or (tree.is_space(piece) and factors[-1][1]
                                                                       and not _sticky(factors[-1][1])):
            factors.append(["{}" + piece.source() + " " if not tree.is_space(piece) else "", []])
        elif isinstance(piece, tree.Leaf) and piece.text in (",", r"\quad", r"\qquad", r"\ "):
            factors[-1][1].append(piece)
            factors.append(["", []])
        else:
            factors[-1][1].append(piece)
    started = False
    for operator, factor in factors:
        factor = _strip(factor)
        if not factor and not operator:
            continue
        width = tree.width(factor) + (0.8 if operator.strip() else 0)
        row = rows[-1]
        limit = budget if len(rows) > 1 else budget + 1.0
        if row[1] + width <= limit:
            row[0] += (" " if row[0] and not row[0].endswith(" ") else "") + operator + tree.source(factor)
            row[1] += width
        elif width <= budget - 1.0:
            rows.append([r"\quad " + operator + tree.source(factor), width + 1.0, 0])
        else:
            raise _NeedName(factor)
        if not started:
            rows[-1][2] += 1
            started = True


def _sticky(pieces) -> bool:
    """A factor that must not end a row: a big operator or a function name waiting for its argument."""
    last = [p for p in pieces if not tree.is_space(p)][-1]
    head = last.parts[0] if isinstance(last, tree.Atom) else last
    return isinstance(head, tree.Leaf) and head.text in _STICKY
