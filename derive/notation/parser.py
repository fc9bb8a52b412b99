"""The parser of the articles' LaTeX notation: text -> checked lark tree, with clean errors and hard limits.

The grammar is derive/notation/grammar.lark (LALR(1), so parsing is linear
in the length of the formula and cannot blow up). Before lark sees a formula,
its size, characters and commands are checked, so that an unknown command
gets a message naming it and the nearest known ones rather than "unexpected
character", and its bars |x|, \\|A\\| are paired (derive.notation.delimiters); after parsing,
the scripts are checked as LaTeX would (no a^b^c) and the nesting depth is
bounded, so that evaluating the tree never needs deep recursion. Nothing here
evaluates anything: the tree is interpreted by derive.notation.reader.
"""
from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import lark

from derive import rules
from derive.errors import FormulaSyntaxError, InputTooLargeError
from derive.notation.delimiters import pair_bars

LONGEST_FORMULA = 4000  # characters
DEEPEST_NESTING = 200  # levels of the parse tree (about 30 nested brackets; the seed claims need 35)

GRAMMAR = Path(__file__).with_name("grammar.lark")

# Every command the grammar knows (one-character ones like \, are spacing), and the functions of derive.rules.
COMMANDS = frozenset("""
    frac dfrac tfrac partial cdot times odot otimes circ ast oplus prod sum max min sup inf delta
    dots cdots ldots tilde bar hat dot ddot mathrm mathit mathbf boldsymbol operatorname text mathbb imath top
    prime infty left right lvert rvert vert Vert lVert rVert le leq leqslant ge geq geqslant lt gt quad qquad
    big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr alpha beta gamma epsilon varepsilon eta theta
    kappa lambda mu nu xi pi rho tau phi varphi chi psi omega Gamma Lambda Phi Psi Omega Delta ell
""".split()) | {command for rule in rules.FUNCTIONS.values() for command in rule.commands}
_UNSUGGESTED = {"left", "right", "quad", "qquad", "imath", "ell", "big", "Big", "bigg", "Bigg", "bigl", "bigr",
                "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr", "text"}

_PROSE = "\\text{...} holds one word of the notation (\\text{diag}); prose is not notation: a claims file formula " \
         "is checked, so it must be all mathematics"
