"""Where a derivation goes wrong, as LaTeX: the one-line summary, the aligned terms, the framed correction.

Rendering only: the diagnosis (derive.evidence.Diagnosis) was computed, and
its correction re-verified, before the report is written. The summary, the
notes and the edit come from the engine and are escaped as text (with the
notation's `$…$` math typeset when it parses); the terms and the corrected
formula are LaTeX in the claim's own notation.
"""
from __future__ import annotations

from derive.evidence import Correction, Diagnosis
from derive.report import mathtree as tree
from derive.report.highlight import highlight
from derive.report.math import display
from derive.report.prose import prose, safe_math
from derive.report.words import METHOD, TERM_KIND, VERDICT

TERM_COLUMN = 12.0  # em: the width of a term's column in the table of aligned terms
SUMMARY_WIDTH = 70  # characters of the summary in the report's summary table
MOST_TERMS = 6  # aligned terms listed in full; beyond, the agreeing ones are only counted


def diagnosis_lines(diagnosis: Diagnosis) -> list[str]:
    lines = [r"\field{What is wrong}" + prose(diagnosis.summary)]
    if diagnosis.terms:
        lines.append(r"\field{Term by term}" + _terms(diagnosis.terms))
    if diagnosis.correction is not None:
        lines.extend(_correction(diagnosis.correction))
    else:
        if diagnosis.note:
            why = prose(diagnosis.note).rstrip(".")
        else:
            why = "no edit of the formula made it agree" + (
                " (%d candidate edit%s verified)" % (diagnosis.tried, " was" if diagnosis.tried == 1 else "s were")
                if diagnosis.tried else "")
        lines.append(r"\field{Correction}none offered: %s." % why)
    return lines


def short_summary(diagnosis: Diagnosis | None, width: int = SUMMARY_WIDTH) -> str:
    """The summary for the summary table, cut at a word when longer than `width` characters."""
    if diagnosis is None:
        return ""
    text = " ".join(diagnosis.summary.split())
    if len(text) > width:
        cut = text[:width - 1].rsplit(" ", 1)[0]
        # A `$…$` cut in two would turn into escaped text: drop an unbalanced tail.
        if cut.count("$") % 2:
            cut = cut[:cut.rfind("$")].rstrip()
        text = cut + "…"
    # LaTeX written as text (not inside $…$) is one long word; let it break in the narrow column.
    return prose(text).replace(r"\textbackslash{}", r"\allowbreak{}\textbackslash{}")


def _correction(correction: Correction) -> list[str]:
    target = ""
    if correction.target.startswith("define "):
        name = correction.target[len("define "):].strip()
        target = " of the definition of " + (f"${name}$" if safe_math(name) else prose(name))
    verdict = r"%s, %s" % (VERDICT[correction.status], METHOD[correction.method])
    edit = correction.edit.strip()
    if edit[:1].isascii() and edit[:1].isalpha():  # the engine's edit is a clause; here it starts a sentence
        edit = edit[:1].upper() + edit[1:]
    lines = [r"\field{Correction%s}%sIts own verdict: %s." % (
        target, (prose(edit).rstrip(".") + ". ") if edit else "", verdict)]
    lines.append(display(highlight(correction.latex, correction.changed)))
    if correction.changed:
        lines.append(r"\par\noindent{\footnotesize The framed part is the change.}")
    return lines


def _terms(terms) -> str:
    """The aligned terms as a table (kind, the hand formula's term, the exact result's, a note)."""
    if any(_widest_piece(t.hand) > TERM_COLUMN or _widest_piece(t.exact) > TERM_COLUMN for t in terms):
        return _terms_as_displays(terms)
    shown, same = list(terms), 0
    if len(terms) > MOST_TERMS:
        # What is wrong first: the terms that agree are counted, not listed.
        shown = [t for t in terms if t.kind != "agrees"]
        same = len(terms) - len(shown)
    rows = [r"%s & %s & %s & %s \\" % (TERM_KIND.get(t.kind, prose(t.kind)), _cell(t.hand), _cell(t.exact),
                                        prose(t.note)) for t in shown]
    if same:
        rows.append(r"%s & \multicolumn{3}{@{}l@{}}{%d further term%s the same on both sides} \\" % (
            TERM_KIND["agrees"], same, " is" if same == 1 else "s are"))
    # Terms hold full-size fractions: the rows need more height than text rows.
    return ("\n" + r"\renewcommand{\arraystretch}{1.5}\begin{longtable}{@{}>{\raggedright\arraybackslash}p{2.3cm}>{\raggedright\arraybackslash}p{4.5cm}"
            r">{\raggedright\arraybackslash}p{4.5cm}>{\raggedright\arraybackslash}p{4.3cm}@{}}"
            r"\toprule & in the hand formula & in the exact result & \\ \midrule \endhead" + "\n"
            + "\n".join(rows) + "\n" + r"\bottomrule\end{longtable}\renewcommand{\arraystretch}{1}")


def _terms_as_displays(terms) -> str:
    """Terms too wide for a table cell: each pair as displays, under its kind and note."""
    blocks = []
    for t in terms:
        blocks.append(r"\par\noindent %s%s" % (TERM_KIND.get(t.kind, prose(t.kind)),
                                                (": " + prose(t.note)) if t.note else ""))
        if t.hand:
            blocks.append(r"\par\noindent in the hand formula:" + display(t.hand))
        if t.exact:
            blocks.append(r"\par\noindent in the exact result:" + display(t.exact))
    return "\n".join(blocks)


def _cell(latex: str) -> str:
    """A term in a table cell: at the body size, breakable between its top-level factors."""
    if not latex:
        return "---"
    return r"$\displaystyle %s$" % breakable(latex)


def breakable(latex: str) -> str:
    """Inline math that TeX may break at the spaces between top-level factors, not only after operators."""
    try:
        pieces = tree.parse(latex)
    except tree.Unbalanced:
        return latex
    return "".join(r" \allowbreak " if tree.is_space(p) else p.source() for p in pieces)


def _widest_piece(latex: str) -> float:
    try:
        pieces = tree.parse(latex)
    except tree.Unbalanced:
        return 0.0
    return max((tree.width([p]) for p in pieces), default=0.0)
