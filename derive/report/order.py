"""The order of an article's claims in the report: the article's own, read from each claim's `where`.

Claims files list claims in the order they were written down, which is not
always the article's (a claim decided by an experiment lives in a Python
module beside the file). The key below is deterministic: the part of the
article (question, main text or answer N, comments, appendix), then the
equation a claim is at or after ("eq. (4)", "after eq. (2)"), then the first
claim written at the same `where`, then the file order. A claim without an
equation takes the one of the first claim at the same place (its `where` up
to the first comma).
"""
from __future__ import annotations

import math
import re

_EQUATION = re.compile(r"eq(?:uation)?s?\.?\s*\((\d+)\)", re.IGNORECASE)
_ANSWER = re.compile(r"\banswer\s+(\d+)", re.IGNORECASE)


def _part(where: str) -> float:
    lowered = where.lower()
    if lowered.startswith("appendix"):
        return 95
    if lowered.startswith("comment"):
        return 90
    if lowered.startswith("question"):
        return 0
    answer = _ANSWER.search(lowered)
    if answer:
        return 1 + int(answer.group(1))
    if lowered.startswith("best answer") or lowered.startswith("answer"):
        return 2
    return 1


def _equation(where: str) -> float | None:
    found = _EQUATION.search(where)
    if not found:
        return None
    after = where.lower().find("after") != -1 and where.lower().find("after") < found.start()
    return int(found.group(1)) + (0.5 if after else 0)


def article_order(claims: list) -> list:
    """`claims` (of one article) sorted into the article's order; stable, so ties keep the file order."""
    def prefix(where: str) -> str:
        return where.split(",")[0].strip().lower()

    keys = {}
    for index, claim in enumerate(claims):
        anchor = next(k for k, other in enumerate(claims) if other.where == claim.where)
        equation = _equation(claim.where)
        if equation is None:  # "main text, term A_t" is where "main text, ... of eq. (6)" is
            equation = next((_equation(other.where) for other in claims if prefix(other.where) == prefix(claim.where)
                             and _equation(other.where) is not None), None)
        keys[index] = (_part(claim.where), math.inf if equation is None else equation, anchor, index)
    return [claims[index] for index in sorted(keys, key=keys.get)]
