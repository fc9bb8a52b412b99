"""Repair: the smallest edit of a claim's own formula that makes it agree, found and re-verified by the engine.

Each member of an equation is repaired on its own, as the claim `reference =
member` (a chain a = b = c compares every member with the reference), and
so is a bound. The candidate edits of derive.notation.edits — in the member
and in the terms it defines — are tried kind by kind, simplest first, each
read by the same reader and checked at a few seeded points (with one value
of the claim's indices that shows the difference); the first that makes the
member agree in the full semantics is its fix (one that agrees only when
truncated is kept in case none does). Where no single edit fixes a member,
the edit that brings it closest is kept and a second edit searched after it.
The corrected claim is then verified like any claim, with a symbolic proof
where one is found: its verdict is computed, never assumed. The search is
bounded by a number of candidates (so the answer does not depend on machine
load) and by processor time.
"""
from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
from dataclasses import dataclass

import lark
import sympy

from derive.budget import cpu_seconds, entries
from derive.errors import DeriveError
from derive.evidence import Correction, EqualAtPoints
from derive.notation import edits as edit_kinds
from derive.notation.parser import parse
from derive.notation.spec import Spec, context, environments
from derive.notation.statement import question, reference_member
from derive.notation.values import base_key
from derive.rules import Semantics, Status
from derive.exact.collapse import readable
from derive.notation.printer import in_notation
from derive.notation.reader import Reader
from derive.verify.alignment import align, normal_form, pair_terms, terms_of
from derive.verify.questions import Bound, Equal, Settings, verify

MOST_CANDIDATES = 600  # edits verified per claim
MOST_EDITS = 2  # edits combined in one member's fix
MOST_ADDED_TERMS = 4  # a correction that adds more terms than this is no longer the author's formula
SCREEN_POINTS = 8  # points of the quick check of a candidate
KINDS = ("relation", "function", "time", "number", "quantity", "transpose", "swap", "range", "drop", "factor",
         "terms")
REPLACEMENTS = ("factor", "terms")  # the alignment's edits: a whole factor replaced, terms added


class Budget:
    """Candidates and processor seconds left for one claim's repair, its proofs' children included."""

    def __init__(self, seconds: float, candidates: int = MOST_CANDIDATES):
        self.deadline = cpu_seconds() + seconds
        self.candidates, self.used = candidates, 0

    def spend(self) -> bool:
        if self.used >= self.candidates or cpu_seconds() >= self.deadline:
            return False
        self.used += 1
        return True


@dataclass(frozen=True)
class Screened:
    status: Status | None  # None: the candidate cannot be read
    error: object = None  # the largest relative difference from the full result, at the points
    vacuous: bool = False  # 0 = 0, or a bound free of every variable (a ≤ a, 0 ≤ c): an edit making it repairs nothing


def screen(spec: Spec, settings: Settings) -> Screened:
    """A candidate's verdict at a few points, without a proof."""
    try:
        asked = question(spec)
        verdict = verify(asked, dataclasses.replace(settings, points=SCREEN_POINTS, screening=True))
    except (DeriveError, ArithmeticError, ValueError, TypeError, RecursionError):
        return Screened(None)
    error = None
    if isinstance(verdict.evidence, EqualAtPoints):
        error = verdict.evidence.comparison(Semantics.FULL).max_relative_error
    return Screened(verdict.status, error, _vacuous(asked))


def _vacuous(asked) -> bool:
    """Does the question say nothing of the author's quantities: an exact side of 0, or a bound whose two sides
    differ by a constant (|c| ≤ |c|, 0 ≤ 0.999)?"""
    if isinstance(asked, Bound):
        return not (sympy.sympify(asked.expr) - sympy.sympify(asked.bound)).free_symbols
    exact = getattr(asked, "full", None)
    return exact is not None and all(entry == 0 for entry in entries(exact))


@dataclass(frozen=True)
class SubClaim:
    """One hand member checked alone: `spec` is `reference = member` (or the whole bound); the hand starts at
    `hand_start` of its text, which is position `hand_start + offset` of the claim's."""

    spec: Spec
    offset: int
    hand_start: int
    end: int  # where the member ends in the claim's text
    reference: tuple = ()  # (start, end) of the reference member in the claim's text (an equation's)

    def hand_terms(self) -> list[str]:
        """The defined terms (A_t, ...) its hand member uses."""
        used = {base_key(n) for n in self.spec.formula.tree.iter_subtrees()
                if n.data in ("name", "style", "decorated") and n.meta.start_pos >= self.hand_start}
        return [key for key in self.spec.definitions if key in used]

    def hand_text(self) -> str:
        return self.spec.formula.text[self.hand_start:]


