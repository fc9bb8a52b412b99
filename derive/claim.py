"""A claim: a source article's statement, how the engine reads it, and the question that checks it.

A claims module defines `SOURCE = Source(...)` and decorates functions with
`@claim(id, where=..., printed=..., reading=...)`; each function returns the
question (Equal, Bound or Experiment) whose computed verdict settles the claim.
`@claim` takes no verdict, so none can be written down. Claims files in the
articles' notation (derive.notation.claimsfile) make the same Claim objects;
derive.claims loads both.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from derive.errors import ClaimError

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Source:
    """An article: a short key, its title and the site it appeared on (plus author and address if known)."""

    key: str
    title: str
    site: str
    author: str = ""
    url: str = ""


@dataclass(frozen=True)
class Claim:
    """One checked statement of a source article."""

    id: str
    source: Source
    where: str  # where in the article: equation number, section, answer
    printed: str  # the formula as printed (LaTeX), or a faithful transcription of the sentence
    reading: str  # how the engine reads it: which model, which matrix reading, which semantics
    build: Callable  # () -> Equal | Bound | Experiment
    statement: str = ""  # the claim in one sentence, in our words, when the formula alone is not enough
    verbatim: bool = True  # False when `printed` transcribes words rather than quotes a formula
    model: object = None  # the model a claims file names (None: a claims module's, or none), for the report
    spec: object = None  # a claims file's parsed entry (derive.notation.statement.Spec): what a correction edits

    def question(self):
        """Build the claim's question; any failure names the claim."""
        try:
            return self.build()
        except ClaimError:
            raise
        except Exception as error:  # noqa: BLE001 - re-raised with the claim named
            raise ClaimError(f"claim {self.id}: building its question failed: {error}") from error


def claim(id: str, *, where: str, printed: str, reading: str, statement: str = "", verbatim: bool = True,
          source: Source | None = None):
    """Register the decorated function as the question of claim `id` (source: the module's SOURCE)."""
    if not ID.match(id):
        raise ClaimError(f"claim id {id!r} must be letters, digits, '.', '_' or '-'")

    def decorate(function) -> Claim:
        found = source or function.__globals__.get("SOURCE")
        if not isinstance(found, Source):
            raise ClaimError(f"claim {id}: no source; define SOURCE = Source(...) in {function.__module__}")
        return Claim(id=id, source=found, where=where, printed=printed, reading=reading, build=function,
                     statement=statement, verbatim=verbatim)

    return decorate


def check_unique(defined: Iterable[tuple[str, str]], error: type = ClaimError) -> None:
    """Every claim id once: `defined` gives (id, where it is defined); the first id seen twice raises `error`."""
    seen: dict = {}
    for claim_id, where in defined:
        if claim_id in seen:
            raise error(f"claim id {claim_id} is defined twice: in {seen[claim_id]} and {where}")
        seen[claim_id] = where
