"""Text into LaTeX: special characters escaped, the notation's Unicode symbols as math commands.

Anything that is not ours to trust (claim readings, statements, labels, a
user's ids) goes through `escape`, so no input can inject LaTeX commands or
break the compilation; characters we do not know are printed as their code
point rather than passed to TeX.
"""
from __future__ import annotations

import re
import unicodedata

_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    "<": r"\ensuremath{<}", ">": r"\ensuremath{>}", "|": r"\ensuremath{|}",
    "[": "{[}", "]": "{]}",  # braced: after \\ or \item a bracket would open an optional argument
}

_MATH = {
    "σ": r"\sigma", "δ": r"\delta", "Δ": r"\Delta", "Σ": r"\Sigma", "∂": r"\partial", "⊙": r"\odot",
    "⊗": r"\otimes", "⊕": r"\oplus", "≈": r"\approx", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "→": r"\to",
    "←": r"\leftarrow", "↦": r"\mapsto", "⇒": r"\Rightarrow", "×": r"\times", "·": r"\cdot", "−": "-",
    "∈": r"\in", "‖": r"\|", "′": "'", "∏": r"\prod", "∑": r"\sum", "η": r"\eta", "γ": r"\gamma",
    "φ": r"\phi", "λ": r"\lambda", "τ": r"\tau", "ε": r"\varepsilon", "μ": r"\mu", "π": r"\pi",
    "√": r"\surd", "∞": r"\infty", "±": r"\pm", "²": "^{2}", "³": "^{3}", "⁻": "^{-}", "¹": "^{1}",
    "₀": "_{0}", "₁": "_{1}", "₂": "_{2}", "ₜ": "_{t}", "∘": r"\circ", "…": r"\dots", "∀": r"\forall",
}
_TEXT = {"“": "``", "”": "''", "‘": "`", "’": "'", "–": "--", "—": "---", "\u00a0": "~", "ß": r"\ss{}",
         "´": "'", "ø": r"{\o}", "Ø": r"{\O}", "ł": r"{\l}", "Ł": r"{\L}", "æ": r"{\ae}", "Æ": r"{\AE}",
         "œ": r"{\oe}", "Œ": r"{\OE}", "ı": r"{\i}", "ȷ": r"{\j}", "¡": "!`", "¿": "?`"}
# Combining marks: over a Latin letter, TeX's text accents (Koutník: Koutn\'{\i}k); else the notation's
# math accents (c̃ as \tilde{c}). Tilde, macron, circumflex and dot above are always the notation's.
_ACCENTS = {"\u0303": r"\tilde", "\u0304": r"\bar", "\u0302": r"\hat", "\u0307": r"\dot"}
_TEXT_ACCENTS = {"\u0300": "`", "\u0301": "'", "\u0308": '"', "\u0306": "u", "\u030a": "r", "\u030b": "H",
                 "\u030c": "v", "\u0327": "c", "\u0328": "k", "\u0323": "d", "\u0331": "b"}
_DOTLESS = {"i": (r"\i", r"\imath"), "j": (r"\j", r"\jmath")}  # an accent replaces the dot: (text, math)
_SPACES = re.compile(r"([ \t\n\r\f\v]+)")
LONGEST_WORD = 30  # characters; a longer run without a space may break after any character
_SOURCE_LINE = 64  # characters of a long word per line of report.tex (TeX reads a line into a fixed buffer)


def escape(text: str) -> str:
    """Plain text (with the notation's Unicode symbols) as safe LaTeX for text mode.

    Control characters are shown as their code point, never passed to TeX, and a
    word longer than LONGEST_WORD (a path, a run of symbols) may break anywhere.
    """
    words = _SPACES.split(unicodedata.normalize("NFD", str(text)))
    return "".join(" " if _SPACES.fullmatch(word) else _word(word) for word in words if word)


def _word(word: str) -> str:
    pieces: list[list] = []  # per character: [LaTeX, whether a text accent may still go over it]
    for character in word:
        if unicodedata.combining(character) and pieces:
            _accent(pieces[-1], character)
        else:
            pieces.append([_character(character), character.isascii() and character.isalpha()])
    if len(pieces) <= LONGEST_WORD:
        return "".join(latex for latex, _ in pieces)
    return "".join(latex + (r"\allowbreak{}%" "\n" if number % _SOURCE_LINE == _SOURCE_LINE - 1 else r"\allowbreak{}")
                   for number, (latex, _) in enumerate(pieces[:-1])) + pieces[-1][0]


def _accent(piece: list, mark: str) -> None:
    latex, textual = piece
    if textual and mark in _TEXT_ACCENTS:
        piece[0] = "\\%s{%s}" % (_TEXT_ACCENTS[mark], _DOTLESS.get(latex, (latex,))[0])
    elif mark in _ACCENTS:
        piece[:] = [r"\ensuremath{%s{%s}}" % (_ACCENTS[mark], _DOTLESS.get(latex, (None, latex))[1]), False]
    else:
        piece[:] = [latex + _code_point(mark), False]


def _character(character: str) -> str:
    if character in _SPECIAL:
        return _SPECIAL[character]
    if character in _MATH:
        return r"\ensuremath{%s}" % _MATH[character]
    if character in _TEXT:
        return _TEXT[character]
    if character.isascii() and character.isprintable():
        return character
    compatible = unicodedata.normalize("NFKC", character)  # a ligature ﬁ as fi, a full-width Ａ as A
    if compatible != character and compatible.isascii() and compatible.isprintable():
        return "".join(_character(c) for c in compatible)
    return _code_point(character)  # control characters (an ANSI escape's ESC) and what TeX may not know


def _code_point(character: str) -> str:
    return r"\texttt{[U+%04X]}" % ord(character)


def anchor(claim_id: str) -> str:
    """The LaTeX label of a claim's section: letters and digits kept, anything else a hyphen."""
    return "claim:" + "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in claim_id)
