"""Claims: a source article's statement, how the engine reads it, and the question that checks it.

A claims module defines `SOURCE = Source(...)` and decorates functions with
`@claim(id, where=..., printed=..., reading=...)`; each function returns the
question (Equal, Bound or Experiment) whose computed verdict settles the claim.
`@claim` takes no verdict, so none can be written down. `load(path)` imports
a claims module by its path, a user's own as well as the built-in ones in
`checks/`, which ship inside the installed package as `derive.checks`.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from derive.errors import ClaimError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


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
    if not _ID.match(id):
        raise ClaimError(f"claim id {id!r} must be letters, digits, '.', '_' or '-'")

    def decorate(function) -> Claim:
        found = source or function.__globals__.get("SOURCE")
        if not isinstance(found, Source):
            raise ClaimError(f"claim {id}: no source; define SOURCE = Source(...) in {function.__module__}")
        return Claim(id=id, source=found, where=where, printed=printed, reading=reading, build=function,
                     statement=statement, verbatim=verbatim)

    return decorate


def load(path) -> list[Claim]:
    """The claims of a claims module (.py) or claims file (.toml), in the order they are defined."""
    path = Path(path)
    if not path.is_file():
        raise ClaimError(f"no claims file at {path}")
    if path.suffix == ".toml":
        from derive import claimsfile  # the LaTeX-notation claims files

        return claimsfile.load(path)
    if path.suffix != ".py":
        raise ClaimError(f"{path}: claims files end in .py (Python) or .toml (LaTeX notation)")
    name = f"derive_claims_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ClaimError(f"{path} is not a Python claims module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except ClaimError:
        raise
    except Exception as error:  # noqa: BLE001 - a broken claims file is reported, not a traceback
        raise ClaimError(f"loading {path} failed: {type(error).__name__}: {error}") from error
    found = [value for value in vars(module).values() if isinstance(value, Claim)]
    if not found:
        raise ClaimError(f"{path} defines no claims")
    return found


def builtin_directory() -> Path:
    """The built-in claims: `checks/` of a source checkout, or `derive/checks` when installed."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "checks", package.parent / "checks"):
        if candidate.is_dir() and any(p.suffix in (".py", ".toml") and not p.name.startswith("_")
                                      for p in candidate.iterdir()):
            return candidate
    raise ClaimError("the built-in claims (checks/) are missing from this installation")


def load_all(paths=None) -> list[Claim]:
    """Claims from `paths` (files or folders), default the built-in ones; ids must be unique."""
    files: list[Path] = []
    for path in [Path(p) for p in paths] if paths else [builtin_directory()]:
        if path.is_dir():
            # Per article, the claims written in its notation (.toml) come before those in Python.
            files.extend(sorted((p for p in path.iterdir() if p.suffix in (".py", ".toml")
                                 and not p.name.startswith("_")), key=lambda p: (p.stem, p.suffix != ".toml")))
        else:
            files.append(path)
    claims: list[Claim] = []
    seen: dict = {}
    for file in files:
        for item in load(file):
            if item.id in seen:
                raise ClaimError(f"claim id {item.id} is defined twice: in {seen[item.id]} and {file}")
            seen[item.id] = file
            claims.append(item)
    return claims


def select(claims: list[Claim], patterns) -> list[Claim]:
    """The claims whose id matches one of the patterns (exact id, or a prefix ending in '.' or '*')."""
    if not patterns:
        return claims
    chosen = []
    for pattern in patterns:
        matches = [c for c in claims if c.id == pattern or
                   (pattern.endswith(("*", ".")) and c.id.startswith(pattern.rstrip("*")))]
        if not matches:
            raise ClaimError(f"no claim matches {pattern!r}; ids look like {claims[0].id}" if claims
                             else f"no claim matches {pattern!r}")
        chosen.extend(m for m in matches if m not in chosen)
    return [c for c in claims if c in chosen]
