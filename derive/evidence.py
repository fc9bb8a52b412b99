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
from decimal import Decimal
from fractions import Fraction

import mpmath

from derive.rules import Method, Semantics, Status

ERROR_DIGITS = 3  # significant digits of relative errors and tolerances
VALUE_DIGITS = 8  # significant digits of values at a point


def number(value):
    """Any number evidence holds (mpf, int, float, Fraction, Decimal) as an mpf at the current precision."""
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    if isinstance(value, Decimal):
        return mpmath.mpf(str(value))
    return mpmath.mpf(value)


def decimal(value, digits: int = VALUE_DIGITS) -> str:
    """A number as a deterministic decimal string (mpmath's shortest form at `digits` digits)."""
    return mpmath.nstr(number(value), digits)


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
    """A proof: the exact supremum (or infimum) of the bounded expression, where it is attained or approached."""

    upper: bool  # True: a supremum
    value: str  # LaTeX
    number: object
    where: tuple  # ((symbol as LaTeX, value as LaTeX), ...)
    attained: bool


@dataclass(frozen=True)
class Certificate:
    """Branch and bound with validated (ball) arithmetic: every box of a cover of the domain proved the bound."""

    boxes: int
    margin: object  # a validated lower bound of how far the bound holds, over the whole domain
    tightest: tuple  # the boxes with the smallest margins: (((symbol as LaTeX, low, high), ...), ...)


@dataclass(frozen=True)
class BoundCounterexample:
    """A point where the bound fails, confirmed with ball arithmetic and evaluated at the working precision."""

    point: tuple  # ((symbol as LaTeX, value), ...)
    value: object  # the bounded expression there
    bound: object  # the bound there
    violation: object  # by how much the bound fails
    found_by: str  # "sampling", "local optimisation", "branch and bound"


@dataclass(frozen=True)
class Unresolved:
    """Nothing decided the bound within its budget (`BoundEvidence.tried` says what ran)."""

    boxes: int = 0


@dataclass(frozen=True)
class BoundEvidence:
    """A bound `expr relation bound` over its domain, what decided it, and on which form and ranges."""

    expr: str
    relation: str
    bound: str
    holds: bool | None  # None: undecided
    result: Extremum | Certificate | BoundCounterexample | Unresolved
    form: str = ""  # the form of the expression that was decided, in words
    ranges: tuple = ()  # the ranges of model quantities used, LaTeX (σ-gates in (0, 1), h in (−1, 1), ...)
    tried: tuple = ()  # ((method, why it did not decide), ...) before the decision


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


# -- limits ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutOfBudget:
    """The claim was stopped before a verdict: `stage` (reading, numeric evaluation, proof, ...; "" when it was
    not started) ran out of
    `resource` ("time", "memory", "the run's deadline", or a refusal such as "size"); `limit` says the limit,
    `note` anything more (how a worker died, what a guard measured)."""

    stage: str
    resource: str
    limit: str = ""
    note: str = ""

    def sentence(self) -> str:
        """The evidence in words, without a final full stop."""
        where = f"stopped during the {self.stage}" if self.stage else "not started"
        text = f"{where}: {_RAN_OUT.get(self.resource, self.resource)}"
        if self.limit:
            text += f" ({self.limit})"
        return text + (f"; {self.note}" if self.note else "")


_RAN_OUT = {"time": "the claim's time budget ran out", "memory": "the claim's memory limit was reached",
            "deadline": "the run's deadline passed", "died": "the process verifying it died",
            "refused": "derive refuses to compute this within its limits"}


# -- diagnosis -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TermPair:
    """One term of the hand formula against the exact result, after both are expanded into sums of products.

    kind: "agrees" (the same term on both sides), "wrong factor" (the same term but for the factors
    named in `note`), "missing" (a term of the exact result the hand formula lacks; `note` names its
    path) or "extra" (a term the hand formula has and the exact result does not). Terms are LaTeX in
    the claim's own notation.
    """

    kind: str
    hand: str = ""
    exact: str = ""
    note: str = ""
    wrong_factors: tuple = ()  # of a "wrong factor" term: the hand's own factors (LaTeX, the claim's notation)
    missing_factors: tuple = ()  # and the exact term's, in their place


@dataclass(frozen=True)
class Correction:
    """The claim's own formula with the smallest edit that makes it agree, re-verified.

    `latex` is the corrected formula (of the claim, or of the defined term `target` names);
    `changed` the (start, end) of the new text in it, for highlighting; `original` the text it replaced.
    """

    latex: str
    edit: str  # the edit in words: "σ'(…) should be tanh'(…) in D_t"
    status: Status  # its own verdict, computed
    method: Method
    target: str = "latex"  # "latex", or "define D_t" for a defined term
    changed: tuple = ()  # ((start, end), ...) in `latex`
    original: str = ""


@dataclass(frozen=True)
class Diagnosis:
    """Where a derivation goes wrong and how to fix it: a one-line summary, the aligned terms, a correction."""

    summary: str
    terms: tuple = ()  # TermPair, ...
    correction: Correction | None = None
    tried: int = 0  # candidate edits verified
    note: str = ""  # e.g. why no correction is offered


@dataclass(frozen=True)
class Verdict:
    """The computed answer: status, the method that decided it, the evidence, and where it is wrong."""

    status: Status
    method: Method
    evidence: object
    diagnosis: Diagnosis | None = None


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
    elif isinstance(found, Certificate):
        result["certificate"] = {"boxes": found.boxes, "margin": decimal(found.margin, ERROR_DIGITS),
                                 "tightest": [{symbol: [_end(low), _end(high)] for symbol, low, high in box}
                                              for box in found.tightest]}
    elif isinstance(found, BoundCounterexample):
        result["counterexample"] = {"point": _point(found.point), "value": decimal(found.value),
                                    "bound": decimal(found.bound), "violation": decimal(found.violation, ERROR_DIGITS),
                                    "found_by": found.found_by}
    result.update({"form": evidence.form, "ranges": list(evidence.ranges),
                   "tried": [{"method": method, "why_not": why} for method, why in evidence.tried]})
    return result


def _end(value) -> str:
    return decimal(value)


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
def _(evidence: OutOfBudget) -> dict:
    return {"stage": evidence.stage, "ran_out": evidence.resource, "limit": evidence.limit, "note": evidence.note,
            "why": evidence.sentence()}


@to_json.register
def _(evidence: Measurements) -> dict:
    result = {"statement": evidence.statement, "numbers": evidence.numbers}
    if evidence.figure:
        result["figure"] = evidence.figure
    if evidence.series is not None:
        result["series"] = evidence.series
    return result


@to_json.register
def _(diagnosis: Diagnosis) -> dict:
    correction = diagnosis.correction
    return {"summary": diagnosis.summary,
            "terms": [{"kind": t.kind, "hand": t.hand, "exact": t.exact, "note": t.note} for t in diagnosis.terms],
            "correction": None if correction is None else {
                "latex": correction.latex, "verdict": str(correction.status), "edit": correction.edit}}


def verdict_json(verdict: Verdict) -> dict:
    """The verdict's status, method and evidence as JSON-ready data (a link of a chain of bounds)."""
    return {"verdict": str(verdict.status), "method": str(verdict.method), "evidence": to_json(verdict.evidence)}


def diagnosis_json(verdict: Verdict) -> dict | None:
    """The "diagnosis" entry of a claim in report.json and `check --json` (these key names are a contract)."""
    return None if verdict.diagnosis is None else to_json(verdict.diagnosis)
