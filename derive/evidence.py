"""Verdicts and their typed evidence, and the one place where evidence becomes JSON.

A verdict's evidence is one of the dataclasses below; numbers are kept as
numbers (mpmath's mpf at the working precision), never as preformatted text,
and `decimal` is the one formatter that prints them. The renderers
(derive.report) dispatch on these types; `to_json` is the serialisation
report.json and `derive check --json` share. Adding an evidence kind is one
dataclass here, one `to_json` entry and one renderer per output.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import mpmath

from derive.rules import Method, Semantics, Status

ERROR_DIGITS = 3  # significant digits of relative errors and tolerances
VALUE_DIGITS = 8  # significant digits of values at a point


def decimal(value, digits: int = VALUE_DIGITS) -> str:
    """A number as a deterministic decimal string (mpmath's shortest form at `digits` digits)."""
    return mpmath.nstr(mpmath.mpf(value), digits)


def scientific(value, digits: int = VALUE_DIGITS) -> tuple[str, int | None]:
    """(mantissa, exponent) of the decimal form of `value`: 6.61e-5 -> ("6.61", -5); 0.25 -> ("0.25", None)."""
    text = decimal(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return mantissa, int(exponent)
    return text, None


# -- equalities ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Counterexample:
    """A point where the two sides differ: the values there (one per entry) and the relative error."""

    point: tuple  # ((symbol as LaTeX, value), ...)
    hand: tuple
    exact: tuple
    relative_error: object


@dataclass(frozen=True)
class EntryComparison:
    """One entry of a stacked comparison (one value of an index, one line of a chain)."""

    label: str
    equal: bool
    max_relative_error: object
    hand: str = ""  # the entry of the transcription, LaTeX


@dataclass(frozen=True)
class Comparison:
    """The transcription against the exact result in one semantics, at every point."""

    semantics: Semantics
    equal: bool
    max_relative_error: object
    exact: str  # the exact result, LaTeX
    entries: tuple = ()
    counterexample: Counterexample | None = None


@dataclass(frozen=True)
class Proof:
    """A symbolic proof that the difference is 0: the rewriting that reduced it."""

    rewriting: str


@dataclass(frozen=True)
class EqualAtPoints:
    """An equality checked at seeded points (and, where it held, proved symbolically when possible)."""

    points: int
    digits: int
    seed: int
    tolerance: object
    hand: str  # the engine's transcription, LaTeX
    comparisons: tuple  # Comparison per semantics, full first
    proof: Proof | None = None
    correction: str | None = None  # LaTeX of the exact result, when the claim differs

    def comparison(self, semantics) -> Comparison | None:
        return next((c for c in self.comparisons if c.semantics == semantics), None)


# -- bounds ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Extremum:
    """The exact supremum (or infimum) of the bounded expression, where it is attained or approached."""

    upper: bool  # True: a supremum
    value: str  # LaTeX
    number: object
    where: tuple  # ((symbol as LaTeX, value as LaTeX), ...)
    attained: bool


@dataclass(frozen=True)
class SampledExtreme:
    """The most extreme value found at seeded random points (no exact extremum was proved)."""

    number: object
    where: tuple  # ((symbol as LaTeX, value), ...)
    points: int


@dataclass(frozen=True)
class BoundEvidence:
    """A bound `expr relation bound` over its domain, and what decided it."""

    expr: str
    relation: str
    bound: str
    holds: bool
    result: Extremum | SampledExtreme


@dataclass(frozen=True)
class NormEvidence:
    """A bound between norms: the rules that proved it, and the point of the search that came closest to (or
    crossed) it; `confirmed` says that point violates the bound beyond rounding, at 20 more digits too."""

    left: str  # LaTeX
    relation: str
    right: str
    proof: tuple  # the names of the rules of the proof, in order; () when there is none
    points: int
    digits: int
    seed: int
    point: tuple  # ((symbol as LaTeX, value), ...) where left − right was largest
    left_value: object
    right_value: object
    confirmed: bool


@dataclass(frozen=True)
class ChainEvidence:
    """A chain of bounds a ≤ b ≤ c: the verdict on each link, in order."""

    links: tuple  # Verdict per link


# -- experiments -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurements:
    """The numbers an experiment measured in this run, the prediction they test, and the curves of its figure."""

    statement: str
    numbers: dict
    figure: str | None = None
    series: dict | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Verdict:
    """The computed answer: status, the method that decided it, and the evidence."""

    status: Status
    method: Method
    evidence: object


# -- JSON ------------------------------------------------------------------------------------
def _point(pairs, digits: int = VALUE_DIGITS) -> dict:
    return {symbol: value if isinstance(value, str) else decimal(value, digits) for symbol, value in pairs}


def _values(values) -> str:
    return ", ".join(decimal(v) for v in values) if len(values) > 1 else decimal(values[0])


@functools.singledispatch
def to_json(evidence) -> dict:
    raise TypeError(f"no JSON form for evidence of type {type(evidence).__name__}")


@to_json.register
def _(evidence: Counterexample) -> dict:
    return {"point": _point(evidence.point), "hand": _values(evidence.hand), "exact": _values(evidence.exact),
            "rel_err": decimal(evidence.relative_error, ERROR_DIGITS)}


@to_json.register
def _(evidence: Comparison) -> dict:
    result = {"equal": evidence.equal, "max_rel_err": decimal(evidence.max_relative_error, ERROR_DIGITS)}
    if evidence.entries:
        result["entries"] = [{"label": e.label, "equal": e.equal,
                              "max_rel_err": decimal(e.max_relative_error, ERROR_DIGITS), "hand": e.hand}
                             for e in evidence.entries]
    if evidence.counterexample is not None:
        result["counterexample"] = to_json(evidence.counterexample)
    result["exact"] = evidence.exact
    return result


@to_json.register
def _(evidence: EqualAtPoints) -> dict:
    result = {"points": evidence.points, "digits": evidence.digits, "seed": evidence.seed,
              "tolerance": decimal(evidence.tolerance, ERROR_DIGITS),
              "semantics": {str(c.semantics): to_json(c) for c in evidence.comparisons}, "hand": evidence.hand}
    if evidence.correction is not None:
        result["correction"] = evidence.correction
    else:
        result["proof"] = evidence.proof.rewriting if evidence.proof else None
    return result


@to_json.register
def _(evidence: BoundEvidence) -> dict:
    result = {"expr": evidence.expr, "relation": evidence.relation, "bound": evidence.bound,
              "holds": evidence.holds}
    found = evidence.result
    if isinstance(found, Extremum):
        result.update({"extreme": found.value, "extreme_value": decimal(found.number),
                       "where": dict(found.where), "attained": found.attained})
    else:
        result.update({"extreme_value": decimal(found.number), "points": found.points,
                       "where": _point(found.where)})
    return result


@to_json.register
def _(evidence: NormEvidence) -> dict:
    return {"left": evidence.left, "relation": evidence.relation, "right": evidence.right,
            "proof": list(evidence.proof), "points": evidence.points, "digits": evidence.digits, "seed": evidence.seed,
            "closest": {"point": _point(evidence.point), "left": decimal(evidence.left_value),
                        "right": decimal(evidence.right_value)},
            "counterexample": evidence.confirmed}


@to_json.register
def _(evidence: ChainEvidence) -> dict:
    return {"links": [verdict_json(link) for link in evidence.links]}


@to_json.register
def _(evidence: Measurements) -> dict:
    result = {"statement": evidence.statement, "numbers": evidence.numbers}
    if evidence.figure:
        result["figure"] = evidence.figure
    if evidence.series is not None:
        result["series"] = evidence.series
    return result


def verdict_json(verdict: Verdict) -> dict:
    """The verdict's status, method and evidence as JSON-ready data."""
    return {"verdict": str(verdict.status), "method": str(verdict.method), "evidence": to_json(verdict.evidence)}