def _sub_claims(spec: Spec):
    text, tree = spec.formula.text, spec.formula.tree
    relations = [c for c in tree.children if isinstance(c, lark.Token)]
    if len(relations) == 1 and str(relations[0]) != "=":
        yield SubClaim(spec, 0, 0, len(text))
        return
    members = [c for c in tree.children if isinstance(c, lark.Tree)]
    reference = reference_member(spec)
    span = (members[reference].meta.start_pos, members[reference].meta.end_pos)
    prefix = text[span[0]:span[1]] + " = "
    for k, member in enumerate(members):
        if k != reference:
            start, end = member.meta.start_pos, member.meta.end_pos
            sub = dataclasses.replace(spec, formula=parse(prefix + text[start:end], spec.formula.label))
            yield SubClaim(sub, start - len(prefix), len(prefix), end, span)


def _alignment_edits(sub: SubClaim, terms: bool) -> list:
    """Edits the term alignment suggests for a scalar hand member: a missing factor put into its term, a wrong
    factor or a wrong term replaced by the exact one, missing terms added (these only for a claim at one value
    of its indices: terms read at one value of k are not those of another)."""
    try:
        read = question(sub.spec)
    except DeriveError:
        return []
    if not isinstance(read, Equal) or isinstance(read.hand, sympy.MatrixBase):
        return []
    pairs = pair_terms(read.hand, read.full, read.model)
    summands = _summands(sub)
    found = []
    for kind, mine, theirs in pairs:
        if kind == "wrong factor":
            found += _factor_edits(sub, summands, mine, theirs)
    extra = [mine for kind, mine, _ in pairs if kind == "extra"]
    missing = [theirs for kind, _, theirs in pairs if kind == "missing"]
    for mine in extra:  # a term the author got wrong as a whole: put a missing one in its place
        for node in _summand_of(summands, mine):
            found += [edit_kinds.Edit("factor", ((node.meta.start_pos, node.meta.end_pos, _shown(sub, theirs)),),
                                      f"${_text(sub, node)}$ should be ${_shown(sub, theirs)}$") for theirs in missing]
    shown = align(read.hand, read.full, read.model, sub.spec.aliases)
    missing_pairs = [pair for pair in shown if pair.kind == "missing"]
    if terms and 0 < len(missing_pairs) <= MOST_ADDED_TERMS:
        found += _term_edits(sub, missing_pairs)
    return found


def _text(sub: SubClaim, node) -> str:
    return sub.spec.formula.text[node.meta.start_pos:node.meta.end_pos]


def _shown(sub: SubClaim, term) -> str:
    return in_notation(readable(term.expr, sub.spec.model), sub.spec.aliases)


def _summands(sub: SubClaim) -> list:
    """(summand node, its terms in the normal form) for each summand of the hand member, read at one value."""
    members = [c for c in sub.spec.formula.tree.children if isinstance(c, lark.Tree)]
    hand = members[-1]
    nodes = [c for c in hand.children if isinstance(c, lark.Tree)] if hand.data == "sum" else [hand]
    ctx = context(sub.spec)
    reader = Reader(ctx, sub.spec.semantics)
    env = environments(sub.spec.values)[0] if sub.spec.values else {}
    found = []
    for node in nodes:
        try:
            value = reader.evaluate(sub.spec.formula, node, env)
        except (DeriveError, ArithmeticError, ValueError, TypeError):
            continue
        if not isinstance(value, sympy.MatrixBase):
            found.append((node, terms_of(normal_form(value, sub.spec.model))))
    return found


def _summand_of(summands: list, term) -> list:
    """The summand nodes whose terms hold `term`."""
    return [node for node, terms in summands if any(sympy.expand(t.expr - term.expr) == 0 for t in terms)]


