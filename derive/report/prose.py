"""Text from claims (readings, statements, `where`) with inline math: `$…$` typeset only when it is notation.

A claims file is untrusted input, so a `$…$` segment is passed to TeX only
when its content parses with derive's notation parser, which accepts a
whitelist of commands and characters and nothing else; any other segment,
and every character outside the segments, is escaped and printed as text.
Fractions in running text are written a/b, at the size of the text.
"""
from __future__ import annotations

from derive.errors import DeriveError
from derive.notation import parser
from derive.report.latex import escape
from derive.report.math import inline


# A relation or operator alone ("$<$ should be $\le$") is not a formula of the notation, but is safe.
_LONE = frozenset({"<", ">", "=", "+", "-", r"\le", r"\ge", r"\leq", r"\geq", r"\ne", r"\approx", r"\cdot",
                   r"\odot", r"\otimes", r"\oplus", r"\times", r"\circ", r"\sigma", r"\sigma'", r"\tanh",
                   r"\tanh'", r"\partial", r"\delta", r"\dots"})


def safe_math(content: str) -> bool:
    """Whether `content` may go to TeX as math: it parses as the articles' notation (or is one operator)."""
    if content.strip() in _LONE:
        return True
    try:
        parser.parse(content, "inline math")
    except (DeriveError, ValueError, RecursionError):
        return False
    return True


def prose(text: str) -> str:
    """`text` as LaTeX: the `$…$` segments that are notation as math, everything else escaped."""
    parts = str(text).split("$")
    out = []
    for index, part in enumerate(parts):
        is_math = index % 2 == 1 and index < len(parts) - 1  # an unclosed last `$` opens nothing
        if is_math and part.strip() and safe_math(part):
            out.append("$" + inline(part) + "$")
        elif is_math:
            out.append(escape("$" + part + "$"))
        else:
            out.append(escape(part) if index < len(parts) - 1 or len(parts) % 2 == 1 else escape("$" + part))
    return "".join(out)