_HINTS = {
    "approx": "\\approx cannot be decided; state an equation or a bound",
    "Rightarrow": "a condition (\\Rightarrow) is not part of the notation; state the claim that follows from it",
    "leftarrow": "arrows are not equations; state the equation the arrow stands for",
    "rightarrow": "arrows are not equations; state the equation the arrow stands for",
    "vec": "write the vector's name (\\vec is not part of the notation)",
    "log": "\\log is not part of the notation: its argument could be negative, and a claim must stay real",
    "ln": "\\ln is not part of the notation: its argument could be negative, and a claim must stay real",
}
_UNICODE = {"σ": r"\sigma", "∂": r"\partial", "⊙": r"\odot", "⊗": r"\otimes", "⊕": r"\oplus", "·": r"\cdot",
            "≤": r"\le", "≥": r"\ge", "δ": r"\delta", "−": "-", "′": "'", "∏": r"\prod", "∑": r"\sum",
            "×": r"\times", "…": r"\dots", "τ": r"\tau"}


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text exactly as written, what it is (e.g. "latex", "define A_t") and its tree."""

    text: str
    label: str
    tree: lark.Tree


@functools.cache
def _lark() -> lark.Lark:
    # Shift/reduce conflicts are resolved by shifting (lark's LALR default): scripts and a following
    # (…) attach to the nearest name, as in \delta c^t and f(z_3).
    commands = "|".join(sorted({c for rule in rules.FUNCTIONS.values() for c in rule.commands}, key=len, reverse=True))
    grammar = GRAMMAR.read_text(encoding="utf-8").replace("@FUNCTION_COMMANDS@", commands)
    return lark.Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


def locate(text: str, position: int) -> tuple[int, int]:
    """(line, column), both from 1, of character `position` of `text`."""
    position = max(0, min(position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return line, column


def caret(text: str, position: int, width: int = 96) -> str:
    """The line of `text` holding `position`, indented, with a caret under that character."""
    line_number, column = locate(text, position)
    line = text.split("\n")[line_number - 1]
    start = max(0, min(column - 1 - width // 2, len(line) - width))
    shown = line[start:start + width]
    prefix = "..." if start > 0 else ""
    suffix = "..." if start + width < len(line) else ""
    return f"    {prefix}{shown}{suffix}\n    {' ' * (len(prefix) + column - 1 - start)}^"


def _fail(message: str, text: str, label: str, position: int, error=FormulaSyntaxError):
    raise error(message, position, Formula(text, label, lark.Tree("start", [])))


def _precheck(text: str, label: str) -> None:
    if len(text) > LONGEST_FORMULA:
        raise InputTooLargeError(f"{label}: the formula has {len(text)} characters; the limit is {LONGEST_FORMULA}")
    if not text.strip():
        _fail("the formula is empty", text, label, 0)
    for position, character in enumerate(text):
        if ord(character) > 127:
            hint = f"; write {_UNICODE[character]}" if character in _UNICODE else ""
            _fail(f"the character {character!r} is not LaTeX notation{hint}", text, label, position)
        if character in "%$#&\"@?`\x00" or (ord(character) < 32 and character not in "\n\t\r"):
            _fail(f"the character {character!r} has no meaning in the notation", text, label, position)
    blank = re.search(r"\n[ \t\r]*\n", text)
    if blank:
        _fail("a formula may not contain an empty line (LaTeX would end the formula there)", text, label,
              blank.start() + 1)
    for match in re.finditer(r"\\([A-Za-z]+)", text):
        name = match.group(1)
        if name not in COMMANDS:
            _fail(f"unknown command \\{name}: {_HINTS.get(name) or suggestion(name, COMMANDS - _UNSUGGESTED)}",
                  text, label, match.start())
    for match in re.finditer(r"\\text\s*\{([^{}]*)\}?", text):
        if not re.fullmatch(r"\s*[A-Za-z]+\s*", match.group(1)):
            _fail(_PROSE, text, label, match.start())


def suggestion(name: str, known, prefix: str = "\\") -> str:
    """ "did you mean \\tanh?" for the nearest known names (difflib), or where the notation is listed."""
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    if not close:
        close = sorted(k for k in known if k.lower().startswith(name[:2].lower()))[:3] if len(name) > 2 else []
    if close:
        return "did you mean " + " or ".join(prefix + c for c in close) + "?"
    return "it is not part of the notation (the README's \"How the notation is read\" lists every command)"


_READABLE = {  # terminal -> how an error message names it, most telling first
    "RPAR": "')'", "RSQB": "']'", "RBRACE": "'}'", "RIGHTPAR": "\\right)", "RIGHTSQB": "\\right]",
    "RIGHTBAR": "\\right|", "NAME": "a name", "NUMBER": "a number", "CHAR": "a letter or digit",
    "LBRACE": "'{'", "LPAR": "'('", "LSQB": "'['", "REL": "'=' or a relation", "PARTIAL": "\\partial",
    "CLOSEBAR": "'|'", "CLOSENORM": "'\\|'", "RIGHTNORM": "\\right\\|",
    "COMMA": "','", "EQUAL": "'='", "CIRCUMFLEX": "'^'", "UNDERSCORE": "'_'", "FUNC": "\\sigma",
    "FRAC": "\\frac", "PLUS": "'+'", "MINUS": "'-'", "MULOP": "\\cdot",
}


def _expected(error) -> str:
    names = set(getattr(error, "expected", None) or getattr(error, "allowed", None) or [])
    shown = [text for name, text in _READABLE.items() if name in names][:6]
    return f" (expected {', '.join(shown)}{', ...' if len(names) > len(shown) else ''})" if shown else ""


def _check_scripts(tree: lark.Tree, text: str, label: str) -> None:
    """LaTeX's own rules for scripts: one subscript, one superscript, primes before the superscript."""
    subs = sups = 0
    for script in tree.children:
        if not isinstance(script, lark.Tree) or script.data not in ("sub", "sup", "prime"):
            continue
        position = script.meta.start_pos if not script.meta.empty else 0
        if script.data == "sub":
            subs += 1
            if subs > 1:
                _fail("double subscript: LaTeX allows one subscript per symbol (write x_{a,b})", text, label,
                      position)
        elif script.data == "sup":
            sups += 1
            if sups > 1:
                _fail("double superscript: LaTeX allows one superscript per symbol (write {x^a}^b)", text, label,
                      position)
        elif sups:
            _fail("a prime after a superscript is a double superscript in LaTeX (write f'^2, not f^2')", text,
                  label, position)


