"""Evidence in one line of text, for the `derive check` table: one renderer per evidence type."""
from __future__ import annotations

import functools

from derive.evidence import (ERROR_DIGITS, BoundEvidence, ChainEvidence, EqualAtPoints, Extremum, Measurements,
                             NormEvidence, Verdict, decimal)
from derive.rules import Semantics, Status

WIDEST_EVIDENCE = 100  # characters of the one-line evidence in the table


def shorten(text: str, width: int = WIDEST_EVIDENCE) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


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
    return f"extreme value found {decimal(found.number)} over {found.points} points (no exact extremum)"


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
