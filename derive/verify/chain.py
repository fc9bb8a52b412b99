"""A chain of bounds a ≤ b ≤ c, as papers print them: each link decided on its own, the chain by all of them.

The chain holds when every link is proved; one refuted link refutes it; otherwise it is undecided (or, for
scalar links decided by a numeric search, agrees numerically), and the evidence holds each link's verdict.
"""
from __future__ import annotations

from dataclasses import dataclass

from derive.evidence import ChainEvidence, Verdict
from derive.rules import Method, Status
from derive.verify.questions import Settings, verify


@dataclass(frozen=True)
class Chain:
    """Links (Bound or NormBound questions), each comparing one member of the printed chain with the next."""

    links: tuple
    relations: tuple  # the printed relation of each link, e.g. ("<=", "<")


@verify.register
def _(question: Chain, settings: Settings = Settings()) -> Verdict:
    verdicts = tuple(verify(link, settings) for link in question.links)
    statuses = {v.status for v in verdicts}
    if Status.DIFFERS in statuses:
        status = Status.DIFFERS
    elif Status.UNDECIDED in statuses:
        status = Status.UNDECIDED
    else:
        status = Status.AGREES
    method = Method.SYMBOLIC if all(v.method == Method.SYMBOLIC for v in verdicts) else Method.NUMERIC
    return Verdict(status, method, ChainEvidence(verdicts))