def _factor_edits(sub: SubClaim, summands: list, mine, theirs) -> list:
    """For a term with a factor missing or wrong: the missing factors multiplied into its summand, or one of
    the summand's factors replaced by the exact one."""
    missing, wrong = theirs.factors - mine.factors, mine.factors - theirs.factors
    found = []
    for node in _summand_of(summands, mine):
        if missing and not wrong:
            factor = " \\cdot ".join(_shown(sub, type(mine)(1, {f: k})) for f, k in missing.items())
            end = node.meta.end_pos
            found.append(edit_kinds.Edit("factor", ((end, end, f" \\cdot {factor}"),),
                                         f"the factor ${factor}$ is missing from ${_text(sub, node)}$"))
        if len(missing) == 1:
            new = _shown(sub, type(mine)(1, missing))
            for inner in node.iter_subtrees():
                if inner.data == "hprod":
                    found.append(edit_kinds.Edit("factor", ((inner.meta.start_pos, inner.meta.end_pos, new),),
                                                 f"${_text(sub, inner)}$ should be ${new}$"))
    return found


def _term_edits(sub: SubClaim, missing: list) -> list:
    """Terms of the exact result the hand member lacks, added in the claim's notation: all at once, then each."""
    text = sub.spec.formula.text
    end = len(text)
    start = sub.hand_start if text[sub.hand_start:].strip() == "0" else end  # "= 0" is replaced, not added to

    def added(pairs):
        terms = [p.exact for p in pairs]
        new = "".join(f" {t}" if t.startswith("-") else f" + {t}" for t in terms)
        if start != end:
            new = new.strip().removeprefix("+ ")
        paths = list(dict.fromkeys(p.note.removeprefix("the path through ") for p in pairs if p.note))
        if any(not p.startswith("$") for p in paths):  # the direct path, or a peephole path: say them as they are
            what = " and ".join(dict.fromkeys(p.note for p in pairs if p.note)) if len(paths) == len(pairs) else \
                f"the term{'s' if len(terms) > 1 else ''} " + ", ".join(f"${t}$" for t in terms)
        elif len(paths) == len(pairs) and len(paths) > 1:
            what = f"the paths through {', '.join(paths[:-1])} and {paths[-1]}"
        elif len(paths) == len(pairs) == 1:
            what = pairs[0].note
        else:
            what = f"the term{'s' if len(terms) > 1 else ''} " + ", ".join(f"${t}$" for t in terms)
        return edit_kinds.Edit("terms", ((start, end, new),), f"{what} should be added")
    return ([added(missing)] if len(missing) > 1 else []) + [added([pair]) for pair in missing]


def _candidates(sub: SubClaim, matrices: bool, terms: bool = True) -> list:
    """(target, Edit) pairs of the hand member and the terms it defines, kind by kind, simplest first.

    Missing terms are offered only for a claim at one value of its indices (`terms`): terms read at one
    value of k are not those of another.
    """
    table = context(sub.spec).table
    edits = edit_kinds.edits(sub.spec.formula, table, matrices)
    in_hand = [e for e in edits if all(start >= sub.hand_start for start, _, _ in e.spans)]
    # The hand member's edits first; then the reference's own (an author can misprint ∂c_t/∂c_{t-1} too).
    found = [("latex", e) for e in in_hand + [e for e in edits if e not in in_hand]]
    for key in sub.hand_terms():
        found += [(key, e) for e in edit_kinds.edits(sub.spec.definitions[key].formula, table, matrices)]
    found += [("latex", e) for e in _alignment_edits(sub, terms)]
    return sorted(found, key=lambda item: KINDS.index(item[1].kind))  # stable: positions within a kind


def _edited(spec: Spec, target: str, edit) -> Spec:
    if target == "latex":
        text, _ = edit.apply(spec.formula.text)
        return dataclasses.replace(spec, formula=parse(text, spec.formula.label))
    definition = spec.definitions[target]
    text, _ = edit.apply(definition.formula.text)
    changed = dataclasses.replace(definition, formula=parse(text, definition.formula.label))
    return dataclasses.replace(spec, definitions={**spec.definitions, target: changed})


def _one_failing_value(spec: Spec, settings: Settings) -> Spec:
    """The claim at one combination of its `values` that shows the difference (a cheaper check of candidates)."""
    combinations = environments(spec.values) if spec.values else []
    if len(combinations) <= 1:
        return spec
    for combination in combinations:
        single = dataclasses.replace(spec, values={k: v for k, v in combination.items()})
        if screen(single, settings).status not in (Status.AGREES, None):
            return single
    return spec


