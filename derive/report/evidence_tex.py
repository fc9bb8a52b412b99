"""Evidence as LaTeX: one renderer per evidence type (derive.evidence), chosen by functools.singledispatch.

Rendering only: the numbers are formatted from the numbers the evidence
holds; nothing is decided or parsed back here. Formulas are displayed by
derive.report.math, which breaks long ones and never shrinks them.
"""
from __future__ import annotations

import functools
import re

import mpmath

from derive.evidence import (ERROR_DIGITS, VALUE_DIGITS, BoundCounterexample, BoundEvidence, Certificate,
                             ChainEvidence, EqualAtPoints, Extremum, Measurements, NormEvidence, OutOfBudget,
                             Unresolved, scientific)
from derive.evidence import number as as_number
from derive.report import measures
from derive.report.latex import escape
from derive.report.math import display, display_labelled, inline
from derive.report.prose import prose
from derive.report.words import proof_in_words
from derive.rules import Semantics, Status

LONGEST_POINT = 14  # coordinates of a counterexample shown; all of them are in report.json
_SEMANTICS = {Semantics.FULL: "full", Semantics.TRUNCATED: "truncated"}


def formula(latex: str, labels=(), letter: str = "T") -> str:
    """A displayed formula at the body size, broken over rows when long (derive.report.math).

    `letter` names its sub-terms (H for the transcription, E and U for the exact results), so that the names
    of different formulas of one claim differ.
    """
    return display(latex, labels, letter)


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
    shown = [r"$%s = %s$" % (inline(symbol), number(value)) for symbol, value in pairs[:LONGEST_POINT]]
    if len(pairs) > LONGEST_POINT:
        shown.append(r"\ldots\ (%d values in all, in report.json)" % len(pairs))
    return ", ".join(shown)


@functools.singledispatch
def evidence_lines(evidence, figures: dict, status: Status | None = None) -> list[str]:
    raise TypeError(f"no LaTeX renderer for evidence of type {type(evidence).__name__}")


@evidence_lines.register
def _(evidence: EqualAtPoints, figures: dict, status: Status | None = None) -> list[str]:
    entries = evidence.comparisons[0].entries
    labels = [e.label for e in entries]
    if entries:
        lines = [r"\field{Transcription, as the engine reads it}" + display_labelled(
            [(e.label, e.hand) for e in entries], "H")]
    else:
        lines = [r"\field{Transcription, as the engine reads it}" + formula(evidence.hand, letter="H")]
    decided = {Status.AGREES: Semantics.FULL, Status.TRUNCATED: Semantics.TRUNCATED}.get(status)
    for result in evidence.comparisons:
        name = _SEMANTICS[result.semantics]
        letter = "E" if result.semantics == Semantics.FULL else "U"
        lines.append(r"\field{Exact result, %s semantics}" % name + formula(result.exact, labels, letter))
        state = "equal" if result.equal else "different"
        lines.append(r"\field{Compared}the transcription is \textbf{%s} to it: largest relative error "
                     r"$%s$ over %d points at %d digits (tolerance $%s$)." % (
                         state, number(result.max_relative_error, ERROR_DIGITS), evidence.points, evidence.digits,
                         number(evidence.tolerance, ERROR_DIGITS)))
        if result.entries:
            cells = [r"%s: %s" % (escape(e.label), r"equal" if e.equal else
                                  r"\textbf{different} (largest relative error $%s$)" % number(
                                      e.max_relative_error, ERROR_DIGITS)) for e in result.entries]
            lines.append(r"\begin{itemize}\setlength{\itemsep}{0pt}" +
                         "".join(r"\item " + c for c in cells) + r"\end{itemize}")
        if result.counterexample is not None:
            lines.append(_counterexample(result.counterexample, name, decided))
    if evidence.proof:
        lines.append(r"\field{Proof}%s." % proof_in_words(evidence.proof.rewriting))
    if evidence.correction is not None:
        lines.append(r"\field{Correct value}the exact result in the full semantics, above.")
    return lines


def _counterexample(example, semantics: str, decided: Semantics | None) -> str:
    values = r"the transcription is $%s$, the exact result $%s$ (relative error $%s$)" % (
        numbers(example.hand), numbers(example.exact), number(example.relative_error, ERROR_DIGITS))
    where = ("at " + point(example.point) + ": " + values) if example.point else \
        "both sides are constants: " + values
    title = r"\field{Counterexample, %s semantics}" % semantics
    if decided is not None:
        # Under an agreeing verdict the counterexample is to the other semantics, and says so.
        kept = _SEMANTICS[decided]
        return (title + r"the transcription is not the %s result (this is why the verdict is about the %s "
                r"semantics): %s." % (semantics, kept, where))
    return title + where + "."


