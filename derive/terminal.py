"""Text for the terminal: control characters and escape sequences in user input shown, never obeyed.

A claims file can hold anything: an ANSI escape sequence echoed raw would
recolour or rewrite the user's terminal, a carriage return would hide what
came before it, a bidirectional override would reorder what is read. Every
message echoed to the terminal goes through `printable`; `plain` writes the
little LaTeX of a diagnosis sentence ($\\sigma'$ ...) as Unicode (σ′).
"""
from __future__ import annotations

import re

# C0 and C1 controls but tab and newline, DEL, and the invisible reordering and line-separating characters.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _shown(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text, newlines: bool = True) -> str:
    """`text` with each control character written as an escape (ESC as \\x1b), so the terminal prints it.

    Tabs are kept, and newlines unless `newlines` is False (a one-line field).
    """
    text = _UNSAFE.sub(_shown, str(text))
    return text if newlines else text.replace("\n", "\\n")


_PLAIN = [(r"\\tilde\{(\w)\}", "\\1\u0303"), (r"\\bar\{\\imath\}", "ī"), (r"\\bar\{(\w)\}", "\\1\u0304"),
          (r"\\sigma", "σ"), (r"\\tanh", "tanh"), (r"\\dots", "…"), (r"\\le", "≤"), (r"\\ge", "≥"),
          (r"\\delta", "δ"), (r"\\partial", "∂"), (r"\\odot", "⊙"), (r"\\cdot", "·"), (r"\\mathrm\{(\w+)\}", "\\1"),
          (r"\\left", ""), (r"\\right", "")]


def plain(text: str) -> str:
    """A diagnosis sentence for the terminal: its $...$ math in plain Unicode (σ′(…) should be tanh′(…))."""
    text = text.replace("$", "")
    for latex, shown in _PLAIN:
        text = re.sub(latex + r"(?![A-Za-z])", shown, text)
    return text.replace("'", "′")