@dataclass(frozen=True)
class Fix:
    """The edits that make one member agree (applied in turn), and its screened status."""

    sub: SubClaim
    steps: tuple  # ((target, Edit), ...)
    status: Status


def _search(sub: SubClaim, screened: Spec, settings: Settings, budget: Budget, matrices: bool,
            steps: tuple = ()) -> Fix | None:
    """The first edit that makes the member agree; else two edits that do; else one agreeing when truncated.

    Replacing a whole factor or adding terms (the alignment's edits) is the last resort: one or two
    edits of symbols that make the member agree are preferred, since they keep the author's formula.
    """
    base = screen(screened, settings)
    fallback, replacement, near = None, None, []
    single = len(environments(sub.spec.values)) <= 1 if sub.spec.values else True
    for target, edit in _candidates(dataclasses.replace(sub, spec=screened), matrices, terms=single):
        if not budget.spend():
            break
        try:
            candidate = _edited(screened, target, edit)
        except DeriveError:
            continue
        result = screen(candidate, settings)
        if result.vacuous and not base.vacuous:
            continue  # e.g. ∂E_k/∂x_{k+1} = 0 on both sides: true, but no longer the author's claim
        if result.status in (Status.AGREES, Status.TRUNCATED) and screened is not sub.spec:
            # it holds at the one value of the indices it was screened at: does it hold at all of them?
            everywhere = screen(_apply(sub.spec, steps + ((target, edit),)), settings).status
            result = dataclasses.replace(result, status=everywhere if everywhere != Status.AGREES or
                                         result.status == Status.AGREES else result.status)
        fix = Fix(sub, steps + ((target, edit),), result.status)
        if result.status == Status.AGREES:
            if edit.kind not in REPLACEMENTS:
                return fix
            replacement = replacement or fix
        elif result.status == Status.TRUNCATED and fallback is None:
            fallback = fix
        elif (edit.kind not in REPLACEMENTS and result.error is not None and base.error is not None
              and result.error < base.error * 0.9):
            near.append((result.error, len(near), target, edit, candidate))
    # The edit that brings the member closest; near-ties (0.1 %) go to the earlier, simpler one.
    closest = None
    if near and len(steps) + 1 < MOST_EDITS:
        least = min(error for error, *_ in near)
        closest = min((item for item in near if item[0] <= least * 1.001), key=lambda item: item[1])
    deeper = None
    if closest is not None:
        _, _, target, edit, candidate = closest
        deeper = _search(sub, candidate, settings, budget, matrices, steps + ((target, edit),))
    if deeper is not None and deeper.status == Status.AGREES and (
            replacement is None or all(e.kind not in REPLACEMENTS for _, e in deeper.steps)):
        return deeper  # two edits that agree in the full semantics beat one that agrees only when truncated
    if replacement is not None:
        return replacement
    return fallback if fallback is not None or deeper is None else deeper


def _apply(spec: Spec, steps: tuple) -> Spec:
    for target, edit in steps:
        spec = _edited(spec, target, edit)
    return spec


def repair(spec: Spec, settings: Settings, seconds: float, matrices: bool = False) -> tuple[Correction | None, int]:
    """The correction of a claims-file claim (or None), and how many candidate edits were verified."""
    budget = Budget(seconds)
    fixes = []
    for sub in _sub_claims(spec):
        screened = _one_failing_value(sub.spec, settings)
        status = screen(screened, settings).status
        if status == Status.AGREES:
            continue
        fix = _search(sub, screened, settings, budget, matrices)
        if fix is None or fix.status == status:  # an edit must do better than the member as printed
            return None, budget.used
        fixes.append(fix)
    if not fixes:
        return None, budget.used
    return _correction(spec, fixes, settings), budget.used