@evidence_lines.register
def _(evidence: BoundEvidence, figures: dict, status: Status | None = None) -> list[str]:
    relation = {"<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}[evidence.relation]
    lines = [r"\field{The bound, as the engine reads it}" + formula(r"%s %s %s" % (evidence.expr, relation,
                                                                                 evidence.bound))]
    if evidence.form:
        lines.append(r"\field{Decided on}the expression %s" % escape(evidence.form) +
                     (r"; ranges from the model's equations: " + ", ".join(f"${r}$" for r in evidence.ranges)
                      if evidence.ranges else "") + ".")
    found = evidence.result
    if isinstance(found, Extremum):
        kind = "supremum" if found.upper else "infimum"
        if not found.where:
            how = "the expression is a constant" if found.attained else "approached, not attained"
        elif found.attained:
            how = "attained at " + point(found.where)
        else:
            how = "approached, not attained, as " + point(found.where)
        # A value that is already a decimal needs no decimal approximation beside it.
        plain = re.fullmatch(r"-?\d+(\.\d+)?", found.value.strip()) is not None
        value = found.value if plain else r"%s \approx %s" % (found.value, number(found.number))
        lines.append(r"\field{Exact %s}$%s$; %s." % (kind, value, how))
    elif isinstance(found, Certificate):
        text = (r"validated ball arithmetic (arb) proved the bound on each of %d boxes covering the domain, with a "
                r"margin of at least $%s$ everywhere." % (found.boxes, number(found.margin, ERROR_DIGITS)))
        if found.tightest:
            boxes = ["; ".join(r"$%s \in [%s, %s]$" % (symbol, _end(low), _end(high)) for symbol, low, high in box)
                     for box in found.tightest]
            text += r" The boxes with the smallest margins: " + r"; \quad ".join(boxes) + "."
        lines.append(r"\field{Certificate}" + text)
    elif isinstance(found, BoundCounterexample):
        where = "at " + point(found.point) if found.point else "everywhere (the expression is a constant)"
        fails = (r"it reaches the bound, which the strict inequality excludes" if as_number(found.violation) == 0
                 else r"it fails by $%s$" % number(found.violation, ERROR_DIGITS))
        lines.append(r"\field{Counterexample}%s (found by %s, confirmed with ball arithmetic): the expression is "
                     r"$%s$, the bound $%s$; %s." % (where, escape(found.found_by), number(found.value),
                                                      number(found.bound), fails))
    elif isinstance(found, Unresolved) and found.boxes:
        lines.append(r"\field{Undecided}%d boxes were examined without deciding the bound." % found.boxes)
    if evidence.tried:
        title = "Tried first" if evidence.holds is not None else "Tried, without a decision"
        lines.append(r"\field{%s}" % title + r"\begin{itemize}\setlength{\itemsep}{0pt}" +
                     "".join(r"\item %s: %s." % (prose(method), prose(why.rstrip(".")))
                             for method, why in evidence.tried) + r"\end{itemize}")
    return lines


@evidence_lines.register
def _(evidence: NormEvidence, figures: dict, status: Status | None = None) -> list[str]:
    relation = {"<=": r"\le", "<": "<"}[evidence.relation]
    lines = [r"\field{Engine's question}" + formula(r"%s \;%s\; %s" % (evidence.left, relation, evidence.right))]
    if evidence.proof:
        lines.append(r"\field{Proof}" + r"\begin{itemize}\setlength{\itemsep}{0pt}" +
                     "".join(r"\item " + prose(step) for step in evidence.proof) + r"\end{itemize}")
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
def _(evidence: ChainEvidence, figures: dict, status: Status | None = None) -> list[str]:
    lines = []
    for k, link in enumerate(evidence.links, 1):
        lines.append(r"\field{Link %d}%s, %s." % (k, escape(str(link.status)), escape(str(link.method))))
        lines.extend(evidence_lines(link.evidence, figures, link.status))
    return lines


def _end(value) -> str:
    exact = as_number(value)
    if mpmath.isinf(exact):
        return r"+\infty" if exact > 0 else r"-\infty"
    return number(value)


@evidence_lines.register
def _(evidence: Measurements, figures: dict, status: Status | None = None) -> list[str]:
    lines = [r"\field{Prediction tested}" + prose(evidence.statement).rstrip(".") + "."]
    shown = evidence.figure and evidence.figure in figures
    if shown:
        lines[0] += r" Figure~\ref{fig:%s} shows the measured curves." % evidence.figure
    lines.append(r"\field{Measured}" + "\n".join(measures.tables(evidence.numbers)))
    for key, value in evidence.numbers.items():
        if isinstance(value, dict) and key != "series":
            lines.append(r"\field{%s}" % measures.label(key).capitalize() + point(value.items()) + ".")
    if shown:
        lines.append(figures[evidence.figure])
    return lines


@evidence_lines.register
def _(evidence: OutOfBudget, figures: dict, status: Status | None = None) -> list[str]:
    return [r"\field{Undecided}%s; undecided is always better than a guess." % escape(evidence.sentence())]
