"""Verification: `verify(question, settings)` computes a Verdict with its evidence for Equal, Bound, NormBound, Chain
and Experiment.

Each question type has its module (equal, bound, norms, chain, experiment) registering its
verifier with the dispatch in derive.verify.questions.
"""
from derive.verify import bound, chain, equal, experiment, norms  # noqa: F401 - register the verifiers
from derive.verify.chain import Chain
from derive.verify.norms import NormBound
from derive.verify.questions import Bound, Equal, Experiment, Settings, verify

__all__ = ["verify", "Settings", "Equal", "Bound", "NormBound", "Chain", "Experiment"]
