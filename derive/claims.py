"""Loading claims: claims modules (.py) and claims files (.toml) by path, the built-in ones, and selection by id.

`load(path)` imports a claims module by its path, a user's own as well as
the built-in ones in `checks/`, which ship inside the installed package as
`derive.checks`; a claims file in the articles' notation is read by
derive.notation.claimsfile. Every claim id must be unique across all files.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from derive.claim import Claim, Source, check_unique, claim  # noqa: F401 - the claims modules' API
from derive.errors import ClaimError
from derive.notation import claimsfile


def load(path) -> list[Claim]:
    """The claims of a claims module (.py) or claims file (.toml), in the order they are defined."""
    path = Path(path)
    if not path.is_file():
        raise ClaimError(f"no claims file at {path}")
    if path.suffix == ".toml":
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
    loaded = [(item, file) for file in files for item in load(file)]
    check_unique((item.id, str(file)) for item, file in loaded)
    return [item for item, _ in loaded]


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
