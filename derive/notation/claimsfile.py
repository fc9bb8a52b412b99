"""Claims files: TOML holding claims in the articles' LaTeX notation, read into derive.claims.Claim objects.

    [source]
    key = "mine"
    title = "My LSTM tutorial"
    site = "my blog"

    [[claim]]
    id = "mine.forget"
    where = "eq. (3)"
    model = { name = "lstm_forget", n = 1, bias = false }
    latex = '''\\frac{\\partial c_t}{\\partial c_{t-1}} = f_t'''
    expect = "agrees-when-truncated"

A `model` is a built-in name with its options, or the recurrence itself
(`equations`, `state`, `inputs`, `truncate`: derive.notation.recurrence).
Top-level `model`, `semantics`, `aliases`, `define`, `variables`, `domain` and
`values` are defaults for every claim; a claim's own keys override them (its
tables key by key). The file is read with tomllib and every formula with
derive.parser: nothing in it is ever executed. Limits: a file of at most
LARGEST_FILE bytes and MOST_CLAIMS claims, formulas of at most
derive.parser.LONGEST_FORMULA characters, models of at most MOST_UNITS units;
anything larger is refused before any work. The `printed` formula of each
Claim is the very text that was parsed.
"""
from __future__ import annotations

import difflib
import functools
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from derive import models
from derive.claim import ID, Claim, Source, check_unique
from derive.errors import ClaimError, ClaimsFileError, InputTooLargeError, ModelError, ModelSpecError, NotationError
from derive.notation import parser, recurrence
from derive.notation.locations import (anchor, claim_line, key_offset, line_of, located, located_in_model, refused,
                                       relocated)
from derive.notation.statement import Spec, definition, read
from derive.notation.symbols import written_key
from derive.rules import Semantics, Status

LARGEST_FILE = 256 * 1024  # bytes
MOST_CLAIMS = 200
MOST_UNITS = 3
MOST_VALUES = 30  # numbers in one `values` list
EXPECTATIONS = tuple(str(status) for status in Status)
ENGINE_READINGS = "Read by the engine:"  # begins the readings the engine chose, appended to a claim's reading
SEMANTICS = tuple(str(semantics) for semantics in Semantics)
_SHARED = {"model", "semantics", "aliases", "define", "variables", "domain", "values"}
FILE_KEYS = {"source", "claim"} | _SHARED
CLAIM_KEYS = {"id", "where", "latex", "reading", "statement", "verbatim", "expect", "dots", "loss"} | _SHARED
SOURCE_KEYS = {"key", "title", "site", "author", "url"}


@dataclass
class Entry:
    """One claim of a file: the Claim when it could be read, else the error saying why; its `expect`."""

    id: str
    claim: Claim | None = None
    error: ClaimError | None = None
    expect: str | None = None


@dataclass
class ClaimsFile:
    name: str  # the path, or "<stdin>"
    source: Source
    entries: list = field(default_factory=list)


def _type(value, kind, what: str):
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ClaimsFileError(f"{what} must be a {names.replace('str', 'string').replace('dict', 'table')}, "
                              f"got {type(value).__name__}")
    return value


