"""Time indices and counts in a formula: t-1, t'-k+1, a \\prod's bounds, evaluated to whole numbers or times t + k."""
from __future__ import annotations

import lark

from derive.notation.values import Rel

LARGEST_INDEX = 30  # |time offset|, absolute steps and bounds of \prod / \sum


def read_index(reader, node, env):
    """A time or a count: an int, or Rel for t + offset."""
    if isinstance(node, lark.Token):
        if node.type == "CHAR" and node.isdigit():
            return int(node)
        return index_name(reader, str(node), node, env)
    if node.data in ("sum",):
        total, sign = 0, 1
        for child in node.children:
            if isinstance(child, lark.Token):
                sign = -1 if child.type == "MINUS" else 1
                if child.type == "OPLUS":
                    reader.fail(child, "a time index is a sum of times and whole numbers")
                continue
            total = combine(reader, total, read_index(reader, child, env), sign, child)
        return total
    if node.data == "signed":
        value = read_index(reader, node.children[-1], env)
        negative = len(node.children) == 2 and node.children[0].type == "MINUS"
        return combine(reader, 0, value, -1, node) if negative else value
    if node.data in ("product", "hprod", "subarg", "suparg") and len(node.children) == 1:
        return read_index(reader, node.children[0], env)
    if node.data == "postfix":
        primary, scripts = node.children[0], node.children[1:]
        if any(s.data != "prime" for s in scripts if isinstance(s, lark.Tree)):
            reader.fail(node, "a time index is a sum of times and whole numbers, like t'-k+1")
        if primary.data == "number" and not scripts:
            text = str(primary.children[0])
            if "." in text:
                reader.fail(node, f"a time index must be a whole number, not {text}")
            if len(text) > 3:
                reader.fail(node, f"time index {text} is beyond ±{LARGEST_INDEX}")
            return bounded(reader, int(text), node)
        if primary.data == "group" and not scripts:
            return read_index(reader, primary.children[1] if len(primary.children) == 3 else primary.children[0], env)
        if primary.data == "name":
            return index_name(reader, str(primary.children[0]) + "'" * len(scripts), node, env)
    reader.fail(node, "a time index is a sum of times and whole numbers, like t-1 or t'-k")


def index_name(reader, name: str, node, env):
    if name in env:
        return env[name]
    if name == "t":
        return Rel(0)
    reader.fail(node, f"the index {name} has no value: give it one with values = {{ \"{name}\" = ... }} "
                    f"in the claims file, or bind it with \\prod_{{{name}=...}}")


def bounded(reader, value: int, node) -> int:
    if abs(value) > LARGEST_INDEX:
        reader.fail(node, f"time index {value} is beyond ±{LARGEST_INDEX}")
    return value


def combine(reader, a, b, sign: int, node):
    if isinstance(b, Rel) and sign < 0:
        if isinstance(a, Rel):
            return bounded(reader, a.offset - b.offset, node)
        reader.fail(node, "a count minus a time relative to t is not a time; give t a value in values")
    if isinstance(a, Rel) and isinstance(b, Rel):
        reader.fail(node, "two times relative to t cannot be added")
    if isinstance(a, Rel) or isinstance(b, Rel):
        rel, count = (a, b) if isinstance(a, Rel) else (b, a)
        return Rel(bounded(reader, rel.offset + sign * count if rel is a else count + sign * rel.offset, node))
    return bounded(reader, a + sign * b, node)


def read_integer(reader, node, env) -> int:
    value = read_index(reader, node, env)
    if isinstance(value, Rel):
        reader.fail(node, "this needs a number, but it is a time relative to t; give t a value in values")
    return value
