"""LaTeX math as a tree of balanced pieces, and how wide TeX will set each piece (in em of the body font).

The report breaks long formulas itself rather than shrinking them, so it
needs two things from a formula's LaTeX: where it may be broken (only
between balanced pieces: a group `{…}`, `\\left(…\\right)`, `(…)`, an
environment, a command with its arguments, a symbol with its scripts) and
about how wide each piece is. The widths are Computer Modern's glyph widths
rounded up a little, so an estimate errs on the wide side; the report's tests
compile the result and read TeX's own overfull-box warnings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


class Unbalanced(ValueError):
    """The LaTeX is not a balanced formula (a group opened and not closed, or closed twice)."""


@dataclass
class Leaf:
    """One token: a character, an operator, a command without arguments, a run of spaces."""

    text: str

    def source(self) -> str:
        return self.text


@dataclass
class Group:
    """A balanced group: its opening and closing text and what is between them."""

    open: str
    children: list
    close: str

    def source(self) -> str:
        return self.open + "".join(c.source() for c in self.children) + self.close


@dataclass
class Atom:
    """Pieces that cannot be separated: a command and its arguments, a base and its scripts."""

    parts: list = field(default_factory=list)

    def source(self) -> str:
        return "".join(p.source() for p in self.parts)


_TOKEN = re.compile(r"\\begin\{[A-Za-z*]+\}|\\end\{[A-Za-z*]+\}|\\[A-Za-z]+|\\.|\s+|.", re.DOTALL)
_DELIMITER = re.compile(r"\s*(\\[A-Za-z]+|\\.|.)", re.DOTALL)
_CLOSING = {"{": "}", "(": ")", "[": "]"}
# Commands that take brace arguments: how many (the arguments belong to the command).
ARGUMENTS = {"frac": 2, "dfrac": 2, "tfrac": 2, "binom": 2, "sqrt": 1, "text": 1, "textrm": 1, "textit": 1,
             "mathrm": 1, "mathit": 1, "mathbf": 1, "mathcal": 1, "mathbb": 1, "boldsymbol": 1,
             "operatorname": 1, "tilde": 1, "hat": 1, "bar": 1, "dot": 1, "vec": 1, "overline": 1,
             "underline": 1, "boxed": 1, "fix": 1, "textcolor": 2, "color": 1, "widetilde": 1, "widehat": 1,
             "ensuremath": 1, "mathsf": 1, "texttt": 1}


def tokens(latex: str) -> list[str]:
    return _TOKEN.findall(latex)


def parse(latex: str) -> list:
    """The top-level pieces of `latex`; raises Unbalanced when it is not a balanced formula."""
    pieces, position = _sequence(tokens(latex), 0, None)
    if position != len(tokens(latex)):
        raise Unbalanced(f"unexpected {tokens(latex)[position]!r}")
    return pieces


def _sequence(toks: list, i: int, closer: str | None) -> tuple[list, int]:
    raw = []
    while i < len(toks):
        tok = toks[i]
        if tok == closer or (closer == r"\right" and tok == r"\right") or (closer == r"\end" and
                                                                             tok.startswith(r"\end{")):
            return _atoms(raw), i
        if tok in ("}", ")", "]") or tok == r"\right" or tok.startswith(r"\end{"):
            raise Unbalanced(f"{tok!r} closes nothing")
        if tok in _CLOSING:
            children, j = _sequence(toks, i + 1, _CLOSING[tok])
            if j >= len(toks):
                raise Unbalanced(f"{tok!r} is never closed")
            raw.append(Group(tok, children, toks[j]))
            i = j + 1
        elif tok == r"\left":
            opening, i = _delimiter(toks, i + 1)
            children, j = _sequence(toks, i, r"\right")
            if j >= len(toks):
                raise Unbalanced(r"\left is never closed")
            closing, i = _delimiter(toks, j + 1)
            raw.append(Group(r"\left" + opening, children, r"\right" + closing))
        elif tok.startswith(r"\begin{"):
            children, j = _sequence(toks, i + 1, r"\end")
            if j >= len(toks) or toks[j][4:] != tok[6:]:
                raise Unbalanced(f"{tok} is never ended")
            raw.append(Group(tok, children, toks[j]))
            i = j + 1
        else:
            raw.append(Leaf(tok))
            i += 1
    if closer is not None:
        raise Unbalanced(f"{closer!r} is missing")
    return _atoms(raw), i


def _delimiter(toks: list, i: int) -> tuple[str, int]:
    spaces = ""
    while i < len(toks) and toks[i].isspace():
        spaces += toks[i]
        i += 1
    if i >= len(toks):
        raise Unbalanced("a \\left or \\right without its delimiter")
    return spaces + toks[i], i + 1


def _is_space(piece) -> bool:
    return isinstance(piece, Leaf) and piece.text.isspace()


def _atoms(raw: list) -> list:
    """Bind each command to its brace arguments, and each base to its scripts and primes."""
    out: list = []
    i = 0
    while i < len(raw):
        piece = raw[i]
        i += 1
        if isinstance(piece, Leaf) and piece.text.startswith("\\") and piece.text[1:] in ARGUMENTS:
            parts = [piece]
            for _ in range(ARGUMENTS[piece.text[1:]]):
                j = i
                while j < len(raw) and _is_space(raw[j]):
                    j += 1
                if j < len(raw) and (isinstance(raw[j], Group) and raw[j].open == "{" or
                                     isinstance(raw[j], Leaf) and not raw[j].text.isspace()):
                    parts.extend(raw[i:j + 1])
                    i = j + 1
            piece = Atom(parts) if len(parts) > 1 else piece
        while i < len(raw) and isinstance(raw[i], Leaf) and raw[i].text in ("_", "^", "'"):
            if _is_space(piece) or (isinstance(piece, Leaf) and piece.text in ("_", "^")):
                break
            parts = piece.parts if isinstance(piece, Atom) else [piece]
            if raw[i].text == "'":
                parts = parts + [raw[i]]
                i += 1
            elif i + 1 < len(raw):
                parts = parts + [raw[i], raw[i + 1]]
                i += 2
            else:
                break
            piece = Atom(parts)
        out.append(piece)
    return out


def source(pieces) -> str:
    return "".join(p.source() for p in pieces)


# -- widths ----------------------------------------------------------------------------------
# Computer Modern math italic widths in em, a little rounded up.
_LOWER = dict(zip("abcdefghijklmnopqrstuvwxyz",
                  [.54, .44, .44, .53, .48, .50, .49, .59, .36, .42, .53, .31, .89, .61, .50, .51, .46, .46, .48,
                   .37, .58, .50, .73, .58, .50, .48]))
_UPPER = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                  [.76, .77, .72, .84, .75, .65, .79, .84, .45, .57, .86, .69, .98, .81, .77, .65, .79, .77, .62,
                   .59, .69, .59, .95, .84, .59, .69]))
_BINARY = {"+", "-", r"\pm", r"\mp", r"\oplus", r"\odot", r"\otimes", r"\times", r"\circ", r"\cdot", r"\ast"}
_RELATION = {"=", "<", ">", r"\le", r"\leq", r"\ge", r"\geq", r"\ne", r"\neq", r"\approx", r"\equiv", r"\sim",
             r"\Rightarrow", r"\to", r"\in", r"\leqslant", r"\geqslant", r"\mapsto", r"\lesssim", r"\gtrsim"}
_COMMAND_WIDTH = {r"\,": .17, r"\:": .22, r"\;": .28, r"\!": -.17, r"\ ": .33, r"\quad": 1.0, r"\qquad": 2.0,
                  r"\partial": .56, r"\infty": 1.0, r"\dots": 1.2, r"\ldots": 1.2, r"\cdots": 1.2, r"\prime": .28,
                  r"\left": 0, r"\right": 0, r"\\": 0, r"\top": .78, r"\imath": .35, r"\ell": .42,
                  r"\{": .5, r"\}": .5, r"\|": .5, r"\lvert": .28, r"\rvert": .28, r"\vert": .28, r"\surd": .83}
_ROMAN_LETTER = .52  # upright letters (function names, \mathrm, \text)
SCRIPT = 0.72  # the size of a script relative to the text it is attached to


def width(pieces, scale: float = 1.0) -> float:
    """Estimated width of a sequence of pieces in em of the body font (at `scale` of its size)."""
    total = 0.0
    previous_is_operand = False
    for piece in pieces:
        if _is_space(piece):
            continue
        text = piece.text if isinstance(piece, Leaf) else None
        if text in _BINARY:
            # A sign in front of a term has no spaces around it; a binary operator has TeX's medium spaces.
            glyph = .28 if text in (r"\cdot", r"\circ") else .78
            total += scale * (glyph + (.45 if previous_is_operand and scale == 1.0 else 0))
            previous_is_operand = False
            continue
        if text in _RELATION:
            total += scale * (.78 + (.56 if scale == 1.0 else 0)) + (.3 if text == r"\Rightarrow" else 0)
            previous_is_operand = False
            continue
        total += _piece_width(piece, scale)
        previous_is_operand = text not in (",", "(", "[") if text is not None else True
    return total


def _piece_width(piece, scale: float) -> float:
    if isinstance(piece, Leaf):
        return scale * _leaf_width(piece.text)
    if isinstance(piece, Group):
        inner = width(piece.children, scale)
        if piece.open.startswith(r"\begin"):
            return inner if piece.open.endswith("{cases}") else _environment_width(piece, scale)
        delimiters = 0 if piece.open == "{" else (.55 if piece.open.startswith(r"\left") else .39) * 2
        if piece.open.endswith(".") or piece.close.endswith("."):
            delimiters /= 2
        return inner + scale * delimiters
    return _atom_width(piece, scale)


def _leaf_width(text: str) -> float:
    if text in _LOWER:
        return _LOWER[text]
    if text in _UPPER:
        return _UPPER[text]
    if text.isdigit() or text in "()[]|/.!?":
        return .5
    if text == ",":
        return .45  # a comma and the thin space TeX puts after it in a list
    if text in ("'",):
        return .3
    if text in _COMMAND_WIDTH:
        return _COMMAND_WIDTH[text]
    if text.startswith("\\") and text[1:].isalpha():
        name = text[1:]
        if name in ("sigma", "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "eta", "theta", "kappa",
                    "lambda", "mu", "nu", "xi", "pi", "rho", "tau", "phi", "varphi", "chi", "psi", "omega", "zeta"):
            return .62
        if name in ("Gamma", "Delta", "Lambda", "Phi", "Psi", "Omega", "Sigma", "Pi", "Theta", "Xi"):
            return .78
        if name in ("prod", "sum", "int", "coprod"):
            return 1.45
        if name in ("sin", "cos", "tan", "tanh", "sinh", "cosh", "exp", "log", "ln", "max", "min", "sup", "inf",
                    "arctan", "lim", "det", "diag", "erf"):
            return _ROMAN_LETTER * len(name) + .17
        return 1.0  # an unknown command: about one wide glyph
    return .6


def _atom_width(atom: Atom, scale: float) -> float:
    parts = [p for p in atom.parts if not _is_space(p)]
    head = parts[0]
    if isinstance(head, Leaf) and head.text.startswith("\\") and head.text[1:] in ARGUMENTS:
        name = head.text[1:]
        arguments = [p for p in parts[1:1 + ARGUMENTS[name]]]
        rest = parts[1 + ARGUMENTS[name]:]
        if name in ("frac", "dfrac", "tfrac", "binom"):
            # Display style: numerator and denominator in text style, the same size as the body.
            inner_scale = scale if scale == 1.0 and name != "tfrac" else scale * SCRIPT
            base = max(_argument_width(a, inner_scale) for a in arguments) + scale * .25
        elif name in ("text", "textrm", "textit", "mathrm", "operatorname", "texttt", "mathsf"):
            base = scale * _ROMAN_LETTER * len(source([arguments[0]]).strip("{}")) + \
                (scale * .17 if name == "operatorname" else 0)
        elif name == "sqrt":
            base = _argument_width(arguments[0], scale) + scale * .85
        elif name in ("textcolor", "color"):
            base = _argument_width(arguments[-1], scale) if name == "textcolor" else 0
        elif name in ("fix", "boxed"):
            base = _argument_width(arguments[0], scale) + scale * .45
        else:
            base = _argument_width(arguments[0], scale) if arguments else scale
        return base + _scripts_width(rest, scale)
    base = _piece_width(head, scale) if not (isinstance(head, Leaf) and head.text in ("_", "^")) else 0
    if isinstance(head, Leaf) and head.text in (r"\prod", r"\sum") and scale == 1.0:
        # Display style: the limits go below and above the operator.
        limits = [_argument_width(p, scale * SCRIPT) for k, p in enumerate(parts[1:], 1)
                  if isinstance(parts[k - 1], Leaf) and parts[k - 1].text in ("_", "^")]
        return max([base] + limits) + .17
    return base + _scripts_width(parts[1:], scale)


def _argument_width(argument, scale: float) -> float:
    if isinstance(argument, Group) and argument.open == "{":
        return width(argument.children, scale)
    return _piece_width(argument, scale)


def _scripts_width(parts: list, scale: float) -> float:
    """Scripts set one above the other take the wider one's width; primes add a little."""
    sub = sup = primes = 0.0
    k = 0
    while k < len(parts):
        part = parts[k]
        text = part.text if isinstance(part, Leaf) else None
        if text == "'":
            primes += scale * .3
            k += 1
        elif text in ("_", "^") and k + 1 < len(parts):
            measured = _argument_width(parts[k + 1], scale * SCRIPT if scale > .6 else scale)
            sub, sup = (max(sub, measured), sup) if text == "_" else (sub, max(sup, measured))
            k += 2
        else:
            k += 1
    return max(sub, sup + primes) + (scale * .06 if sub or sup else 0)