def _keys(table: dict, allowed: set, what: str, text: str = "", start: int = 0, inside: str = "") -> None:
    """Refuse unknown keys; with the file's text, at the line of the first (looked for from `start`)."""
    unknown = sorted(set(table) - allowed)
    if unknown:
        found = key_offset(text[start:], unknown[0]) if text else None
        line = f":{parser.locate(text, start + found)[0]}" if found is not None else ""
        raise ClaimsFileError(f"{what}{line}: {inside + ': ' if inside else ''}unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                              f"allowed: {', '.join(sorted(allowed))}")


@functools.cache
def _model(name: str, options: tuple) -> models.Model:
    return models.build(name, dict(options))


def model_from(spec, what: str) -> models.Model | None:
    """The model a claims file asks for: a builder name, a table with `name` and the builder's options, a table
    with `equations` (a recurrence the file defines, derive.notation.recurrence), or "none".

    The options are checked by derive.models (built-ins) and derive.notation.recurrence (equations); the claims
    file adds only its size limit. Bad equations raise NotationError, located by the caller.
    """
    if spec is None or spec == "none":
        return None
    if isinstance(spec, str):
        spec = {"name": spec}
    _type(spec, dict, what)
    options = {key: value for key, value in spec.items() if key != "name"}
    for key in ("n", "m"):
        value = options.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= MOST_UNITS:
            raise InputTooLargeError(f"{what}.{key} = {value}: symbolic models have 1 to {MOST_UNITS} units")
    try:
        if "equations" in spec:
            return recurrence.model_of(spec, what)
        if not all(isinstance(value, (bool, int, float, str)) for value in options.values()):
            return models.build(spec.get("name"), options)  # a list or a table: build says which option is wrong
        return _model(spec.get("name"), tuple(sorted(options.items(), key=lambda item: item[0])))
    except ModelError as error:
        name = spec.get("name")
        near = difflib.get_close_matches(name, list(models.BUILDERS), n=3, cutoff=0.5) if isinstance(name, str) else []
        hint = f" (did you mean {' or '.join(near)}?)" if near and name not in models.BUILDERS else ""
        raise ClaimsFileError(f"{what}: {error}{hint}") from None


def _text(data: bytes, name: str) -> str:
    if len(data) > LARGEST_FILE:
        raise InputTooLargeError(f"{name} is larger than {LARGEST_FILE} bytes; refused")
    try:
        return data.decode("utf-8-sig")  # a byte-order mark, as some editors write, is not part of the text
    except UnicodeDecodeError as error:
        before = data[:error.start]
        line, column = before.count(b"\n") + 1, len(before) - before.rfind(b"\n")
        raise ClaimsFileError(f"{name}:{line}:{column}: not UTF-8 text: byte {data[error.start]:#04x} cannot be "
                              f"decoded") from None


def read_path(path) -> ClaimsFile:
    path = Path(path)
    try:
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise ClaimsFileError(f"cannot read {path}: it is a folder, not a claims file")
        if not stat.S_ISREG(status.st_mode):  # a FIFO or a device would block or never end: refused unopened
            raise ClaimsFileError(f"cannot read {path}: not a regular file (a pipe or a device); give a file, "
                                  f"or pipe it into --stdin")
        if status.st_size > LARGEST_FILE:
            raise InputTooLargeError(f"{path} is larger than {LARGEST_FILE} bytes; refused")
        with path.open("rb") as stream:
            data = stream.read(LARGEST_FILE + 1)
    except OSError as error:
        raise ClaimsFileError(f"cannot read {path}: {error.strerror or error}") from None
    return read_text(_text(data, str(path)), str(path))


def read_bytes(data: bytes, name: str = "<stdin>") -> ClaimsFile:
    return read_text(_text(data, name), name)


def read_text(text: str, name: str) -> ClaimsFile:
    """A claims file's claims; file-level problems raise ClaimsFileError, a claim's own problems stay in its Entry."""
    if len(text.encode("utf-8")) > LARGEST_FILE:
        raise InputTooLargeError(f"{name} is larger than {LARGEST_FILE} bytes; refused")
    text = text.removeprefix("\ufeff")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        place = re.search(r"\(at (line (\d+), column (\d+)|end of document)\)$", str(error))
        message = str(error)[:place.start()].strip() if place else str(error)
        line, column = (place.group(2), place.group(3)) if place and place.group(2) else parser.locate(text, len(text))
        raise ClaimsFileError(f"{name}:{line}:{column}: not valid TOML: {message}") from None
    except RecursionError:
        raise ClaimsFileError(f"{name} is nested too deeply to be a claims file") from None
    _keys(document, FILE_KEYS, name, text)
    source = _source(document.get("source"), name, text)
    claims = document.get("claim")
    if not isinstance(claims, list) or not claims or not all(isinstance(c, dict) for c in claims):
        raise ClaimsFileError(f"{name} has no claims: add [[claim]] tables")
    if len(claims) > MOST_CLAIMS:
        raise InputTooLargeError(f"{name} has {len(claims)} claims; the limit is {MOST_CLAIMS}")
    result = ClaimsFile(name, source)
    places = []
    starts = [m.start() for m in re.finditer(r"^[ \t]*\[\[[ \t]*claim[ \t]*\]\]", text, re.MULTILINE)]
    for index, table in enumerate(claims, 1):
        start = starts[index - 1] if len(starts) == len(claims) else 0
        what = f"{name}:{parser.locate(text, start)[0]}: claim {index}" if start else f"{name}, claim {index}"
        places.append(what.replace(": claim", ", claim"))
        _keys(table, CLAIM_KEYS, name, text, start, f"claim {index}")
        claim_id = _type(table.get("id"), str, f"{what}: id")
        if not ID.match(claim_id):
            raise ClaimsFileError(f"{what}: id {claim_id!r} must be letters, digits, '.', '_' or '-'")
    check_unique(((table["id"], place) for table, place in zip(claims, places)), ClaimsFileError)
    for table in claims:
        claim_id = table["id"]
        merged = _merge(document, table)
        expect = table.get("expect")
        if expect is not None and expect not in EXPECTATIONS:
            raise relocated(ClaimsFileError(f"claim {claim_id}: expect must be one of {', '.join(EXPECTATIONS)}, "
                                            f"got {expect!r}"), text, name, claim_id, "expect")
        entry = Entry(claim_id, expect=expect)
        try:
            entry.claim = _claim(merged, claim_id, source, text, name, "model" in table)
        except NotationError as error:
            entry.error = located(error, text, name, claim_id)
        result.entries.append(entry)
    return result


def _source(table, name: str, text: str) -> Source:
    if not isinstance(table, dict):
        raise ClaimsFileError(f"{name}: a [source] table with key, title and site is required")
    _keys(table, SOURCE_KEYS, name, text, max(text.find("[source]"), 0), "[source]")
    start = max(text.find("[source]"), 0)
    for key in SOURCE_KEYS:
        if key in table and not isinstance(table[key], str):
            found = key_offset(text[start:], key)
            line = parser.locate(text, start + (found or 0))[0]
            _type(table[key], str, f"{name}:{line}: [source] {key}")
    missing = [k for k in ("key", "title", "site") if k not in table]
    if missing:
        line = parser.locate(text, max(text.find("[source]"), 0))[0]
        raise ClaimsFileError(f"{name}:{line}: [source] needs {', '.join(missing)}")
    return Source(table["key"], table["title"], table["site"], table.get("author", ""), table.get("url", ""))


def _merge(document: dict, table: dict) -> dict:
    merged = {key: document[key] for key in _SHARED if key in document}
    for key, value in table.items():
        if key in ("aliases", "define", "domain", "values") and isinstance(value, dict) \
                and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _formula(text, label: str) -> parser.Formula:
    _type(text, str, label)
    return parser.parse(text.strip(), label)


def notation_key(text: str, label: str) -> str:
    """The table key a name stands for in `aliases`: s_t -> s, y^t -> y, z_{f,t} -> z_f, \\tilde{C} -> \\tilde{C}."""
    formula = _formula(text, label)
    node = formula.tree.children[0] if len(formula.tree.children) == 1 else None
    return written_key(node, formula, label)[0]


def _claim(table: dict, claim_id: str, source: Source, text: str, name: str, own_model: bool = False) -> Claim:
    """The claim of one [[claim]] table (its file's defaults merged in); an error in it names the file and the
    line of the entry it is about."""
    at = ["id"]  # the key being read, for the line of an error
    try:
        return _read_claim(table, claim_id, source, text, name, own_model, at)
    except ClaimsFileError as error:
        raise relocated(error, text, name, claim_id, at[0]) from None


def _read_claim(table: dict, claim_id: str, source: Source, text: str, name: str, own_model: bool,
                at: list) -> Claim:
    for key in ("where", "latex"):
        at[0] = key
        if key not in table:
            raise ClaimsFileError(f"claim {claim_id} needs {key}")
        _type(table[key], str, f"claim {claim_id}: {key}")
    formula = _formula(table["latex"], "latex")
    at[0] = "semantics"
    semantics = table.get("semantics", "full")
    if semantics not in SEMANTICS:
        raise ClaimsFileError(f"claim {claim_id}: semantics must be full or truncated, got {semantics!r}")
    at[0] = "model"
    try:
        model = model_from(table.get("model"), f"claim {claim_id}: model")
    except (NotationError, ModelSpecError) as error:  # the model's own equations: the file cannot be used
        start = anchor(text, claim_id) if own_model else 0
        raise ClaimsFileError(located_in_model(error, text, name, start)) from None
    except (TypeError, ValueError, ArithmeticError, AttributeError, RecursionError) as error:
        # SymPy refusing what the grammar allowed, as for a claim's formula (_build): bad input, not a crash.
        line = line_of(text, claim_id, "model")
        raise ClaimsFileError(f"{name}{f':{line}' if line else ''}: claim {claim_id}: model: the equations cannot be "
                              f"evaluated: {refused(error)}") from None
    except ClaimsFileError as error:
        line = line_of(text, claim_id, "model")
        raise type(error)(f"{name}{f':{line}' if line else ''}: {error}") from None
    at[0] = "aliases"
    aliases = {notation_key(k, f"aliases key {k}"): notation_key(_type(v, str, f"alias {k}"), f"alias {k}")
               for k, v in _type(table.get("aliases", {}), dict, "aliases").items()}
    at[0] = "define"
    definitions = dict(definition(_formula(k, f"define key {k}"), _formula(v, f"define {k}"))
                       for k, v in _type(table.get("define", {}), dict, "define").items())
    at[0] = "variables"
    variables = tuple(notation_key(_type(v, str, "a variable"), f"variable {v}")
                      for v in _type(table.get("variables", []), list, "variables"))
    at[0] = "domain"
    domain = {}
    for key, ends in _type(table.get("domain", {}), dict, "domain").items():
        at[0] = key
        domain[key] = _ends(ends, key, claim_id)
    at[0] = "values"
    values = {}
    for key, items in _type(table.get("values", {}), dict, "values").items():
        at[0] = key
        listed = items if isinstance(items, list) else [items]
        if not listed or len(listed) > MOST_VALUES or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                and abs(v) <= 30 for v in listed):
            raise ClaimsFileError(f"claim {claim_id}: values of {key} must be 1 to {MOST_VALUES} whole numbers "
                                  f"between -30 and 30")
        values[key] = items
    at[0] = "loss"
    loss = table.get("loss")
    if loss is not None:
        _type(loss, dict, f"claim {claim_id}: loss")
        _keys(loss, {"symbol", "of"}, f"claim {claim_id}: loss")
        loss = (_formula(loss.get("symbol"), "loss symbol"), _formula(loss.get("of"), "loss of"))
    at[0] = "dots"
    dots = _formula(table["dots"], "dots") if "dots" in table else None
    spec = Spec(formula, model, semantics, aliases, variables, domain, values, definitions, dots, loss)
    at[0] = "reading"
    reading = _type(table.get("reading") or _reading(model, semantics, values), str, "reading")
    at[0] = "statement"
    # Read when the question is asked for, in the claim's own process with its limits (derive.budget), not
    # here: a small file can ask for hours of work. The readings the engine chose join the claim's reading then.
    build = functools.partial(_build, spec, claim_id, text, name)
    return Claim(id=claim_id, source=source, where=table["where"], printed=formula.text,
                 reading=reading, build=build,
                 statement=_type(table.get("statement", ""), str, f"claim {claim_id}: statement"),
                 verbatim=_type(table.get("verbatim", True), bool, "verbatim"), model=model, spec=spec)


