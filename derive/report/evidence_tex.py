"""Evidence as LaTeX: one renderer per evidence type (derive.evidence), chosen by functools.singledispatch.

Rendering only: the numbers are formatted from the numbers the evidence
holds; nothing is decided or parsed back here.
"""
from __future__ import annotations

import functools

from derive.evidence import (ERROR_DIGITS, VALUE_DIGITS, BoundCounterexample, BoundEvidence, Certificate,
                             ChainEvidence, EqualAtPoints, Extremum, Measurements, NormEvidence, decimal, scientific)
from derive.report.latex import escape

LONGEST_FORMULA = 2400  # characters of LaTeX; longer expressions are left to report.json
LONGEST_POINT = 14  # coordinates of a counterexample shown; all of them are in report.json
_SEMANTICS_TITLE = {"full": "Exact result, full semantics", "truncated": "Exact result, truncated semantics"}


def formula(latex: str) -> str:
    """A displayed formula, shrunk to the line width when wider."""
    if len(latex) > LONGEST_FORMULA:
        return r"\emph{(an expression of %d characters of \LaTeX; it is in report.json)}" % len(latex)
    return r"\fitmath{%s}" % latex


def number(value, digits: int = VALUE_DIGITS) -> str:
    """A number as math: 6.61e-5 -> 6.61 \\times 10^{-5}; a LaTeX value (an exact extremum's point) as it is."""
    if isinstance(value, str):
        return value
    mantissa, exponent = scientific(value, digits)
    return mantissa if exponent is None else r"%s \times 10^{%d}" % (mantissa, exponent)


def numbers(values, digits: int = VALUE_DIGITS) -> str:
    return ", ".join(number(v, digits) for v in values)


def point(pairs) -> str:
    """symbol = value pairs, at most LONGEST_POINT of them."""
    pairs = list(pairs)
    shown = [r"$%s = %s$" % (symbol, number(value)) for symbol, value in pairs[:LONGEST_POINT]]
    if len(pairs) > LONGEST_POINT:
        shown.append(r"\ldots\ (%d values in all, in report.json)" % len(pairs))
    return ", ".join(shown)


@functools.singledispatch
def evidence_lines(evidence, figures: dict) -> list[str]:
    raise TypeError(f"no LaTeX renderer for evidence of type {type(evidence).__name__}")


@evidence_lines.register
def _(evidence: EqualAtPoints, figures: dict) -> list[str]:
    entries = evidence.comparisons[0].entries
    if entries and all(len(e.hand) <= LONGEST_FORMULA for e in entries):
        lines = [r"\field{Engine's transcription}" + "".join(
            r"\par\noindent %s:" % escape(e.label) + formula(e.hand) for e in entries)]
    else:
        lines = [r"\field{Engine's transcription}" + formula(evidence.hand)]
    for result in evidence.comparisons:
        lines.append(r"\field{%s}" % _SEMANTICS_TITLE[result.semantics] + formula(result.exact))
        status = "equal" if result.equal else "different"
        lines.append(r"\field{Compared}the transcription is \textbf{%s} to it: largest relative error "
                     r"$%s$ over %d points at %d digits (tolerance $%s$)." % (
                         status, number(result.max_relative_error, ERROR_DIGITS), evidence.points, evidence.digits,
                         number(evidence.tolerance, ERROR_DIGITS)))
        if result.entries:
            cells = [r"%s: %s" % (escape(e.label), r"equal" if e.equal else
                                  r"\textbf{different} (" + escape(decimal(e.max_relative_error, ERROR_DIGITS)) + ")")
                     for e in result.entries]
            lines.append(r"\begin{itemize}\setlength{\itemsep}{0pt}" +
                         "".join(r"\item " + c for c in cells) + r"\end{itemize}")
        example = result.counterexample
        if example is not None:
            lines.append(r"\field{Counterexample}at " + point(example.point) +
                         r": transcription $= %s$, exact $= %s$ (relative error $%s$)." % (
                             numbers(example.hand), numbers(example.exact),
                             number(example.relative_error, ERROR_DIGITS)))
    if evidence.proof:
        lines.append(r"\field{Proof}the difference reduces to 0 by \emph{%s}." % escape(evidence.proof.rewriting))
    if evidence.correction is not None:
        lines.append(r"\field{Correction}the exact expression (full semantics) is the one above.")
    return lines