def _check_tree(tree: lark.Tree, text: str, label: str) -> None:
    """Bound the depth without recursion, and check every symbol's scripts."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > DEEPEST_NESTING:
            position = node.meta.start_pos if not node.meta.empty else 0
            _fail(f"the formula is nested too deeply (more than {DEEPEST_NESTING} levels of its parse tree, "
                  f"about 30 brackets)", text, label, position)
        if node.data in ("postfix", "applied"):
            _check_scripts(node, text, label)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, lark.Tree))


def parse(text: str, label: str = "formula") -> Formula:
    """Parse `text` (LaTeX notation) into a checked Formula; FormulaSyntaxError with a position otherwise."""
    if not isinstance(text, str):
        raise FormulaSyntaxError(f"{label}: a formula must be a string, got {type(text).__name__}")
    _precheck(text, label)
    try:
        tree = _lark().parse(pair_bars(text))
    except lark.exceptions.UnexpectedCharacters as error:
        _fail(f"unexpected {text[error.pos_in_stream]!r}{_expected(error)}", text, label, error.pos_in_stream)
    except lark.exceptions.UnexpectedEOF as error:
        _fail(f"the formula ends too early{_expected(error)}", text, label, len(text.rstrip()))
    except lark.exceptions.UnexpectedToken as error:
        token = error.token
        if token.type == "$END":
            _fail(f"the formula ends too early{_expected(error)}", text, label, len(text.rstrip()))
        start = token.start_pos or 0
        _fail(f"unexpected {text[start:token.end_pos or start + 1].strip() or str(token)!r}{_expected(error)}",
              text, label, start)
    except lark.exceptions.LarkError as error:  # any other parse failure is still a syntax error
        _fail(f"cannot parse the formula: {error}", text, label, 0)
    _check_tree(tree, text, label)
    return Formula(text, label, tree)


def position(node) -> int | None:
    """Character offset of a tree or token in its formula (None when unknown)."""
    if isinstance(node, lark.Token):
        return node.start_pos
    if isinstance(node, lark.Tree) and not node.meta.empty:
        return node.meta.start_pos
    return None


def text_of(node) -> str:
    """A normalized spelling of a subtree: spaces and \\mathrm{} dropped, scripts braced (E_k and E_{k} agree)."""
    if isinstance(node, lark.Token):
        return str(node)
    data, children = node.data, node.children
    if data in ("name", "number", "function"):
        return str(children[0])
    if data == "style":
        return str(children[1])
    if data == "decorated":
        return "%s{%s}" % (children[0], children[-1])
    if data == "sub":
        return "_{%s}" % text_of(children[0])
    if data == "sup":
        return "^{%s}" % text_of(children[0])
    if data in ("subarg", "suparg"):
        return ",".join(text_of(c) for c in children)
    if data == "prime":
        return "'"
    if data in ("group",) and len(children) == 3:
        return "(%s)" % text_of(children[1])
    if data == "group":
        return "{%s}" % text_of(children[0])
    return "".join(text_of(c) for c in children)
