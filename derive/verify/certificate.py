"""Certificates for bounds: branch and bound over the domain with validated enclosures (derive.intervals).

The violation v (expr − bound for ≤ and <, bound − expr for ≥ and >) is
enclosed on closed boxes covering the domain. A box is proved when its
enclosure lies at or below 0 (< 0 for a strict bound: a closed box whose
enclosure touches 0 might contain the point where the bound is met); a box
whose enclosure lies wholly on the failing side holds a counterexample; any
other box is split. Boxes are processed worst first (largest possible
violation), deterministically, up to `max_boxes` — a count, so the answer
does not depend on machine load — with wall-clock time only as a safety net.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from derive.budget import cpu_seconds
from derive.verify.intervals import Enclosure
from derive.verify.search import to_mpf

KEEP = 5  # boxes reported: the tightest proved ones, or the worst undecided ones
NARROWEST = 2.0 ** -40  # a box side narrower than this share of its range is not split again


@dataclass(frozen=True)
class Box:
    """A closed box, ((low, high), ...) per variable as Fractions or ±math.inf, and its validated margin.

    `margin` is a validated lower bound of how far the bound holds over the
    box (−v); None when no finite enclosure was obtained there.
    """

    ranges: tuple
    margin: mpmath.mpf | None


@dataclass(frozen=True)
class Outcome:
    """What branch and bound found: "certified", "violated" (a box that fails everywhere) or "undecided"."""

    status: str
    boxes: int  # boxes whose enclosure was computed
    margin: mpmath.mpf | None = None  # certified: the tightest validated margin over all proved boxes
    kept: tuple = ()  # certified: the KEEP tightest boxes; undecided: the KEEP worst open boxes
    open_boxes: int = 0  # undecided: boxes neither proved nor refuted
    reason: str = ""
    violated: tuple | None = None  # violated: the box


def _measure(x, low, high) -> float:
    """Position of x in its range on a scale where the whole range has length 1 (atan for infinite ranges)."""
    if math.isfinite(low) and math.isfinite(high):
        return float((Fraction(x) - low) / (high - low)) if math.isfinite(x) else (0.0 if x < 0 else 1.0)
    return math.atan(x) / math.pi


def _split_point(low, high) -> Fraction:
    if math.isfinite(low) and math.isfinite(high):
        return (low + high) / 2
    if math.isfinite(low):  # [low, +∞): 1, 2, 4, 8, ... so the tail box moves out geometrically
        return Fraction(1) if low < 1 else 2 * low
    if math.isfinite(high):
        return Fraction(-1) if high > -1 else 2 * high
    return Fraction(0)


def certify(violation, variables, domain, strict: bool, max_boxes: int, deadline: float) -> Outcome:
    """Branch and bound for v ≤ 0 (v < 0 when `strict`) over the closed hull `domain` ((low, high), ...)."""
    enclosure = Enclosure(violation, variables)
    heap = [(0.0, 0, tuple(domain), None)]  # (−worst violation of the parent, order, box, parent margin)
    counter, processed = 1, 0
    tightest: list = []  # max-heap by margin (negated), of the KEEP smallest margins
    open_boxes: list = []
    smallest = None
    stopped = ""
    while heap:
        if processed >= max_boxes:
            stopped = f"the limit of {max_boxes} boxes was reached"
            break
        if cpu_seconds() > deadline:
            stopped = f"the time budget ran out after {processed} boxes"
            break
        _, _, box, _ = heapq.heappop(heap)
        processed += 1
        v = enclosure.over(box)
        if v is not None:
            if (v < 0) if strict else (v <= 0):
                margin = to_mpf((-v).lower())
                smallest = margin if smallest is None else min(smallest, margin)
                entry = (-margin, processed, Box(box, margin))
                if len(tightest) < KEEP:
                    heapq.heappush(tightest, entry)
                elif margin < -tightest[0][0]:
                    heapq.heapreplace(tightest, entry)
                continue
            if (v >= 0) if strict else (v > 0):
                return Outcome("violated", processed, violated=box)
        worst = float(v.upper()) if v is not None else math.inf
        margin = None if v is None else to_mpf((-v).lower())  # holds for the children too: they lie inside
        children = _split(box, domain)
        if children is None:
            open_boxes.append(Box(box, margin))
            continue
        for child in children:
            heapq.heappush(heap, (-worst, counter, child, margin))
            counter += 1
    if not heap and not open_boxes:
        kept = tuple(entry[2] for entry in sorted(tightest, key=lambda e: (-e[0], e[1])))
        return Outcome("certified", processed, smallest, kept)
    remaining = [Box(box, margin) for _, _, box, margin in heapq.nsmallest(KEEP, heap)]
    worst_open = sorted(open_boxes, key=lambda b: (b.margin is not None, b.margin if b.margin is not None else 0))
    reasons = [stopped] if stopped else []
    if open_boxes:
        reasons.append(f"{len(open_boxes)} boxes narrowed to 2^-40 of their range stayed undecided "
                       f"(the bound is tight there, or no finite enclosure exists)")
    return Outcome("undecided", processed, kept=tuple((worst_open + remaining)[:KEEP]),
                   open_boxes=len(open_boxes) + len(heap), reason="; ".join(reasons))


def _split(box, domain):
    """The two halves of `box` along its widest side (relative to its range), or None when all are narrow."""
    widths = [_measure(high, *whole) - _measure(low, *whole) for (low, high), whole in zip(box, domain)]
    k = max(range(len(box)), key=lambda i: widths[i]) if box else None
    if k is None or widths[k] < NARROWEST:
        return None
    low, high = box[k]
    middle = _split_point(low, high)
    return (box[:k] + ((low, middle),) + box[k + 1:], box[:k] + ((middle, high),) + box[k + 1:])


def inner_point(box) -> tuple:
    """A point of the open box: the middle of finite sides, one step in from the finite end of a tail."""
    point = []
    for low, high in box:
        if math.isfinite(low) and math.isfinite(high):
            point.append((low + high) / 2)
        elif math.isfinite(low):
            point.append(low + 1)
        elif math.isfinite(high):
            point.append(high - 1)
        else:
            point.append(Fraction(0))
    return tuple(point)