@evidence_lines.register
def _(evidence: BoundEvidence, figures: dict) -> list[str]:
    relation = {"<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}[evidence.relation]
    lines = [r"\field{Engine's question}" + formula(r"%s \;%s\; %s" % (evidence.expr, relation, evidence.bound))]
    if evidence.form:
        lines.append(r"\field{Decided on}the expression %s" % escape(evidence.form) +
                     (r"; ranges from the model's equations: " + ", ".join(f"${r}$" for r in evidence.ranges)
                      if evidence.ranges else "") + ".")
    found = evidence.result
    if isinstance(found, Extremum):
        kind = "supremum" if found.upper else "infimum"
        where = point(found.where) if found.where else "—"
        attained = "attained at " + where if found.attained else "approached as " + where
        lines.append(r"\field{Exact %s}$%s \approx %s$, %s." % (kind, found.value, number(found.number), attained))
    elif isinstance(found, Certificate):
        lines.append(r"\field{Certificate}validated ball arithmetic (arb) over %d boxes covering the domain; the "
                     r"bound holds with a margin of at least $%s$ everywhere." % (found.boxes,
                                                                                  number(found.margin, ERROR_DIGITS)))
    elif isinstance(found, BoundCounterexample):
        lines.append(r"\field{Counterexample}at %s (found by %s, confirmed with ball arithmetic): the expression is "
                     r"$%s$, the bound $%s$." % (point(found.point), escape(found.found_by), number(found.value),
                                                 number(found.bound)))
    if evidence.tried:
        lines.append(r"\field{%s}" % ("Not decided by" if evidence.holds is not None else "Tried") +
                     r"\begin{itemize}\setlength{\itemsep}{0pt}" +
                     "".join(r"\item %s: %s" % (escape(method), escape(why)) for method, why in evidence.tried) +
                     r"\end{itemize}")
    return lines


@evidence_lines.register
def _(evidence: NormEvidence, figures: dict) -> list[str]:
    relation = {"<=": r"\le", "<": "<"}[evidence.relation]
    lines = [r"\field{Engine's question}" + formula(r"%s \;%s\; %s" % (evidence.left, relation, evidence.right))]
    if evidence.proof:
        lines.append(r"\field{Proof}" + r"\begin{itemize}\setlength{\itemsep}{0pt}" +
                     "".join(r"\item " + escape(step) for step in evidence.proof) + r"\end{itemize}")
    values = r"left side $= %s$, right side $= %s$" % (number(evidence.left_value), number(evidence.right_value))
    if evidence.confirmed:
        lines.append(r"\field{Counterexample}at " + point(evidence.point) + ": " + values +
                     r" (a violation beyond rounding, confirmed at %d digits)." % (evidence.digits + 20))
    else:
        lines.append(r"\field{Search}%d seeded points at %d digits found no violation; the closest was at %s: %s." % (
            evidence.points, evidence.digits, point(evidence.point), values))
        if not evidence.proof:
            lines.append(r"\field{Undecided}no proof from the known inequalities, and no counterexample; "
                         r"sampling alone never decides that a bound holds.")
    return lines


@evidence_lines.register
def _(evidence: ChainEvidence, figures: dict) -> list[str]:
    lines = []
    for k, link in enumerate(evidence.links, 1):
        lines.append(r"\field{Link %d}%s, %s." % (k, escape(str(link.status)), escape(str(link.method))))
        lines.extend(evidence_lines(link.evidence, figures))
    return lines


def _measured_table(values: dict) -> str:
    """Numbers named `quantity[configuration]` as a table, one row per configuration; the rest in a line."""
    plain, rows, columns = [], {}, []
    for key, value in values.items():
        if isinstance(value, dict):
            continue
        if key.endswith("]") and "[" in key:
            quantity, configuration = key[:-1].split("[", 1)
            rows.setdefault(configuration, {})[quantity] = value
            if quantity not in columns:
                columns.append(quantity)
        else:
            plain.append(r"%s~=~%s" % (escape(key), escape(str(value))))
    text = ", ".join(plain) + "." if plain else ""
    if rows:
        header = " & ".join([r"\textit{configuration}"] + [r"\textit{%s}" % escape(c) for c in columns])
        body = [" & ".join([escape(configuration)] + [escape(str(row.get(c, ""))) for c in columns]) + r" \\"
                for configuration, row in rows.items()]
        text += ("\n" + r"{\small\begin{longtable}{@{}l" + "r" * len(columns) + "@{}}" + header
                 + r" \\ \midrule" + "\n" + "\n".join(body) + r"\end{longtable}}")
    return text


@evidence_lines.register
def _(evidence: Measurements, figures: dict) -> list[str]:
    lines = [r"\field{Prediction tested}" + escape(evidence.statement) + ".",
             r"\field{Measured}" + _measured_table(evidence.numbers)]
    for key, value in evidence.numbers.items():
        if isinstance(value, dict):
            lines.append(r"\field{%s}" % escape(key.capitalize()) + point(value.items()) + ".")
    if evidence.figure and evidence.figure in figures:
        lines.append(figures[evidence.figure])
    return lines
