"""Where things stand in a claims file's text: the line of a key, of a claim's table, of a formula's character.

Every error about a claims file names the file, the claim and a line (and a column with a caret when it is
inside a formula). tomllib gives values without positions, so a value is found again in the text: a key's
`key =` line in the claim's own [[claim]] table first, then among the file's top-level entries (the defaults
every claim inherits, such as a top-level [define] table), then anywhere.
"""
from __future__ import annotations

import re

from derive.errors import ClaimsFileError, ModelSpecError, NotationError
from derive.notation import parser

def anchor(text: str, claim_id: str) -> int:
    """Where a claim's table starts in the file (its quoted id), 0 when it cannot be found."""
    return max(text.find(f'"{claim_id}"'), text.find(f"'{claim_id}'"), 0)


def claim_span(text: str, claim_id: str) -> tuple[int, int] | None:
    """(start, end) of the claim's [[claim]] table in the text, None when its id is not found quoted."""
    at = max(text.find(f'"{claim_id}"'), text.find(f"'{claim_id}'"))
    if at < 0:
        return None
    start = text.rfind("[[claim]]", 0, at)
    end = text.find("[[claim]]", at)
    return max(start, 0), end if end >= 0 else len(text)


def _regions(text: str, claim_id: str | None) -> list[tuple[int, int]]:
    """Where to look for a claim's entry, in order: its own table, the file's top-level part, the whole file."""
    regions = []
    span = claim_span(text, claim_id) if claim_id else None
    if span:
        regions.append(span)
    first = text.find("[[claim]]")
    regions.append((0, first if first >= 0 else len(text)))
    regions.append((0, len(text)))
    return regions


def _key_pattern(key: str) -> re.Pattern:
    spelled = re.escape(key)
    return re.compile(rf"""^[ \t]*(\[{spelled}\]|("{spelled}"|'{spelled}'|{spelled})[ \t]*=)""", re.MULTILINE)


def key_offset(text: str, key: str, claim_id: str | None = None) -> int | None:
    """Offset of the line `key = ...` (or of the table [key]) the claim reads; None when not found."""
    pattern = _key_pattern(key)
    for start, end in _regions(text, claim_id):
        match = pattern.search(text, start, end)
        if match:
            return match.start() + len(match.group(0)) - len(match.group(0).lstrip())
    return None


def line_of(text: str, claim_id: str | None, key: str) -> int | None:
    """The line of `key = ...` in the claim's table, or of the file's own `key` (or [key] table) it inherits."""
    found = key_offset(text, key, claim_id)
    return None if found is None else parser.locate(text, found)[0]


def claim_line(text: str, claim_id: str) -> int | None:
    """The line of the claim's `id = ...`."""
    at = anchor(text, claim_id)
    return parser.locate(text, at)[0] if at else None


_KEY_LABELS = ("define key ", "aliases key ", "domain key ")  # the formula is a key of a table
_ENTRY_LABELS = {"define ": "define", "alias ": "aliases", "variable": "variables", "loss": "loss", "dots": "dots",
                 "latex": "latex"}  # the formula is a value: the table or list it stands in


def _label_key(label: str) -> str | None:
    """The TOML key whose value a formula's label names: "define A_t" -> A_t, "latex" -> latex; None for a key."""
    if label.startswith(_KEY_LABELS):
        return None
    for prefix in ("define ", "alias "):
        if label.startswith(prefix):
            return label[len(prefix):]
    if label.startswith("variable"):
        return "variables"
    return label.split(" ")[0] or None


def _table_of(label: str) -> str | None:
    """The claim's key a formula belongs to: "define key A" and "define A" -> define, "loss of" -> loss."""
    for prefix in _KEY_LABELS:
        if label.startswith(prefix):
            return prefix.split(" ")[0]
    return next((table for prefix, table in _ENTRY_LABELS.items() if label.startswith(prefix)), None)


def quoted_after(text: str, formula: str, start: int) -> int:
    """Where a formula's text starts after `start`: as a TOML string right after its opening quote (so that a
    short formula is not found inside another line), else anywhere; -1 when it is not there."""
    if not formula:
        return -1
    quoted = [text.find(quote + formula, start) for quote in ("'", '"')]  # a triple quote ends with one too
    quoted = [at + 1 for at in quoted if at >= 0]
    return min(quoted) if quoted else text.find(formula, start)


def _search(text: str, pattern: re.Pattern, claim_id: str | None):
    for start, end in _regions(text, claim_id):
        match = pattern.search(text, start, end)
        if match:
            return match
    return None


def _entry(key: str, value: str) -> str:
    """A regular expression of `key = <value>` in a table or an inline table."""
    spelled = re.escape(key)
    return rf"""(?:^|[{{,])[ \t]*("{spelled}"|'{spelled}'|{spelled})[ \t]*=[ \t]*{value}"""


def formula_offset(text: str, formula: str, label: str, claim_id: str | None) -> int:
    """Where a formula's text starts in the file, -1 when it is not there verbatim (a TOML string with escapes).

    A string holding the formula on the line of its key is looked for in the claim's table, then among the
    top-level entries (so that a top-level `define` is placed at its own line, not at a claim's formula); a
    table's key (define key A_t) where it is written as a key; failing that, the formula's first quoted
    occurrence after the claim's id.
    """
    if not formula:
        return -1
    if label.startswith(_KEY_LABELS):
        match = _search(text, re.compile(rf"""(?:^|[{{,])[ \t]*["']?({re.escape(formula)})["']?[ \t]*=""",
                                         re.MULTILINE), claim_id)
        if match:
            return match.start(1)
    key = _label_key(label)
    if key:
        match = _search(text, re.compile(_entry(key, r"""("{3}\n?|'{3}\n?|"|')""") + re.escape(formula),
                                         re.MULTILINE), claim_id)
        if match:
            return match.end() - len(formula)
    return quoted_after(text, formula, anchor(text, claim_id) if claim_id else 0)


