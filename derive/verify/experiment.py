"""Experiments: a statement about growth or decay, decided by the numbers measured in this run."""
from __future__ import annotations

import inspect

from derive.budget import stage
from derive.evidence import Measurements, Verdict
from derive.rules import Method, Status
from derive.verify.questions import Experiment, Settings, verify


@verify.register
def _(question: Experiment, settings: Settings = Settings()) -> Verdict:
    stage("experiment")
    accepts_quick = "quick" in inspect.signature(question.run).parameters
    numbers = dict(question.run(settings.seed, quick=settings.quick) if accepts_quick else question.run(settings.seed))
    series = numbers.pop("series", None)
    holds = bool(question.holds(numbers))
    evidence = Measurements(question.statement, numbers, question.figure, series)
    return Verdict(Status.AGREES if holds else Status.DIFFERS, Method.EXPERIMENT, evidence)
