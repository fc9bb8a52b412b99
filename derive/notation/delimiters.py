"""Pairing the bars that open and close with the same character: |x|, \\|A\\|, \\vert x \\vert, \\Vert A \\Vert.

An LALR grammar cannot tell an opening | from a closing one (|a| b |c| is a
product of two absolute values, not |a| b| c|), so the parser pairs them here
first, as a reader of LaTeX does: a bar closes the innermost open bar of its
kind when it follows an operand (a letter, a digit, ')', ']', '}', a prime, a
closing bar, or a command naming a symbol such as \\alpha); otherwise it opens
one. Each bar is then replaced by a placeholder character (OPENBAR, CLOSEBAR,
OPENNORM, CLOSENORM of grammar.lark) padded with spaces to the same length, the
placeholder at the bar's outer end, so every position in the formula, every
caret of an error and every span of a node stays where it was. The explicit forms \\left| \\right|, \\lvert \\rvert, \\left\\| \\right\\| and
\\lVert \\rVert need no pairing; they are the grammar's own tokens.
"""
from __future__ import annotations

import re

OPEN = {"abs": "\x11", "norm": "\x13"}
CLOSE = {"abs": "\x12", "norm": "\x14"}
PLACEHOLDERS = frozenset(OPEN.values()) | frozenset(CLOSE.values())

# Commands after which a bar closes, because they name a value (\alpha|, \top|, x'|).
_OPERAND_COMMANDS = frozenset("""
    alpha beta gamma epsilon varepsilon eta theta kappa lambda mu nu xi pi rho tau phi varphi chi psi omega Gamma
    Lambda Phi Psi Omega Delta ell imath top prime infty dots cdots ldots
""".split())

_UNIT = re.compile(r"""
      (?P<explicit>\\(left|right)\s*(\\\||\\[vV]ert(?![A-Za-z])|\|)|\\[lr][vV]ert(?![A-Za-z]))
    | (?P<norm>\\\||\\Vert(?![A-Za-z]))
    | (?P<abs>\||\\vert(?![A-Za-z]))
    | (?P<command>\\[A-Za-z]+)
    | (?P<escape>\\.)
    | (?P<space>\s+)
    | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


def pair_bars(text: str) -> str:
    """`text` with each same-character bar replaced by its open or close placeholder, positions unchanged.

    Unpaired bars are left as placeholders too: the grammar then says which
    bar is missing, at its position.
    """
    pieces, open_kinds, after_operand = [], [], False
    for match in _UNIT.finditer(text):
        kind, unit = match.lastgroup, match.group()
        if kind in ("norm", "abs"):
            closes = bool(open_kinds) and open_kinds[-1] == kind and after_operand
            if closes:
                open_kinds.pop()
            else:
                open_kinds.append(kind)
            padding = " " * (len(unit) - 1)  # the placeholder at the bar's outer end, so spans cover all of it
            pieces.append(padding + CLOSE[kind] if closes else OPEN[kind] + padding)
            after_operand = closes
            continue
        pieces.append(unit)
        if kind == "explicit":
            after_operand = unit.startswith("\\r")  # \right| and \rvert close, \left| and \lvert open
        elif kind == "command":
            after_operand = unit[1:] in _OPERAND_COMMANDS
        elif kind == "other":
            after_operand = unit.isalnum() or unit in ")]}'"
        # spaces and escapes such as \, leave the context as it was
    return "".join(pieces)