def _ends(ends, key: str, claim_id: str) -> tuple:
    """A `domain` entry's [low, high]: numbers, or "-inf" and "inf", low below high."""
    infinite = ("-inf", "inf", "+inf", "-oo", "oo", "+oo", "-infinity", "infinity", "+infinity")
    if not isinstance(ends, list) or len(ends) != 2 or not all(
            (isinstance(end, (int, float)) and not isinstance(end, bool) and end == end)
            or (isinstance(end, str) and end.strip() in infinite) for end in ends):
        raise ClaimsFileError(f"claim {claim_id}: domain of {key} must be [low, high], numbers or \"-inf\" and "
                              f"\"inf\"")
    low, high = ends
    if all(isinstance(end, (int, float)) for end in ends) and not low < high:
        raise ClaimsFileError(f"claim {claim_id}: domain of {key} is empty: [{low}, {high}]")
    return tuple(ends)


def _reading(model, semantics: str, values: dict) -> str:
    if model is None:
        described = "No model: free variables only"
    else:
        size = "scalar" if model.n == 1 else f"$n = {model.n}$"
        described = f"{model.title.split('$')[0].strip(' ,')}, {size}" + ("" if model.bias else ", no biases")
    # Math in $...$: the report typesets it when it parses as notation, and prints it as text otherwise.
    given = "; ".join(f"${k} = {v[0]}$" + "".join(f", {x}" for x in v[1:]) if isinstance(v, list) and v
                      else f"${k} = {v}$" for k, v in values.items())
    return (f"{described}; derivatives in the hand formula taken in the {semantics} semantics, the reference "
            f"side computed exactly in both" + (f"; {given}" if given else "") + ". Parsed from the claims file.")