def where(error: NotationError, text: str, name: str, claim_id: str | None) -> str:
    """"file:line:column" of a formula's error in the file; when its text is not there verbatim (a TOML string
    with escapes), the line of its entry (or of its table, or of the claim) and the place within the formula."""
    formula = error.formula
    found = formula_offset(text, formula.text, formula.label, claim_id)
    if found >= 0:
        return "%s:%d:%d" % (name, *parser.locate(text, found + (error.position or 0)))
    key = _label_key(formula.label)
    string = _search(text, re.compile(_entry(key, '"(?!")'), re.MULTILINE), claim_id) if key else None
    raw = _in_basic_string(text, string.end(), error.position or 0) if string else None
    if raw is not None:
        return "%s:%d:%d" % (name, *parser.locate(text, raw))
    line, column = parser.locate(formula.text, error.position or 0)
    table = _table_of(formula.label)
    at = (string and parser.locate(text, string.start())[0]) or (table and line_of(text, claim_id, table)) or \
        (claim_id and claim_line(text, claim_id)) or 1
    return f"{name}:{at}, {formula.label} line {line}, column {column}"


_ESCAPE_LENGTH = {"u": 6, "U": 10}


def _in_basic_string(text: str, raw: int, position: int) -> int | None:
    """The file offset of character `position` of a one-line TOML basic string with escapes ("\\frac{...}")
    whose text starts at `raw`; None when the string ends first."""
    decoded = 0
    while raw < len(text) and text[raw] not in '"\n':
        if decoded >= position:
            return raw
        raw += _ESCAPE_LENGTH.get(text[raw + 1:raw + 2], 2) if text[raw] == "\\" else 1
        decoded += 1
    return raw if decoded >= position else None


def located(error: NotationError, text: str, name: str, claim_id: str) -> NotationError:
    """The error with the file, the claim, line and column, and the formula with a caret."""
    formula = error.formula
    if formula is None or error.position is None:
        line = claim_line(text, claim_id)
        return type(error)(f"{name}{f':{line}' if line else ''}: claim {claim_id}: {error.message}",
                           error.position, formula)
    message = (f"{where(error, text, name, claim_id)}: claim {claim_id} ({formula.label}): "
               f"{error.message}\n{parser.caret(formula.text, error.position)}")
    return type(error)(message, error.position, formula)


def relocated(error: ClaimsFileError, text: str, name: str, claim_id: str, key: str | None) -> ClaimsFileError:
    """A ClaimsFileError about one of a claim's entries, with the file and the entry's line (or the claim's)."""
    message = str(error)
    if message.startswith(name + ":") or message.startswith(name + " "):
        return error
    line = (line_of(text, claim_id, key) if key else None) or claim_line(text, claim_id)
    if not message.startswith(f"claim {claim_id}"):
        message = f"claim {claim_id}: {message}"
    return type(error)(f"{name}{f':{line}' if line else ''}: {message}")


def located_in_model(error, text: str, name: str, start: int) -> str:
    """A [model] table's error with the file, line and column: in an equation, or at the `state`, `inputs` or
    `truncate` entry it is about, with a caret; `start` is where the table's claim starts (0: the file's)."""
    if isinstance(error, ModelSpecError):
        key = re.compile(r"\b%s\s*=" % re.escape(error.key)).search(text, start) if error.key else None
        if key is None:
            return f"{name}: model: {error.message}"
        after = re.compile(r"\n\s*(\w+\s*=|\[)").search(text, key.end())  # the entry ends where the next starts
        end = after.start() if after else len(text)
        quoted = [text.find(q + error.value + q, key.end(), end) for q in ('"', "'")] if error.value else []
        found = min((f + 1 for f in quoted if f >= 0), default=key.start())
        line, column = parser.locate(text, found)
        return f"{name}:{line}:{column}: model ({error.key}): {error.message}\n{parser.caret(text, found)}"
    formula = error.formula
    if formula is None or error.position is None:
        return f"{name}: model: {error.message}"
    found = quoted_after(text, formula.text, start)
    if found >= 0:
        place = "%s:%d:%d" % (name, *parser.locate(text, found + error.position))
    else:
        line, column = parser.locate(formula.text, error.position)
        place = f"{name}, {formula.label} line {line}, column {column}"
    return f"{place}: model ({formula.label}): {error.message}\n{parser.caret(formula.text, error.position)}"


def refused(error: Exception) -> str:
    """Why SymPy refused what the grammar allowed, in words, without the exception's class (not a crash)."""
    if isinstance(error, RecursionError):
        return "it is nested too deeply to evaluate"
    if isinstance(error, ZeroDivisionError):
        return "it divides by zero"
    detail = " ".join(str(error).split())
    detail = detail if len(detail) <= 120 else detail[:117] + "..."
    return f"SymPy cannot form it ({detail})" if detail else "SymPy cannot form it"