def _environment_width(group: Group, scale: float) -> float:
    """A matrix or array: the widest entry of each column, with a column gap."""
    rows: list[list[list]] = [[[]]]
    for child in group.children:
        if isinstance(child, Leaf) and child.text == r"\\":
            rows.append([[]])
        elif isinstance(child, Leaf) and child.text == "&":
            rows[-1].append([])
        else:
            rows[-1][-1].append(child)
    columns = max(len(r) for r in rows)
    widest = [max((width(r[c], scale) for r in rows if c < len(r)), default=0) for c in range(columns)]
    return sum(widest) + scale * 1.0 * (columns - 1) + scale * .4


def matrix_entries(pieces) -> tuple[list[list[str]], str] | None:
    """The entries (rows of LaTeX strings) when `pieces` is one bracketed matrix, else None."""
    pieces = [p for p in pieces if not _is_space(p)]
    if len(pieces) != 1 or not isinstance(pieces[0], Group) or not pieces[0].open.startswith(r"\left"):
        return None
    inner = [p for p in pieces[0].children if not _is_space(p)]
    if len(inner) != 1 or not isinstance(inner[0], Group) or not inner[0].open.startswith(r"\begin{"):
        return None
    rows: list[list[str]] = [[""]]
    for child in inner[0].children:
        if isinstance(child, Leaf) and child.text == r"\\":
            rows.append([""])
        elif isinstance(child, Leaf) and child.text == "&":
            rows[-1].append("")
        else:
            rows[-1][-1] += child.source()
    return [[cell.strip() for cell in row] for row in rows if any(c.strip() for c in row)], pieces[0].open


def is_binary(piece) -> bool:
    return isinstance(piece, Leaf) and piece.text in _BINARY


def is_relation(piece) -> bool:
    return isinstance(piece, Leaf) and piece.text in _RELATION


def is_space(piece) -> bool:
    return _is_space(piece)
