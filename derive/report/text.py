"""Evidence in one line of text, for the `derive check` table: one renderer per evidence type."""
from __future__ import annotations

import functools

from derive.evidence import (ERROR_DIGITS, BoundCounterexample, BoundEvidence, Certificate, ChainEvidence,
                             EqualAtPoints, Extremum, Measurements, NormEvidence, OutOfBudget, Verdict,
                             decimal)
from derive.rules import Semantics, Status
from derive.terminal import plain


WIDEST_EVIDENCE = 100  # characters of the one-line evidence in the table


def shorten(text: str, width: int = WIDEST_EVIDENCE) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def diagnosis_lines(row_id: str, verdict: Verdict) -> list[str]:
    """What is wrong with a claim, and its correction (LaTeX to paste), as lines under the check table."""
    diagnosis = verdict.diagnosis
    if diagnosis is None:
        return []
    lines = [f"  {row_id}: {plain(diagnosis.summary) or 'no diagnosis'}"]
    correction = diagnosis.correction
    if correction is not None:
        where = "" if correction.target == "latex" else f" {correction.target}"
        lines.append(f"      corrected{where} ({correction.status}, {correction.method}): {correction.latex}")
    elif diagnosis.note:
        lines.append(f"      {plain(diagnosis.note)}")
    return lines


def evidence_line(verdict: Verdict) -> str:
    """The verdict's evidence in one line."""
    return shorten(line(verdict.evidence, verdict.status))


@functools.singledispatch
def line(evidence, status: Status) -> str:
    raise TypeError(f"no one-line form for evidence of type {type(evidence).__name__}")


@line.register
def _(evidence: EqualAtPoints, status: Status) -> str:
    full = evidence.comparison(Semantics.FULL)
    if status == Status.AGREES:
        proof = f"proved: {evidence.proof.rewriting}" if evidence.proof else "no proof within the budget"
        return (f"equal at {evidence.points} points (max rel. err {decimal(full.max_relative_error, ERROR_DIGITS)}); "
                f"{proof}")
    if status == Status.TRUNCATED:
        truncated = evidence.comparison(Semantics.TRUNCATED)
        return (f"equals the truncated result (max rel. err {decimal(truncated.max_relative_error, ERROR_DIGITS)}), "
                f"not the full one (max rel. err {decimal(full.max_relative_error, ERROR_DIGITS)})")
    example = full.counterexample
    values = lambda numbers: ", ".join(decimal(v) for v in numbers)  # noqa: E731
    return (f"at a point: hand {values(example.hand)} vs exact {values(example.exact)} "
            f"(rel. err {decimal(example.relative_error, ERROR_DIGITS)})")


@line.register
def _(evidence: BoundEvidence, status: Status) -> str:
    found = evidence.result
    if isinstance(found, Extremum):
        kind = "supremum" if found.upper else "infimum"
        where = ", ".join(f"{k} = {v}" for k, v in found.where)
        how = "attained" if found.attained else "approached, not attained"
        return f"exact {kind} {decimal(found.number)} ({how}{' at ' + where if where and found.attained else ''})"
    if isinstance(found, Certificate):
        return f"certified over {found.boxes} boxes (margin {decimal(found.margin, ERROR_DIGITS)})"
    if isinstance(found, BoundCounterexample):
        where = ", ".join(f"{k} = {decimal(v)}" for k, v in found.point)
        return f"fails at {where}: {decimal(found.value)} vs bound {decimal(found.bound)}"
    return "undecided: " + "; ".join(f"{method}: {why}" for method, why in evidence.tried[-2:])


@line.register
def _(evidence: NormEvidence, status: Status) -> str:
    values = f"left {decimal(evidence.left_value)} vs right {decimal(evidence.right_value)}"
    if evidence.proof:
        return f"proved by {', '.join(dict.fromkeys(step.split(':')[0] for step in evidence.proof))}"
    if evidence.confirmed:
        return f"counterexample: {values}"
    return f"no proof, no counterexample at {evidence.points} points (closest: {values})"


@line.register
def _(evidence: ChainEvidence, status: Status) -> str:
    return "; ".join(f"link {k} {link.status}: {line(link.evidence, link.status)}"
                     for k, link in enumerate(evidence.links, 1))


@line.register
def _(evidence: Measurements, status: Status) -> str:
    return f"measured: {evidence.statement}"


@line.register
def _(evidence: OutOfBudget, status: Status) -> str:
    return "undecided: " + evidence.sentence()
