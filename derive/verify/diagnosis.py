"""Diagnosis: for a claim that differs or agrees only when truncated, where it goes wrong and how to fix it.

`diagnose` aligns the terms of the hand formula with those of the exact
result (derive.verify.alignment), searches the smallest edit of the claim's
own formula that makes it agree (derive.verify.repair, for claims written in
the notation) and says it in one line; an experiment's diagnosis comes from
the numbers it measured. Everything here is computed from the claim and its
verdict; nothing is written down.
"""
from __future__ import annotations

import sympy

from derive.evidence import (BoundCounterexample, BoundEvidence, Correction, Diagnosis, EqualAtPoints, Extremum,
                             Measurements, Verdict, decimal)
from derive.rules import Method, Semantics, Status
from derive.verify.alignment import align
from derive.verify.questions import Bound, Equal, Experiment, Settings
from derive.verify.repair import repair

REPAIR_SHARE = 3.0  # processor seconds of the repair, per second of the proof budget


def _failing_entry(question: Equal, evidence: EqualAtPoints) -> int:
    """The first entry of a stacked comparison that differs from the full result (0 for a single one)."""
    entries = evidence.comparison(Semantics.FULL).entries
    return next((k for k, entry in enumerate(entries) if not entry.equal), 0)


def _entry(value, k: int):
    return value[k] if isinstance(value, sympy.MatrixBase) and value.shape[1] == 1 and len(value) > 1 else value


def _terms(question: Equal, evidence: EqualAtPoints, aliases: dict) -> tuple:
    k = _failing_entry(question, evidence)
    return align(_entry(question.hand, k), _entry(question.full, k), question.model, aliases)


def _entries_line(evidence: EqualAtPoints) -> str:
    """'agrees for k = 2; differs for k = 3, 4' from a stacked comparison's entries."""
    entries = evidence.comparison(Semantics.FULL).entries
    if len(entries) < 2 or all(not e.equal for e in entries):
        return ""
    good = [e.label for e in entries if e.equal]
    bad = [e.label for e in entries if not e.equal]
    return f"agrees for {', '.join(good)}; differs for {', '.join(bad)}"


def _from_terms(terms: tuple) -> str:
    wrong = [t for t in terms if t.kind == "wrong factor"]
    missing = [t for t in terms if t.kind == "missing"]
    extra = [t for t in terms if t.kind == "extra"]
    if wrong and not missing and not extra:
        return "a wrong factor: " + "; ".join(dict.fromkeys(t.note for t in wrong))
    parts = []
    if missing:
        paths = list(dict.fromkeys(t.note for t in missing if t.note))
        parts.append(f"lacks {len(missing)} term{'s' if len(missing) > 1 else ''} of the exact result"
                     + (f" ({', '.join(paths)})" if paths else ""))
    if wrong:
        parts.append(f"{len(wrong)} term{'s' if len(wrong) > 1 else ''} with a wrong factor")
    if extra:
        parts.append(f"{len(extra)} term{'s' if len(extra) > 1 else ''} the exact result does not have")
    return "; ".join(parts)


def _bound_summary(evidence: BoundEvidence) -> str:
    found = evidence.result
    if isinstance(found, Extremum):
        kind = "supremum" if found.upper else "infimum"
        how = "attained" if found.attained else "approached"
        return f"the exact {kind} is ${found.value}$ ({how}), beyond the bound ${evidence.bound}$"
    if isinstance(found, BoundCounterexample):
        where = ", ".join(f"${k} = {decimal(v)}$" for k, v in found.point[:4])
        return f"the bound fails at {where}{', ...' if len(found.point) > 4 else ''}: the expression is " \
               f"{decimal(found.value)}"
    return ""


def _summary(question, verdict: Verdict, terms: tuple, correction: Correction | None) -> str:
    if correction is not None:
        line = correction.edit
        if correction.status == Status.TRUNCATED:
            line += " (then it agrees when the gates are held constant)"
        return line
    evidence = verdict.evidence
    if isinstance(question, Bound) and isinstance(evidence, BoundEvidence):
        return _bound_summary(evidence)
    line = _from_terms(terms)
    if verdict.status == Status.TRUNCATED:
        paths = list(dict.fromkeys(t.note for t in terms if t.kind == "missing" and t.note))
        line = "holds only with the gates held constant (the truncated gradient)" + \
            (f"; the full derivative adds {', '.join(paths)}" if paths else "")
    if isinstance(evidence, EqualAtPoints):
        entries = _entries_line(evidence)
        line = "; ".join(part for part in (line, entries) if part)
    return line or "differs at the counterexample point"


def _experiment(question: Experiment, evidence: Measurements) -> Diagnosis:
    summary = question.explain(evidence.numbers) if question.explain else \
        "the measured numbers do not meet the prediction"
    correction = None
    if question.correction is not None:
        printed, statement, holds = question.correction
        status = Status.AGREES if holds(evidence.numbers) else Status.DIFFERS
        if status == Status.AGREES:  # never offer a correction the numbers contradict
            correction = Correction(printed, statement, status, Method.EXPERIMENT, "statement")
    return Diagnosis(summary, (), correction, 0 if correction is None else 1,
                     "" if correction else "no corrected prediction that the measured numbers meet")


def diagnose(claim, question, verdict: Verdict, settings: Settings = Settings()) -> Diagnosis | None:
    """The diagnosis of a claim that differs or agrees only when truncated (None for any other verdict)."""
    if verdict.status not in (Status.DIFFERS, Status.TRUNCATED):
        return None
    if isinstance(question, Experiment):
        return _experiment(question, verdict.evidence)
    spec = getattr(claim, "spec", None)
    aliases = spec.aliases if spec is not None else {}
    terms = _terms(question, verdict.evidence, aliases) if isinstance(question, Equal) else ()
    correction, tried, note = None, 0, ""
    if spec is not None:
        model = getattr(question, "model", None)
        correction, tried = repair(spec, settings, settings.budget * REPAIR_SHARE, bool(model and model.n > 1))
        if correction is None:
            note = (f"no edit of one or two symbols of the formula (among the {tried} verified) makes it agree"
                    if tried else "no candidate edit could be verified")
    else:
        note = "the claim is written in Python (checks/), not in the notation: no edit of its formula is searched"
    return Diagnosis(_summary(question, verdict, terms, correction), terms, correction, tried, note)
