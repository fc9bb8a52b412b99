"""Verification: `verify(question, settings)` computes a Verdict with its evidence for Equal, Bound and Experiment.

Each question type has its module (equal, bound, experiment) registering its
verifier with the dispatch in derive.verify.questions.
"""
from derive.verify import bound, equal, experiment  # noqa: F401 - register the verifiers
from derive.verify.questions import Bound, Equal, Experiment, Settings, verify

__all__ = ["verify", "Settings", "Equal", "Bound", "Experiment"]
