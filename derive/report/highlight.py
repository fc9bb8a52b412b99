"""The changed part of a corrected formula, framed: `\\fix{…}` around the smallest balanced piece holding it.

A correction's `changed` spans are character offsets into its LaTeX. A span
is wrapped only where the wrapping keeps the formula balanced: it is widened
to whole pieces of one group (a symbol with its scripts, a command with its
arguments, a bracketed group), never cutting a brace, a \\left…\\right pair
or a script from its base, and never holding a matrix's `&` or `\\\\`.
"""
from __future__ import annotations

from derive.report import mathtree as tree

MACRO = r"\fix"


def highlight(latex: str, spans) -> str:
    """`latex` with each span of `spans` ((start, end), ...) framed by \\fix{…}; unchanged if none applies."""
    try:
        pieces = tree.parse(latex)
    except tree.Unbalanced:
        return latex
    ranges = []
    for start, end in spans:
        start, end = max(0, int(start)), min(len(latex), int(end))
        if start >= end:
            continue
        found = _enclosing(pieces, 0, start, end)
        if found is None:
            found = (0, len(latex))
        ranges.append(found)
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        latex = latex[:start] + MACRO + "{" + latex[start:end] + "}" + latex[end:]
    return latex


def _enclosing(pieces, offset: int, start: int, end: int):
    """(start, end) of the smallest run of whole pieces covering [start, end), or None when none may be framed."""
    placed = []
    position = offset
    for piece in pieces:
        length = len(piece.source())
        placed.append((piece, position, position + length))
        position += length
    overlapping = [(p, s, e) for p, s, e in placed if s < end and e > start and not tree.is_space(p)]
    if not overlapping:
        return None
    if len(overlapping) == 1:
        piece, s, e = overlapping[0]
        inner = _inside(piece, s, start, end)
        if inner is not None:
            return inner
    if any(isinstance(p, tree.Leaf) and p.text in ("&", r"\\") for p, _, _ in overlapping):
        return None
    return overlapping[0][1], overlapping[-1][2]


def _inside(piece, s: int, start: int, end: int):
    """The span framed inside `piece` when it lies within one group's content, else None."""
    if isinstance(piece, tree.Group):
        inner_start, inner_end = s + len(piece.open), s + len(piece.source()) - len(piece.close)
        if inner_start <= start and end <= inner_end and not piece.open.startswith(r"\begin"):
            return _enclosing(piece.children, inner_start, start, end)
        return None
    if isinstance(piece, tree.Atom):
        position = s
        for part in piece.parts:
            length = len(part.source())
            if isinstance(part, tree.Group) and part.open == "{":
                if position + 1 <= start and end <= position + length - 1:
                    return _enclosing(part.children, position + 1, start, end)
            position += length
    return None
