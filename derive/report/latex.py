"""Text into LaTeX: special characters escaped, the notation's Unicode symbols as math commands.

Anything that is not ours to trust (claim readings, statements, labels, a
user's ids) goes through `escape`, so no input can inject LaTeX commands or
break the compilation; characters we do not know are printed as their code
point rather than passed to TeX.
"""
from __future__ import annotations

import unicodedata

_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    "<": r"\ensuremath{<}", ">": r"\ensuremath{>}", "|": r"\ensuremath{|}",
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
_TEXT = {"“": "``", "”": "''", "‘": "`", "’": "'", "–": "--", "—": "---", "\u00a0": "~", "é": r"\'e",
         "ü": r"\"u", "ö": r"\"o", "ä": r"\"a", "ß": r"\ss{}", "´": "'"}
_ACCENTS = {"\u0303": r"\tilde", "\u0304": r"\bar", "\u0302": r"\hat", "\u0307": r"\dot"}
# Accents of names in text (Koutník), as text-mode accents rather than math ones.
_TEXT_ACCENTS = {"\u0301": r"\'", "\u0300": r"\`", "\u0308": r'\"', "\u030c": r"\v", "\u0327": r"\c"}


def escape(text: str) -> str:
    """Plain text (with the notation's Unicode symbols) as safe LaTeX for text mode."""
    out: list[str] = []
    for character in unicodedata.normalize("NFD", str(text)):
        if character in _TEXT_ACCENTS and out and out[-1].isalpha() and len(out[-1]) == 1:
            base = out.pop()
            out.append(r"%s{%s}" % (_TEXT_ACCENTS[character], r"\i" if base == "i" else base))
        elif character in _ACCENTS and out:
            base = out.pop()
            if base == "i":
                base = r"\imath"
            out.append(r"\ensuremath{%s{%s}}" % (_ACCENTS[character], base))
        elif character in _SPECIAL:
            out.append(_SPECIAL[character])
        elif character in _MATH:
            out.append(r"\ensuremath{%s}" % _MATH[character])
        elif character in _TEXT:
            out.append(_TEXT[character])
        elif character == "\n":
            out.append(" ")
        elif ord(character) < 128:
            out.append(character)
        else:
            out.append(r"\texttt{[U+%04X]}" % ord(character))
    return "".join(out)


def anchor(claim_id: str) -> str:
    """The LaTeX label of a claim's section: letters and digits kept, anything else a hyphen."""
    return "claim:" + "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in claim_id)