def _build(spec: Spec, claim_id: str, text: str, name: str):
    question, notes = _read(spec, claim_id, text, name)
    if len(_NOTES) >= MOST_CACHED:
        _NOTES.clear()
    _NOTES[id(spec)] = (spec, notes)  # the spec kept, so that its id is not reused
    return question


_NOTES: dict = {}  # id of a claim's Spec -> the readings the engine chose when its question was built


def reading_with_notes(claim) -> str:
    """The claim's reading, with the readings the engine chose once its question was built (in this process)."""
    spec, notes = _NOTES.get(id(claim.spec), (None, ()))
    if spec is not claim.spec or not notes:
        return claim.reading
    return f"{claim.reading.rstrip()} {ENGINE_READINGS} {'; '.join(notes)}."


_READ_CACHE: dict = {}  # (file name, file text, claim id) -> (question, readings): a file read twice is read once
MOST_CACHED = 512


def _read(spec: Spec, claim_id: str, text: str, name: str):
    """(question, the engine's readings) of a claim; its errors located in the file.

    The question is a pure function of the file's text, so a file loaded again in the same process (the
    built-in claims, by the report and the tests) reuses it.
    """
    key = (name, text, claim_id)
    if key in _READ_CACHE:
        return _READ_CACHE[key]
    try:
        result = read(spec)
    except NotationError as error:
        raise located(error, text, name, claim_id) from None
    except (TypeError, ValueError, ArithmeticError, AttributeError, RecursionError) as error:
        # SymPy refusing an operation the grammar allowed (e.g. a power it cannot form) is still bad input.
        line = claim_line(text, claim_id)
        raise NotationError(f"{name}{f':{line}' if line else ''}: claim {claim_id}: the formula cannot be "
                            f"evaluated: {refused(error)}") from None
    if len(_READ_CACHE) >= MOST_CACHED:
        _READ_CACHE.clear()
    _READ_CACHE[key] = result
    return result


def load(path) -> list[Claim]:
    """The claims of a claims file, for derive.claims.load: every claim must read cleanly."""
    document = read_path(path)
    errors = [entry.error for entry in document.entries if entry.error is not None]
    if errors:
        raise ClaimError("\n".join(str(e) for e in errors))
    return [entry.claim for entry in document.entries]
