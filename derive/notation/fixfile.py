"""`derive check --fix`: a copy of a claims file with each correction written in, and a comment saying why.

The file is edited as text, so everything else in it (comments, layout,
other claims) stays as it was: the corrected formula replaces the `latex`
value of its claim, or the value of the defined term it corrects (in the
claim's own `define` or in the file's `[define]` table), written as a TOML
literal string, with a `# derive:` comment line above it. A correction that
cannot be placed is reported, never guessed.
"""
from __future__ import annotations

import re
import tomllib

from derive.evidence import Correction
from derive.terminal import plain

# A TOML string value: literal or basic, multi-line or not.
_STRING = r"""('''.*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'[^'\n]*'|"(?:\\.|[^"\\\n])*")"""


def _literal(latex: str) -> str:
    if "'''" not in latex:
        return f"'''{latex}'''"
    return '"' + latex.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _claim_region(text: str, claim_id: str) -> tuple[int, int] | None:
    """(start, end) of the [[claim]] table whose id is `claim_id`."""
    match = re.search(r"""^\s*id\s*=\s*["']%s["']""" % re.escape(claim_id), text, flags=re.M)
    if match is None:
        return None
    start = text.rfind("[[claim]]", 0, match.start())
    following = text.find("[[claim]]", match.end())
    return (max(start, 0), following if following >= 0 else len(text))


def _replace_value(text: str, region: tuple[int, int], key_pattern: str, latex: str, comment: str):
    """The text with the string value of the first `key = ...` in `region` replaced, and comments above it
    saying what changed and what stood there before."""
    start, end = region
    match = re.search(r"(?m)^([ \t]*)([^\n]*?)(?<![\w\\])(%s)\s*=\s*%s" % (key_pattern, _STRING), text[start:end], re.S)
    if match is None:
        return None
    line_start = start + match.start()
    value_start, value_end = start + match.start(4), start + match.end(4)
    indent = match.group(1)
    before = " ".join(text[value_start:value_end].split())
    return (text[:line_start] + f"{indent}# derive: {comment}\n{indent}# derive: before: {before}\n"
            + text[line_start:value_start] + _literal(latex) + text[value_end:])


def _define_key(target: str) -> str:
    """The keys a file may write a defined term under: D_t, D_{t}, "D_t"."""
    name = target.removeprefix("define ")
    return r"""["']?%s(?:_\{?\w+'?\}?)?["']?""" % re.escape(name)


def fixed(text: str, corrections: dict[str, Correction]) -> tuple[str, list[str]]:
    """The claims file's text with the corrections written in, and what could not be placed."""
    problems = []
    for claim_id, correction in corrections.items():
        comment = f"{plain(correction.edit)}; the corrected formula {correction.status} ({correction.method})"
        region = _claim_region(text, claim_id)
        if region is None:
            problems.append(f"claim {claim_id}: not found in the file")
            continue
        if correction.target == "latex":
            changed = _replace_value(text, region, "latex", correction.latex, comment)
        else:
            key = _define_key(correction.target)
            changed = _replace_value(text, region, key, correction.latex, comment)
            if changed is None:  # the file's own [define] table
                table = re.search(r"(?m)^\[define\]\s*$", text)
                if table is not None:
                    following = re.search(r"(?m)^\[", text[table.end():])
                    end = table.end() + following.start() if following else len(text)
                    changed = _replace_value(text, (table.end(), end), key, correction.latex, comment)
        if changed is None:
            problems.append(f"claim {claim_id}: its {correction.target} could not be located to be rewritten")
            continue
        text = changed
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:  # never write a file that is no longer TOML
        return "", [f"the corrected file would not be TOML ({error}); nothing written"]
    return text, problems