def _corrected(spec: Spec, fixes: list) -> tuple[str, Spec] | None:
    """(the edited formula's target, the whole claim with every member's fix) — one target only."""
    targets = {target for fix in fixes for target, _ in fix.steps}
    if len(targets) != 1:
        return None
    target = targets.pop()
    if target != "latex":
        definitions = dict(spec.definitions)
        for fix in fixes:
            definitions[target] = _apply(fix.sub.spec, fix.steps).definitions[target]
        return target, dataclasses.replace(spec, definitions=definitions)
    text = spec.formula.text
    if not fixes[0].sub.reference:  # a bound: its one sub-claim is the whole formula
        return target, _apply(fixes[0].sub.spec, fixes[0].steps)
    # Each member's new text, and the reference's if a fix changed it, put back from the last member to the first.
    replacements = {}
    for fix in fixes:
        members = [c for c in _apply(fix.sub.spec, fix.steps).formula.tree.children if isinstance(c, lark.Tree)]
        edited = _apply(fix.sub.spec, fix.steps).formula.text
        reference, member = (edited[m.meta.start_pos:m.meta.end_pos] for m in members)
        replacements[(fix.sub.hand_start + fix.sub.offset, fix.sub.end)] = member
        if reference != text[slice(*fix.sub.reference)]:
            replacements.setdefault(fix.sub.reference, reference)
    for (start, end), new in sorted(replacements.items(), reverse=True):
        text = text[:start] + new + text[end:]
    return target, dataclasses.replace(spec, formula=parse(text, spec.formula.label))


_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.")


def _edited_text(spec: Spec, target: str) -> str:
    return spec.formula.text if target == "latex" else spec.definitions[target].formula.text


def _changed(original: str, corrected: str) -> tuple[tuple, str]:
    """The (start, end) spans of `corrected` that are new, and the text they replaced, from a diff of LaTeX tokens
    (\\sigma against \\tanh as wholes, never letter by letter); spans that touch are merged."""
    old_tokens, new_tokens = _TOKEN.findall(original), _TOKEN.findall(corrected)
    old_at = [0] + list(itertools.accumulate(len(t) for t in old_tokens))
    new_at = [0] + list(itertools.accumulate(len(t) for t in new_tokens))
    spans, replaced = [], []
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            continue
        replaced.append(original[old_at[i1]:old_at[i2]])
        start, end = new_at[j1], new_at[j2]
        if end > start:
            if spans and start <= spans[-1][1] + 1:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return _whole_symbols(corrected, tuple(spans)), " … ".join(r.strip() for r in replaced if r.strip())


def _whole_symbols(text: str, spans: tuple) -> tuple:
    """Each span grown to the whole symbol it falls in (W_{\\underline{i}} -> \\underline{W_i}): a name with its
    scripts, without its argument."""
    try:
        tree = parse(text).tree
    except DeriveError:
        return spans
    heads = []
    for node in tree.iter_subtrees():
        if node.data == "postfix":
            scripts = [c for c in node.children[1:] if isinstance(c, lark.Tree) and c.data in ("sub", "sup", "prime")]
            end = scripts[-1].meta.end_pos if scripts else node.children[0].meta.end_pos
            heads.append((node.meta.start_pos, end))
    grown = []
    for start, end in spans:
        inside = [(s, e) for s, e in heads if s <= start and end <= e and (s, e) != (start, end)]
        if inside:
            start, end = min(inside, key=lambda head: head[1] - head[0])
        if grown and start <= grown[-1][1]:
            grown[-1] = (grown[-1][0], max(end, grown[-1][1]))
        else:
            grown.append((start, end))
    return tuple(grown)


def _correction(spec: Spec, fixes: list, settings: Settings) -> Correction | None:
    """Every member's fix applied to the claim (or to its defined term), verified in full."""
    found = _corrected(spec, fixes)
    if found is None:
        return None  # fixes in different formulas: no one corrected formula to show
    target, corrected = found
    try:
        verdict = verify(question(corrected), settings)
    except DeriveError:
        return None
    if verdict.status in (Status.DIFFERS, Status.UNDECIDED):
        return None  # never offer a correction whose own verdict is not an agreement
    if target == "latex":
        original, latex = spec.formula.text, corrected.formula.text
    else:
        original, latex = spec.definitions[target].formula.text, corrected.definitions[target].formula.text
    words = "; ".join(dict.fromkeys(edit.words for fix in fixes for _, edit in fix.steps))
    if target != "latex":
        parameter = spec.definitions[target].parameter
        words += f" in ${target}" + (f"_{parameter}" if parameter else "") + "$"
    changed, _ = _changed(original, latex)
    replaced = " … ".join(dict.fromkeys(_edited_text(fix.sub.spec, target)[start:end]
                                        for fix in fixes for start, end, _ in fix.steps[0][1].spans))
    return Correction(latex, words, verdict.status, verdict.method,
                      "latex" if target == "latex" else f"define {target}", changed, replaced)
